"""Events of a rule test case: ECS documents, or any input the scanner reads.

ECS documents are JSON objects, one a line, with nested (``{"user": {"name": ...}}``) or dotted
(``"user.name"``) keys: what ``tocsin events`` prints, so its output can be pasted into a case.
Every field is taken (``tocsin.mfa.result``, ``source.geo.*`` ...), ``original`` becomes the
source's own fields, and the logsource comes from ``tocsin.logsource`` when given, otherwise
from ``event.provider`` (product) and ``event.category`` (categories).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tocsin.model.event import Event, LogSource
from tocsin.scan import ReadSummary, read_events
from tocsin.sources import PARSERS, ParseOptions
from tocsin.sources.timeparse import parse_time

#: Test-case types read as ECS documents; any other type goes through the scanner.
ECS_TYPES = {"ecs", "ecs-json", "ecs-jsonl"}


class CaseDataError(ValueError):
    """The events of a case cannot be read."""


def load_events(path: Path, kind: str | None) -> list[Event]:
    """The events of one case file. ``kind`` is the case's ``type``: ``ecs``, a parser name
    (``syslog``, ``okta``, ``evtx``...) or anything else (detected like ``tocsin scan`` does)."""
    if not path.is_file():
        raise CaseDataError(f"{path}: no such file")
    kind = (kind or "").lower()
    if kind in ECS_TYPES:
        return ecs_events(path)
    summary = ReadSummary()
    format_in = kind if kind in PARSERS else None
    events = list(read_events([str(path)], format_in, ParseOptions(), summary))
    problems = summary.failed_inputs
    if problems:
        raise CaseDataError("; ".join(problems))
    return events


def ecs_events(path: Path) -> list[Event]:
    events = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            try:
                document = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CaseDataError(f"{path}:{number}: not JSON: {exc.msg}") from None
            if not isinstance(document, dict):
                raise CaseDataError(f"{path}:{number}: not a JSON object")
            events.append(ecs_event(document, path.name, number))
    return events


def ecs_event(document: dict[str, Any], name: str = "case", number: int = 1) -> Event:
    """One ECS document (nested or dotted keys) as an event."""
    document = dict(document)
    original = document.pop("original", None)
    fields: dict[str, Any] = {}
    _flatten(document, "", fields)
    fields.pop("event.original", None)
    timestamp = parse_time(fields.pop("@timestamp", None) or fields.pop("timestamp", None))
    logsource = _logsource(fields)
    for key in [key for key in fields if key.startswith("tocsin.logsource.") or key.startswith("log.")]:
        del fields[key]
    fields.pop("tocsin.format", None)
    raw = json.dumps(original if isinstance(original, dict) else document, sort_keys=True, default=str)
    return Event(
        timestamp=timestamp,
        fields=fields,
        original=original if isinstance(original, dict) else {},
        raw=raw,
        logsource=logsource,
        input=name,
        offset=str(number),
        format="ecs",
    )


def _flatten(value: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            _flatten(item, f"{name}.", out)
        else:
            out[name] = item


def _as_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    values = value if isinstance(value, list) else [value]
    return frozenset(str(item).lower() for item in values if item is not None)


def _logsource(fields: dict[str, Any]) -> LogSource:
    products = _as_set(fields.get("tocsin.logsource.product"))
    services = _as_set(fields.get("tocsin.logsource.service"))
    categories = _as_set(fields.get("tocsin.logsource.category"))
    if not (products or services or categories):
        products = _as_set(fields.get("event.provider"))
        categories = _as_set(fields.get("event.category"))
    return LogSource(products, services, categories)
