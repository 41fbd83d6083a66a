"""The watch state database: offsets per file identity, the alert outbox, correlation episodes.

Everything lives in one SQLite file (``STATE/state.db``), which is also the case
database (events and alerts, see ``tocsin.storage.cases``) and holds the persistent
correlation candidates. Every event read is recorded once as a compact row in
``watch_events`` (id, timestamp, input, offset, dataset, raw line), appended in
rowid order with no index on the random id, so the write stays sequential however
large the table grows: that is the ledger of what was committed, exactly once —
checkpoints guarantee it, and a duplicate would show there rather than be hidden. Full event
documents go to the case ``events`` table only for the events that matter to a
case (correlation candidates and alert evidence), so per-batch writes stay small
and the database grows by about the size of the raw lines, pruned by retention.
One transaction per micro-batch commits the events,
the candidates, the alerts they raised and the file offsets together: after a
crash the next run starts exactly after the last committed line.

Alerts are delivered from the outbox after the commit and marked delivered
then, so an alert is never lost; a crash between delivery and marking can
deliver it again with the same id (sinks and the response engine dedupe by id).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tocsin.credentials import redact
from tocsin.model.alert import Alert
from tocsin.model.event import Event
from tocsin.storage import schemas
from tocsin.storage.sqlite import connect
from tocsin.watch.follower import Checkpoint

#: Checkpoints of files not seen for this long are forgotten.
FORGET_FILES_AFTER = 30 * 86400


class StateStore:
    """The state database of one ``--state`` directory."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory = directory
        self.connection: sqlite3.Connection = connect(directory / "state.db", durable=True)
        self.connection.executescript(schemas.WATCH_STATE)

    def close(self) -> None:
        self.connection.close()

    # -- files -------------------------------------------------------------------------

    def checkpoints(self) -> list[Checkpoint]:
        rows = self.connection.execute(
            "SELECT key, path, dev, ino, fp_len, fp_hash, offset, format FROM watch_files"
        )
        return [Checkpoint(*row) for row in rows]

    def save_checkpoints(self, checkpoints: Iterable[Checkpoint], forget: Iterable[str] = ()) -> None:
        """Inside the batch transaction: the offsets the committed events were read up to."""
        now = time.time()
        self.connection.executemany(
            "INSERT OR REPLACE INTO watch_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (c.key, c.path, c.dev, c.ino, c.fp_len, c.fp_hash, c.offset, c.format, now)
                for c in checkpoints
            ),
        )
        self.connection.executemany("DELETE FROM watch_files WHERE key = ?", ((key,) for key in forget))
        self.connection.execute("DELETE FROM watch_files WHERE seen < ?", (now - FORGET_FILES_AFTER,))

    # -- events ------------------------------------------------------------------------

    def record_events(self, events: Iterable[Event]) -> None:
        """Inside the batch transaction: one compact row per event, tokens and passwords redacted."""
        self.connection.executemany(
            "INSERT INTO watch_events (id, timestamp, input, offset, dataset, raw) VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    event.id,
                    event.timestamp,
                    event.input,
                    event.offset,
                    event.fields.get("event.dataset"),
                    redact(event.raw),
                )
                for event in events
            ),
        )

    # -- episodes ----------------------------------------------------------------------

    def episode_is_new(
        self, rule_id: str, group: dict[str, Any], window_start: float, end: float, alert: str
    ) -> bool:
        """Record a correlation episode; False when it continues one already alerted on
        (their windows overlap), whose end is then extended."""
        gkey = json.dumps(group, sort_keys=True, default=str).lower()
        row = self.connection.execute(
            "SELECT window_start, end FROM watch_episodes WHERE rule_id = ? AND gkey = ? "
            "AND window_start <= ? AND end >= ? ORDER BY end DESC LIMIT 1",
            (rule_id, gkey, end, window_start),
        ).fetchone()
        if row is not None:
            if end > row[1]:
                self.connection.execute(
                    "UPDATE watch_episodes SET end = ? WHERE rule_id = ? AND gkey = ? AND window_start = ?",
                    (end, rule_id, gkey, row[0]),
                )
            return False
        self.connection.execute(
            "INSERT OR REPLACE INTO watch_episodes VALUES (?, ?, ?, ?, ?)",
            (rule_id, gkey, window_start, end, alert),
        )
        return True

    def episode_alert(
        self, rule_id: str, group: dict[str, Any], window_start: float, end: float
    ) -> str | None:
        """The id of the alert an overlapping episode was reported under."""
        gkey = json.dumps(group, sort_keys=True, default=str).lower()
        row = self.connection.execute(
            "SELECT alert_id FROM watch_episodes WHERE rule_id = ? AND gkey = ? AND window_start <= ? AND end >= ? "
            "ORDER BY end DESC LIMIT 1",
            (rule_id, gkey, end, window_start),
        ).fetchone()
        return row[0] if row else None

    # -- outbox ------------------------------------------------------------------------

    def enqueue(self, alerts: list[Alert]) -> list[Alert]:
        """Inside the batch transaction: the alerts not raised before (by id)."""
        new = []
        now = time.time()
        for alert in alerts:
            cursor = self.connection.execute(
                "INSERT OR IGNORE INTO watch_outbox VALUES (?, ?, ?, ?, NULL)",
                (alert.id, now, int(alert.level), alert.json_text()),
            )
            if cursor.rowcount:
                new.append(alert)
        return new

    def pending(self, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        rows = self.connection.execute(
            "SELECT id, document FROM watch_outbox WHERE delivered IS NULL ORDER BY created, id LIMIT ?",
            (limit,),
        )
        return [(row[0], json.loads(row[1])) for row in rows]

    def mark_delivered(self, ids: list[str]) -> None:
        now = time.time()
        self.connection.executemany(
            "UPDATE watch_outbox SET delivered = ? WHERE id = ?", ((now, i) for i in ids)
        )

    # -- meta and pruning ------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.connection.execute("SELECT value FROM watch_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: Any) -> None:
        self.connection.execute("INSERT OR REPLACE INTO watch_meta VALUES (?, ?)", (key, str(value)))

    def prune(self, episodes_before: float, events_before: float, outbox_before: float) -> None:
        """Bound the database: old episodes, events past retention, delivered alerts long gone."""
        execute = self.connection.execute
        execute("DELETE FROM watch_events WHERE timestamp < ?", (events_before,))
        execute("DELETE FROM watch_episodes WHERE end < ?", (episodes_before,))
        execute("DELETE FROM watch_outbox WHERE delivered IS NOT NULL AND delivered < ?", (outbox_before,))
        if execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
            execute("DELETE FROM events WHERE timestamp < ?", (events_before,))
