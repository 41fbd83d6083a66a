"""Finding 12: a full disk is a clear error (after the summary for -o), not an internal error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.conftest import Tocsin, fill
from tests.hostile.test_input_shape import sshd_failures


@pytest.mark.parametrize("output_format", ["jsonl", "json", "table"])
def test_output_on_a_full_disk(tocsin: Tocsin, output_format: str) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full (always full) is missing on this system")
    (tocsin.cwd / "auth.log").write_text(sshd_failures(12))
    result = tocsin.run("scan", "auth.log", "-o", "/dev/full", "--format", output_format, check=2)
    assert "Read 1 input(s), 12 events" in result.stderr and "Alerts " in result.stderr  # the summary
    assert "cannot write the alerts to /dev/full: No space left on device" in result.stderr
    assert "internal error" not in result.stderr


def test_case_database_on_a_full_disk(tocsin: Tocsin, small_disk: Callable[[str], Path]) -> None:
    small = small_disk("small")
    fill(small)
    (tocsin.cwd / "auth.log").write_text(sshd_failures(50) * 40)
    result = tocsin.run("scan", "auth.log", "--db", str(small / "case.db"), check=2)
    assert "tocsin: error: disk full (database or disk is full)" in result.stderr
    assert "internal error" not in result.stderr
