"""Finding 6: secret fingerprints are keyed, masks reveal little, tokens in log lines are not stored in
clear, and nothing tocsin creates is readable by other users (also with --reveal-secrets)."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import stat
from pathlib import Path

from tests.conftest import shared
from tests.hostile.conftest import Tocsin
from tests.response.conftest import alert, write_alerts
from tests.watch.helpers import Watcher, syslog_stamp, wait_for

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_fingerprints_are_keyed_and_masks_short(tocsin: Tocsin) -> None:
    capture = shared("pcaps/ftp/ipv4.pcap")
    result = tocsin.run("events", str(capture), "--reveal-secrets")
    credentials = [
        json.loads(line)["credential"] for line in result.stdout.splitlines() if '"masked"' in line
    ]
    assert credentials
    key_file = tocsin.cwd / ".config" / "tocsin" / "fingerprint.key"
    assert _private(key_file) and _private(key_file.parent) and len(key_file.read_bytes()) == 32
    for credential in credentials:
        value = credential["value"].encode()
        keyed = hmac.new(key_file.read_bytes(), value, hashlib.sha256).hexdigest()[:32]
        assert credential["hash"] == f"hmac-sha256:{keyed}"
        assert hashlib.sha256(value).hexdigest()[:32] not in credential["hash"]  # no word list recovers it
        assert credential["masked"] == "****"  # a short password shows nothing
    again = tocsin.run("events", str(capture))
    assert [
        json.loads(line)["credential"]["hash"] for line in again.stdout.splitlines() if '"masked"' in line
    ] == [c["hash"] for c in credentials]  # the same key: sightings still match across runs


def test_tokens_in_log_lines_not_stored_and_outputs_private(tocsin: Tocsin) -> None:
    log = tocsin.cwd / "auth.log"
    log.write_text(
        f"Dec 10 10:00:00 web01 app[1]: deploy with token {GITHUB_TOKEN} Authorization: Bearer {BEARER}\n"
        + "".join(
            f"Dec 10 10:{i:02d}:01 web01 sshd[{100 + i}]: Failed password for root from 203.0.113.9 port {4000 + i} ssh2\n"
            for i in range(12)
        )
    )
    tocsin.run("scan", "auth.log", "--db", "case.db", "-o", "alerts.jsonl", "--reveal-secrets")
    stored = b"".join(path.read_bytes() for path in tocsin.cwd.glob("case.db*"))
    assert GITHUB_TOKEN.encode() not in stored and BEARER.encode() not in stored
    assert b"deploy with token ****(hmac-sha256:" in stored  # the rest of the line is kept
    rows = sqlite3.connect(tocsin.cwd / "case.db").execute("SELECT count(*) FROM events").fetchone()
    assert rows == (13,)
    for created in ("case.db", "alerts.jsonl"):
        assert _private(tocsin.cwd / created), created


def test_incident_folders_and_watch_state_private(tocsin: Tocsin, tmp_path: Path) -> None:
    write_alerts(tocsin.cwd / "alerts.jsonl", [alert(source={"ip": "203.0.113.9"})])
    tocsin.run("respond", "alerts.jsonl", "--execute", check=None)
    incidents = tocsin.cwd / "incidents"
    created = [incidents, *incidents.rglob("*"), tocsin.db]
    assert len(created) > 2 and all(_private(path) for path in created), [
        (str(p), oct(p.stat().st_mode)) for p in created if not _private(p)
    ]

    (tmp_path / "watch").mkdir()
    watcher = Watcher(tmp_path / "watch")
    watcher.start()
    (watcher.logs / "auth.log").write_text(
        f"{syslog_stamp()} web01 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2 {GITHUB_TOKEN}\n"
    )
    wait_for(lambda: watcher.committed_raw(), what="the line committed")
    assert GITHUB_TOKEN not in "".join(watcher.committed_raw())
    assert watcher.stop() == 0
    assert all(_private(path) for path in [watcher.state, *watcher.state.rglob("*")])
