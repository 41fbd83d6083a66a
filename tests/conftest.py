"""Shared fixtures: the real sample data beside the repository, and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


def shared(relative: str) -> Path:
    """A path under ../shared/data, skipping the test when the sample data is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"sample data {relative} not found under {SHARED}")
    return path


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line for the cluster suite (marker ``elasticsearch``), so a run shows whether it ran
    against a real node or skipped it."""
    outcomes = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in outcomes:
        for report in terminalreporter.stats.get(outcome, []):
            if "elasticsearch" in getattr(report, "keywords", {}) and (report.when == "call" or outcome != "passed"):
                outcomes[outcome] += 1
    if any(outcomes.values()):
        terminalreporter.write_line(
            f"cluster tests: {outcomes['passed']} passed, {outcomes['failed']} failed, {outcomes['skipped']} skipped"
        )
