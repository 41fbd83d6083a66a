"""Stateful detectors on the real engine: geo-velocity, unusual login then change, reporter rings."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import shared
from tocsin.cli import cli
from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules
from tocsin.detectors.stateful.engine import StatefulEngine
from tocsin.detectors.stateful.geo import Place, distance_km, speed_kmh
from tocsin.detectors.stateful.novelty import agent_family, source_key
from tocsin.model.alert import Alert
from tocsin.model.event import Event
from tocsin.ruletest.check import check_rules
from tocsin.ruletest.events import ecs_event
from tocsin.sources.timeparse import parse_time
from tocsin.storage.sqlite import connect

PACK = load_rules([builtin_rules_path()])
PARIS, SYDNEY, LYON = (48.8566, 2.3522), (-33.8688, 151.2093), (45.764, 4.8357)
T0 = parse_time("2026-03-02T09:00:00Z") or 0.0


def login(
    minutes: float,
    user: str = "alice",
    ip: str = "203.0.113.5",
    where: tuple[float, float] | None = None,
    agent: str = "Mozilla/5.0 (Windows NT 10.0) Chrome/122.0 Safari/537.36",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@timestamp": T0 + minutes * 60,
        "event": {"category": "authentication", "type": "start", "outcome": "success"},
        "user": {"name": user},
        "source": {"ip": ip},
        "user_agent": {"original": agent},
    }
    if where:
        doc["source"]["geo"] = {"location": {"lat": where[0], "lon": where[1]}}
    return doc


def change(
    minutes: float, user: str = "alice", action: str = "user.account.reset_password"
) -> dict[str, Any]:
    return {
        "@timestamp": T0 + minutes * 60,
        "event": {"category": "iam", "type": "change", "action": action},
        "user": {"name": user},
    }


def events(docs: list[dict[str, Any]]) -> list[Event]:
    result = []
    for number, doc in enumerate(docs, 1):
        doc = {**doc, "@timestamp": _iso(doc["@timestamp"])} if isinstance(doc["@timestamp"], float) else doc
        result.append(ecs_event(doc, "case", number))
    return result


def _iso(ts: float) -> str:
    from tocsin.model.event import iso_timestamp

    return iso_timestamp(ts) or ""


def run(docs: list[dict[str, Any]] | list[Event], title: str | None = None, batch: int = 1000) -> list[Alert]:
    connection = connect(":memory:")
    engine = StatefulEngine(PACK, connection)
    stream = [doc for doc in docs if isinstance(doc, Event)] or events(docs)  # type: ignore[arg-type]
    for start in range(0, len(stream), batch):
        engine.process(stream[start : start + batch])
    alerts = engine.finish()
    engine.close()
    return [alert for alert in alerts if title is None or alert.rule.title == title]


def history(user: str = "alice", count: int = 5) -> list[dict[str, Any]]:
    return [login(-1440 * (day + 1), user, f"203.0.113.{10 + day}") for day in range(count)]


# -- geo-velocity ----------------------------------------------------------------------------


def test_great_circle_distance_and_speed() -> None:
    assert distance_km(Place(*PARIS), Place(*SYDNEY)) == pytest.approx(16_961, abs=5)
    assert distance_km(Place(*PARIS), Place(*PARIS)) == 0
    assert distance_km(Place(0, 179.5), Place(0, -179.5)) == pytest.approx(
        111.2, abs=0.5
    )  # across the antimeridian
    assert speed_kmh(1000, 3600) == pytest.approx(1000)
    assert speed_kmh(600, 0) == pytest.approx(600 * 3600)  # simultaneous logins count as one second apart


def test_impossible_travel_names_both_places_distance_and_speed() -> None:
    [alert] = run([login(0, where=PARIS), login(40, ip="198.51.100.7", where=SYDNEY)], "Impossible Travel")
    assert alert.event_count == 2 and len(alert.evidence) == 2
    assert alert.user == {"name": "alice"} and alert.source == {"ip": "198.51.100.7"}
    assert "203.0.113.5" in alert.message and "198.51.100.7" in alert.message and "km/h" in alert.message
    assert alert.details and alert.details["distance_km"] == pytest.approx(16_961, abs=5)
    assert alert.details["speed_kmh"] > 20_000


def test_impossible_travel_ignores_unknown_places_short_hops_and_slow_trips() -> None:
    connection = connect(":memory:")
    engine = StatefulEngine(PACK, connection)
    engine.process(
        events(
            [
                login(0, where=PARIS),
                login(5, ip="192.0.2.1"),
                login(10, where=LYON),
                login(60 * 30, where=SYDNEY),
            ]
        )
    )
    assert not [a for a in engine.finish() if a.rule.title == "Impossible Travel"]
    assert (
        engine.diagnostics["Impossible Travel: successful logins without a location, not checked for travel"]
        == 1
    )


def test_first_located_login_is_never_travel() -> None:
    assert not run([login(0, where=SYDNEY)], "Impossible Travel")


# -- unusual login then change ---------------------------------------------------------------

SENSITIVE = "Unusual Login Then Sensitive Account Change"


def test_new_network_then_password_reset() -> None:
    [alert] = run([*history(), login(0, ip="198.51.100.7"), change(15)], SENSITIVE)
    assert alert.evidence[0] != alert.evidence[1] and alert.event_count == 2
    assert alert.details and alert.details["reasons"] == ["new network 198.51.100.0/24"]
    assert alert.source == {"ip": "198.51.100.7"}


def test_baseline_not_reached_first_login_and_known_origin_do_not_alert() -> None:
    assert not run([*history(count=4), login(0, ip="198.51.100.7"), change(15)], SENSITIVE)
    assert not run([login(0, ip="198.51.100.7"), change(1)], SENSITIVE)
    assert not run([*history(), login(0, ip="203.0.113.250"), change(15)], SENSITIVE)


def test_change_outside_window_or_before_login_does_not_alert() -> None:
    assert not run([*history(), login(0, ip="198.51.100.7"), change(61)], SENSITIVE)
    assert not run([*history(), change(-1), login(0, ip="198.51.100.7")], SENSITIVE)


def test_new_client_family_counts_but_a_new_version_does_not() -> None:
    base = history()
    upgraded = "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0 Safari/537.36"
    assert not run([*base, login(0, ip="203.0.113.10", agent=upgraded), change(5)], SENSITIVE)
    [alert] = run([*base, login(0, ip="203.0.113.10", agent="python-requests/2.31"), change(5)], SENSITIVE)
    assert alert.details and alert.details["reasons"] == ["new client Python"]


def test_source_key_and_agent_family() -> None:
    assert source_key(ecs_event({"source": {"ip": "198.51.100.77"}})) == "198.51.100.0/24"
    assert source_key(ecs_event({"source": {"ip": "2001:db8:1:2::5"}})) == "2001:db8:1::/48"
    assert source_key(ecs_event({"source": {"ip": "198.51.100.77", "as": {"number": 64500}}})) == "AS64500"
    assert source_key(ecs_event({"source": {"ip": "not-an-ip"}})) is None
    safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/604.1"
    assert agent_family(safari) == "Safari on iOS"
    assert (
        agent_family("Mozilla/5.0 (Windows NT 10.0) Chrome/122.0 Safari/537.36 Edg/122.0")
        == "Edge on Windows"
    )
    assert agent_family("curl/8.4.0") == "curl"


# -- reporters acting together -----------------------------------------------------------------


def report(minutes: float, reporter: str, target: str) -> dict[str, Any]:
    return {
        "@timestamp": T0 + minutes * 60,
        "event": {"action": "user-report"},
        "user": {"name": reporter, "target": {"name": target}},
        "tocsin": {"logsource": {"product": "platform", "category": "user_report"}},
    }


RING = [f"ring{i}" for i in range(6)]
TOGETHER = "Reporters Acting Together Again"


def test_ring_against_two_targets_alerts_with_reporters_and_targets() -> None:
    docs = [report(i, who, "jane") for i, who in enumerate(RING)]
    docs += [report(3000 + i, who, "carl") for i, who in enumerate([*RING, "x1", "x2"])]
    [alert] = run(docs, TOGETHER)
    assert (
        alert.details and alert.details["reporters"] == RING and alert.details["targets"] == ["carl", "jane"]
    )
    assert alert.event_count == 12 and len(alert.evidence) == 12
    assert alert.group_by == {"user.target.name": "carl,jane"}


def test_reporters_overlapping_once_or_on_one_target_do_not_alert() -> None:
    once = [report(i, who, "jane") for i, who in enumerate(RING)]
    assert not run(once, TOGETHER)
    again_same_target = once + [report(5000 + i, who, "jane") for i, who in enumerate(RING)]
    assert not run(again_same_target, TOGETHER)
    few_shared = once + [report(3000 + i, who, "carl") for i, who in enumerate([*RING[:4], "y1", "y2"])]
    assert not run(few_shared, TOGETHER)


# -- order independence, incremental evaluation, loading --------------------------------------


def _mixed() -> list[dict[str, Any]]:
    docs = [
        *history(),
        login(0, ip="198.51.100.7", where=PARIS),
        change(15),
        login(30, ip="192.0.2.8", where=SYDNEY),
    ]
    docs += [report(i, who, "jane") for i, who in enumerate(RING)]
    docs += [report(3000 + i, who, "carl") for i, who in enumerate(RING)]
    return docs


def test_shuffled_input_gives_the_same_alerts() -> None:
    expected = sorted(alert.id for alert in run(_mixed()))
    assert len(expected) == 3
    for seed in range(3):
        shuffled = events(_mixed())  # the same records (same ids), read in another order
        random.Random(seed).shuffle(shuffled)
        assert sorted(alert.id for alert in run(shuffled, batch=4)) == expected


def test_incremental_evaluation_matches_batch_ids_and_prunes(tmp_path: Path) -> None:
    docs = _mixed()
    connection = connect(str(tmp_path / "state.db"))
    engine = StatefulEngine(PACK, connection, table_prefix="stateful")
    stream = events(docs)
    seen: dict[str, Alert] = {}
    for start in range(0, len(stream), 5):
        engine.process(stream[start : start + 5])
        seen.update((alert.id, alert) for alert in engine.evaluate())
    assert not engine.evaluate()  # nothing new since the last call
    assert sorted(seen) == sorted(alert.id for alert in run(docs))
    assert engine.prune(T0) == 20  # the five history logins, kept by each of the four login rules
    engine.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_states_survive_late_rows_and_a_restart(tmp_path: Path, seed: int) -> None:
    """States kept between batches give the batch ids though rows come out of order and the
    engine restarts (states rebuilt from the table) half-way."""
    docs = _mixed()
    stream = events(docs)
    random.Random(seed).shuffle(stream)
    path = str(tmp_path / "state.db")
    engine = StatefulEngine(PACK, connect(path), table_prefix="stateful")
    seen: set[str] = set()
    for start in range(0, len(stream), 3):
        engine.process(stream[start : start + 3])
        seen.update(alert.id for alert in engine.evaluate())
        if start == 9:
            engine.connection.commit()
            engine.close()
            engine.connection.close()
            engine = StatefulEngine(PACK, connect(path), table_prefix="stateful")
    assert seen == {alert.id for alert in run(docs)}
    engine.close()


def test_bad_stateful_rules_are_reported_not_loaded(tmp_path: Path) -> None:
    (tmp_path / "unknown.yml").write_text("title: X\nid: x-1\nstateful:\n    kind: teleport\n    rules: {}\n")
    (tmp_path / "param.yml").write_text(
        "title: Y\nid: y-1\nstateful:\n    kind: impossible_travel\n    rules: {login: tocsin_successful_authentication}\n"
        "    parameters: {max_speed_kmh: fast}\n"
    )
    (tmp_path / "ref.yml").write_text(
        "title: Z\nid: z-1\nstateful:\n    kind: impossible_travel\n    rules: {login: no_such_rule}\n"
    )
    (tmp_path / "mixed.yml").write_text(
        "title: W\nid: w-1\nstateful:\n    kind: impossible_travel\n"
        "    rules: {login: tocsin_successful_authentication}\n---\n"
        "title: V\nid: v-1\nlogsource: {category: authentication}\n"
        "detection: {selection: {user.name: x}, condition: selection}\n"
    )
    ruleset = load_rules([builtin_rules_path(), tmp_path])
    reasons = sorted(error.reason for error in ruleset.errors)
    assert len(reasons) == 4, reasons
    assert any("unknown stateful kind 'teleport'" in r for r in reasons)
    assert any("max_speed_kmh must be a float" in r for r in reasons)
    assert any("did not load: no_such_rule" in r for r in reasons)
    assert any("holds only stateful rules" in r for r in reasons)
    report = check_rules([tmp_path], engine=False)
    assert {f.check for f in report.findings} == {"schema"} and len(report.findings) == 3


def test_pack_check_accepts_stateful_rules() -> None:
    report = check_rules([builtin_rules_path()], engine=False)
    stateful_files = {str(rule.info.source) for rule in PACK.stateful}
    assert len(stateful_files) == 6
    assert not [f for f in report.findings if f.file in stateful_files and f.severity == "error"]


# -- the CLI on real Okta records ---------------------------------------------------------------


def _okta_login(template: dict[str, Any], published: str, ip: str, city: str, lat: float, lon: float) -> str:
    record = json.loads(json.dumps(template))
    record["published"], record["client"]["ipAddress"] = published, ip
    record["client"]["geographicalContext"].update(city=city, geolocation={"lat": lat, "lon": lon})
    record["outcome"] = {"result": "SUCCESS"}
    return json.dumps(record)


def test_cli_scan_of_okta_logins_reports_impossible_travel(tmp_path: Path) -> None:
    lines = shared("cloud/okta.jsonl").read_text().splitlines()
    template = next(
        json.loads(line) for line in lines if '"user.session.start"' in line and '"geolocation"' in line
    )
    logins = tmp_path / "okta.jsonl"
    logins.write_text(
        "\n".join(
            [
                _okta_login(template, "2026-03-02T09:00:00.000Z", "203.0.113.5", "Paris", *PARIS),
                _okta_login(template, "2026-03-02T09:45:00.000Z", "198.51.100.7", "Sydney", *SYDNEY),
                _okta_login(template, "2026-03-02T09:50:00.000Z", "198.51.100.8", "Sydney", *SYDNEY),
            ]
        )
        + "\n"
    )
    result = CliRunner().invoke(cli, ["scan", str(logins), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    alerts = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    travel = [alert for alert in alerts if alert["rule"]["title"] == "Impossible Travel"]
    assert len(travel) == 1 and travel[0]["rule"]["type"] == "stateful"
    assert "Paris" in travel[0]["message"] and "Sydney" in travel[0]["message"]


def test_real_cloud_samples_raise_no_stateful_alert() -> None:
    """The panther samples hold single events, not histories: no travel, no baseline, no ring."""
    paths = [str(shared("cloud"))]
    result = CliRunner().invoke(cli, ["scan", *paths, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    types = [json.loads(line)["rule"]["type"] for line in result.stdout.splitlines() if line.startswith("{")]
    assert types and "stateful" not in types
