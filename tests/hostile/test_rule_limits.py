"""Findings 5 and 8 on the paths the engine tests do not take: a ReDoS rule in ``rules test`` and in
``watch`` (DuckDB's RE2 runs every ``|re``; backtracking constructs are refused at load), and a
correlation grouped by thousands of fields refused alone instead of stopping the scan."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.conftest import Tocsin
from tests.watch.helpers import Watcher, syslog_stamp, wait_for

#: Python's ``re`` takes hours on this against a long run of "a" not at the end of the text.
REDOS = "(a+)+$"
LONG_LINE = "a" * 50_000 + "!"


def regex_rule(title: str, number: int, pattern: str, logsource: str = "{product: p}") -> str:
    return (
        f"title: {title}\nid: 0b9d7d7e-6666-4c3a-9d1e-00000000000{number}\nstatus: test\nlogsource: {logsource}\n"
        f"detection:\n  selection: {{message|re: '{pattern}'}}\n  condition: selection\nlevel: high\n"
    )


def test_redos_rule_in_rules_test_runs_in_linear_time(tocsin: Tocsin) -> None:
    folder = tocsin.cwd / "redos"
    folder.mkdir()
    (folder / "redos.yml").write_text(regex_rule("Redos", 1, REDOS))
    tags = {"tocsin.logsource.product": ["p"]}
    (folder / "positive.jsonl").write_text(json.dumps({"message": "baaa", **tags}) + "\n")
    (folder / "negative.jsonl").write_text(json.dumps({"message": LONG_LINE, **tags}) + "\n")
    (folder / "info.yml").write_text(
        "id: 0b9d7d7e-6666-4c3a-9d1e-000000000001\nrule_metadata:\n- {id: 0b9d7d7e-6666-4c3a-9d1e-000000000001, title: Redos}\n"
        "regression_tests_info:\n"
        "- {name: ends in a, type: ecs, provider: tocsin, match_count: 1, path: positive.jsonl}\n"
        "- {name: a long run of a then !, type: ecs, provider: tocsin, match_count: 0, path: negative.jsonl}\n"
    )
    started = time.monotonic()
    result = tocsin.run("rules", "test", "redos", "--no-builtin-rules")
    assert time.monotonic() - started < 60
    assert "PASS Redos — a long run of a then !: 0 matches" in result.stdout
    assert "2 of 2 cases passed" in result.stderr


def test_redos_rule_in_watch_runs_in_linear_time_and_lookahead_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    sshd = "{product: linux, service: sshd}"
    (rules / "redos.yml").write_text(regex_rule("Redos", 1, REDOS, sshd))
    (rules / "lookahead.yml").write_text(regex_rule("Lookahead", 2, "a(?=b)", sshd))
    watcher = Watcher(tmp_path, "--rules", str(rules))
    watcher.start()
    lines = [f"{syslog_stamp()} web01 sshd[{n}]: {message}" for n, message in ((1, LONG_LINE), (2, "baaa"))]
    with open(watcher.logs / "auth.log", "a", encoding="utf-8") as stream:
        stream.write("".join(line + "\n" for line in lines))
    wait_for(lambda: len(watcher.committed_raw()) == 2, what="both lines committed", timeout=60)
    wait_for(lambda: watcher.delivered(), what="the alert on the short line")
    assert watcher.stop() == 0
    assert [alert["rule"]["title"] for alert in watcher.delivered()] == ["Redos"]
    log = watcher.stderr.read_text()
    rejected = [json.loads(line) for line in log.splitlines() if '"rule rejected"' in line]
    assert len(rejected) == 1 and "Lookahead" in rejected[0]["error"], log[-2000:]


def test_correlation_grouped_by_thousands_of_fields_is_refused_not_the_scan(tocsin: Tocsin) -> None:
    rules = tocsin.cwd / "rules"
    rules.mkdir()
    (rules / "base.yml").write_text(
        "title: Login\nid: 0b9d7d7e-5555-4c3a-9d1e-000000000001\nname: login\nlogsource: {product: p}\n"
        "detection:\n  selection: {message|contains: login}\n  condition: selection\nlevel: low\n"
    )
    group_by = "".join(f"    - field_{number}\n" for number in range(3000))
    (rules / "wide.yml").write_text(
        "title: Wide Group\nid: 0b9d7d7e-5555-4c3a-9d1e-000000000002\ncorrelation:\n  type: event_count\n"
        f"  rules: [login]\n  group-by:\n{group_by}  timespan: 10m\n  condition: {{gte: 2}}\nlevel: high\n"
    )
    (rules / "admin.yml").write_text(
        "title: Admin\nid: 0b9d7d7e-5555-4c3a-9d1e-000000000003\nlogsource: {product: p}\n"
        "detection:\n  selection: {message|contains: admin}\n  condition: selection\nlevel: high\n"
    )
    (tocsin.cwd / "events.jsonl").write_text(
        "".join(
            json.dumps({"@timestamp": f"2025-01-01T00:00:0{n}Z", "message": f"login admin {n}"}) + "\n"
            for n in range(3)
        )
    )
    result = tocsin.run(
        "scan", "events.jsonl", "--rules", "rules", "--no-builtin-rules", "--logsource", "product=p",
        "--format", "jsonl",
    )  # fmt: skip
    assert "rejected rules/wide.yml (Wide Group): groups by or counts 3000 fields" in result.stderr
    assert [json.loads(line)["rule"]["title"] for line in result.stdout.splitlines()] == ["Admin"] * 3
    assert "internal error" not in result.stderr


def field_rule(title: str, rule_id: str, selection: str) -> str:
    """A high-level rule of log source ``product: p`` matching ``selection`` (a YAML flow mapping)."""
    return (
        f"title: {title}\nid: {rule_id}\nlogsource: {{product: p}}\n"
        f"detection:\n  selection: {selection}\n  condition: selection\nlevel: high\n"
    )


def scan_as_product_p(
    tocsin: Tocsin, rules: dict[str, str], records: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    """``tocsin scan`` of ``records`` (JSON Lines, routed to ``product: p``) with ``rules`` (file name:
    text) only, alerts as JSON Lines."""
    folder = tocsin.cwd / "rules"
    folder.mkdir()
    for name, text in rules.items():
        (folder / name).write_text(text)
    (tocsin.cwd / "events.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    return tocsin.run(
        "scan", "events.jsonl", "--rules", "rules", "--no-builtin-rules", "--logsource", "product=p",
        "--format", "jsonl",
    )  # fmt: skip


ADMIN = field_rule("Admin", "0b9d7d7e-7777-4c3a-9d1e-000000000002", "{message|contains: admin}")


@pytest.mark.parametrize("field", ["Tocsin_Position", "Tocsin_Elements:message"])
def test_rule_reading_a_column_the_engine_names_is_refused_not_the_scan(tocsin: Tocsin, field: str) -> None:
    """The batch query reports matches by a ``tocsin_position`` column, and reads the values of a
    field holding lists (here ``message``) from a ``tocsin_elements:<field>`` column: a rule reading a
    field so named (any case) would read them, or collide with them and stop the scan."""
    kept = field_rule("Kept", "0b9d7d7e-7777-4c3a-9d1e-000000000001", f"{{'{field}': '0'}}")
    records = [
        {"@timestamp": f"2025-01-01T00:00:0{n}Z", "message": [f"admin {n}", "other"], field.lower(): "0"}
        for n in range(2)
    ]
    result = scan_as_product_p(tocsin, {"kept.yml": kept, "admin.yml": ADMIN}, records)
    assert (
        f"rejected rules/kept.yml (Kept): reads the field {field}, a name the engine keeps" in result.stderr
    )
    assert [json.loads(line)["rule"]["title"] for line in result.stdout.splitlines()] == ["Admin"] * 2
    assert "internal error" not in result.stderr


def test_rule_reading_a_derived_address_column_leaves_the_other_rules_running(tocsin: Tocsin) -> None:
    """The batch query derives a cidr rule's ``<field>#ipv4`` column from ``<field>``: a rule that
    names such a column directly, with no rule reading the field itself, still gets the field to
    derive it from, and its batch query (shared with every rule of its log source) still runs."""
    derived = field_rule("Derived", "0b9d7d7e-7777-4c3a-9d1e-000000000003", "{source.ip#ipv4: '167772161'}")
    records = [
        {"@timestamp": f"2025-01-01T00:00:0{n}Z", "message": f"admin {n}", "source.ip": f"10.0.0.{n}"}
        for n in (1, 2)
    ]
    result = scan_as_product_p(tocsin, {"derived.yml": derived, "admin.yml": ADMIN}, records)
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted((alert["rule"]["title"], alert["source"]["ip"]) for alert in alerts) == [
        ("Admin", "10.0.0.1"),
        ("Admin", "10.0.0.2"),
        ("Derived", "10.0.0.1"),
    ]
    assert "engine error" not in result.stderr
