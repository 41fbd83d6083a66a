"""Operations of tocsin watch: SIGHUP keeps windows, status, files not followed."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.watch.helpers import Watcher, wait_for
from tests.watch.test_watch_rotation_restart import Writer, failed


def test_sighup_reloads_rules_without_losing_windows_and_status_reports(tmp_path: Path) -> None:
    watcher = Watcher(tmp_path, "--health", str(tmp_path / "health.json"))
    writer = Writer()
    live = watcher.logs / "auth.log"
    watcher.start()
    writer.append(live, [failed("root", "203.0.113.99") for _ in range(6)])
    wait_for(lambda: len(watcher.committed_raw()) == 6, what="first half committed")

    watcher.signal(signal.SIGHUP)
    wait_for(lambda: watcher.stderr.read_text().count('"rules loaded"') == 2, what="rules reloaded")
    writer.append(live, [failed("root", "203.0.113.99") for _ in range(4)])
    wait_for(lambda: len(watcher.delivered()) == 1, what="the alert spanning the reload")

    def status_reports_the_alert() -> subprocess.CompletedProcess[str] | None:
        # The status file is rewritten every second: poll until it shows what was delivered.
        status = subprocess.run(
            [sys.executable, "-m", "tocsin", "watch", "--status", "--state", str(watcher.state)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return status if "Brute Force From One Source" in status.stdout else None

    status = wait_for(status_reports_the_alert, what="the status to show the alert")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "running" in status.stdout
    assert f"{live}: syslog, lag 0 bytes" in status.stdout
    assert (tmp_path / "health.json").exists()
    assert watcher.stop() == 0
    assert len(watcher.delivered()) == 1
    stopped = subprocess.run(
        [sys.executable, "-m", "tocsin", "watch", "--status", "--state", str(watcher.state)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert stopped.returncode == 1 and "not running" in stopped.stdout


def test_deleted_while_open_and_compressed_files(tmp_path: Path) -> None:
    watcher = Watcher(tmp_path)
    writer = Writer()
    (watcher.logs / "old.log.1.gz").write_bytes(b"\x1f\x8b not followed")
    watcher.start()
    doomed = watcher.logs / "doomed.log"
    writer.append(doomed, [failed("bob", "192.0.2.50") for _ in range(3)])
    wait_for(lambda: len(watcher.committed_raw()) == 3, what="doomed.log read")
    with open(doomed, "a", encoding="utf-8") as stream:  # written, then deleted while the watch has it open
        doomed.unlink()
        line = failed("bob", "192.0.2.50")
        stream.write(line + "\n")
    writer.written.append(line)
    wait_for(lambda: len(watcher.committed_raw()) == 4, what="the last line of the deleted file")
    assert watcher.stop() == 0
    assert sorted(watcher.committed_raw()) == sorted(writer.written)
    assert watcher.query("SELECT COUNT(*) FROM watch_files WHERE path LIKE '%doomed%'") == [(0,)]
