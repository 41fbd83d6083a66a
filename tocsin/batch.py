"""Batches of events as the engine reads them: columns on demand, whole events only where needed.

A parser that decodes records one at a time (captures, EVTX, the vendor formats) hands in
``Event`` objects (``EventList``). The high-volume line formats hand in their records as
they were decoded (``JsonRecords``): the engine asks a batch for the few columns its rules
read, and only rows that matched something (or a consumer that needs every document, such
as ``--db`` or shipping to a cluster) are turned into ``Event`` objects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import repeat
from operator import is_
from typing import Any, ClassVar

import pyarrow as pa

from tocsin.model.event import Event, ListText, LogSource, lookup_path, sql_text, sql_value

#: Rows of a batch of whole events (``EventList``) at most, whatever the batch size asked for: an event
#: decoded with its original record weighs about ten times a row of a column batch.
EVENT_LIST_ROWS = 5000


class EventBatch(ABC):
    """A batch of events (see module doc). Row numbers are positions in reading order."""

    #: False for batches whose fields are never lists (the line formats): no column is looked at for one.
    holds_lists: ClassVar[bool] = True

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def logsource_groups(self) -> dict[LogSource, list[int]]:
        """The rows of each logsource, in reading order."""

    @abstractmethod
    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        """Field ``name`` of ``rows`` as the engine compares it (``sql_value``), None where absent."""

    @abstractmethod
    def raw(self, rows: Sequence[int]) -> list[str]:
        """The records as read, for keyword search."""

    @abstractmethod
    def event(self, row: int) -> Event:
        """Row ``row`` as a whole event."""

    def identities(self, rows: Sequence[int]) -> list[tuple[str, float | None]]:
        """Each row's event id and timestamp, what correlation candidates keep of an event."""
        return [(event.id, event.timestamp) for event in map(self.event, rows)]

    def events_at(self, rows: Sequence[int]) -> list[Event]:
        """Rows ``rows`` as whole events (a column batch makes them together, faster than one by one)."""
        return [self.event(row) for row in rows]

    @property
    def events(self) -> list[Event]:
        """Every row as a whole event (costly for record batches: use only where documents are needed)."""
        return self.events_at(range(len(self)))

    def texts(self, name: str, rows: Sequence[int]) -> list[str | None]:
        """Field ``name`` as text, the form every engine column has."""
        return [
            value if value is None or isinstance(value, str) else str(value)
            for value in self.values(name, rows)
        ]

    def text_columns(self, names: Sequence[str], rows: Sequence[int]) -> TextColumns:
        """Fields ``names`` of ``rows`` as the engine reads them (``TextColumns``)."""
        columns = TextColumns()
        for name in names:
            self._add_text_column(columns, name, rows)
        return columns

    def _add_text_column(self, columns: TextColumns, name: str, rows: Sequence[int]) -> None:
        texts = self.texts(name, rows)
        columns.texts.append(pa.array(texts, pa.string()))
        if self.holds_lists and ListText in set(map(type, texts)):
            columns.elements[name] = pa.array(
                [
                    text.elements if type(text) is ListText else None if text is None else [text]
                    for text in texts
                ],
                pa.list_(pa.string()),
            )


@dataclass
class TextColumns:
    """Fields of a batch's rows as the engine reads them: each as text (``EventBatch.texts``), in the
    order asked; and by name, the fields some row holds several values of (a ``ListText``), each row's
    values as a list (one value a list of it, no value NULL), which a rule's value matches when it
    matches one of them."""

    texts: list[pa.Array] = field(default_factory=list)
    elements: dict[str, pa.Array] = field(default_factory=dict)


#: The types of a column that needs no conversion to be compared as text.
TEXT_TYPES = {str, type(None)}


class EventList(EventBatch):
    """Events decoded one at a time by a parser."""

    def __init__(self, events: list[Event]) -> None:
        self._events = events

    def __len__(self) -> int:
        return len(self._events)

    def logsource_groups(self) -> dict[LogSource, list[int]]:
        return self.group_by_logsource([event.logsource for event in self._events])

    @staticmethod
    def group_by_logsource(logsources: list[LogSource]) -> dict[LogSource, list[int]]:
        """Row positions by log source. Parsers share LogSource objects: grouping by identity first
        hashes each distinct one once (a frozen dataclass recomputes its hash on every call)."""
        if logsources and all(map(is_, logsources, repeat(logsources[0]))):  # the usual batch: one source
            return {logsources[0]: list(range(len(logsources)))}
        by_identity: dict[int, tuple[LogSource, list[int]]] = {}
        for row, logsource in enumerate(logsources):
            entry = by_identity.get(id(logsource))
            if entry is None:
                entry = by_identity[id(logsource)] = (logsource, [])
            entry[1].append(row)
        groups: dict[LogSource, list[int]] = defaultdict(list)
        for logsource, rows in by_identity.values():
            groups[logsource].extend(rows)
        if len(by_identity) > len(groups):  # equal log sources from different objects: reading order
            for rows in groups.values():
                rows.sort()
        return groups

    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        events = self._events
        return [self.field_value(events[row], name) for row in rows]

    @staticmethod
    def field_value(event: Event, name: str) -> Any:
        """An event's field as the engine compares it: ECS first, then the source's own fields."""
        value = event.fields.get(name)
        if value is None and event.original:
            value = event.get(name)
        return sql_value(value)

    def raw(self, rows: Sequence[int]) -> list[str]:
        return [self._events[row].raw for row in rows]

    def event(self, row: int) -> Event:
        return self._events[row]

    @property
    def events(self) -> list[Event]:
        return self._events


#: Field values derived for every event (``tocsin.model.event.complete_ecs``), with what they default to.
DERIVED: dict[str, tuple[str, ...]] = {
    "source.address": ("source.ip", "source.domain"),
    "event.provider": ("process.name", "network.protocol"),
}


def resolved(record: dict[str, Any], name: str) -> Any:
    """Field ``name`` of ``record`` as the record's event gives it (``Event.get``): an ECS field the
    record holds (neither empty nor an object), else its derived default (``complete_ecs``), else the
    record's own value, found by path."""
    if name in DERIVED or name == "user.target.name":
        own = _ecs_value(record, name)
        if own is not None:
            return own
        if name == "user.target.name":
            actor = _ecs_value(record, "user.name") if _ecs_value(record, "event.category") == "iam" else None
        else:
            first, second = DERIVED[name]
            actor = _ecs_value(record, first) or _ecs_value(record, second)
        if actor is not None:
            return actor
    value = record.get(name)
    return lookup_path(record, name) if value is None else value


def _ecs_value(record: dict[str, Any], name: str) -> Any:
    """The ECS field ``name`` as an event holds it: the record's value, but not an empty text (which
    ``compact`` drops) nor an object."""
    value = record.get(name)
    if value is None:
        value = lookup_path(record, name)
    return None if value is None or value == "" or isinstance(value, dict) else value


class JsonRecords(EventBatch):
    """JSON records of one input, decoded but not yet made into events.

    ``materialize(record, raw, offset, logsource)`` makes the event of a record exactly as the
    format's parser would, with the log source the batch routed it by; field values are read from
    the record the way the event would resolve them (its ECS fields are the record's own, looked up
    by path, case-insensitively).
    """

    def __init__(
        self,
        records: list[dict[str, Any]],
        raws: list[str],
        offsets: list[str] | list[int],
        logsources: list[LogSource],
        materialize: Callable[[dict[str, Any], str, str, LogSource], Event],
        keys: set[str] | None = None,
    ) -> None:
        """``offsets``, where each record was read (a line number, or a text); ``keys``, every key of
        ``records`` when the caller has them at hand."""
        self._records, self._raws, self._offsets, self._logsources = records, raws, offsets, logsources
        self._materialize = materialize
        self._cache: dict[int, Event] = {}
        self._keys = keys
        self._spellings: dict[str, set[str]] | None = None

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every row's record."""
        return self._records

    def _record(self, row: int) -> dict[str, Any]:
        """One row's record (to make its event)."""
        return self._records[row]

    def _plain(self, name: str) -> bool:
        """True when every record holds ``name`` only as a flat key of that exact spelling (or not at
        all), so a plain ``get`` resolves it as ``lookup_path`` would, without derived defaults."""
        return name not in DERIVED and name != "user.target.name" and self._spelled_plainly(name)

    def _spelled_plainly(self, name: str) -> bool:
        """True when no record holds ``name`` in another spelling, or may in a nested object."""
        if self._spellings is None:
            self._spellings = defaultdict(set)
            for key in self._keys if self._keys is not None else set().union(*self.records):
                self._spellings[key.lower()].add(key)
        lowered = name.lower()
        head, dot, _ = lowered.partition(".")
        if dot and head in self._spellings:  # a nested object may hold it
            return False
        return self._spellings.get(lowered, {name}) <= {name}

    def __len__(self) -> int:
        return len(self._raws)

    def logsource_groups(self) -> dict[LogSource, list[int]]:
        return EventList.group_by_logsource(self._logsources)

    def _plain_values(self, name: str, rows: Sequence[int]) -> list[Any]:
        """Field ``name`` of ``rows`` as the records hold it (only for ``_plain`` names)."""
        records = self.records
        if len(rows) != len(records):  # every row is the usual single-logsource batch
            records = list(map(records.__getitem__, rows))
        return list(map(dict.get, records, repeat(name)))

    def text_columns(self, names: Sequence[str], rows: Sequence[int]) -> TextColumns:
        """The plain names in one conversion of the records, when every value they hold is text (no
        Python code per value); the others, and every name of a batch holding other values, by ``texts``."""
        plain = [name for name in names if self._plain(name)]
        converted: dict[str, pa.Array] = {}
        if plain:
            records = self.records
            if len(rows) != len(records):
                records = list(map(records.__getitem__, rows))
            with suppress(pa.ArrowInvalid, pa.ArrowTypeError):  # a value that is not text: per name below
                struct = pa.array(records, pa.struct([(name, pa.string()) for name in plain]))
                if isinstance(struct, pa.StructArray):  # not chunked: beyond 2 GiB of text, per name too
                    converted = {name: struct.field(index) for index, name in enumerate(plain)}
        columns = TextColumns()
        for name in names:
            if name in converted:
                columns.texts.append(converted[name])
            else:
                self._add_text_column(columns, name, rows)
        return columns

    def texts(self, name: str, rows: Sequence[int]) -> list[str | None]:
        if not self._plain(name):
            return super().texts(name, rows)
        got = self._plain_values(name, rows)
        if set(map(type, got)) <= TEXT_TYPES:  # the usual column: text already, no Python per row
            return got
        return [value if value is None or type(value) is str else sql_text(value) for value in got]

    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        if self._plain(name):
            got = self._plain_values(name, rows)
            return [value if value is None or type(value) is str else sql_value(value) for value in got]
        return self._looked_up(name, rows)

    def _looked_up(self, name: str, rows: Sequence[int]) -> list[Any]:
        """``values`` of any name, record by record, as the record's event resolves it."""
        records = self.records
        return [sql_value(resolved(records[row], name)) for row in rows]

    def raw(self, rows: Sequence[int]) -> list[str]:
        return [self._raws[row] for row in rows]

    def event(self, row: int) -> Event:
        event = self._cache.get(row)
        if event is None:
            event = self._materialize(
                self._record(row), self._raws[row], str(self._offsets[row]), self._logsources[row]
            )
            self._cache[row] = event
        return event
