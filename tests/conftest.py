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
