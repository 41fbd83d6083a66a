"""Shared fixtures: the real sample data beside the repository, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


def shared(relative: str) -> Path:
    """A path under ../shared/data, skipping the test when the sample data is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"sample data {relative} not found under {SHARED}")
    return path


@pytest.fixture(autouse=True, scope="session")
def _fingerprint_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """In-process tests fingerprint secrets with a key of their own, not the runner's ~/.config one."""
    os.environ.setdefault(
        "TOCSIN_FINGERPRINT_KEY_FILE", str(tmp_path_factory.mktemp("key") / "fingerprint.key")
    )


@pytest.fixture(autouse=True, scope="session")
def _rule_packs_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Installed rule packs go to a temporary XDG_DATA_HOME, never the runner's ~/.local/share."""
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))


@pytest.fixture(autouse=True, scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled rules are cached under a temporary XDG_CACHE_HOME, never the runner's ~/.cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line for the cluster suite (marker ``elasticsearch``), so a run shows whether it ran
    against a real node or skipped it."""
    outcomes = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in outcomes:
        for report in terminalreporter.stats.get(outcome, []):
            if "elasticsearch" in getattr(report, "keywords", {}) and (
                report.when == "call" or outcome != "passed"
            ):
                outcomes[outcome] += 1
    if any(outcomes.values()):
        terminalreporter.write_line(
            f"cluster tests: {outcomes['passed']} passed, {outcomes['failed']} failed, {outcomes['skipped']} skipped"
        )
