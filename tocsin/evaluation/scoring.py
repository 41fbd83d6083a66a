"""From alerts and labelled events to precision, recall and time-to-detect.

Counting rules:

* Only alerts at level ``low`` or above count; informational ones are building blocks or context.
* An alert *touches* an attack when its evidence includes one of the attack's events; a content
  (YARA) alert, which names a flow instead of events, touches the attacks whose events belong to
  that flow. An alert that touches an attack is a true positive, any other a false positive.
* An attack instance is detected when a true-positive alert touches it. Recall is detected
  instances over instances; per rule, over the instances that expect the rule, detected by it.
* Time to detect: the alert's time (the end of a correlation's window, else its timestamp) minus
  the attack's first record, on the log timeline; per instance, its first alert's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from tocsin.evaluation.labels import EventLabels
from tocsin.model.alert import Alert, Level
from tocsin.simulate.truth import AttackTruth

COUNTED = Level.low


def _share(part: int, whole: int) -> float | None:
    """``part / whole``, or None when ``whole`` is 0."""
    return part / whole if whole else None


class _Counts:
    """What a rule's and a scenario's score derive alike from their alerts and detection delays."""

    alerts: int
    true_positives: int
    delays: list[float]

    @property
    def false_positives(self) -> int:
        return self.alerts - self.true_positives

    @property
    def precision(self) -> float | None:
        return _share(self.true_positives, self.alerts)

    @property
    def ttd_median(self) -> float | None:
        return median(self.delays) if self.delays else None

    @property
    def ttd_max(self) -> float | None:
        return max(self.delays, default=None)


@dataclass
class RuleScore(_Counts):
    """One rule's alerts and the instances that expected it."""

    rule: str
    alerts: int = 0
    true_positives: int = 0
    expected: int = 0
    detected: int = 0
    delays: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return _share(self.detected, self.expected)


@dataclass
class ScenarioScore(_Counts):
    """One scenario: its alerts, instances, the instances detected and how fast."""

    scenario: str
    instances: int
    alerts: int = 0
    true_positives: int = 0
    detected: int = 0
    delays: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    rules: dict[str, RuleScore] = field(default_factory=dict)

    @property
    def recall(self) -> float | None:
        return _share(self.detected, self.instances)


def alert_time(alert: Alert) -> datetime:
    return alert.window.end if alert.window else alert.timestamp


def touched(alert: Alert, labels: EventLabels) -> set[str]:
    """The attacks an alert touches (see module doc)."""
    attacks = {labels.events[event_id] for event_id in alert.evidence if event_id in labels.events}
    target = (alert.details or {}).get("target") or {}
    flow = target.get("flow_id") if isinstance(target, dict) else None
    if flow:
        attacks |= labels.flows.get(flow, set())
    return attacks


def score(
    scenario: str, attacks: list[AttackTruth], alerts: list[Alert], labels: EventLabels
) -> ScenarioScore:
    """Score one scenario's alerts against its attack instances."""
    result = ScenarioScore(scenario, len(attacks))
    first_alert: dict[str, float] = {}
    by_rule: dict[str, dict[str, float]] = {}
    starts = {attack.id: datetime.fromisoformat(attack.start.replace("Z", "+00:00")) for attack in attacks}
    for alert in alerts:
        if alert.level < COUNTED:
            continue
        rule = result.rules.setdefault(alert.rule.title, RuleScore(alert.rule.title))
        rule.alerts += 1
        result.alerts += 1
        hits = touched(alert, labels)
        if not hits:
            continue
        rule.true_positives += 1
        result.true_positives += 1
        for attack_id in hits:
            delay = max(0.0, (alert_time(alert) - starts[attack_id]).total_seconds())
            first_alert[attack_id] = min(delay, first_alert.get(attack_id, delay))
            per_rule = by_rule.setdefault(alert.rule.title, {})
            per_rule[attack_id] = min(delay, per_rule.get(attack_id, delay))
    for attack in attacks:
        if attack.id in first_alert:
            result.detected += 1
            result.delays.append(first_alert[attack.id])
        else:
            result.missed.append(attack.id)
        for title in attack.expected_rules:
            rule = result.rules.setdefault(title, RuleScore(title))
            rule.expected += 1
            if attack.id in by_rule.get(title, {}):
                rule.detected += 1
                rule.delays.append(by_rule[title][attack.id])
    return result


def merge_rules(scenarios: list[ScenarioScore]) -> list[RuleScore]:
    """Per-rule totals over every scenario, by rule title."""
    merged: dict[str, RuleScore] = {}
    for scenario in scenarios:
        for rule in scenario.rules.values():
            total = merged.setdefault(rule.rule, RuleScore(rule.rule))
            total.alerts += rule.alerts
            total.true_positives += rule.true_positives
            total.expected += rule.expected
            total.detected += rule.detected
            total.delays += rule.delays
    return sorted(merged.values(), key=lambda rule: rule.rule)
