"""Web log records a batch at a time: ECS fields per row, events made only for rows that need them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tocsin.batch import EventBatch, EventList
from tocsin.model.event import Event, LogSource, lookup_path, sql_value
from tocsin.sources.base import BatchParser, InputSource, InputStats
from tocsin.sources.web.requests import SIGMA_FIELDS


def sigma_names(fields: dict[str, Any], logged: dict[str, Any] | None) -> dict[str, Any]:
    """An event's original fields: the record as logged (if any) with the SigmaHQ ``webserver``
    names holding the values of the ECS fields they name (a W3C column of that name as decoded), so
    rules naming them match an event as they match a batch row."""
    original = {key: value for key, value in (logged or {}).items() if key.lower() not in SIGMA_FIELDS}
    for alias, ecs in SIGMA_FIELDS.items():
        value = fields.get(ecs)
        if value is not None:
            original[alias] = value
    return original


class WebRecords(EventBatch):
    """Rows of one input: each row's ECS fields (flat dotted keys), time, line and log source, and
    for formats with columns of their own (W3C, JSON) the record as logged.

    A SigmaHQ ``webserver`` field name (``cs-uri-query``) reads the ECS field it names
    (``SIGMA_FIELDS``); any other name not among the ECS fields is looked up in the logged record.
    """

    def __init__(self, name: str, format: str) -> None:
        self._name, self._format = name, format
        self.records: list[dict[str, Any]] = []
        self.timestamps: list[float | None] = []
        self.raws: list[str] = []
        self.offsets: list[int] = []
        self.logsources: list[LogSource] = []
        self.originals: list[dict[str, Any] | None] = []
        self._cache: dict[int, Event] = {}

    def add(
        self,
        fields: dict[str, Any],
        timestamp: float | None,
        raw: str,
        offset: int,
        logsource: LogSource,
        original: dict[str, Any] | None = None,
    ) -> None:
        self.records.append(fields)
        self.timestamps.append(timestamp)
        self.raws.append(raw)
        self.offsets.append(offset)
        self.logsources.append(logsource)
        self.originals.append(original)

    def __len__(self) -> int:
        return len(self.records)

    def logsource_groups(self) -> dict[LogSource, list[int]]:
        return EventList.group_by_logsource(self.logsources)

    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        name = SIGMA_FIELDS.get(name.lower(), name)
        records = self.records
        got = [records[row].get(name) for row in rows]
        if None in got:
            originals = self.originals
            for index, row in enumerate(rows):
                original = originals[row]
                if got[index] is None and original:
                    got[index] = lookup_path(original, name)
        return [value if value is None or type(value) is str else sql_value(value) for value in got]

    def raw(self, rows: Sequence[int]) -> list[str]:
        return [self.raws[row] for row in rows]

    def event(self, row: int) -> Event:
        event = self._cache.get(row)
        if event is None:
            fields = dict(self.records[row])
            original = sigma_names(fields, self.originals[row])
            event = self._cache[row] = Event(
                timestamp=self.timestamps[row],
                fields=fields,
                original=original,
                raw=self.raws[row],
                logsource=self.logsources[row],
                input=self._name,
                offset=str(self.offsets[row]),
                format=self._format,
            )
        return event


class WebParser(BatchParser):
    """A web log format read into ``WebRecords``; ``parse`` gives the same rows as events."""

    line_oriented = True

    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]:
        for batch in self.batches(source, stats, 5000):
            yield from batch.events
