"""Bulk actions, retries, dead letters, spool and replay, through the real client."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from tests.elastic.nodes import client_for, scripted_node
from tocsin.elastic import ALERTS_STREAM, EVENTS_STREAM
from tocsin.elastic.client import ElasticSettings, describe, make_client
from tocsin.elastic.shipping import Shipper, Spool, alert_action, event_action
from tocsin.scan import ReadSummary, ScanRequest, read_events, run_scan
from tocsin.sources import ParseOptions

EXAMPLE = Path(__file__).resolve().parents[2] / "tocsin" / "examples" / "auth.log"


def example_events():
    return list(read_events([str(EXAMPLE)], None, ParseOptions(), ReadSummary()))


def example_actions():
    alerts = []
    run_scan(ScanRequest([str(EXAMPLE)]), alerts.append)
    return [event_action(e) for e in example_events()] + [alert_action(a) for a in alerts]


def settings(tmp_path: Path, **extra) -> ElasticSettings:
    return ElasticSettings(url="http://127.0.0.1:9200", state_dir=tmp_path / "state", chunk_size=50, **extra)


def no_sleep(_: float) -> None:
    pass


def test_actions_are_creates_with_the_events_own_ids():
    first, second = example_events(), example_events()
    actions = [event_action(e) for e in first]
    assert [a["_id"] for a in actions] == [e.id for e in second]
    assert len({a["_id"] for a in actions}) == len(actions)
    action = actions[0]
    assert action["_op_type"] == "create" and action["_index"] == EVENTS_STREAM
    assert action["_source"]["event"]["id"] == action["_id"]
    assert action["_source"]["tocsin"]["epoch"] == first[0].timestamp
    alerts = []
    run_scan(ScanRequest([str(EXAMPLE)]), alerts.append)
    assert alerts
    alert = alert_action(alerts[0])
    assert alert["_id"] == alerts[0].id and alert["_index"] == ALERTS_STREAM
    assert alert["_source"]["event"]["kind"] == "alert" and "@timestamp" in alert["_source"]


def test_outage_spools_everything_and_replay_sends_each_exactly_once(tmp_path):
    actions = example_actions()
    ids = [a["_id"] for a in actions]
    down = scripted_node(after="refuse")
    shipper = Shipper(client_for(settings(tmp_path), down), settings(tmp_path), sleep=no_sleep)
    shipper.send(actions[:40])
    shipper.send(actions[40:])
    shipper.close()
    assert shipper.stats.spooled == len(actions) and shipper.stats.shipped == 0
    assert down.requests == 1  # once the cluster is known down, nothing more is tried
    spooled = [a["_id"] for f in shipper.spool.files() for a in Spool.read(f)]
    assert sorted(spooled) == sorted(ids)

    up = scripted_node(script=["refuse"], after="accept")  # fails, then succeeds
    retry = Shipper(client_for(settings(tmp_path), up), settings(tmp_path), sleep=no_sleep)
    retry.replay()
    assert retry.stats.replayed == 0 and retry.spool.files()  # still down: the spool is kept
    again = Shipper(client_for(settings(tmp_path), up), settings(tmp_path), sleep=no_sleep)
    again.replay()
    assert again.stats.replayed == len(actions) and again.stats.shipped == len(actions)
    assert set(up.sent) == set(ids) and set(up.sent.values()) == {1}
    assert not again.spool.files()
    Shipper(client_for(settings(tmp_path), up), settings(tmp_path)).replay()
    assert set(up.sent.values()) == {1}


def test_an_outage_mid_run_spools_only_what_was_not_delivered(tmp_path):
    actions = example_actions()
    flaky = scripted_node(script=["accept"], after="refuse")
    shipper = Shipper(client_for(settings(tmp_path), flaky), settings(tmp_path), sleep=no_sleep)
    shipper.send(actions)
    shipper.close()
    assert shipper.stats.shipped == 50 and shipper.stats.spooled == len(actions) - 50
    flaky.after = "accept"
    Shipper(client_for(settings(tmp_path), flaky), settings(tmp_path)).replay()
    assert set(flaky.sent) == {a["_id"] for a in actions} and set(flaky.sent.values()) == {1}


def test_throttled_documents_are_retried_then_delivered(tmp_path):
    actions = example_actions()[:10]
    throttled = {actions[1]["_id"]: 429, actions[7]["_id"]: 503}
    node = scripted_node(item_status=throttled)
    shipper = Shipper(client_for(settings(tmp_path), node), settings(tmp_path), sleep=no_sleep)
    shipper.send(actions)
    assert (shipper.stats.shipped, shipper.stats.retried, shipper.stats.spooled) == (10, 2, 0)
    assert set(node.delivered.values()) == {1} and len(node.delivered) == 10


def test_a_cluster_that_keeps_failing_is_spooled_not_dead_lettered(tmp_path):
    node = scripted_node(after=503)
    shipper = Shipper(
        client_for(settings(tmp_path, max_retries=2), node), settings(tmp_path, max_retries=2), sleep=no_sleep
    )
    shipper.send(example_actions()[:5])
    assert (shipper.stats.spooled, shipper.stats.retried, shipper.stats.dead_lettered) == (5, 10, 0)


def test_rejected_documents_go_to_the_dead_letter_file_with_the_reason(tmp_path):
    actions = example_actions()[:6]
    rejected = actions[2]["_id"]
    node = scripted_node(item_status={rejected: 400, actions[4]["_id"]: 409})
    shipper = Shipper(client_for(settings(tmp_path), node), settings(tmp_path), sleep=no_sleep)
    shipper.send(actions)
    assert (shipper.stats.shipped, shipper.stats.present, shipper.stats.dead_lettered) == (4, 1, 1)
    assert shipper.stats.spooled == 0
    [record] = [json.loads(line) for line in shipper.dead_letter_path.read_text().splitlines()]
    assert record["id"] == rejected and record["status"] == 400
    assert record["reason"].startswith("mapper_parsing_exception")
    assert record["document"] == actions[2]["_source"]
    assert "dead-lettered 1" in str(shipper.stats)


def refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_credentials_never_appear_in_errors_or_logs(tmp_path, caplog):
    secret_settings = ElasticSettings(
        url=f"http://elastic:pw-in-url-42@127.0.0.1:{refused_port()}",
        api_key="api-key-secret-17",
        state_dir=tmp_path,
        request_timeout=2,
    )
    assert "api-key-secret-17" not in repr(secret_settings)
    caplog.set_level(logging.DEBUG)
    shipper = Shipper(make_client(secret_settings, max_retries=0), secret_settings, sleep=no_sleep)
    shipper.send(example_actions()[:3])
    assert shipper.stats.spooled == 3 and shipper.offline_reason
    text = (
        shipper.offline_reason
        + caplog.text
        + describe(RuntimeError("pw-in-url-42 api-key-secret-17"), secret_settings)
    )
    for secret in ("pw-in-url-42", "api-key-secret-17"):
        assert secret not in text
    assert "127.0.0.1" in shipper.offline_reason


def test_an_unconfigured_cluster_is_a_clear_error(tmp_path):
    from tocsin.elastic.client import ElasticError

    with pytest.raises(ElasticError, match="TOCSIN_ES_URL"):
        make_client(ElasticSettings(state_dir=tmp_path))


def test_the_product_setting_picks_the_client(tmp_path):
    from tocsin.elastic.client import ElasticError
    from tocsin.elastic.cluster import ElasticCluster, OpenSearchCluster

    down = f"http://127.0.0.1:{refused_port()}"
    assert isinstance(make_client(ElasticSettings(url=down, product="opensearch")), OpenSearchCluster)
    assert isinstance(make_client(ElasticSettings(url=down, product="elasticsearch")), ElasticCluster)
    assert isinstance(
        make_client(ElasticSettings(url=down, api_key="k")), ElasticCluster
    )  # auto: API keys are Elastic's
    with pytest.raises(ElasticError, match="OpenSearch has no cloud ids or API keys"):
        make_client(ElasticSettings(url=down, product="opensearch", api_key="k"))
