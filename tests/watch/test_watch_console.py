"""Done when: watch on a terminal prints one readable line per alert and readable logs; piped, JSON."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.watch.helpers import AUTH_RULES

EXAMPLE = Path(__file__).resolve().parents[2] / "tocsin" / "examples" / "auth.log"


def _watch(tmp_path: Path, *extra: str, terminal: bool) -> tuple[str, str]:
    """Run watch over a copy of the example log until its alerts are out; (stdout, stderr)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "auth.log").write_text(EXAMPLE.read_text())
    command = [sys.executable, "-m", "tocsin", "watch", str(logs), "--state", str(tmp_path / "state"),
               "--no-builtin-rules", "--rules", str(AUTH_RULES), "--batch-delay", "0.05", *extra]  # fmt: skip
    if terminal:
        primary, secondary = pty.openpty()
        process = subprocess.Popen(command, stdout=secondary, stderr=secondary, stdin=subprocess.DEVNULL)
        os.close(secondary)
        output = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and b"CRITICAL" not in output:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                output += os.read(primary, 65536)
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        while True:
            ready, _, _ = select.select([primary], [], [], 1.0)
            if not ready:
                break
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        process.wait(30)
        os.close(primary)
        return output.decode(errors="replace"), ""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp_path / "state" / "status.json").exists():
        time.sleep(0.1)
    time.sleep(4.0)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    return out, err


def test_watch_on_a_terminal_is_readable(tmp_path):
    text, _ = _watch(tmp_path, terminal=True)
    lines = [line.strip("\r") for line in text.splitlines() if line.strip()]
    alert_lines = [line for line in lines if "Brute Force" in line or "Successful Authentication" in line]
    assert alert_lines, text[-2000:]
    assert not any(line.lstrip().startswith("{") for line in lines), text[-2000:]  # no JSON on a terminal
    critical = next(line for line in alert_lines if "CRITICAL" in line)
    assert "Successful Authentication After Repeated Failures" in critical and critical.rstrip().endswith("]")
    assert "evidence" not in text  # no evidence arrays
    started = next(line for line in lines if "watch started" in line)
    assert started[:4].isdigit() and " info " in started  # a UTC time, not an epoch float


def test_watch_piped_speaks_json(tmp_path):
    out, err = _watch(tmp_path, "--log-level", "info", terminal=False)
    alerts = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert alerts and all("rule" in alert and "evidence" in alert for alert in alerts)
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(entry["message"] == "watch started" for entry in logs)
    assert all(isinstance(entry["time"], float) for entry in logs)
    (tmp_path / "again").mkdir()
    out, err = _watch(tmp_path / "again", "--format", "human", "--log-format", "human", terminal=False)
    assert (
        out and not out.lstrip().startswith("{") and "CRITICAL" in out and "\x1b[" not in out
    )  # no colour in a pipe
    assert "watch started" in err and not err.lstrip().startswith("{")
