"""Scanning each scenario of a simulated corpus with tocsin's own pipeline and scoring it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tocsin.detectors.sigma.ruleset import RuleSet
from tocsin.evaluation.labels import EventLabels
from tocsin.evaluation.scoring import ScenarioScore, score
from tocsin.model.alert import Alert
from tocsin.model.event import Event
from tocsin.scan import ScanRequest, load_ruleset, run_scan
from tocsin.simulate.truth import LOGS_DIR, TRUTH_FILE, GroundTruth


def scenario_directories(root: Path) -> list[Path]:
    """``root`` itself when it is one scenario's directory, else its scenario subdirectories."""
    if (root / TRUTH_FILE).is_file():
        return [root]
    return sorted(path.parent for path in root.glob(f"*/{TRUTH_FILE}"))


def evaluate_scenario(
    directory: Path, request: ScanRequest, ruleset: RuleSet
) -> tuple[ScenarioScore, EventLabels]:
    """Scan one scenario's ``logs/`` and score the alerts against its ground truth."""
    truth = GroundTruth.load(directory)
    logs = directory / LOGS_DIR
    labels = EventLabels(truth, logs)
    alerts: list[Alert] = []

    def documents(events: list[Event], _: list[Alert]) -> None:
        labels.observe(events)

    run_scan(replace(request, paths=[str(logs)]), alerts.append, ruleset=ruleset, on_documents=documents)
    return score(truth.scenario, truth.attacks, alerts, labels), labels


def evaluate_directory(
    root: Path, rule_paths: list[Path] | None = None, progress: Callable[[str], None] | None = None
) -> list[ScenarioScore]:
    """Score every scenario under ``root`` with the built-in rules (plus ``rule_paths``)."""
    request = ScanRequest(paths=[], rule_paths=list(rule_paths or []))
    ruleset = load_ruleset(request)
    results = []
    for directory in scenario_directories(root):
        if progress:
            progress(directory.name)
        results.append(evaluate_scenario(directory, request, ruleset)[0])
    return results
