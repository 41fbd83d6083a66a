"""An append-only, hash-chained audit log in the case database.

Each entry's hash covers its content and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from there on. Triggers refuse
UPDATE and DELETE through SQLite; ``verify`` catches changes made around it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    subject TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def _digest(seq: int, at: str, actor: str, action: str, subject: str, details: str, prev_hash: str) -> str:
    content = json.dumps([seq, at, actor, action, subject, details, prev_hash], separators=(",", ":"))
    return hashlib.sha256(content.encode()).hexdigest()


def append(connection: sqlite3.Connection, actor: str, action: str, subject: str, details: dict[str, Any]) -> None:
    """Add one entry; call inside the transaction that makes the change it records."""
    last = connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    text = json.dumps(details, sort_keys=True, separators=(",", ":"), default=str)
    connection.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, actor, action, subject, text, prev_hash, _digest(seq, at, actor, action, subject, text, prev_hash)),
    )


@dataclass
class Verification:
    entries: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(connection: sqlite3.Connection) -> Verification:
    """Recompute the chain; every broken link is reported with its sequence number."""
    problems: list[str] = []
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for seq, at, actor, action, subject, details, prev_hash, digest in connection.execute(
        "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit ORDER BY seq"
    ):
        count += 1
        if seq != expected_seq:
            problems.append(f"entry {seq}: expected sequence {expected_seq} (entries removed or inserted)")
        if prev_hash != expected_prev:
            problems.append(f"entry {seq}: does not follow the entry before it")
        if _digest(seq, at, actor, action, subject, details, prev_hash) != digest:
            problems.append(f"entry {seq}: content does not match its hash (edited)")
        expected_prev, expected_seq = digest, seq + 1
    return Verification(count, problems)
