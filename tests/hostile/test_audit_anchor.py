"""Finding 10: cutting the last entries off the audit log (trigger dropped) no longer verifies."""

from __future__ import annotations

import json
import sqlite3

from tests.hostile.conftest import Tocsin
from tests.response.conftest import alert, write_alerts


def _respond(tocsin: Tocsin) -> None:
    write_alerts(tocsin.cwd / "alerts.jsonl", [alert(source={"ip": f"203.0.113.{n}"}) for n in (1, 2)])
    tocsin.run("respond", "alerts.jsonl", "--execute", check=None)
    assert "chain intact" in tocsin.run("audit", "verify").stderr


def test_truncated_audit_log_is_detected(tocsin: Tocsin) -> None:
    _respond(tocsin)
    anchor = tocsin.cwd / "cases.db.audit-head"
    assert anchor.stat().st_mode & 0o077 == 0
    with sqlite3.connect(tocsin.db) as connection:
        total = connection.execute("SELECT count(*) FROM audit").fetchone()[0]
        connection.execute("DROP TRIGGER audit_no_delete")
        connection.execute("DELETE FROM audit WHERE seq > ?", (total - 2,))
    result = tocsin.run("audit", "verify", check=1)
    assert f"the log ends at {total - 2} entries but {total} were anchored" in result.stdout


def test_forged_anchor_is_detected(tocsin: Tocsin) -> None:
    _respond(tocsin)
    anchor = tocsin.cwd / "cases.db.audit-head"
    with sqlite3.connect(tocsin.db) as connection:
        connection.execute("DROP TRIGGER audit_no_delete")
        connection.execute("DELETE FROM audit WHERE seq > 2")
        head = connection.execute("SELECT hash FROM audit WHERE seq = 2").fetchone()[0]
    document = json.loads(anchor.read_text())
    anchor.write_text(json.dumps({**document, "entries": 2, "hash": head}))  # without the key
    assert "anchor cases.db.audit-head was altered" in tocsin.run("audit", "verify", check=1).stdout
    anchor.unlink()
    assert "no anchor" in tocsin.run("audit", "verify", check=1).stdout
