"""Any JSON objects or CSV table, with an optional ECS field mapping (``ParseOptions.field_map``).

The mapping names, for each ECS field, the source field holding it (a dotted
path for nested JSON: ``{"user.name": "actor.login", "@timestamp": "ts"}``).
Without one, the timestamp comes from a usual key (``@timestamp``,
``timestamp``, ``time``...) and fields already named like ECS (``user.name``
or ``{"user": {"name": ...}}``) are taken as they are. A mapping of an ECS
categorization field to one of its allowed values that is not a source field
is a constant: ``{"event.category": "authentication"}`` routes every record
to the Sigma rules for that category. These parsers sniff low, so a format
with its own parser always wins.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import partial
from itertools import islice, repeat
from typing import Any

from tocsin.batch import EVENT_LIST_ROWS, EventBatch, EventList, JsonRecords
from tocsin.memo import bounded_cache
from tocsin.model.event import Event, LogSource, lookup_path
from tocsin.sources import flatjson
from tocsin.sources.base import (
    BatchParser,
    InputSource,
    InputStats,
    ParseOptions,
    Parser,
    Sample,
    compact,
)
from tocsin.sources.inputs import HEAD_BYTES, decode_lines
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.jsonstream import JsonLines, is_json_lines, iter_json_records, json_line_blocks
from tocsin.sources.logsource import HINT_FIELDS, infer_logsource
from tocsin.sources.timeparse import parse_time

TIMESTAMP_KEYS = ("@timestamp", "timestamp", "time", "ts", "date", "eventTime")
_TIMESTAMP_KEY_SET = frozenset(TIMESTAMP_KEYS)
#: A guessed timestamp key must give a time after this (1980): "date: 14" is a day, not 1970.
_PLAUSIBLE_EPOCH = 315532800

#: ECS fields taken from records that already use their names.
ECS_FIELDS = (
    "message",
    "event.category",
    "event.type",
    "event.outcome",
    "event.action",
    "event.code",
    "event.reason",
    "event.kind",
    "event.dataset",
    "event.provider",
    "user.name",
    "user.id",
    "user.domain",
    "user.email",
    "user.full_name",
    "user.target.name",
    "source.ip",
    "source.port",
    "source.address",
    "source.domain",
    "destination.ip",
    "destination.port",
    "destination.address",
    "destination.domain",
    "client.ip",
    "client.address",
    "host.name",
    "host.hostname",
    "host.ip",
    "process.name",
    "process.pid",
    "process.command_line",
    "process.executable",
    "url.original",
    "url.domain",
    "url.path",
    "http.request.method",
    "http.response.status_code",
    "user_agent.original",
    "network.protocol",
    "network.transport",
    "service.name",
    "file.path",
    "log.level",
    "rule.name",
    "event.module",
    "data_stream.dataset",
    "service.type",
)
_ECS_HEADS = tuple((name, name.split(".", 1)[0]) for name in ECS_FIELDS)
_ECS_NAMES = frozenset(ECS_FIELDS)
_ECS_HEAD_NAMES = frozenset(head for _, head in _ECS_HEADS)

#: The allowed values of ECS categorization fields: mapped to one of these, a field is a constant.
ECS_ALLOWED_VALUES = {
    "event.category": frozenset(
        {
            "api",
            "authentication",
            "configuration",
            "database",
            "driver",
            "email",
            "file",
            "host",
            "iam",
            "intrusion_detection",
            "library",
            "malware",
            "network",
            "package",
            "process",
            "registry",
            "session",
            "threat",
            "vulnerability",
            "web",
        }
    ),
    "event.type": frozenset(
        {
            "access",
            "admin",
            "allowed",
            "change",
            "connection",
            "creation",
            "deletion",
            "denied",
            "end",
            "error",
            "group",
            "indicator",
            "info",
            "installation",
            "protocol",
            "start",
            "user",
        }
    ),
    "event.outcome": frozenset({"failure", "success", "unknown"}),
    "event.kind": frozenset(
        {
            "alert",
            "asset",
            "enrichment",
            "event",
            "metric",
            "pipeline_error",
            "signal",
            "state",
        }
    ),
}
_INTEGER_FIELDS = frozenset({"source.port", "destination.port", "process.pid", "http.response.status_code"})


#: A record's keys naming ECS fields, and naming the objects of ECS fields: ``(key, lower-case key)``.
_KeyPlan = tuple[list[tuple[str, str]], list[tuple[str, str]]]


@bounded_cache(entries=256, longest=4096)
def _key_plan(keys: tuple[str, ...]) -> _KeyPlan:
    """Which of a record's keys name an ECS field (flat) or the object of one (heads), with their
    lower-case spelling, in the record's order; records of one source mostly share their keys, so
    each set of keys is looked at once (hostile input with ever new keys is planned record by record)."""
    lowered = [(key, key.lower()) for key in keys]
    return (
        [(key, lower) for key, lower in lowered if lower in _ECS_NAMES],
        [(key, lower) for key, lower in lowered if lower in _ECS_HEAD_NAMES and lower not in _ECS_NAMES],
    )


class FieldMapper:
    """Derives the timestamp, ECS fields and logsource of a generic record."""

    def __init__(self, field_map: dict[str, str], logsource: LogSource | None = None) -> None:
        self.timestamp_path = field_map.get("@timestamp")
        self.field_map = {ecs: path for ecs, path in field_map.items() if ecs != "@timestamp"}
        self.logsource = logsource

    def __call__(self, record: dict[str, Any], logsource: LogSource | None = None) -> Normalized:
        """``record`` normalized; its log source is ``logsource`` when the caller has inferred it."""
        fields: dict[str, Any] = {}
        nested: set[str] = set()
        flat, heads = _key_plan(tuple(record))
        for key, lowered in flat:
            value = record[key]
            if (
                value is not None
                and not isinstance(value, dict)
                and (key == lowered or lowered not in fields)
            ):
                fields[lowered] = value  # a flat dotted key; its exact spelling wins over another case
        for key, lowered in heads:
            if isinstance(record[key], dict):
                nested.add(lowered)
        if nested:
            for name, head in _ECS_HEADS:
                if head in nested and name not in fields:
                    value = lookup_path(record, name)
                    if value is not None and not isinstance(value, dict):
                        fields[name] = value
        for ecs, path in self.field_map.items():
            value = lookup_path(record, path)
            if value is None and path.lower() in ECS_ALLOWED_VALUES.get(ecs, ()):
                value = path.lower()
            if value is not None:
                fields[ecs] = value
        for name in _INTEGER_FIELDS & fields.keys():
            value = fields[name]
            if isinstance(value, str) and value.strip().isdigit():
                fields[name] = int(value)
        logsource = logsource or self.logsource or infer_logsource(fields.get)
        return Normalized(self._timestamp(record), compact(fields), logsource)

    def _timestamp(self, record: dict[str, Any]) -> float | None:
        if self.timestamp_path:
            return parse_time(lookup_path(record, self.timestamp_path))
        for key in TIMESTAMP_KEYS:
            timestamp = parse_time(lookup_path(record, key))
            if timestamp is not None and timestamp > _PLAUSIBLE_EPOCH:
                return timestamp
        return None


class GenericJsonParser(JsonParser, BatchParser):
    name = "json"
    description = "Any JSON objects (JSON Lines, arrays), ECS fields mapped with a field map"

    def __init__(self, options: ParseOptions) -> None:
        super().__init__(options)
        self.mapper = FieldMapper(options.field_map, options.logsource)

    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[EventBatch]:
        """JSON Lines without a field map go to the engine as decoded records (the fast path);
        other shapes and mapped records as events."""
        with source.open() as stream:
            head = stream.peek(1 << 16) if hasattr(stream, "peek") else b""
            if self.mapper.field_map or not is_json_lines(head, source.first_line):
                events = self._events_of(stream, source, stats)
                while chunk := list(islice(events, min(size, EVENT_LIST_ROWS))):
                    yield EventList(chunk)
                return
            pending = JsonLines()
            blocks = json_line_blocks(
                stream, stats, self.options.max_record_bytes, source.first_line, columnar=flatjson.AVAILABLE
            )
            for lines in blocks:
                if pending and pending.decoded != lines.decoded:  # a batch reads its lines one way
                    yield self._batch(pending, source.name, stats)
                    pending = JsonLines()
                pending.extend(lines)
                while len(pending) >= size:
                    yield self._batch(pending.take(size), source.name, stats)
            if pending:
                yield self._batch(pending, source.name, stats)

    def _events_of(self, stream: Any, source: InputSource, stats: InputStats) -> Iterator[Event]:
        records = iter_json_records(stream, stats, self.options.max_record_bytes, source.first_line)
        return self._events(records, source.name, stats)

    def _batch(self, lines: JsonLines, name: str, stats: InputStats) -> JsonRecords:
        """The object records of ``lines`` as a batch, counted as ``parse`` counts them: read into
        columns by the native reader when they are not decoded yet and it takes them."""
        unseen = InputStats(name)  # the rows were counted when read

        def materialize(record: dict[str, Any], raw: str, offset: str, logsource: LogSource) -> Event:
            return self.mapper(record, logsource).event(record, raw, name, offset, self.name, unseen)

        if not lines.decoded:
            columns = flatjson.flat_columns(lines.raws)
            if columns is not None:
                return self._flat_batch(lines, columns, stats, materialize)
            lines = lines.decode(stats)
        stats.records += len(lines)
        if set(map(type, lines.values)) != {dict}:
            objects = [row for row, value in enumerate(lines.values) if isinstance(value, dict)]
            stats.skip("JSON value is not an object", len(lines) - len(objects))
            lines = lines.select(objects)
        records = lines.values
        stats.events += len(records)
        untimed = sum(map(_TIMESTAMP_KEY_SET.isdisjoint, records))
        if untimed:
            stats.warn("record without a readable timestamp", untimed)
        keys: set[str] = set().union(*records)
        if self.mapper.logsource:
            logsources = [self.mapper.logsource] * len(records)
        else:
            logsources = _logsources(records, keys)
        return JsonRecords(records, lines.raws, lines.numbers, logsources, materialize, keys)

    def _flat_batch(
        self,
        lines: JsonLines,
        columns: dict[str, flatjson.FlatColumn],
        stats: InputStats,
        materialize: Callable[[dict[str, Any], str, str, LogSource], Event],
    ) -> JsonRecords:
        """``lines`` read into ``columns`` as a batch, counted as ``_batch`` counts records."""
        stats.records += len(lines)
        stats.events += len(lines)
        timed = 0
        for key in TIMESTAMP_KEYS:
            if key in columns:
                timed |= columns[key].holders()
        if untimed := len(lines) - timed.bit_count():
            stats.warn("record without a readable timestamp", untimed)
        records = None
        if self.mapper.logsource:
            logsources = [self.mapper.logsource] * len(lines)
        elif (inferred := _column_logsources(columns, len(lines))) is not None:
            logsources = inferred
        else:
            records = flatjson.decoded_records(lines.raws)
            logsources = _logsources(records, set(columns))
        return flatjson.FlatJsonRows(columns, lines.raws, lines.numbers, logsources, materialize, records)

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        return 25

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        return self.mapper(record)


#: The fields log source inference reads, and their first part (a nested record's object).
_HINTS = (*HINT_FIELDS, "event.category")
_HINT_HEADS = frozenset(name.partition(".")[0] for name in _HINTS)


def _logsources(records: list[dict[str, Any]], keys: set[str]) -> list[LogSource]:
    """Each record's inferred log source; records naming their source alike share one lookup.
    ``keys`` are the records' keys: a hint no record holds is not looked up."""
    present = [name for name in _HINTS if name in keys]
    flat = _HINT_HEADS.isdisjoint(keys)
    if flat:
        columns = [list(map(dict.get, records, repeat(name))) for name in present]
        with suppress(TypeError):  # a list-valued hint is not hashable: record by record below
            if all(len(set(column)) == 1 for column in columns):  # one source for the whole batch
                return [_inferred(present, [column[0] for column in columns])] * len(records)
    known: dict[tuple[Any, ...], LogSource] = {}
    out = []
    for record in records:
        if flat or _HINT_HEADS.isdisjoint(record):  # flat dotted keys: the common export shape
            out.append(_known(known, present, tuple(map(record.get, present))))
        else:
            out.append(infer_logsource(partial(_nested, record)))
    return out


def _column_logsources(columns: dict[str, flatjson.FlatColumn], count: int) -> list[LogSource] | None:
    """``_logsources`` of ``count`` rows read into ``columns``; None when a hint is not a string in
    every row that holds it (inference reads the records' own values: the records are then read)."""
    if not _HINT_HEADS.isdisjoint(columns):
        return None
    present = [name for name in _HINTS if name in columns]
    hints = [columns[name] for name in present]
    if any(hint.typed for hint in hints):
        return None
    if all(hint.uniform for hint in hints):  # one source for the whole batch
        return [_inferred(present, [hint.text[0].as_py() for hint in hints])] * count
    known: dict[tuple[Any, ...], LogSource] = {}
    values = [hint.text.to_pylist() for hint in hints]
    return [_known(known, present, key) for key in zip(*values, strict=True)]


def _inferred(present: list[str], values: list[Any]) -> LogSource:
    """The log source of records whose hints ``present`` hold ``values``."""
    return infer_logsource(dict(zip(present, values, strict=True)).get)


def _known(known: dict[tuple[Any, ...], LogSource], present: list[str], key: tuple[Any, ...]) -> LogSource:
    """``_inferred`` of the hint values ``key``, looked up once per distinct key (``known``)."""
    try:
        logsource = known.get(key)
    except TypeError:  # a list-valued field: not hashable as a key
        logsource = None
    if logsource is None:
        logsource = _inferred(present, list(key))
        with suppress(TypeError):
            known[key] = logsource
    return logsource


def _nested(record: dict[str, Any], name: str) -> Any:
    value = lookup_path(record, name)
    return None if isinstance(value, dict) else value


_DELIMITERS = (",", ";", "\t")
_HEADER_CELL = re.compile(r"[A-Za-z_@#][\w@#.\-/() ]{0,63}")


def _cells(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # e.g. a bare CR inside the line: no cells
        return []


def header_delimiter(line: str) -> str | None:
    """The delimiter splitting ``line`` into the most column names, or None if it is no header row."""
    best, best_count = None, 1
    for delimiter in _DELIMITERS:
        cells = [cell.strip() for cell in _cells(line.lstrip("\ufeff"), delimiter)]
        if (
            len(cells) > best_count
            and len(set(cells)) == len(cells)
            and all(_HEADER_CELL.fullmatch(cell) for cell in cells)
        ):
            best, best_count = delimiter, len(cells)
    return best


class CsvParser(Parser):
    name = "csv"
    description = "CSV tables with a header row (comma, semicolon or tab), ECS fields mapped with a field map"

    def __init__(self, options: ParseOptions) -> None:
        super().__init__(options)
        self.mapper = FieldMapper(options.field_map)

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        lines = [line for line in sample.text.splitlines()[:2] if line.strip()]
        if len(lines) == 1 and len(sample.head) >= HEAD_BYTES:  # a header row longer than the sample
            cut = max(lines[0].rfind(delimiter) for delimiter in _DELIMITERS)
            return 30 if cut > 0 and header_delimiter(lines[0][:cut]) else 0
        if len(lines) < 2:
            return 0
        delimiter = header_delimiter(lines[0])
        if delimiter is None:
            return 0
        return 30 if len(_cells(lines[1], delimiter)) == len(_cells(lines[0], delimiter)) else 0

    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]:
        with source.open() as stream:
            lines = _Lines(decode_lines(stream, stats, self.options.max_record_bytes))
            first = next(lines, None)
            if first is None:
                return
            delimiter = header_delimiter(first)
            if delimiter is None:
                stats.skip("CSV without a header row")
                return
            header = [cell.strip() for cell in _cells(first.lstrip("\ufeff"), delimiter)]
            lines.take()
            reader = csv.reader(lines, delimiter=delimiter)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error:
                    row = None
                raw = lines.take()
                stats.records += 1
                if row is None:
                    stats.skip("malformed CSV row")
                    continue
                if len(row) != len(header):
                    stats.skip("CSV row whose field count differs from the header")
                    continue
                record = dict(zip(header, row, strict=True))
                yield self.mapper(record).event(record, raw, source.name, str(lines.number), self.name, stats)


class _Lines:
    """Text lines fed to the csv module, remembering the number and text of the current row's lines."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self.number = 0
        self._pending: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        self.number, text = next(self._lines)
        self._pending.append(text)
        return text + "\n"  # keeps the line breaks of quoted multi-line fields

    def take(self) -> str:
        """The text of the lines read since the last call."""
        raw = "\n".join(self._pending)
        self._pending.clear()
        return raw
