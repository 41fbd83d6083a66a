"""Reading a capture in-process: its events, or a full scan's alerts."""

from __future__ import annotations

from pathlib import Path

from tocsin.model.alert import Alert
from tocsin.model.event import Event
from tocsin.scan import ReadSummary, ScanRequest, ScanSummary, read_events, run_scan
from tocsin.sources import ParseOptions


def events_of(path: Path, reveal: bool = False) -> tuple[list[Event], ReadSummary]:
    summary = ReadSummary()
    events = list(read_events([str(path)], None, ParseOptions(reveal_secrets=reveal), summary))
    return events, summary


def dataset(events: list[Event], name: str) -> list[Event]:
    return [event for event in events if event.fields.get("event.dataset") == f"network.{name}"]


def scan(path: Path, **request: object) -> tuple[list[Alert], ScanSummary]:
    alerts: list[Alert] = []
    summary = run_scan(ScanRequest(paths=[str(path)], **request), alerts.append)  # type: ignore[arg-type]
    return alerts, summary
