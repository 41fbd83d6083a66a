"""The community rule set users point the tool at: it must load, or say why not."""

from __future__ import annotations

from tests.conftest import shared
from tocsin.detectors.sigma.ruleset import load_rules, rule_files


def test_sigmahq_rules_load_or_are_reported_with_a_reason():
    root = shared("sigma/sigmahq")
    ruleset = load_rules([root])
    files = list(rule_files([root]))
    assert ruleset.files == len(files) > 600
    loaded = ruleset.loaded + sum(1 for r in ruleset.detections if not r.emits_alerts)
    assert loaded + len(ruleset.errors) >= len(files)
    assert all(error.reason and error.source for error in ruleset.errors)
    assert loaded / len(files) >= 0.95
