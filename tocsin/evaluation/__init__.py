"""Scoring tocsin against simulated attacks: scan each scenario, match alerts to ground truth, report.

Counting rules (see ``scoring``): only alerts at level low or above count; an alert is a true
positive when its evidence includes an event of one of the scenario's attacks (for content alerts,
which carry no evidence events, when they matched a flow an attack's events belong to), else a
false positive; an attack instance is detected when at least one true-positive alert touches it.
"""

from tocsin.evaluation.runner import evaluate_directory
from tocsin.evaluation.scoring import RuleScore, ScenarioScore

__all__ = ["RuleScore", "ScenarioScore", "evaluate_directory"]
