"""The evaluation as a table for people or JSON for machines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from tocsin.evaluation.scoring import RuleScore, ScenarioScore, merge_rules

_TTD_COLUMNS = ("TTD median", "TTD max")


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


def _table(title: str, columns: tuple[str, ...], rows: Iterable[list[str]]) -> Table:
    """A table with its first column, the name, left-aligned and the others, numbers, right-aligned."""
    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column, justify="left" if column == columns[0] else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _ttd(score: RuleScore | ScenarioScore) -> list[str]:
    """The median and the longest time to detect, as table cells."""
    return [_duration(score.ttd_median), _duration(score.ttd_max)]


def print_tables(console: Console, scenarios: list[ScenarioScore]) -> None:
    console.print(
        _table(
            "Per scenario",
            ("Scenario", "Instances", "Detected", "Alerts", "TP", "FP", "Precision", "Recall", *_TTD_COLUMNS),
            (
                [
                    s.scenario,
                    str(s.instances),
                    str(s.detected),
                    str(s.alerts),
                    str(s.true_positives),
                    str(s.false_positives),
                    _ratio(s.precision),
                    _ratio(s.recall),
                    *_ttd(s),
                ]
                for s in scenarios
            ),
        )
    )
    console.print(
        _table(
            "Per rule",
            ("Rule", "Alerts", "TP", "FP", "Precision", "Expected", "Detected", "Recall", *_TTD_COLUMNS),
            (
                [
                    r.rule,
                    str(r.alerts),
                    str(r.true_positives),
                    str(r.false_positives),
                    _ratio(r.precision),
                    str(r.expected),
                    str(r.detected),
                    _ratio(r.recall),
                    *_ttd(r),
                ]
                for r in merge_rules(scenarios)
            ),
        )
    )
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
        "ttd_median_s": rule.ttd_median,
        "ttd_max_s": rule.ttd_max,
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
                "ttd_median_s": s.ttd_median,
                "ttd_max_s": s.ttd_max,
                "missed": s.missed,
                "rules": [_rule_document(r) for r in sorted(s.rules.values(), key=lambda r: r.rule)],
            }
            for s in scenarios
        ],
        "rules": [_rule_document(rule) for rule in merge_rules(scenarios)],
    }
