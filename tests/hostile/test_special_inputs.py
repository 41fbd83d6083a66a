"""Finding 11: outputs never overwrite inputs, special files neither hang a scan nor read as nothing,
unreadable files and folders are reported with exit 2, and truncated bz2/xz are not "empty"."""

from __future__ import annotations

import bz2
import lzma
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.hostile.conftest import Tocsin


def sshd_failures(count: int) -> str:
    return "".join(
        f"Dec 10 10:{i:02d}:01 web01 sshd[{100 + i}]: Failed password for root from 203.0.113.9 port {4000 + i} ssh2\n"
        for i in range(count)
    )


def test_output_onto_an_input_is_refused(tocsin: Tocsin) -> None:
    log = tocsin.cwd / "auth.log"
    log.write_text(sshd_failures(12))
    for option in ("-o", "--db"):
        result = tocsin.run("scan", "auth.log", option, str(log), check=2)
        assert "is also an input: refusing to overwrite it" in result.stderr
        assert log.read_text() == sshd_failures(12)
    assert "refusing" in tocsin.run("events", "auth.log", "-o", "auth.log", check=2).stderr


def test_fifo_in_a_folder_is_skipped_and_a_named_one_read(tocsin: Tocsin) -> None:
    logs = tocsin.cwd / "logs"
    logs.mkdir()
    (logs / "auth.log").write_text(sshd_failures(12))
    os.mkfifo(logs / "pipe")  # nobody writes to it: reading it would hang
    result = tocsin.run("scan", "logs", "--format", "jsonl")
    assert "12 events" in result.stderr and "logs/pipe: a FIFO, skipped" in result.stderr
    assert "Brute Force From One Source" in result.stdout

    named = tocsin.cwd / "named.pipe"
    os.mkfifo(named)

    def write() -> None:
        with open(named, "w", encoding="utf-8") as stream:
            stream.write("\n" * 100 + sshd_failures(12))

    writer = threading.Thread(target=write)
    writer.start()
    streamed = tocsin.run("scan", str(named), "--format", "jsonl")
    writer.join(10)
    assert "12 events (1 syslog)" in streamed.stderr and "Brute Force From One Source" in streamed.stdout
    zero = tocsin.run("scan", "/dev/zero", check=2)
    assert "/dev/zero: unrecognised format" in zero.stderr


@pytest.mark.parametrize("compress", [bz2.compress, lzma.compress], ids=["bz2", "xz"])
def test_truncated_bz2_and_xz_are_not_empty(tocsin: Tocsin, compress) -> None:
    data = compress(sshd_failures(12).encode())
    (tocsin.cwd / "auth.log.z").write_bytes(data[: len(data) // 2])
    result = tocsin.run("scan", "auth.log.z", check=2)
    assert "truncated or corrupt compressed data" in result.stderr and "empty" not in result.stderr


def test_unreadable_files_and_folders_are_reported_with_exit_2(tmp_path: Path) -> None:
    """Root reads everything: as root, tocsin runs without the capabilities that bypass file modes."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv (util-linux) is missing to drop CAP_DAC_OVERRIDE")
        dropped = "-dac_override,-dac_read_search"
        prefix = ["setpriv", f"--inh-caps={dropped}", f"--bounding-set={dropped}"]
    logs = tmp_path / "logs"
    (logs / "closed").mkdir(parents=True)
    (logs / "auth.log").write_text(sshd_failures(12))
    (logs / "secret.log").write_text(sshd_failures(3))
    (logs / "closed" / "inner.log").write_text(sshd_failures(3))
    (logs / "secret.log").chmod(0)
    (logs / "closed").chmod(0)
    env = {**os.environ, "HOME": str(tmp_path), "COLUMNS": "400"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [*prefix, sys.executable, "-m", "tocsin", *args]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    try:
        folder = run("scan", "logs", "--format", "jsonl")
        assert folder.returncode == 2, folder.stderr
        assert "logs/secret.log: Permission denied" in folder.stderr
        assert "logs/closed: Permission denied" in folder.stderr
        assert (
            "12 events" in folder.stderr and "Brute Force From One Source" in folder.stdout
        )  # the rest is read
        named = run("scan", "logs/secret.log")
        assert named.returncode == 2 and "Permission denied" in named.stderr
    finally:
        (logs / "closed").chmod(0o700)
