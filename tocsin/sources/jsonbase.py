"""Base class for formats whose records are JSON objects (cloud logs, journald, evtx JSON)."""

from __future__ import annotations

import io
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tocsin.model.event import Event, LogSource
from tocsin.sources.base import InputSource, InputStats, Parser, Sample
from tocsin.sources.inputs import read_head
from tocsin.sources.jsonstream import (
    Record,
    first_json_record,
    is_json_lines,
    iter_json_lines,
    iter_json_records,
)


@dataclass(slots=True)
class Normalized:
    """What a JSON parser derives from one record."""

    timestamp: float | None
    fields: dict[str, Any]
    logsource: LogSource

    def event(
        self, original: dict[str, Any], raw: str, input: str, offset: str, format: str, stats: InputStats
    ) -> Event:
        """The event for this record, counted in ``stats`` (with a warning when it has no time)."""
        if self.timestamp is None:
            stats.warn("record without a readable timestamp")
        stats.events += 1
        return Event(
            timestamp=self.timestamp,
            fields=self.fields,
            original=original,
            raw=raw,
            logsource=self.logsource,
            input=input,
            offset=offset,
            format=format,
        )


class JsonParser(Parser):
    """A JSON format: say whether a record is yours (``recognizes``) and map it to ECS (``normalize``).

    The original record is kept whole as the event's ``original`` fields, so
    Sigma rules written against the vendor's own field names still match.
    """

    line_oriented = True  # when the file is JSON Lines, which is how followed logs are written

    @classmethod
    @abstractmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        """Confidence (0-100) that ``record`` is of this format."""

    @abstractmethod
    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        """ECS fields, timestamp and logsource of ``record``; None if it is not of this format."""

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        record = first_json_record(sample.head)
        return cls.recognizes(record) if isinstance(record, dict) else 0

    def splittable(self, source: InputSource) -> bool:
        """A JSON Lines file: each record is its line's alone (arrays and pretty-printed objects are not)."""
        return is_json_lines(read_head(source))

    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]:
        with source.open() as stream:
            records = iter_json_records(stream, stats, self.options.max_record_bytes, source.first_line)
            yield from self._events(records, source.name, stats)

    def parse_lines(
        self, data: bytes, name: str, stats: InputStats, mtime: float | None = None
    ) -> Iterator[Event]:
        """Lines appended to a followed JSON Lines file: one record per line, offsets are line numbers."""
        records = iter_json_lines(io.BytesIO(data), stats, self.options.max_record_bytes)
        return self._events(records, name, stats)

    def _events(self, records: Iterator[Record], name: str, stats: InputStats) -> Iterator[Event]:
        for offset, raw, record in records:
            stats.records += 1
            if not isinstance(record, dict):
                stats.skip("JSON value is not an object")
                continue
            try:
                normalized = self.normalize(record)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                stats.skip(f"{self.name} record of unexpected shape ({type(exc).__name__})")
                continue
            if normalized is None:
                stats.skip(f"not a {self.name} record")
                continue
            yield normalized.event(record, raw, name, offset, self.name, stats)


def dig(record: dict[str, Any], *path: str) -> Any:
    """``record[path[0]][path[1]]...`` or None when any step is missing."""
    current: Any = record
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current
