"""tocsin simulate and tocsin evaluate: determinism, ground truth, parsing, scale and the detection aim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tocsin.cli import cli
from tocsin.evaluation.runner import evaluate_scenario
from tocsin.evaluation.scoring import ScenarioScore
from tocsin.scan import ReadSummary, ScanRequest, load_ruleset, read_events
from tocsin.simulate.formats import platform, webaccess
from tocsin.simulate.scenarios import SCENARIOS
from tocsin.simulate.simulation import Settings, generate
from tocsin.simulate.truth import LOGS_DIR, GroundTruth
from tocsin.sources import ParseOptions

#: Never 7, 11 or 99: the aim is measured on seeds the tests did not tune against.
SEED = 1234


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("simulated")
    for name, scenario in SCENARIOS.items():
        generate(scenario, Settings(seed=SEED), root / name)
    return root


@pytest.fixture(scope="module")
def evaluated(corpus: Path) -> dict[str, tuple[ScenarioScore, object]]:
    request = ScanRequest(paths=[])
    ruleset = load_ruleset(request)
    return {name: evaluate_scenario(corpus / name, request, ruleset) for name in SCENARIOS}


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("name", ["exfiltration", "mfa_fatigue", "account_enumeration"])
def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path, name: str) -> None:
    for label, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(SCENARIOS[name], Settings(seed=seed, days=3), tmp_path / label)
    first, again, other = (_files(tmp_path / label) for label in "abc")
    assert first == again
    assert first.keys() == other.keys()
    assert all(first[path] != other[path] for path in first)


def test_ground_truth_names_records_that_exist_and_map_to_events(corpus: Path, evaluated: dict) -> None:
    for name in SCENARIOS:
        truth = GroundTruth.load(corpus / name)
        assert truth.attacks, name
        for attack in truth.attacks:
            assert attack.records and attack.start <= attack.end and attack.expected_rules, attack.id
            for path, numbers in attack.records.items():
                assert (corpus / name / LOGS_DIR / path).is_file()
                assert (
                    numbers == sorted(set(numbers))
                    and numbers[0] >= 1
                    and numbers[-1] <= truth.files[path].records
                )
        _, labels = evaluated[name]
        lines = {path for path, file in truth.files.items() if file.unit == "line"}
        assert not {key for key in labels.unmatched if key[0] in lines}, (
            name
        )  # every labelled line became an event
        assert set(labels.events.values()) == {attack.id for attack in truth.attacks}, name


def test_every_file_parses_with_its_format_and_nothing_skipped(corpus: Path) -> None:
    for name in SCENARIOS:
        truth = GroundTruth.load(corpus / name)
        summary = ReadSummary()
        for _ in read_events([str(corpus / name / LOGS_DIR)], None, ParseOptions(), summary):
            pass
        assert not summary.failed_inputs, name
        read = {
            Path(stats.name).relative_to((corpus / name / LOGS_DIR).absolute()).as_posix(): stats
            for stats in summary.inputs
        }
        assert read.keys() == truth.files.keys()
        for path, stats in read.items():
            assert stats.format == truth.files[path].format, path
            assert stats.records == truth.files[path].records, path
            assert stats.skipped_total == 0, (path, stats.skipped)
            assert stats.events > 0, path


def test_scale_grows_volume_linearly(tmp_path: Path) -> None:
    counts = {}
    for scale in (1.0, 3.0):
        truth = generate(
            SCENARIOS["session_hijack"], Settings(seed=3, scale=scale, days=3), tmp_path / str(scale)
        )
        counts[scale] = sum(file.records for file in truth.files.values())
    assert 2.6 < counts[3.0] / counts[1.0] < 3.4


def test_every_scenario_meets_the_aim(corpus: Path, evaluated: dict) -> None:
    """Precision and recall >= 0.98 for every scenario, and every rule an attack expects caught it."""
    assert set(evaluated) == set(SCENARIOS)
    for name, (score, _) in evaluated.items():
        expected = {
            title for attack in GroundTruth.load(corpus / name).attacks for title in attack.expected_rules
        }
        caught = {
            title for title, rule in score.rules.items() if rule.expected and rule.detected == rule.expected
        }
        assert expected <= caught, (name, expected - caught)
        assert score.recall is not None and score.recall >= 0.98, (name, score.missed)
        noisy = {title for title, rule in score.rules.items() if rule.false_positives}
        assert score.precision is not None and score.precision >= 0.98, (name, noisy)


def _background(corpus: Path, name: str, path: str) -> list[dict]:
    """The records of one file that belong to no attack."""
    truth = GroundTruth.load(corpus / name)
    attack = {number for a in truth.attacks for number in a.records.get(path, [])}
    lines = (corpus / name / LOGS_DIR / path).read_text().splitlines()
    return [json.loads(line) for number, line in enumerate(lines, 1) if number not in attack]


def test_web_platform_background_holds_the_look_alikes(corpus: Path, evaluated: dict) -> None:
    """The precision of the web-platform scenarios is earned against near misses, not an empty log."""
    events = _background(corpus, "account_enumeration", "platform/app_events.jsonl")
    logins = [e for e in events if e["event"] == "login"]
    nat = {e["user"]["name"] for e in logins if e["source"]["ip"] == platform.NAT_IP}
    assert len(nat) >= 10 and any(
        e["outcome"] == "failure" for e in logins if e["source"]["ip"] == platform.NAT_IP
    )
    reset = [e for e in events if e["event"] == "password_reset_complete"]
    assert reset and all(
        any(
            login["user"]["name"] == e["user"]["name"]
            and login["source"]["ip"] == e["source"]["ip"]
            and login["timestamp"] > e["timestamp"]
            and login["outcome"] == "success"
            for login in logins
        )
        for e in reset
    )  # the owner logs in from where the reset was done
    exports = [e for e in events if e["event"] == "data_export" and e["user"]["name"] == platform.ADMIN[0]]
    assert exports and min(e["bytes"] for e in exports) >= 800_000_000
    assert sum(e["event"] == "api_access" and e.get("token_id") == platform.PARTNER[2] for e in events) > 500
    requests = _background(corpus, "account_enumeration", "web/nginx_access.jsonl")
    probes = [
        r
        for r in requests
        if r["source"]["ip"] == webaccess.MONITOR_IP and r["url"]["path"] == "/server-status"
    ]
    assert len(probes) >= 7 * 280 and {r["http"]["response"]["status_code"] for r in probes} == {200}
    pages = {r["url"]["query"] for r in requests if r["source"]["ip"] == webaccess.CRAWLER[0]}
    assert {f"page={number}" for number in range(1, 150)} <= pages
    for name in ("account_enumeration", "web_brute_force", "exposed_secrets", "vulnerability_scanning"):
        assert evaluated[name][0].false_positives == 0, name


def test_cli_simulates_and_evaluates(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["simulate", "mass_reporting", "--seed", "8", "--out", str(tmp_path), "--days", "3"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli,
        ["evaluate", str(tmp_path), "--format", "json", "--min-precision", "0.98", "--min-recall", "0.98"],
    )
    assert result.exit_code == 0, result.output
    assert '"scenario": "mass_reporting"' in result.output
    (tmp_path / "mass_reporting" / LOGS_DIR / "reports" / "user_reports.jsonl").write_text("")
    result = runner.invoke(cli, ["evaluate", str(tmp_path), "--min-recall", "0.98"])
    assert result.exit_code == 1
    assert "Missed: mass_reporting-1" in result.output
