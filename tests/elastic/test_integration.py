"""The whole flow against a real cluster: setup, ship, hunt and compare, read back, replay after
an outage. Runs only when TOCSIN_ES_URL is set (see docs/elasticsearch.md); use a dedicated
cluster: the hunt is compared with a local scan of exactly the events shipped here."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.conftest import shared
from tests.elastic.test_shipping import refused_port
from tests.test_cli import jsonl, tocsin
from tocsin.config import load_config
from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules
from tocsin.elastic import EVENTS_PATTERN
from tocsin.elastic.client import ElasticSettings, make_client
from tocsin.elastic.hunting import hunt, read_alerts
from tocsin.elastic.shipping import Shipper, Spool
from tocsin.models import Level

pytestmark = [
    pytest.mark.elasticsearch,
    pytest.mark.skipif(not os.environ.get("TOCSIN_ES_URL"), reason="TOCSIN_ES_URL is not set: no cluster to test"),
]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    env = {"TOCSIN_ELASTICSEARCH_STATE_DIR": str(state)}
    first = tocsin("es", "setup", env=env)
    assert first.returncode == 0, first.stderr
    second = tocsin("es", "setup", env=env)
    assert second.returncode == 0 and {line.split()[0] for line in second.stdout.splitlines()} <= {"unchanged", "skipped"}
    settings = ElasticSettings.from_config(load_config()[0])
    return make_client(settings), settings, env


def test_scan_ships_and_the_hunt_gives_the_local_alerts(cluster):
    client, _, env = cluster
    sample = str(shared("authlogs/OpenSSH_2k.log"))
    scanned = tocsin("scan", sample, "--to-es", "--format", "jsonl", env=env)
    assert scanned.returncode == 0, scanned.stderr
    assert "dead-lettered 0, spooled 0" in scanned.stderr
    client.refresh("logs-tocsin.*")
    events = client.count(EVENTS_PATTERN)
    assert events >= 2000
    paths = [builtin_rules_path()]
    result = hunt(client, load_rules(paths), paths, EPOCH, datetime.now(UTC))
    local = {alert["id"]: alert for alert in jsonl(scanned.stdout)}
    hunted = {alert.id: alert.document() for alert in result.alerts}
    assert {alert_id: hunted.get(alert_id) for alert_id in local} == local
    read_back = read_alerts(client, EPOCH, Level.high, 1000)
    high = {alert_id for alert_id, alert in local.items() if Level[alert["rule"]["level"]] >= Level.high}
    assert high and high <= {alert.id for alert in read_back}


def test_hunt_and_alerts_commands(cluster):
    _, _, env = cluster
    hunted = tocsin("es", "hunt", "--since", "36500d", "--format", "jsonl", env=env)
    assert hunted.returncode == 0, hunted.stderr
    shown = tocsin("es", "alerts", "--since", "36500d", "--min-level", "high", env=env)
    assert shown.returncode == 0 and {a["id"] for a in jsonl(hunted.stdout) if a["rule"]["level"] == "high"} <= {
        a["id"] for a in jsonl(shown.stdout)}


def test_replay_after_an_outage_delivers_each_document_once(cluster, tmp_path):
    client, settings, _ = cluster
    down = {"TOCSIN_ES_URL": f"http://127.0.0.1:{refused_port()}", "TOCSIN_ELASTICSEARCH_STATE_DIR": str(tmp_path)}
    scanned = tocsin("scan", str(shared("authlogs/Linux_2k.log")), "--to-es", "--format", "jsonl", env=down)
    assert scanned.returncode == 0 and "cluster unavailable" in scanned.stderr
    spooled = [a for path in Spool(tmp_path / "spool").files() for a in Spool.read(path)]
    shipper = Shipper(client, replace(settings, state_dir=tmp_path))
    shipper.replay()
    assert shipper.stats.shipped + shipper.stats.present == len(spooled) and not shipper.stats.dead_lettered
    client.refresh("logs-tocsin.*")
    ids = [a["_id"] for a in spooled]
    found = client.count("logs-tocsin.*", {"ids": {"values": ids}})
    assert found == len(set(ids))
    again = Shipper(client, replace(settings, state_dir=tmp_path))
    again.replay()
    assert again.stats.shipped == 0 and not Spool(tmp_path / "spool").files()
