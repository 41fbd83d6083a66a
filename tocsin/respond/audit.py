"""An append-only, hash-chained audit log in the case database.

Each entry's hash covers its content and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from there on. Triggers refuse
UPDATE and DELETE through SQLite; ``verify`` catches changes made around it.

A chain alone cannot show that its last entries were cut off, so after each commit the
head (entry count and last hash) is written beside the database (``FILE.audit-head``,
0600) with an HMAC under the per-install key: a log shorter than its anchor, or whose
anchored entry differs, fails verification, and so does an anchor edited without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tocsin.credentials import fingerprint_key

GENESIS = "0" * 64


def _digest(seq: int, at: str, actor: str, action: str, subject: str, details: str, prev_hash: str) -> str:
    content = json.dumps([seq, at, actor, action, subject, details, prev_hash], separators=(",", ":"))
    return hashlib.sha256(content.encode()).hexdigest()


def append(
    connection: sqlite3.Connection, actor: str, action: str, subject: str, details: dict[str, Any]
) -> None:
    """Add one entry; call inside the transaction that makes the change it records."""
    last = connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    text = json.dumps(details, sort_keys=True, separators=(",", ":"), default=str)
    connection.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            at,
            actor,
            action,
            subject,
            text,
            prev_hash,
            _digest(seq, at, actor, action, subject, text, prev_hash),
        ),
    )


def anchor_path(database: Path) -> Path:
    """Where the head of ``database``'s audit chain is anchored."""
    return database.with_name(database.name + ".audit-head")


def _anchor_mac(entries: int, head: str) -> str:
    key = hmac.new(fingerprint_key(), b"tocsin audit anchor", hashlib.sha256).digest()
    return hmac.new(key, f"{entries}:{head}".encode(), hashlib.sha256).hexdigest()


def write_anchor(connection: sqlite3.Connection, database: Path) -> None:
    """Anchor the committed head of the chain (call after COMMIT); replaced atomically, mode 0600."""
    last = connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    if last is None:
        return
    entries, head = last
    target = anchor_path(database)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump({"entries": entries, "hash": head, "mac": _anchor_mac(entries, head)}, stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, target)


def _check_anchor(connection: sqlite3.Connection, database: Path, entries: int) -> list[str]:
    path = anchor_path(database)
    try:
        anchor = json.loads(path.read_text(encoding="utf-8"))
        anchored, head, mac = int(anchor["entries"]), str(anchor["hash"]), str(anchor["mac"])
    except FileNotFoundError:
        return (
            [f"no anchor ({path.name}): entries removed from the end could not be detected"]
            if entries
            else []
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"anchor {path.name} unreadable: {exc}"]
    if not hmac.compare_digest(mac, _anchor_mac(anchored, head)):
        return [f"anchor {path.name} was altered (its MAC does not match)"]
    row = connection.execute("SELECT hash FROM audit WHERE seq = ?", (anchored,)).fetchone()
    if entries < anchored or row is None:
        return [
            f"the log ends at {entries} entries but {anchored} were anchored (entries removed from the end)"
        ]
    if row[0] != head:
        return [f"entry {anchored}: differs from the anchored head"]
    return []


@dataclass
class Verification:
    entries: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(connection: sqlite3.Connection, database: Path) -> Verification:
    """Recompute the chain and check it against its anchor; every broken link is reported with its
    sequence number."""
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
    problems += _check_anchor(connection, database, count)
    return Verification(count, problems)
