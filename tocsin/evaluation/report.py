"""The evaluation as a table for people or JSON for machines."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from tocsin.evaluation.scoring import RuleScore, ScenarioScore, median_delay, merge_rules


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def print_tables(console: Console, scenarios: list[ScenarioScore]) -> None:
    table = Table(title="Per scenario", header_style="bold")
    for column in (
        "Scenario",
        "Instances",
        "Detected",
        "Alerts",
        "TP",
        "FP",
        "Precision",
        "Recall",
        "TTD median",
        "TTD max",
    ):
        table.add_column(column, justify="left" if column == "Scenario" else "right")
    for s in scenarios:
        table.add_row(
            s.scenario,
            str(s.instances),
            str(s.detected),
            str(s.alerts),
            str(s.true_positives),
            str(s.false_positives),
            _ratio(s.precision),
            _ratio(s.recall),
            _duration(median_delay(s.delays)),
            _duration(max(s.delays, default=None)),
        )
    console.print(table)
    table = Table(title="Per rule", header_style="bold")
    for column in (
        "Rule",
        "Alerts",
        "TP",
        "FP",
        "Precision",
        "Expected",
        "Detected",
        "Recall",
        "TTD median",
        "TTD max",
    ):
        table.add_column(column, justify="left" if column == "Rule" else "right")
    for r in merge_rules(scenarios):
        table.add_row(
            r.rule,
            str(r.alerts),
            str(r.true_positives),
            str(r.false_positives),
            _ratio(r.precision),
            str(r.expected),
            str(r.detected),
            _ratio(r.recall),
            _duration(median_delay(r.delays)),
            _duration(max(r.delays, default=None)),
        )
    console.print(table)
    missed = [(s.scenario, attack) for s in scenarios for attack in s.missed]
    if missed:
        console.print("Missed: " + ", ".join(attack for _, attack in missed))


def _rule_document(rule: RuleScore) -> dict[str, Any]:
    return {
        "rule": rule.rule,
        "alerts": rule.alerts,
        "true_positives": rule.true_positives,
        "false_positives": rule.false_positives,
        "precision": rule.precision,
        "expected": rule.expected,
        "detected": rule.detected,
        "recall": rule.recall,
        "ttd_median_s": median_delay(rule.delays),
        "ttd_max_s": max(rule.delays, default=None),
    }


def document(scenarios: list[ScenarioScore]) -> dict[str, Any]:
    """The whole evaluation as one JSON document."""
    return {
        "scenarios": [
            {
                "scenario": s.scenario,
                "instances": s.instances,
                "detected": s.detected,
                "alerts": s.alerts,
                "true_positives": s.true_positives,
                "false_positives": s.false_positives,
                "precision": s.precision,
                "recall": s.recall,
                "ttd_median_s": median_delay(s.delays),
                "ttd_max_s": max(s.delays, default=None),
                "missed": s.missed,
                "rules": [_rule_document(r) for r in sorted(s.rules.values(), key=lambda r: r.rule)],
            }
            for s in scenarios
        ],
        "rules": [_rule_document(rule) for rule in merge_rules(scenarios)],
    }
