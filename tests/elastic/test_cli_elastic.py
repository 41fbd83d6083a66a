"""``scan --to-es`` with the cluster unreachable, then the replay; ``rules convert``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import shared
from tests.elastic.nodes import client_for, scripted_node
from tests.elastic.test_shipping import refused_port
from tests.test_cli import jsonl, tocsin
from tocsin.detectors.sigma.ruleset import builtin_rules_path, rule_files
from tocsin.elastic.client import ElasticSettings
from tocsin.elastic.shipping import Shipper, Spool

SECRET = "k3y-that-must-not-leak"


def test_scan_to_an_unreachable_cluster_loses_nothing_and_the_replay_sends_each_once(tmp_path):
    sample = str(shared("authlogs/OpenSSH_2k.log"))
    state = tmp_path / "state"
    env = {
        "TOCSIN_ES_URL": f"http://127.0.0.1:{refused_port()}",
        "TOCSIN_ES_API_KEY": SECRET,
        "TOCSIN_ELASTICSEARCH_STATE_DIR": str(state),
    }
    scanned = tocsin("scan", sample, "--to-es", "--format", "jsonl", env=env)
    assert scanned.returncode == 0, scanned.stderr
    assert SECRET not in scanned.stdout + scanned.stderr
    assert "cluster unavailable" in scanned.stderr
    alert_ids = {alert["id"] for alert in jsonl(scanned.stdout)}
    event_ids = {event["event"]["id"] for event in jsonl(tocsin("events", sample).stdout)}
    assert len(alert_ids) == 16 and len(event_ids) > 2000

    spool = Spool(state / "spool")
    spooled = [action for path in spool.files() for action in Spool.read(path)]
    assert len(spooled) == len(event_ids) + len(alert_ids)
    assert {a["_id"] for a in spooled if a["_index"].startswith("logs-tocsin.events")} == event_ids
    assert {a["_id"] for a in spooled if a["_index"].startswith("logs-tocsin.alerts")} == alert_ids
    assert f"spooled {len(spooled):,}" in scanned.stderr

    node = scripted_node(script=["refuse"], after="accept")
    settings = ElasticSettings(url="http://127.0.0.1:9200", state_dir=state)
    for _ in range(2):  # the first replay meets the outage, the second gets through
        Shipper(client_for(settings, node), settings).replay()
    assert set(node.sent) == event_ids | alert_ids and set(node.sent.values()) == {1}
    assert not spool.files()


def test_elasticsearch_commands_without_a_cluster_say_how_to_configure_one(tmp_path):
    result = tocsin("es", "alerts", env={"TOCSIN_ES_URL": "", "HOME": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 2 and "TOCSIN_ES_URL" in result.stderr


def test_kibana_ndjson_has_one_valid_detection_rule_per_builtin_rule(tmp_path):
    output = tmp_path / "rules.ndjson"
    result = tocsin("rules", "convert", "--target", "kibana-ndjson", "-o", str(output))
    assert result.returncode == 0, result.stderr
    rules = [json.loads(line) for line in output.read_text().splitlines()]
    documents = [
        doc for f in rule_files([builtin_rules_path()]) for doc in yaml.safe_load_all(f.read_text()) if doc
    ]
    builtin = {str(doc["id"]): doc for doc in documents if "stateful" not in doc}  # tocsin's engine only
    referenced = {name for doc in documents for name in doc.get("correlation", {}).get("rules", [])}
    assert sorted(rule["rule_id"] for rule in rules) == sorted(builtin)
    for rule in rules:
        for key in (
            "rule_id",
            "name",
            "description",
            "risk_score",
            "severity",
            "type",
            "language",
            "query",
            "interval",
            "from",
            "enabled",
        ):
            assert key in rule, (rule["name"], key)
        assert rule["severity"] in ("low", "medium", "high", "critical")
        assert 0 <= rule["risk_score"] <= 100
        assert (
            rule["type"]
            == {"query": "query", "lucene": "query", "esql": "esql", "eql": "eql"}[rule["language"]]
        )
        if rule["type"] != "esql":
            assert rule["index"] == ["logs-tocsin.events-*"]
        else:
            assert rule["query"].startswith("from logs-tocsin.events-* ")
        source = builtin[rule["rule_id"]]
        building_block = source.get("name") in referenced  # a correlation's step: raises no alert of its own
        assert (rule.get("building_block_type") == "default") == building_block, rule["name"]
    sequence = next(
        rule for rule in rules if rule["name"].endswith("Successful Authentication After Repeated Failures")
    )
    assert sequence["query"].startswith("sequence by user.name with maxspan=1800s")


def test_saved_objects_hold_a_data_view_and_a_dashboard_whose_references_resolve():
    result = tocsin("rules", "convert", "--target", "kibana-saved-objects")
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    known = {(item["type"], item["id"]) for item in objects}
    assert ("index-pattern", "tocsin-alerts") in known and ("dashboard", "tocsin-alerts-overview") in known
    for item in objects:
        for reference in item["references"]:
            assert (reference["type"], reference["id"]) in known
    fields = {
        agg["params"].get("field")
        for item in objects
        if item["type"] == "visualization"
        for agg in json.loads(item["attributes"]["visState"])["aggs"]
    }
    assert {"rule.title", "rule.level", "user.name", "source.ip", "@timestamp"} <= fields


def test_convert_targets_print_queries(tmp_path):
    rule = tmp_path / "native.yml"
    rule.write_text(
        Path(builtin_rules_path() / "authentication" / "failed_authentication.yml")
        .read_text()
        .replace("event.outcome: failure", "TargetUserName: admin")
        .replace("name: tocsin_failed_authentication\n", "")
    )
    result = tocsin("rules", "convert", str(rule), "--target", "lucene")
    assert (
        "original.TargetUserName:admin" in result.stdout and "event.category:authentication" in result.stdout
    )
    duckdb = tocsin("rules", "convert", "--target", "duckdb")
    assert duckdb.returncode == 0 and "streaming engine" in duckdb.stdout and "ILIKE" in duckdb.stdout


def test_an_unknown_product_is_a_usage_error_and_auto_spools_when_nothing_answers(tmp_path):
    env = {
        "TOCSIN_ES_URL": f"http://127.0.0.1:{refused_port()}",
        "TOCSIN_ELASTICSEARCH_STATE_DIR": str(tmp_path),
    }
    wrong = tocsin("es", "replay", env={**env, "TOCSIN_ES_PRODUCT": "solr"})
    assert wrong.returncode == 2 and "TOCSIN_ES_PRODUCT" in wrong.stderr
    assert (
        "[elasticsearch] product = 'solr': expected one of auto, elasticsearch or opensearch" in wrong.stderr
    )
    assert "Traceback" not in wrong.stderr
    scanned = tocsin("scan", str(shared("authlogs/OpenSSH_2k.log")), "--to-es", "--format", "jsonl", env=env)
    assert (
        scanned.returncode == 0
        and "cluster unavailable" in scanned.stderr
        and Spool(tmp_path / "spool").files()
    )


def test_rules_convert_to_opensearch_monitors():
    result = tocsin("rules", "convert", "--target", "opensearch-monitor")
    assert result.returncode == 0, result.stderr
    monitors = jsonl(result.stdout)
    names = {monitor["name"] for monitor in monitors}
    assert (
        "SIGMA - S3 Bucket Made Public" in names and "SIGMA - Failed Authentication" not in names
    )  # a building block
    for monitor in monitors:
        search = monitor["inputs"][0]["search"]
        assert search["indices"] == ["logs-tocsin.events-*"] and monitor["type"] == "monitor"
        assert search["query"]["query"]["bool"]["must"][0]["query_string"]["query"]
    assert f"{len(monitors)} OpenSearch monitors" in " ".join(result.stderr.split())
