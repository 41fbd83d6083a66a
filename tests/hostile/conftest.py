"""Hostile-input regression tests: the ``tocsin`` command run as a process on attacker-written input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.response.conftest import Recorder, SmtpServer, Tocsin, http, smtp
from tests.response.conftest import tocsin as response_tocsin

__all__ = ["Recorder", "SmtpServer", "Tocsin", "http", "smtp", "tocsin"]


@pytest.fixture
def tocsin(tmp_path: Path) -> Tocsin:
    """The response tests' ``tocsin`` (own HOME, case database, incident folder), with lines wide
    enough that the summary is not wrapped."""
    command = response_tocsin.__wrapped__(tmp_path)  # type: ignore[attr-defined]
    command.env["COLUMNS"] = "400"
    return command
