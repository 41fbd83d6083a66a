"""Progress of a scan, through the CLI: on a terminal (a pseudo-terminal here) the percentage of the
bytes to read, events per second, the time left and the file being read; nothing when stderr is a pipe."""

from __future__ import annotations

import gzip
import os
import pty
import re
import subprocess
import sys

from tests.conftest import shared

#: Colours, removed; cursor movements and carriage returns, which start a new frame.
_COLOURS = re.compile(rb"\x1b\[[0-9;]*m")
_MOVES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\r")


def _scan_on_a_terminal(*args: str) -> tuple[int, list[str]]:
    """Run ``tocsin scan ARGS`` with stderr on a pseudo-terminal; its exit code and the lines drawn there."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tocsin", "scan", *args], stdout=subprocess.DEVNULL, stderr=terminal, env=env
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the other end closed: the process has exited
            break
        if not chunk:
            break
        drawn += chunk
    os.close(controller)
    code = process.wait(timeout=300)
    return code, _MOVES.sub(b"\n", _COLOURS.sub(b"", drawn)).decode("utf-8", "replace").splitlines()


def test_progress_on_a_terminal_shows_percentage_rate_eta_and_file(tmp_path):
    sample = shared("authlogs/OpenSSH_2k.log").read_bytes()
    compressed = tmp_path / "big-auth.log.gz"  # counted by compressed bytes: 120,000 lines in 0.8 MB
    compressed.write_bytes(gzip.compress(sample * 60))
    plain = tmp_path / "auth.log"
    plain.write_bytes(sample)
    total = compressed.stat().st_size + plain.stat().st_size
    code, lines = _scan_on_a_terminal(str(compressed), str(plain))
    assert code == 0
    frames = [line.split("━")[-1].split("╸")[-1].split("╺")[-1].strip() for line in lines if "%  " in line]
    assert frames, lines
    assert all(frame.split("  ")[1].endswith(f"/{total / 1e6:,.1f} MB") for frame in frames)
    percentages = [int(frame.split("%")[0]) for frame in frames]
    assert percentages == sorted(percentages) and percentages[-1] == 100
    reading = [frame for frame in frames if 0 < int(frame.split("%")[0]) < 100]
    assert any(
        re.search(r" events.*  ETA \d:\d\d:\d\d  \S+/big-auth\.log\.gz$", frame) for frame in reading
    ), frames
    assert any(re.search(r" events, [\d,]+/s  ", frame) for frame in frames), frames
    summary = next(line for line in lines if line.startswith("Read 2 input(s)"))
    events = re.search(r"([\d,]+) events", summary)[1]  # type: ignore[index]
    megabytes = f"{total / 1e6:,.1f}"
    assert events == "122,429" and frames[-1].startswith(
        f"100%  {megabytes}/{megabytes} MB  {events} events, "
    )
    assert frames[-1].endswith("/s  all read, correlating")  # no ETA once everything is read


def test_no_progress_when_stderr_is_not_a_terminal():
    result = subprocess.run(
        [sys.executable, "-m", "tocsin", "scan", str(shared("authlogs/OpenSSH_2k.log")), "-o", os.devnull],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0
    assert result.stderr.startswith("Read 1 input(s)")
    assert not re.search(r"\d%|ETA|events/s| MB|\x1b", result.stderr), result.stderr
