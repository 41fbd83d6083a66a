"""Hostile-input regression tests: the ``tocsin`` command run as a process on attacker-written input."""

from __future__ import annotations

from tests.response.conftest import Recorder, SmtpServer, Tocsin, http, smtp, tocsin

__all__ = ["Recorder", "SmtpServer", "Tocsin", "http", "smtp", "tocsin"]
