"""The incident journal in the case database (SQLite, WAL): incidents, their alerts and every step's state.

Each step is written before it runs (``running``) and after (``done``/``failed``), each
change in its own committed transaction together with its audit entry, so after a crash
the journal says exactly which side effects happened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tocsin.respond import audit
from tocsin.storage import schemas
from tocsin.storage.sqlite import connect_journal

#: The incident id in plans made before the incident is opened; replaced by the real id when it is.
NEW_INCIDENT = "(new)"

#: Step states. ``running`` left behind by a crash is run again on resume (responders are idempotent).
PENDING, RUNNING, DONE, FAILED, SKIPPED, WAITING = (
    "pending",
    "running",
    "done",
    "failed",
    "skipped",
    "waiting",
)


def iso(moment: datetime) -> str:
    """``2026-03-02T09:00:00Z``: UTC to the second, the form every journal time has."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now() -> str:
    return iso(datetime.now(UTC))


@dataclass(frozen=True)
class StepRow:
    incident_id: str
    seq: int
    step_id: str
    stage: str
    action: str
    description: str
    params: dict[str, Any]
    plan: str
    requires_approval: bool
    timeout: int
    retries: int
    on_failure: str
    status: str
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    started_at: str | None
    finished_at: str | None
    approved_by: str | None
    approved_at: str | None


def _step_row(row: tuple[Any, ...]) -> StepRow:
    """A ``steps`` row (columns in StepRow's order) with its JSON and flag columns decoded."""
    values = dict(zip((field.name for field in fields(StepRow)), row, strict=True))
    values["params"] = json.loads(values["params"])
    values["requires_approval"] = bool(values["requires_approval"])
    values["result"] = json.loads(values["result"]) if values["result"] else None
    return StepRow(**values)


class JournalError(Exception):
    """A request the journal cannot satisfy (unknown incident or step); shown to the user."""


class Journal:
    """Incidents and steps in one SQLite file; every change is audited in the same transaction."""

    def __init__(self, path: Path, actor: str) -> None:
        self.path, self.actor = path, actor
        try:
            self.connection = connect_journal(path)
            self.connection.executescript(schemas.JOURNAL + schemas.AUDIT)
        except sqlite3.Error as exc:
            raise JournalError(f"{path}: {exc}") from None

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def _change(self, action: str, subject: str, details: dict[str, Any]) -> Iterator[sqlite3.Connection]:
        """One committed transaction holding a change and its audit entry."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
            audit.append(self.connection, self.actor, action, subject, details)
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")
        audit.write_anchor(self.connection, self.path)

    # incidents ---------------------------------------------------------------------------------

    def incident_for_alert(self, alert_id: str) -> str | None:
        row = self.connection.execute(
            "SELECT incident_id FROM incident_alerts WHERE alert_id = ?", (alert_id,)
        ).fetchone()
        return row[0] if row else None

    def open_incident_for(self, dedup_key: str, since: str) -> str | None:
        """The open incident with this key whose alerts reach back to ``since`` (the dedup window)."""
        row = self.connection.execute(
            "SELECT id FROM incidents WHERE dedup_key = ? AND status != 'closed' AND last_seen >= ? "
            "ORDER BY number DESC LIMIT 1",
            (dedup_key, since),
        ).fetchone()
        return row[0] if row else None

    def open_incident(
        self,
        *,
        dedup_key: str,
        playbook: str,
        title: str,
        level: str,
        alert: dict[str, Any],
        inputs: dict[str, Any],
        duties: list[dict[str, Any]],
        steps: list[dict[str, Any]],
    ) -> str:
        """Record a new incident, its first alert and all its steps, atomically; return its id."""
        first, last = (alert.get("window") or {}).get("start") or alert["@timestamp"], alert["@timestamp"]
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        try:
            number = (db.execute("SELECT max(number) FROM incidents").fetchone()[0] or 0) + 1
            incident_id = f"INC-{number}"
            db.execute(
                "INSERT INTO incidents VALUES (?, ?, ?, ?, ?, ?, 'open', 'detection', ?, ?, ?, NULL, ?, ?)",
                (
                    incident_id,
                    number,
                    dedup_key,
                    playbook,
                    title,
                    level,
                    now(),
                    first,
                    last,
                    json.dumps(inputs),
                    json.dumps(duties),
                ),
            )
            db.execute(
                "INSERT INTO incident_alerts VALUES (?, ?, ?)", (alert["id"], incident_id, json.dumps(alert))
            )
            for seq, step in enumerate(steps):
                db.execute(
                    "INSERT INTO steps (incident_id, seq, step_id, stage, action, description, params, plan, "
                    "requires_approval, timeout, retries, on_failure, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        incident_id,
                        seq,
                        step["id"],
                        step["stage"],
                        step["action"],
                        step["description"],
                        json.dumps(step["params"]),
                        step["plan"].replace(NEW_INCIDENT, incident_id),
                        int(step["requires_approval"]),
                        step["timeout"],
                        step["retries"],
                        step["on_failure"],
                        step["status"],
                    ),
                )
            db.execute(
                "INSERT INTO timeline VALUES (?, ?, 'opened', ?)",
                (incident_id, now(), f"opened by {playbook}: {title}"),
            )
            audit.append(
                db,
                self.actor,
                "incident.open",
                incident_id,
                {"playbook": playbook, "alert": alert["id"], "key": dedup_key},
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        audit.write_anchor(db, self.path)
        return incident_id

    def attach_alert(self, incident_id: str, alert: dict[str, Any]) -> None:
        with self._change("incident.alert", incident_id, {"alert": alert["id"]}) as db:
            db.execute(
                "INSERT INTO incident_alerts VALUES (?, ?, ?)", (alert["id"], incident_id, json.dumps(alert))
            )
            db.execute(
                "UPDATE incidents SET first_seen = min(first_seen, ?), last_seen = max(last_seen, ?) WHERE id = ?",
                (
                    (alert.get("window") or {}).get("start") or alert["@timestamp"],
                    alert["@timestamp"],
                    incident_id,
                ),
            )
            db.execute(
                "INSERT INTO timeline VALUES (?, ?, 'alert', ?)",
                (incident_id, now(), f"alert {alert['id']} joined: {alert['message']}"),
            )

    def incidents(self, status: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM incidents" + (" WHERE status = ?" if status else "") + " ORDER BY number"
        return [self._incident(row) for row in self.connection.execute(query, (status,) if status else ())]

    def incident(self, incident_id: str) -> dict[str, Any]:
        row = self.connection.execute(
            "SELECT * FROM incidents WHERE id = ?", (incident_id.upper(),)
        ).fetchone()
        if row is None:
            raise JournalError(f"no incident {incident_id} in {self.path}")
        return self._incident(row)

    def _incident(self, row: tuple[Any, ...]) -> dict[str, Any]:
        names = [
            column[0] for column in self.connection.execute("SELECT * FROM incidents LIMIT 0").description
        ]
        record = dict(zip(names, row, strict=True))
        record["inputs"], record["duties"] = json.loads(record["inputs"]), json.loads(record["duties"])
        return record

    def set_status(self, incident_id: str, status: str) -> None:
        with self._change("incident.status", incident_id, {"status": status}) as db:
            closed = now() if status == "closed" else None
            db.execute(
                "UPDATE incidents SET status = ?, closed_at = ? WHERE id = ?", (status, closed, incident_id)
            )
            db.execute(
                "INSERT INTO timeline VALUES (?, ?, 'status', ?)", (incident_id, now(), f"status: {status}")
            )

    # steps -------------------------------------------------------------------------------------

    def steps(self, incident_id: str, stage: str | None = None) -> list[StepRow]:
        query = (
            "SELECT * FROM steps WHERE incident_id = ?"
            + (" AND stage = ?" if stage else "")
            + " ORDER BY seq"
        )
        rows = self.connection.execute(query, (incident_id, stage) if stage else (incident_id,)).fetchall()
        return [_step_row(row) for row in rows]

    def step(self, incident_id: str, step_id: str) -> StepRow:
        for row in self.steps(incident_id):
            if row.step_id == step_id:
                return row
        raise JournalError(f"{incident_id} has no step {step_id!r}")

    def mark(
        self, step: StepRow, status: str, *, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Record a step's new state (``running`` also counts an attempt) and audit it."""
        details = {
            "step": step.step_id,
            "action": step.action,
            "status": status,
            "error": error,
            "result": result,
        }
        with self._change(f"step.{status}", step.incident_id, details) as db:
            if status == RUNNING:
                db.execute(
                    "UPDATE steps SET status = ?, attempts = attempts + 1, started_at = ?, error = NULL "
                    "WHERE incident_id = ? AND step_id = ?",
                    (status, now(), step.incident_id, step.step_id),
                )
            else:
                db.execute(
                    "UPDATE steps SET status = ?, result = ?, error = ?, finished_at = ? WHERE incident_id = ? AND step_id = ?",
                    (
                        status,
                        json.dumps(result) if result is not None else None,
                        error,
                        now(),
                        step.incident_id,
                        step.step_id,
                    ),
                )
            if status in (DONE, FAILED, SKIPPED):
                text = (
                    f"{step.step_id}: {step.plan}" if status == DONE else f"{step.step_id} {status}: {error}"
                )
                db.execute(
                    "INSERT INTO timeline VALUES (?, ?, ?, ?)",
                    (step.incident_id, now(), f"step-{status}", text),
                )

    def approve(self, incident_id: str, step_id: str) -> StepRow:
        step = self.step(incident_id, step_id)
        if not step.requires_approval:
            raise JournalError(f"{incident_id} step {step_id} does not need approval")
        with self._change("step.approve", incident_id, {"step": step_id}) as db:
            db.execute(
                "UPDATE steps SET approved_by = ?, approved_at = ?, status = CASE WHEN status = ? THEN ? ELSE status END "
                "WHERE incident_id = ? AND step_id = ?",
                (self.actor, now(), WAITING, PENDING, incident_id, step_id),
            )
            db.execute(
                "INSERT INTO timeline VALUES (?, ?, 'approval', ?)",
                (incident_id, now(), f"{step_id} approved by {self.actor}"),
            )
        return self.step(incident_id, step_id)

    # IncidentCase: what case and report actions may do ------------------------------------------

    def add_timeline(self, incident_id: str, kind: str, text: str) -> None:
        with self._change("timeline.add", incident_id, {"kind": kind, "text": text}) as db:
            db.execute("INSERT INTO timeline VALUES (?, ?, ?, ?)", (incident_id, now(), kind, text))

    def update_incident(self, incident_id: str, **fields: Any) -> None:
        allowed = {"phase"}
        if not set(fields) <= allowed:
            raise JournalError(f"cannot update {', '.join(set(fields) - allowed)}")
        with self._change("incident.update", incident_id, fields) as db:
            for name, value in fields.items():
                db.execute(f"UPDATE incidents SET {name} = ? WHERE id = ?", (value, incident_id))

    def add_evidence(self, incident_id: str, name: str, sha256: str, size: int, path: str) -> None:
        with self._change("evidence.add", incident_id, {"name": name, "sha256": sha256}) as db:
            db.execute(
                "INSERT OR REPLACE INTO evidence VALUES (?, ?, ?, ?, ?)",
                (incident_id, name, sha256, size, path),
            )

    def incident_record(self, incident_id: str) -> dict[str, Any]:
        """The incident with its alerts, steps, timeline and evidence: what reports and templates read."""
        record = self.incident(incident_id)
        record["alerts"] = [
            json.loads(row[0])
            for row in self.connection.execute(
                "SELECT document FROM incident_alerts WHERE incident_id = ? ORDER BY rowid", (incident_id,)
            )
        ]
        record["steps"] = [step.__dict__ for step in self.steps(incident_id)]
        record["timeline"] = [
            {"at": at, "kind": kind, "text": text}
            for at, kind, text in self.connection.execute(
                "SELECT at, kind, text FROM timeline WHERE incident_id = ? ORDER BY rowid", (incident_id,)
            )
        ]
        record["evidence"] = [
            {"name": name, "sha256": sha, "size": size, "path": path}
            for name, sha, size, path in self.connection.execute(
                "SELECT name, sha256, size, path FROM evidence WHERE incident_id = ? ORDER BY name",
                (incident_id,),
            )
        ]
        return record
