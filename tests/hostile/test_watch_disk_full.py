"""Finding 12, watch part: a full disk under the watch state (its case database) or its alerts file
pauses ``tocsin watch``, said once; when space is back it resumes from the last committed offset,
with no alert lost or duplicated and no half-written line. The webhook spool, on a full disk, keeps
whole lines and raises, so the watch writes the alert again later."""

from __future__ import annotations

import errno
import itertools
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.conftest import fill
from tests.watch.helpers import HookServer, Watcher, syslog_stamp, wait_for
from tests.watch.test_webhook import alert
from tocsin.watch.webhook import WebhookSink

PAUSED = "disk full: paused, nothing is lost; retrying until there is room again"
RESUMED = "disk has room again: resumed from the last committed offset"
BRUTE_FORCE = "Brute Force From One Source"
#: The sources of the attacks written while the disk is full.
DURING = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]

_sequence = itertools.count(1)


def failures(ip: str, count: int = 12) -> list[str]:
    """Enough failed logins from ``ip`` for one brute-force alert."""
    return [
        f"{syslog_stamp()} web01 sshd[{5000 + n}]: Failed password for root from {ip} port {40000 + n} ssh2"
        for n in itertools.islice(_sequence, count)
    ]


def noise(count: int) -> list[str]:
    return [
        f"{syslog_stamp()} web01 CRON[{9000 + n}]: (root) CMD (run-parts /etc/cron.hourly #{n} {'x' * 200})"
        for n in itertools.islice(_sequence, count)
    ]


def logs_of(watcher: Watcher) -> list[dict[str, Any]]:
    """The watch's JSON log (its stderr), one document per line."""
    return [json.loads(line) for line in watcher.stderr.read_text().splitlines() if line.startswith("{")]


def status(watcher: Watcher) -> str:
    """What ``tocsin watch --status`` prints."""
    command = [sys.executable, "-m", "tocsin", "watch", "--status", "--state", str(watcher.state)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout


def messages(watcher: Watcher, message: str) -> list[dict[str, Any]]:
    return [entry for entry in logs_of(watcher) if entry["message"] == message]


def brute_forced(watcher: Watcher) -> Counter[str]:
    """Brute-force alerts delivered to the alerts file, by source; every line must be whole JSON."""
    return Counter(
        a["group_by"]["source.address"] for a in watcher.delivered() if a["rule"]["title"] == BRUTE_FORCE
    )


@pytest.mark.parametrize("on_the_full_disk", ["state", "alerts"])
def test_watch_pauses_on_a_full_disk_and_resumes_exactly(
    tmp_path: Path, small_disk: Callable[[str], Path], on_the_full_disk: str
) -> None:
    disk = small_disk("disk")
    watcher = Watcher(tmp_path)
    if on_the_full_disk == "state":
        watcher.state = disk / "state"
    else:
        watcher.alerts = disk / "alerts.jsonl"
    live = watcher.logs / "auth.log"
    written: list[str] = []

    def append(lines: list[str]) -> None:
        with open(live, "a", encoding="utf-8") as stream:
            stream.write("".join(line + "\n" for line in lines))
        written.extend(lines)

    def all_committed() -> bool:
        return len(watcher.committed_raw()) == len(written)

    watcher.start()
    append(noise(5) + failures("203.0.113.1"))
    wait_for(lambda: brute_forced(watcher) == {"203.0.113.1": 1}, what="the first alert")

    filler = fill(disk)
    # Four alerts and 2,000 lines: more than the slack left in the last pages of the files on the disk.
    append([line for ip in DURING for line in failures(ip)] + noise(2000))
    wait_for(lambda: messages(watcher, PAUSED), what="the pause to be reported")
    assert watcher.process is not None and watcher.process.poll() is None, "the watch must not exit"
    paused = messages(watcher, PAUSED)[0]
    assert paused["level"] == "warning"
    assert "No space left on device" in paused["error"] or "database or disk is full" in paused["error"]
    assert paused["writing"] == ("state database" if on_the_full_disk == "state" else "alerts")
    wait_for(lambda: messages(watcher, "disk still full"), what="a retry after the backoff")
    if on_the_full_disk == "alerts":  # the status (beside the state) says so too
        wait_for(lambda: "paused: disk full" in status(watcher), what="the status to show the pause")
    # Meanwhile: alerts wait (one may have fitted in the file's last page), no line is half-written.
    assert watcher.alerts.read_bytes().endswith(b"\n") and sum(brute_forced(watcher).values()) < 1 + len(
        DURING
    )

    filler.unlink()
    wait_for(lambda: messages(watcher, RESUMED), what="the resumption to be reported")
    wait_for(all_committed, what="every line committed")
    append(failures("203.0.113.3"))
    wait_for(all_committed, what="the last lines committed")
    wait_for(lambda: len(brute_forced(watcher)) == 6, what="the alerts after the pause")
    assert watcher.stop() == 0

    assert len(messages(watcher, PAUSED)) == 1 and len(messages(watcher, RESUMED)) == 1  # said once
    assert messages(watcher, RESUMED)[0]["retries"] >= 1
    assert Counter(watcher.committed_raw()) == Counter(written)  # every line committed exactly once
    assert brute_forced(watcher) == Counter(["203.0.113.1", *DURING, "203.0.113.3"])
    delivered = watcher.delivered()
    assert len({alert["id"] for alert in delivered}) == len(delivered)
    assert watcher.alerts.read_text().endswith("\n")
    assert "Traceback" not in watcher.stderr.read_text()


def test_webhook_spool_on_a_full_disk_keeps_whole_lines_and_posts_each_alert_once(
    small_disk: Callable[[str], Path],
) -> None:
    disk = small_disk("disk")
    filler = fill(disk)
    server = HookServer()
    sink = WebhookSink(f"http://127.0.0.1:{server.port}/hook", disk, retry_first=0.1)
    try:
        with pytest.raises(OSError) as full:
            sink.write(alert(0))
        assert full.value.errno == errno.ENOSPC
        assert all(path.read_bytes() == b"" for path in disk.glob("webhook.*"))  # nothing half-written
        filler.unlink()
        for number in range(3):  # the watch writes the alert again once there is room
            sink.write(alert(number))
        wait_for(lambda: len(server.posts) == 3, what="the three alerts posted")
    finally:
        sink.close()
        server.stop()
    assert [post["json"]["id"] for post in server.posts] == ["alert-000", "alert-001", "alert-002"]
