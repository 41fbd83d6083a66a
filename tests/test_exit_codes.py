"""Exit codes a script can trust, each through the CLI: 0 clean, 1 an alert at or above --fail-on
(named on stderr), 2 a usage error, an unreadable input named on the command line, or (with --strict
or --fail-on) a run that checked nothing; and the summary that says why."""

from __future__ import annotations

import os

import pytest

from tests.conftest import shared
from tests.test_cli import EXAMPLE, jsonl, tocsin

BROKEN_RULE = "title: broken\nlogsource: {product: linux}\ndetection:\n  condition: nothing\n"


def test_scan_help_lists_the_exit_codes():
    text = tocsin("scan", "--help").stdout
    codes = text[text.index("Exit codes:") : text.index("Options:")]
    numbered = [
        line.split()[0]
        for line in codes.splitlines()
        if line.startswith("    ") and line.split()[0].isdigit()
    ]
    assert numbered == ["0", "1", "2", "3"]
    assert "nothing was checked" in codes and "--strict" in codes and "--fail-on" in codes


def test_fail_on_names_the_alert_that_tripped_it(tmp_path):
    alerts_file = tmp_path / "alerts.jsonl"
    result = tocsin(
        "scan", str(shared("authlogs/OpenSSH_2k.log")), "-o", str(alerts_file), "--fail-on", "high"
    )
    assert result.returncode == 1, result.stderr
    alerts = jsonl(alerts_file.read_text())
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("tocsin: --fail-on high: ")]
    level, rule_and_rest = line.removeprefix("tocsin: --fail-on high: ").split(" ", 1)
    named = next(a for a in alerts if f"({a['id'][:10]})" in rule_and_rest)
    assert level == named["rule"]["level"] == "high"
    assert rule_and_rest.startswith(named["rule"]["title"] + f" ({named['id'][:10]}) ")
    assert f"source.ip={named['source']['ip']} host.name=LabSZ" in line
    assert line.endswith(", and 10 more alert(s) at or above high")  # 11 high in all


def test_fail_on_names_the_most_severe_alert():
    result = tocsin("scan", str(EXAMPLE), "-o", os.devnull, "--fail-on", "medium")
    assert result.returncode == 1
    assert (
        "tocsin: --fail-on medium: critical Successful Authentication After Repeated Failures ("
        in result.stderr
        and "user.name=erin source.ip=192.0.2.99 host.name=web01, and 4 more alert(s) at or above medium"
        in result.stderr
    )


def test_fail_on_below_every_alert_is_clean_and_silent():
    result = tocsin("scan", str(shared("authlogs/OpenSSH_2k.log")), "-o", os.devnull, "--fail-on", "critical")
    assert result.returncode == 0, result.stderr
    assert "--fail-on" not in result.stderr and "tocsin: error" not in result.stderr


def test_nothing_checked_is_not_clean(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    strict = tocsin("scan", str(empty), "--strict")
    assert strict.returncode == 2 and "tocsin: error: nothing was checked (--strict)" in strict.stderr
    plain = tocsin("scan", str(empty))  # no verdict asked for: the summary says it, the exit code does not
    assert plain.returncode == 0 and "Nothing was checked: no events were read" in plain.stderr
    no_rule = tocsin("scan", str(EXAMPLE), "--no-builtin-rules", "--fail-on", "low", "-o", os.devnull)
    assert no_rule.returncode == 2
    assert "Nothing was checked: no rule could be loaded" in no_rule.stderr
    assert "tocsin: error: nothing was checked, so --fail-on cannot call this run clean" in no_rule.stderr


def test_strict_fails_on_a_rejected_rule(tmp_path):
    (tmp_path / "broken.yml").write_text(BROKEN_RULE)
    lenient = tocsin("scan", str(EXAMPLE), "--rules", str(tmp_path), "-o", os.devnull)
    assert lenient.returncode == 0 and "1 rejected" in lenient.stderr
    strict = tocsin("scan", str(EXAMPLE), "--rules", str(tmp_path), "-o", os.devnull, "--strict")
    assert strict.returncode == 2 and "tocsin: error: 1 rule(s) rejected (--strict)" in strict.stderr


def test_unreadable_input_named_on_the_command_line_exits_2(tmp_path):
    corrupt = tmp_path / "logs.zip"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip archive")
    result = tocsin("scan", str(corrupt), str(EXAMPLE), "-o", os.devnull)
    assert result.returncode == 2
    assert f"tocsin: error: cannot read {corrupt}: corrupt zip archive" in result.stderr
    assert "Alerts 5:" in result.stderr  # the readable input was still scanned, and summarised first


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_input_without_read_permission_exits_2(tmp_path):
    locked = tmp_path / "auth.log"
    locked.write_text(EXAMPLE.read_text())
    locked.chmod(0)
    result = tocsin("scan", str(locked), "-o", os.devnull)
    assert result.returncode == 2 and "Permission denied" in result.stderr


def test_default_summary_names_top_rules_and_entities_and_keeps_notes_for_verbose():
    result = tocsin("scan", str(shared("authlogs/OpenSSH_2k.log")), "-o", os.devnull)
    lines = result.stderr.splitlines()
    assert (
        "  top rules: Brute Force From One Source (7), Brute Force Against One Account (5), "
        "Password Spraying From One Source (4)" in lines
    )
    entities = next(line for line in lines if line.startswith("  top entities: "))
    assert entities.startswith(
        "  top entities: host.name=LabSZ (16), source.ip=103.99.0.122 (4), user.name=root (3)"
    )
    cloud = tocsin("scan", str(shared("cloud")), "-o", os.devnull)
    assert "not correlated" not in cloud.stderr and "not checked for travel" not in cloud.stderr
    assert (
        "  detection: 16 rule(s) set aside events without a timestamp, group-by value or location"
        in cloud.stderr
    )
    verbose = tocsin("scan", str(shared("cloud")), "-o", os.devnull, "-v")
    notes = [line for line in verbose.stderr.splitlines() if line.startswith("  detection ")]
    assert (
        len(notes) == 16
        and sum(line.endswith(("not correlated: 22", "not correlated: 21")) for line in notes) >= 2
    )


def test_the_summary_counts_alerts_and_names_the_first_alert_of_the_highest_level():
    from datetime import UTC, datetime

    from tocsin.model.alert import Alert, Level, RuleInfo
    from tocsin.scan import ReadSummary, ScanSummary

    def alert(name: str, level: Level, user: str) -> Alert:
        rule = RuleInfo(id=name, title=name.title(), level=level)
        return Alert(
            id=name + user,
            timestamp=datetime.now(UTC),
            rule=rule,
            event_count=1,
            message=name,
            user={"name": user},
        )

    summary = ScanSummary(ReadSummary(), 0, 0, [])
    first_high = alert("b", Level.high, "bob")
    summary.count([alert("a", Level.low, "ann"), first_high, alert("c", Level.high, "cid")])
    summary.count([alert("d", Level.high, "bob"), alert("e", Level.medium, "ann")])
    assert summary.most_severe is first_high  # a later alert of the same level does not replace it
    assert summary.alerts_by_level == {"high": 3, "low": 1, "medium": 1}
    assert summary.alerts_by_rule == {"A": 1, "B": 1, "C": 1, "D": 1, "E": 1}
    assert summary.alerts_by_entity == {"user.name=bob": 2, "user.name=ann": 2, "user.name=cid": 1}
    critical = alert("f", Level.critical, "fay")
    summary.count([alert("g", Level.low, "gus")])
    summary.count([critical])
    assert summary.most_severe is critical
