"""Alerts and events as rows: tables for people, CSV for spreadsheets, escaped by construction.

Every cell comes from hostile input. Table cells are Rich ``Text`` (never parsed as markup);
CSV cells that a spreadsheet would run as a formula are quoted with a leading apostrophe.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable
from typing import IO, Any

from rich.table import Table
from rich.text import Text

#: Characters that make a spreadsheet cell a formula (OWASP "CSV injection"), tab and CR included.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Hex digits of an alert id shown in tables; ``tocsin show`` accepts any unique prefix.
SHORT_ID = 10

LEVEL_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "informational": "dim",
}

ALERT_COLUMNS = (
    "id", "level", "first_seen", "last_seen", "rule", "rule_id", "event_count", "user", "source",
    "host", "entities", "tags", "message",
)  # fmt: skip
EVENT_COLUMNS = (
    "@timestamp", "id", "event.action", "event.outcome", "user.name", "source.ip", "host.name", "message",
    "original",
)  # fmt: skip


def formula_safe(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like cells get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(stream: IO[str], columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write a header and formula-safe rows; returns the number of rows."""
    columns = list(columns)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for count, row in enumerate(rows, start=1):  # noqa: B007
        writer.writerow([formula_safe(row.get(column)) for column in columns])
    return count


def open_private(path: os.PathLike[str] | str) -> IO[str]:
    """A file tocsin writes, readable by its owner only (0600), truncated if it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(descriptor, "w", encoding="utf-8", newline="")


def _get(document: dict[str, Any], dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _span(document: dict[str, Any]) -> tuple[str, str]:
    window = document.get("window") or {}
    return window.get("start", document.get("@timestamp", "")), window.get(
        "end", document.get("@timestamp", "")
    )


def entity_pairs(value_of: Callable[[str], Any], group_by: dict[str, Any] | None) -> list[str]:
    """``user.name=…``, ``source.ip=…``, ``host.name=…`` (``value_of`` reads them) plus group-by values
    not already named: ``source.address=X`` beside ``source.ip=X`` says nothing new."""
    parts = [
        f"{name}={value}"
        for name in ("user.name", "source.ip", "host.name")
        if (value := value_of(name)) is not None
    ]
    if not group_by:  # a single-event alert
        return parts
    shown = {part.partition("=")[2] for part in parts}
    return parts + [f"{k}={v}" for k, v in group_by.items() if str(v) not in shown]


def entities(value_of: Callable[[str], Any], group_by: dict[str, Any] | None) -> str:
    """The :func:`entity_pairs` of an alert on one line."""
    return " ".join(entity_pairs(value_of, group_by))


def alert_row(document: dict[str, Any]) -> dict[str, Any]:
    """An alert document flattened to the ALERT_COLUMNS."""
    rule = document.get("rule") or {}
    first, last = _span(document)
    return {
        "id": document.get("id"),
        "level": rule.get("level"),
        "first_seen": first,
        "last_seen": last,
        "rule": rule.get("title"),
        "rule_id": rule.get("id"),
        "event_count": document.get("event_count"),
        "user": _get(document, "user.name"),
        "source": _get(document, "source.ip") or _get(document, "source.address"),
        "host": _get(document, "host.name"),
        "entities": entities(lambda name: _get(document, name), document.get("group_by")),
        "tags": " ".join(rule.get("tags") or []),
        "message": document.get("message"),
    }


def event_row(document: dict[str, Any]) -> dict[str, Any]:
    """An event document flattened to the EVENT_COLUMNS."""
    row = {column: _get(document, column) for column in EVENT_COLUMNS}
    row["@timestamp"] = document.get("@timestamp")
    row["id"] = _get(document, "event.id")
    row["source.ip"] = row["source.ip"] or _get(document, "source.address")
    row["original"] = _get(document, "event.original")
    return row


def alerts_table(documents: Iterable[dict[str, Any]], title: str | None = "Alerts") -> Table:
    """One row per alert: short id, level, first seen, rule, entities, events."""
    table = Table(title=title, header_style="bold")
    table.add_column("Id", no_wrap=True)
    table.add_column("Level", no_wrap=True)
    table.add_column("First seen", no_wrap=True)
    table.add_column("Rule")
    table.add_column("Entities", overflow="fold")
    table.add_column("Events", justify="right")
    for document in documents:
        row = alert_row(document)
        level = str(row["level"] or "")
        table.add_row(
            Text(str(row["id"] or "")[:SHORT_ID]),
            Text(level, style=LEVEL_STYLES.get(level, "")),
            Text(_short_time(row["first_seen"])),
            Text(str(row["rule"] or "")),
            Text(row["entities"]),
            Text(str(row["event_count"] or "")),
        )
    return table


def evidence_table(documents: Iterable[dict[str, Any]], title: str | None = None) -> Table:
    """The events behind an alert: time, source, user, host and the original line."""
    table = Table(title=title, header_style="bold")
    for column in ("Time", "Source", "User", "Host"):
        table.add_column(column, no_wrap=True)
    table.add_column("Original", overflow="fold")
    for document in documents:
        row = event_row(document)
        table.add_row(*(Text(str(row[key] or "")) for key in ("@timestamp", "source.ip", "user.name", "host.name")),
                      Text(str(row["original"] or row["message"] or "")))  # fmt: skip
    return table


def _short_time(value: Any) -> str:
    return str(value or "").replace("T", " ").removesuffix("Z")[:19]
