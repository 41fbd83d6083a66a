"""Done when: the process is killed between two steps and resume finishes the playbook with each side
effect exactly once."""

from __future__ import annotations

import signal
import socket
import sqlite3
import time
from pathlib import Path

from tests.response.conftest import Recorder, SmtpServer, Tocsin, alert, free_port, write_alerts

PLAYBOOK = """
id: kill-test
title: Block, mail, post
trigger: {tags: ["attack.t1110*"]}
dedup: [source.ip]
steps:
  - id: block-source
    action: firewall.block_ip
    with: {ip: "{{ alert.source.ip }}"}
  - id: notify-team
    action: notify.email
    timeout: 60s
    with: {to: soc@example.org, template: security-team-alert}
  - id: notify-chat
    action: notify.webhook
    with: {title: "blocked {{ alert.source.ip }}", text: "{{ alert.message }}"}
"""


def _steps(db: Path) -> dict[str, tuple[str, int]]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            return {
                s: (status, n)
                for s, status, n in connection.execute("SELECT step_id, status, attempts FROM steps")
            }
    except sqlite3.Error:
        return {}


def test_kill_between_steps_then_resume_runs_each_side_effect_once(tocsin: Tocsin, http: Recorder) -> None:
    (tocsin.cwd / "playbooks").mkdir()
    (tocsin.cwd / "playbooks" / "kill-test.yml").write_text(PLAYBOOK)
    document = alert(source={"ip": "203.0.113.9"})
    write_alerts(tocsin.cwd / "alerts.jsonl", [document])
    port = free_port()
    tocsin.env.update(
        TOCSIN_RESPONSE_PLAYBOOKS=str(tocsin.cwd / "playbooks"),
        TOCSIN_SMTP_PORT=str(port),
        TOCSIN_WEBHOOK_URL=f"{http.url}/hook",
    )
    # Until the kill, the mail server's port accepts connections but never greets: the mail step has
    # started (journaled 'running') and has delivered nothing.
    gate = socket.socket()
    gate.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    gate.bind(("127.0.0.1", port))
    gate.listen(8)
    process = tocsin.popen(
        "playbooks", "run", "kill-test", "--alert-id", document["id"], "--alerts", "alerts.jsonl", "--execute"
    )
    try:
        deadline = time.monotonic() + 30
        while _steps(tocsin.db).get("notify-team", ("",))[0] != "running":
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        gate.close()
    assert process.returncode == -signal.SIGKILL
    assert _steps(tocsin.db) == {
        "block-source": ("done", 1),
        "notify-team": ("running", 1),
        "notify-chat": ("pending", 0),
    }
    assert (tocsin.cwd / "blocklist.txt").read_text() == "203.0.113.9\n"
    assert http.posts == []

    smtp = SmtpServer(port)
    smtp.start()
    try:
        resumed = tocsin.run("incidents", "resume", "INC-1")
    finally:
        smtp.stop()
    assert "INC-1: responded" in resumed.stderr
    assert _steps(tocsin.db) == {
        "block-source": ("done", 1),
        "notify-team": ("done", 2),
        "notify-chat": ("done", 1),
    }
    assert (
        len(smtp.mailbox.messages) == 1
        and smtp.mailbox.messages[0]["Message-ID"] == "<INC-1.notify-team@tocsin>"
    )
    assert len(http.posts) == 1 and http.posts[0]["headers"]["Idempotency-Key"] == "INC-1/notify-chat"
    assert (tocsin.cwd / "blocklist.txt").read_text() == "203.0.113.9\n"

    again = tocsin.run("incidents", "resume", "INC-1")
    assert "nothing left to run" in again.stderr
    assert len(smtp.mailbox.messages) == 1 and len(http.posts) == 1
    assert "chain intact" in tocsin.run("audit", "verify").stderr
