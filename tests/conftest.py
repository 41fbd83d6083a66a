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
    os.environ.setdefault("TOCSIN_FINGERPRINT_KEY_FILE", str(tmp_path_factory.mktemp("key") / "fingerprint.key"))
