"""The webhook sink of tocsin watch: JSON POST per alert to a real local HTTP server, spool when it is down."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.watch.helpers import HookServer, Watcher, wait_for
from tests.watch.test_watch_rotation_restart import Writer, failed
from tocsin.model.alert import Alert, Level, RuleInfo
from tocsin.watch.webhook import REPLAY, SPOOL, WebhookSink

SECRET_PATH = "/hooks/T0SECRET/abcdefXYZ"


def alert(number: int) -> Alert:
    return Alert(
        id=f"alert-{number:03d}",
        timestamp=datetime.now(UTC),
        event_count=1,
        rule=RuleInfo(id="r1", title="Test Rule", level=Level.high),
        message=f"alert number {number}",
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server() -> HookServer:
    hook = HookServer()
    yield hook
    hook.stop()


def test_each_alert_is_one_json_post(tmp_path: Path, server: HookServer) -> None:
    sink = WebhookSink(f"http://127.0.0.1:{server.port}{SECRET_PATH}", tmp_path, token="t0k")
    for number in range(3):
        sink.write(alert(number))
    wait_for(lambda: len(server.posts) == 3, what="three posts")
    sink.close()
    assert [post["json"]["id"] for post in server.posts] == ["alert-000", "alert-001", "alert-002"]
    assert all(post["path"] == SECRET_PATH for post in server.posts)
    assert server.posts[0]["headers"]["Idempotency-Key"] == "alert-000"
    assert server.posts[0]["headers"]["Authorization"] == "Bearer t0k"
    assert server.posts[0]["json"]["rule"]["title"] == "Test Rule"
    assert not (tmp_path / SPOOL).exists() and not (tmp_path / REPLAY).exists()


def test_endpoint_down_spools_to_disk_bounded_then_replays_in_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens yet: connection refused
    url = f"http://127.0.0.1:{port}{SECRET_PATH}"
    sink = WebhookSink(url, tmp_path, retry_first=0.1, retry_max=0.3)
    for number in range(20):
        sink.write(alert(number))
    wait_for(lambda: sink.counters["failed_posts"] >= 2, what="posts to fail")
    spooled = "".join(p.read_text() for p in tmp_path.glob("webhook.*"))
    assert "alert-019" in spooled and "T0SECRET" not in spooled
    server = HookServer(port)
    try:
        wait_for(lambda: len(server.posts) == 20, what="the spool replayed")
        sink.close()
        assert [post["json"]["id"] for post in server.posts] == [f"alert-{n:03d}" for n in range(20)]
    finally:
        server.stop()
    assert not (tmp_path / SPOOL).exists() and not (tmp_path / REPLAY).exists()
    assert "T0SECRET" not in caplog.text and "webhook post failed" in caplog.text


def test_spool_survives_a_restart(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    first = WebhookSink(url, tmp_path, retry_first=5, retry_max=5)
    for number in range(4):
        first.write(alert(number))
    first.close(wait=1)
    assert not first.thread.is_alive()
    server = HookServer(port)
    try:
        second = WebhookSink(url, tmp_path, retry_first=0.1)
        wait_for(lambda: len(server.posts) == 4, what="the spool of the previous run")
        second.close()
        assert sorted(post["json"]["id"] for post in server.posts) == [f"alert-{n:03d}" for n in range(4)]
    finally:
        server.stop()


KILLED_WRITER = """
import sys, time
from pathlib import Path
from tests.watch.test_webhook import alert
from tocsin.watch.webhook import WebhookSink
sink = WebhookSink(sys.argv[1], Path(sys.argv[2]), retry_first=0.05, retry_max=0.1)
for number in range(300):
    sink.write(alert(number))
print("written", flush=True)
time.sleep(60)
"""


def test_alerts_written_before_a_sigkill_are_all_posted_by_the_next_run(tmp_path: Path) -> None:
    """Once ``write`` returns the alert is on disk: a SIGKILL loses none (the watch marks it delivered then)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, url, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "written"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    server = HookServer(port)
    try:
        sink = WebhookSink(url, tmp_path, retry_first=0.1, retry_max=1)
        wait_for(lambda: len(server.posts) == 300, timeout=60, what="every alert of the killed run")
        sink.close()
        assert [post["json"]["id"] for post in server.posts] == [f"alert-{n:03d}" for n in range(300)]
    finally:
        server.stop()


def test_a_restart_resumes_after_the_last_alert_posted(tmp_path: Path, server: HookServer) -> None:
    url = f"http://127.0.0.1:{server.port}/hook"
    (tmp_path / REPLAY).write_text("".join(alert(n).model_dump_json(by_alias=True) + "\n" for n in range(3)))
    (tmp_path / "webhook.replay.pos").write_text(
        str(len((tmp_path / REPLAY).read_text().splitlines()[0]) + 1)
    )
    sink = WebhookSink(url, tmp_path)
    wait_for(lambda: len(server.posts) == 2, what="the two alerts not yet posted")
    sink.close()
    assert [post["json"]["id"] for post in server.posts] == ["alert-001", "alert-002"]
    assert not (tmp_path / REPLAY).exists() and not (tmp_path / "webhook.replay.pos").exists()


def test_spool_limit_drops_and_counts(tmp_path: Path) -> None:
    sink = WebhookSink(f"http://127.0.0.1:{free_port()}/hook", tmp_path, spool_limit=600, retry_first=60)
    for number in range(10):
        sink.write(alert(number))
    sink.close(wait=1)
    assert sink.counters["dropped"] > 0
    # the limit bounds what waits on disk, whether the thread has moved it to the replay file or not
    assert sum(path.stat().st_size for path in (tmp_path / SPOOL, tmp_path / REPLAY) if path.exists()) <= 600


def test_watch_posts_its_alerts_to_the_configured_webhook(
    tmp_path: Path, server: HookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_WEBHOOK_URL", f"http://127.0.0.1:{server.port}{SECRET_PATH}")
    watcher = Watcher(tmp_path)
    writer = Writer()
    watcher.start()
    writer.append(watcher.logs / "auth.log", [failed("root", "203.0.113.77") for _ in range(10)])
    wait_for(lambda: len(watcher.delivered()) == 1, what="the alert")
    wait_for(lambda: len(server.posts) == 1, what="the alert posted")
    assert watcher.stop() == 0
    posted = server.posts[0]["json"]
    assert posted["id"] == watcher.delivered()[0]["id"]
    assert posted["rule"]["title"] == "Brute Force From One Source"
    log = watcher.stderr.read_text()
    assert "webhook sink" in log and "T0SECRET" not in log
