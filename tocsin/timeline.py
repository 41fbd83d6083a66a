"""A chronological timeline of detections, in Timesketch's import format (CSV or JSON Lines).

Timesketch needs ``message``, ``datetime`` (ISO 8601) and ``timestamp_desc``; the other
columns are attributes it indexes as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tocsin.tabular import alert_row, open_private, write_csv

TIMELINE_COLUMNS = (
    "datetime", "timestamp_desc", "message", "level", "rule", "rule_id", "alert_id", "event_count",
    "entities", "user", "source", "host", "last_seen", "tags",
)  # fmt: skip


def timeline_rows(alerts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per alert at its first seen time, oldest first (same time: most severe first)."""
    rows = []
    for document in alerts:
        row = alert_row(document)
        correlation = bool(document.get("window"))
        rows.append({
            **row,
            "datetime": row["first_seen"],
            "timestamp_desc": "Detection window start" if correlation else "Detection event time",
            "message": f"[{row['level']}] {row['message']}",
            "alert_id": row["id"],
        })  # fmt: skip
    levels = ["critical", "high", "medium", "low", "informational"]
    rows.sort(key=lambda r: (r["datetime"], levels.index(r["level"]) if r["level"] in levels else 5, r["id"]))
    return rows


def write_timeline(path: Path, alerts: Iterable[dict[str, Any]]) -> int:
    """Write the timeline: CSV when the file name ends in .csv, JSON Lines otherwise; returns the rows."""
    rows = timeline_rows(alerts)
    with open_private(path) as stream:
        if path.suffix.lower() == ".csv":
            return write_csv(stream, TIMELINE_COLUMNS, rows)
        for row in rows:
            stream.write(json.dumps({column: row[column] for column in TIMELINE_COLUMNS}, default=str) + "\n")
    return len(rows)
