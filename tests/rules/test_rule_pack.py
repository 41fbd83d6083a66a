"""The built-in rule pack passes its own tests, and every rule file has a positive and a negative case."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from tocsin.cli import cli
from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules
from tocsin.ruletest.check import check_rules
from tocsin.ruletest.listing import attack_tags, list_rules
from tocsin.ruletest.runner import run_tests

SIGMAHQ = Path("/work/shared/data/sigma/sigmahq")


def test_builtin_pack_passes_its_tests() -> None:
    run = run_tests([])
    failures = [f"{r.title}: {r.case.name}: {r.reason}" for r in run.results if not r.passed]
    assert not failures and not run.problems, failures + [p.reason for p in run.problems]
    assert len(run.results) >= 40


def test_every_builtin_rule_file_has_positive_and_negative_cases() -> None:
    result = CliRunner().invoke(cli, ["rules", "test", "--require-tests"])
    assert result.exit_code == 0, result.output
    assert "UNTESTED" not in result.output


def test_every_builtin_rule_loads_and_has_attack_tags_and_level() -> None:
    ruleset = load_rules([builtin_rules_path()])
    assert not ruleset.errors
    assert len(ruleset.stateful) >= 4
    for rule in [*ruleset.detections, *ruleset.correlations, *ruleset.stateful]:
        if getattr(rule, "emits_alerts", True):
            tactics, techniques = attack_tags(rule.info.tags)
            assert tactics and techniques, rule.info.title
            assert rule.info.description, rule.info.title


def test_cli_test_fails_with_reason(tmp_path: Path) -> None:
    rule = tmp_path / "failed_root.yml"
    rule.write_text(
        "title: Failed Root Login\nid: 0b5e8c1a-1111-4a2b-9c3d-222233334444\nstatus: test\n"
        "logsource:\n    category: authentication\n"
        "detection:\n    selection:\n        user.name: root\n        event.outcome: failure\n    condition: selection\n"
        "level: low\n"
    )
    folder = tmp_path / "failed_root"
    folder.mkdir()
    (folder / "events.jsonl").write_text(
        json.dumps(
            {
                "@timestamp": "2026-01-01T00:00:00Z",
                "event": {"category": "authentication", "outcome": "failure"},
                "user": {"name": "root"},
            }
        )
        + "\n"
    )
    (folder / "info.yml").write_text(
        "rule_metadata:\n    - id: 0b5e8c1a-1111-4a2b-9c3d-222233334444\n      title: Failed Root Login\n"
        "regression_tests_info:\n    - name: one root failure\n      type: ecs\n      match_count: 2\n      path: events.jsonl\n"
    )
    result = CliRunner().invoke(cli, ["rules", "test", str(tmp_path), "--no-builtin-rules"])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "1 matches, 2 expected" in result.output
    junit = CliRunner().invoke(
        cli, ["rules", "test", str(tmp_path), "--no-builtin-rules", "--format", "junit"]
    )
    root = ET.fromstring(junit.stdout)
    assert root.tag == "testsuites" and root.get("tests") == "1" and root.get("failures") == "1"
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == "one root failure"
    assert case.find("failure") is not None


def test_junit_of_the_pack_is_valid() -> None:
    result = CliRunner().invoke(cli, ["rules", "test", "--format", "junit"])
    assert result.exit_code == 0
    root = ET.fromstring(result.stdout)
    assert int(root.get("tests", "0")) >= 40 and root.get("failures") == "0"
    assert all(suite.get("tests") for suite in root.findall("testsuite"))


def test_sigmahq_regression_layout_runs_unchanged(tmp_path: Path) -> None:
    """SigmaHQ keeps tests under regression_data/, pointed to by regression_tests_path, with paths
    relative to the repository root."""
    rule_dir = tmp_path / "rules" / "linux" / "builtin" / "sshd"
    rule_dir.mkdir(parents=True)
    (rule_dir / "lnx_sshd_invalid_user.yml").write_text(
        "title: SSHD Invalid User\nid: 6a1f4a3b-2c5d-4e6f-8a9b-0c1d2e3f4a5b\nstatus: test\n"
        "regression_tests_path: regression_data/rules/linux/builtin/sshd/lnx_sshd_invalid_user/info.yml\n"
        "logsource:\n    product: linux\n    service: sshd\n"
        "detection:\n    keywords:\n        - 'Invalid user'\n    condition: keywords\nlevel: low\n"
    )
    data = tmp_path / "regression_data" / "rules" / "linux" / "builtin" / "sshd" / "lnx_sshd_invalid_user"
    data.mkdir(parents=True)
    (data / "6a1f4a3b-2c5d-4e6f-8a9b-0c1d2e3f4a5b.log").write_text(
        "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n"
        "Dec 10 06:55:48 LabSZ sshd[24202]: Invalid user test9 from 52.80.34.196\n"
        "Dec 10 07:02:47 LabSZ sshd[24203]: Connection closed by 212.47.254.145 [preauth]\n"
    )
    (data / "info.yml").write_text(
        "id: 9d7e6f5a-4b3c-4d2e-8f1a-0b9c8d7e6f5a\ndescription: N/A\ndate: 2025-01-01\nauthor: test\n"
        "rule_metadata:\n    - id: 6a1f4a3b-2c5d-4e6f-8a9b-0c1d2e3f4a5b\n      title: SSHD Invalid User\n"
        "regression_tests_info:\n    - name: Positive Detection Test\n      type: log\n      provider: sshd\n"
        "      match_count: 2\n"
        "      path: regression_data/rules/linux/builtin/sshd/lnx_sshd_invalid_user/6a1f4a3b-2c5d-4e6f-8a9b-0c1d2e3f4a5b.log\n"
    )
    run = run_tests([tmp_path / "rules"], builtin=False)
    assert [r.passed for r in run.results] == [True], [r.reason for r in run.results]
    assert not run.problems
    # The whole checkout finds the same case once.
    assert len(run_tests([tmp_path], builtin=False).results) == 1


def test_check_flags_duplicate_ids_and_schema_errors(tmp_path: Path) -> None:
    body = (
        "title: {t}\nid: 11111111-2222-4333-8444-555555555555\nstatus: test\nlogsource:\n    category: authentication\n"
        "detection:\n    sel:\n        user.name: x\n    condition: sel\nlevel: low\n"
    )
    (tmp_path / "a.yml").write_text(body.format(t="Rule A"))
    (tmp_path / "b.yml").write_text(body.format(t="Rule B"))
    (tmp_path / "c.yml").write_text(
        "title: Broken\nlogsource:\n    category: x\ndetection:\n    condition: nothing\n"
    )
    report = check_rules([tmp_path])
    checks = {finding.check for finding in report.findings}
    assert "duplicate-id" in checks and "schema" in checks
    sarif = CliRunner().invoke(cli, ["rules", "check", str(tmp_path), "--format", "sarif"])
    assert sarif.exit_code == 1
    log = json.loads(sarif.stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "tocsin rules check"
    ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    for result in run["results"]:
        assert result["ruleId"] in ids and result["level"] in {"error", "warning", "note"}
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


@pytest.mark.skipif(not SIGMAHQ.is_dir(), reason="shared SigmaHQ rules not present")
def test_check_runs_over_sigmahq_offline() -> None:
    report = check_rules([SIGMAHQ])
    assert report.rules > 500
    assert report.validators
    # Validators needing downloaded data are skipped with a reason, never silently.
    for reason in report.skipped.values():
        assert reason
    result = CliRunner().invoke(
        cli, ["rules", "check", str(SIGMAHQ), "--format", "sarif", "--fail-on", "never"]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["runs"][0]["results"] is not None


def test_list_shows_attack_coverage() -> None:
    result = CliRunner().invoke(cli, ["rules", "list"])
    assert result.exit_code == 0
    assert "credential-access" in result.output and "T1621" in result.output


def test_stateful_rules_are_listed_tested_and_required_to_have_cases(tmp_path: Path) -> None:
    listed = {rule.title: rule.kind for rule in list_rules([builtin_rules_path()]).rules}
    assert listed["Impossible Travel"] == "stateful"
    run = run_tests([])
    tested = {r.title for r in run.results if r.passed}
    assert {"Impossible Travel", "Reporters Acting Together Again"} <= tested
    rule = tmp_path / "travel.yml"
    rule.write_text(
        "title: Fast Travel\nid: 6c0de3a1-1111-4b22-8c33-444455556666\nstatus: test\ntags: [attack.initial-access, attack.t1078]\n"
        "stateful:\n    kind: impossible_travel\n    rules: {login: tocsin_successful_authentication}\nlevel: low\n"
    )
    result = CliRunner().invoke(cli, ["rules", "test", str(tmp_path), "--require-tests"])
    assert result.exit_code == 1 and "UNTESTED" in result.output and "travel.yml" in result.output
