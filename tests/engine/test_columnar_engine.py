"""The columnar engine through the CLI: exact counts, honest coverage, rule sets that load also run."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SHARED, shared
from tests.engine_helpers import ruleset_from
from tocsin.cli import cli
from tocsin.model.event import LogSource
from tocsin.output import print_summary
from tocsin.scan import ScanRequest, run_scan
from tocsin.sources.base import ParseOptions
from tocsin.terminal import console

KIT = (SHARED.parent / "bench" / "sshd-jsonl").resolve()
#: Rule titles of the kit, by the key its expected_counts.py prints.
KIT_RULES = {
    "failed_login": "SSHD Failed Authentication",
    "root_login": "SSHD Successful Root Login",
    "invalid_user": "SSHD Invalid User",
    "external_success": "SSHD Successful Login From Non-RFC1918 Address",
    "default_account_regex": "SSHD Failed Password For Common Default Account",
}


@pytest.fixture(scope="module")
def kit_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (KIT / "gen_sshd.py").exists():
        pytest.skip(f"benchmark kit not found under {KIT}")
    path = tmp_path_factory.mktemp("kit") / "sshd.jsonl"
    subprocess.run([sys.executable, str(KIT / "gen_sshd.py"), "20000", str(path)], check=True)
    return path


def scan(*args: str) -> tuple[int, list[dict], str]:
    result = CliRunner().invoke(cli, ["scan", "--format", "jsonl", *args])
    alerts = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, alerts, result.stderr


def test_sshd_kit_counts_are_exact(kit_events: Path) -> None:
    expected = json.loads(
        subprocess.run(
            [sys.executable, str(KIT / "expected_counts.py"), str(kit_events)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    code, alerts, _ = scan(str(kit_events), "--rules", str(KIT / "rules"), "--no-builtin-rules")
    assert code == 0
    counts = Counter(alert["rule"]["title"] for alert in alerts)
    assert {key: counts[title] for key, title in KIT_RULES.items()} == expected
    assert all(count > 0 for count in expected.values())


def test_rules_that_saw_no_event_of_their_logsource_are_named_and_strict_fails(
    kit_events: Path, tmp_path: Path
) -> None:
    """Without process.name nothing says the events are sshd's: the run must say it could not look."""
    stripped = tmp_path / "no-process.jsonl"
    with kit_events.open() as source, stripped.open("w") as target:
        for line in source:
            record = json.loads(line)
            del record["process.name"]
            target.write(json.dumps(record) + "\n")
    code, alerts, stderr = scan(str(stripped), "--rules", str(KIT / "rules"), "--no-builtin-rules")
    assert code == 0 and alerts == []
    assert "5 rule(s) saw no events of their log source: linux/sshd (5)" in stderr
    assert "every rule ran over every event" not in stderr
    assert "Nothing was checked" in stderr
    code, _, stderr = scan(str(stripped), "--rules", str(KIT / "rules"), "--no-builtin-rules", "--strict")
    assert code == 2 and "saw no event of their log source" in stderr
    code, alerts, _ = scan(
        str(stripped), "--rules", str(KIT / "rules"), "--no-builtin-rules", "--strict",
        "--logsource", "product=linux,service=sshd",
    )  # fmt: skip
    assert code == 0 and alerts  # the rules that do not need process.name fire again


def test_ecs_dataset_routes_to_logsource(tmp_path: Path) -> None:
    """event.dataset names the source when nothing else does (system.auth is linux/auth)."""
    events = tmp_path / "ecs.jsonl"
    events.write_text(
        json.dumps(
            {"@timestamp": "2025-01-01T00:00:00Z", "event": {"dataset": "system.auth"}, "message": "x"}
        )
        + "\n"
    )
    rule = tmp_path / "rule.yml"
    rule.write_text(
        "title: Auth X\nid: 0b9d7d7e-1111-4c3a-9d1e-000000000001\nlogsource: {product: linux, service: auth}\n"
        "detection:\n  selection: {message: x}\n  condition: selection\nlevel: low\n"
    )
    code, alerts, _ = scan(str(events), "--rules", str(rule), "--no-builtin-rules", "--strict")
    assert code == 0 and [alert["rule"]["title"] for alert in alerts] == ["Auth X"]


def test_fields_differing_in_case_and_many_columns_still_run(tmp_path: Path) -> None:
    """Two rules naming one field in two cases, and three rules of 900 fields on one log source, load
    and run together (SQLite refused both: duplicate column, too many columns)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for index, name in enumerate(("TargetResources.newValue", "targetResources.newvalue")):
        (rules / f"case{index}.yml").write_text(
            f"title: Case {index}\nid: 0b9d7d7e-2222-4c3a-9d1e-00000000000{index}\nlogsource: {{product: p}}\n"
            f"detection:\n  selection: {{{name}: admin}}\n  condition: selection\nlevel: low\n"
        )
    for index in range(3):
        selection = "\n".join(f"    field_{index}_{number}: v" for number in range(900))
        (rules / f"wide{index}.yml").write_text(
            f"title: Wide {index}\nid: 0b9d7d7e-3333-4c3a-9d1e-00000000000{index}\nlogsource: {{product: p}}\n"
            f"detection:\n  selection:\n{selection}\n  condition: selection\nlevel: low\n"
        )
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps({"@timestamp": "2025-01-01T00:00:00Z", "TargetResources": {"newValue": "ADMIN"}}) + "\n"
    )
    code, alerts, stderr = scan(
        str(events), "--rules", str(rules), "--no-builtin-rules", "--logsource", "product=p"
    )
    assert code == 0, stderr
    assert "0 rejected" in stderr
    assert sorted(alert["rule"]["title"] for alert in alerts) == ["Case 0", "Case 1"]


def test_backtracking_regex_cannot_hang_a_scan(tmp_path: Path) -> None:
    """(a+)+$ against a long line is linear under RE2; a rule needing backtracking is refused with a reason."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "redos.yml").write_text(
        "title: Redos\nid: 0b9d7d7e-4444-4c3a-9d1e-000000000001\nlogsource: {product: p}\n"
        "detection:\n  selection: {message|re: '(a+)+$'}\n  condition: selection\nlevel: low\n"
    )
    (rules / "lookahead.yml").write_text(
        "title: Lookahead\nid: 0b9d7d7e-4444-4c3a-9d1e-000000000002\nlogsource: {product: p}\n"
        "detection:\n  selection: {message|re: 'a(?=b)'}\n  condition: selection\nlevel: low\n"
    )
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps({"@timestamp": "2025-01-01T00:00:00Z", "message": "a" * 50_000 + "!"}) + "\n"
    )
    started = time.monotonic()
    code, alerts, stderr = scan(
        str(events), "--rules", str(rules), "--no-builtin-rules", "--logsource", "product=p"
    )
    assert time.monotonic() - started < 60  # Python's re takes hours on this line
    assert code == 0 and alerts == []
    assert "1 rejected" in stderr and "Lookahead" in stderr


def test_community_rules_over_cloud_samples_complete_and_alert() -> None:
    """SigmaHQ's pack over the cloud samples: it crashed on colliding column names before."""
    code, alerts, stderr = scan(str(shared("cloud")), "--rules", str(shared("sigma/sigmahq")))
    assert code == 0, stderr
    community = [alert for alert in alerts if "sigmahq" in (alert["rule"].get("source") or "")]
    assert len(community) >= 20
    assert "engine error" not in stderr
    # Okta's targets are a list of objects: the rule reads target.displayName through it.
    admin_console = [
        alert for alert in community if alert["rule"]["title"] == "Okta New Admin Console Behaviours"
    ]
    assert len(admin_console) == 3


def test_an_input_given_twice_correlates_as_given_once() -> None:
    """Candidates are appended as read and their duplicates dropped at the end: the same lines read
    twice keep each event once, so windows count it once (same alerts, same evidence)."""
    log = str(shared("authlogs/OpenSSH_2k.log"))
    _, once, _ = scan(log)
    _, twice, _ = scan(log, log)
    correlations = [alert for alert in once if alert["rule"]["type"] == "correlation"]
    assert len(correlations) >= 10
    assert sorted(twice, key=lambda alert: alert["id"]) == sorted(once, key=lambda alert: alert["id"])


def test_a_rule_the_engine_stops_on_data_is_named_and_no_clean_result_claimed(tmp_path: Path) -> None:
    """Rules are refused at load when DuckDB cannot bind them; one it still refuses on data is dropped
    and the scan goes on. No Sigma rule is known to do that, so this rule's predicate is made one
    DuckDB binds and then refuses on the first text that is not a number. The run must not claim that
    every rule ran over every event, and --strict fails it."""
    rules = [
        f"title: {title}\nid: 0b9d7d7e-6666-4c3a-9d1e-00000000000{index}\nlogsource: {{product: p}}\n"
        f"detection:\n  selection: {{message|contains: {word}}}\n  condition: selection\nlevel: high\n"
        for index, (title, word) in enumerate((("Cast", "x"), ("Quiet", "nothing-like-this")))
    ]
    ruleset = ruleset_from(tmp_path, *rules)
    cast = next(rule for rule in ruleset.detections if rule.info.title == "Cast")
    cast.predicate, cast.element_tests = 'CAST("message" AS INTEGER) = 1', ()
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"@timestamp": "2025-01-01T00:00:00Z", "message": "admin"}) + "\n")
    request = ScanRequest([str(path)], builtin_rules=False, parse=ParseOptions(logsource=LogSource.of("p")))
    summary = run_scan(request, lambda alert: None, ruleset=ruleset)
    assert summary.coverage.stopped == ["Cast"] and summary.alerts == 0 and summary.looked
    assert not summary.every_rule_ran
    assert "1 rule(s) stopped after an engine error" in summary.strict_failures()
    stream = io.StringIO()
    print_summary(console(file=stream, width=300), summary)
    printed = stream.getvalue()
    assert "Cast: stopped after an engine error" in printed
    assert (
        "No alerts from the 2 rule(s) that saw events of their log source; 1 stopped after an engine error"
        in printed
    )
    assert "every rule ran" not in printed
