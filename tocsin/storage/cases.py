"""The case database: every event and alert of a scan, on disk, for later look-ups.

It is the same SQLite file the engine works in (``--db FILE``), so evidence
ids in alerts resolve with ``tocsin show ID --db FILE``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from tocsin.credentials import redact
from tocsin.model.alert import Alert
from tocsin.model.event import Event
from tocsin.storage import schemas


class CaseStore:
    """Events and alerts by id, in the engine's SQLite connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        connection.executescript(schemas.CASES)

    def add_events(self, events: Iterable[Event]) -> None:
        """Store events, tokens and passwords in them redacted; storing the same event twice keeps one copy."""
        self.connection.executemany(
            "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?)",
            (
                (
                    event.id,
                    event.timestamp,
                    event.input,
                    event.format,
                    redact(json.dumps(event.to_document(), default=str, separators=(",", ":"))),
                )
                for event in events
            ),
        )

    def add_alerts(self, alerts: Iterable[Alert]) -> None:
        """Store alerts; an alert raised again by a re-scan replaces its earlier copy."""
        self.connection.executemany(
            "INSERT OR REPLACE INTO alerts VALUES (?, ?, ?, ?, ?)",
            (
                (
                    alert.id,
                    alert.document()["@timestamp"],
                    alert.level.name,
                    alert.rule.id,
                    alert.json_text(),
                )
                for alert in alerts
            ),
        )

    def get(self, identifier: str) -> tuple[str, dict[str, Any]] | None:
        """``("event"|"alert", document)`` for an id, or None."""
        for kind, table in (("event", "events"), ("alert", "alerts")):
            row = self.connection.execute(
                f"SELECT document FROM {table} WHERE id = ?", (identifier,)
            ).fetchone()
            if row:
                return kind, json.loads(row[0])
        return None

    def evidence(self, alert: dict[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
        """The stored events an alert document names as evidence, oldest first (at most ``limit``)."""
        ids = alert.get("evidence", [])
        rows = self.connection.execute(
            "SELECT document FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY timestamp"
            " LIMIT ?",
            (json.dumps(ids), -1 if limit is None else limit),
        )
        return [json.loads(row[0]) for row in rows]

    def resolve(self, prefix: str) -> tuple[str, dict[str, Any]] | None:
        """Like ``get``, also for a unique id prefix; AmbiguousId names the candidates."""
        found = self.get(prefix)
        if found is not None or not prefix:
            return found
        matches: list[tuple[str, str, str]] = []
        for kind, table in (("event", "events"), ("alert", "alerts")):
            rows = self.connection.execute(  # a range on the primary key: ids starting with the prefix
                f"SELECT id, document FROM {table} WHERE id >= ? AND id < ? LIMIT 6",
                (prefix, prefix + "\U0010ffff"),
            )
            matches += [(kind, row[0], row[1]) for row in rows]
        if len(matches) > 1:
            raise AmbiguousId(prefix, sorted(match[1] for match in matches))
        return (matches[0][0], json.loads(matches[0][2])) if matches else None

    def alerts(self) -> list[dict[str, Any]]:
        """Every stored alert document, oldest first."""
        rows = self.connection.execute("SELECT document FROM alerts ORDER BY timestamp, id")
        return [json.loads(row[0]) for row in rows]


class AmbiguousId(LookupError):
    """An id prefix that names more than one stored event or alert."""

    def __init__(self, prefix: str, candidates: list[str]) -> None:
        shown = ", ".join(candidates[:5]) + (", …" if len(candidates) > 5 else "")
        super().__init__(f"id prefix {prefix} is ambiguous: {shown}")
        self.candidates = candidates
