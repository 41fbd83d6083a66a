"""Hostile-input regression tests: the ``tocsin`` command run as a process on attacker-written input."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.response.conftest import Recorder, SmtpServer, Tocsin, http, smtp
from tests.response.conftest import tocsin as response_tocsin

__all__ = ["Recorder", "SmtpServer", "Tocsin", "fill", "http", "small_disk", "smtp", "tocsin"]


@pytest.fixture
def tocsin(tmp_path: Path) -> Tocsin:
    """The response tests' ``tocsin`` (own HOME, case database, incident folder), with lines wide
    enough that the summary is not wrapped."""
    command = response_tocsin.__wrapped__(tmp_path)  # type: ignore[attr-defined]
    command.env["COLUMNS"] = "400"
    return command


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``small_disk(name)``: a folder of ``tmp_path`` with a 4 MiB tmpfs mounted on it (a real file
    system that fills up); skips where mounting is not permitted (not root)."""
    mounted: list[Path] = []

    def mount(name: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs (needs root): {result.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file in ``folder`` until its file system is full (ENOSPC); the file's path."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    chunk = b"\0" * 65536
    try:
        while True:
            os.write(descriptor, chunk)
    except OSError as exc:
        assert exc.errno == 28, exc  # ENOSPC
    finally:
        os.close(descriptor)
    return filler
