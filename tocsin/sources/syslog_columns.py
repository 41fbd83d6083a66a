"""Syslog lines a batch at a time: headers split a column at a time, events made only where needed.

RE2 over an Arrow column of lines splits every RFC 3164 header and program tag (the
``_FAST_HEADER`` pattern is ``syslog._RFC3164`` followed by ``syslog._TAG``); timestamps are
computed once per distinct stamp; a program's classifier runs only on lines that can mean
something to it (its own lines, and PAM's authentication and session messages for any other
program). The engine reads the header columns directly; an ``Event`` is made, by the same code
as ``SyslogParser.parse``, only for a row that raised something or whose document is asked for.

Lines the fast pattern cannot take exactly as Python's ``re`` would take them (anything but
printable ASCII and tabs, other header shapes, "message repeated N times") go through
``SyslogLines.events`` one by one, in their place, so a batch gives the same events in the same
order as ``parse``. A pinned ``--year`` advances line by line, so those inputs are read by ``parse``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc

from tocsin.batch import EVENT_LIST_ROWS, TEXT_TYPES, EventBatch, EventList
from tocsin.model.event import Event, LogSource, record_id, sql_value
from tocsin.sources.base import InputSource, InputStats
from tocsin.sources.inputs import decode_lines
from tocsin.sources.linux_auth import PROGRAMS
from tocsin.sources.syslog import (
    _FACILITIES,
    _SEVERITIES,
    SyslogLines,
    SyslogParser,
    line_fields,
    split_program,
)

#: ``syslog._RFC3164`` then ``syslog._TAG`` up to the message, anchored as ``re.match`` anchors them.
_FAST_HEADER = (
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<stamp>[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d)(?:\.\d+)? (?P<host>\S+) "
    r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?"
)
#: The same header without its groups: removing it leaves the message. RE2 finds a match without
#: groups in one DFA pass, far faster than it extracts groups, so the message is not a group.
_HEADER_MATCH = re.sub(r"\(\?P<\w+>", "(?:", _FAST_HEADER)
#: Lines on which RE2's ``\d``, ``\s`` and ``.`` mean what Python's mean: printable ASCII and tabs.
_PLAIN_TEXT = r"^[\x20-\x7e\t]*$"
#: What PAM says that ``linux_auth._pam`` understands: other programs' lines without it classify as {}.
_PAM_MESSAGES = r"authentication failure; logname=|session (?:opened|closed) for user "
#: Header fields, which win over what a classifier found (``syslog.line_fields``).
_HEADER = (
    "host.name",
    "process.name",
    "process.pid",
    "message",
    "log.syslog.facility.name",
    "log.syslog.severity.name",
)
#: The event's ``original`` keys, resolved case-insensitively like ``lookup_path`` would.
_ORIGINAL = {"hostname": 0, "program": 1, "pid": 2, "message": 3}
#: Fields a split line derives when its classified fields lack them (see ``SyslogRows.values``).
_DERIVED = frozenset({"event.provider", "source.address"})


def syslog_batches(
    parser: SyslogParser, source: InputSource, stats: InputStats, size: int
) -> Iterator[EventBatch]:
    """The input's events in batches of at most ``size`` lines (see module doc)."""
    if parser.options.year is not None:
        events = parser.parse(source, stats)
        while chunk := list(islice(events, min(size, EVENT_LIST_ROWS))):
            yield EventList(chunk)
        return
    lines = SyslogLines(parser.options, source)
    with source.open() as stream:
        decoded = decode_lines(stream, stats, parser.options.max_record_bytes, source.first_line)
        while numbered := list(islice(decoded, size)):
            stats.records += len(numbered)
            yield _batch(lines, numbered, stats)


def _batch(lines: SyslogLines, chunk: list[tuple[int, str]], stats: InputStats) -> SyslogRows:
    texts = pa.array([text for _, text in chunk], pa.string())
    plain = pc.match_substring_regex(texts, _PLAIN_TEXT)
    parts = _split_headers(pc.if_else(plain, texts, pa.scalar(None, pa.string())))
    messages = pc.struct_field(parts, "msg")
    repeats = pc.fill_null(pc.match_substring(messages, "message repeated "), True)
    fast = pc.and_(pc.is_valid(parts), pc.invert(repeats)).to_pylist()
    epochs = _epochs(lines, pc.struct_field(parts, "stamp")).to_pylist()
    programs = pc.struct_field(parts, "prog").dictionary_encode()
    known = [_Program(lines, program) for program in programs.dictionary.to_pylist()]
    program_of = programs.indices.to_pylist()
    own = pc.take(pa.array([program.own for program in known], pa.bool_()), programs.indices)
    pam = pc.match_substring_regex(messages, _PAM_MESSAGES)
    classify = pc.fill_null(pc.or_(own, pam), False).to_pylist()
    message_list = messages.to_pylist()
    rows = SyslogRows(lines.name, chunk, parts)
    add_row, add_logsource = rows._rows.append, rows._logsources.append
    added = 0
    for position, is_fast in enumerate(fast):
        if not is_fast:
            number, text = chunk[position]
            rows.add_events(list(lines.events(number, text, stats)))
            continue
        timestamp = epochs[position]
        if timestamp is None:
            stats.skip("invalid timestamp")
            continue
        program = known[program_of[position]]
        if classify[position]:
            classified = program.classifier(message_list[position], program.pam_style)
            category = classified.get("event.category")
            add_logsource(program.authentication if category == "authentication" else program.plain)
        else:
            classified = None
            add_logsource(program.plain)
        add_row((position, timestamp, classified, program.base))
        added += 1
    stats.events += added
    return rows


def _split_headers(texts: pa.Array) -> pa.StructArray:
    """Each line's header groups and ``msg``, the rest of the line; null where no header starts it."""
    header = pc.extract_regex(texts, _FAST_HEADER)
    split = pc.is_valid(header)
    messages = pc.if_else(
        split, pc.replace_substring_regex(texts, _HEADER_MATCH, ""), pa.scalar(None, pa.string())
    )
    names = [header.type.field(index).name for index in range(header.type.num_fields)]
    return pa.StructArray.from_arrays([*header.flatten(), messages], [*names, "msg"], mask=pc.invert(split))


def _epochs(lines: SyslogLines, stamps: pa.Array) -> pa.Array:
    """Epoch seconds of RFC 3164 stamps (``Jan  5 10:00:00``): each day's start once, plus the clock."""
    days = pc.utf8_slice_codeunits(stamps, 0, -9).dictionary_encode()
    starts = pa.array([lines.day_start(day) for day in days.dictionary.to_pylist()], pa.float64())
    clock = pc.utf8_slice_codeunits(stamps, -8)

    def number(start: int) -> pa.Array:
        return pc.cast(pc.utf8_slice_codeunits(clock, start, start + 2), pa.int64())

    seconds = pc.add(pc.add(pc.multiply(number(0), 3600), pc.multiply(number(3), 60)), number(6))
    return pc.add(pc.take(starts, days.indices), pc.cast(seconds, pa.float64()))


class _Program:
    """What a batch needs of one program tag: its base name, classifier and log sources."""

    __slots__ = ("authentication", "base", "classifier", "own", "pam_style", "plain")

    def __init__(self, lines: SyslogLines, program: str) -> None:
        self.base, self.pam_style = split_program(program)
        self.classifier, self.plain, self.authentication = lines.program(self.base, self.pam_style)
        #: The program has a classifier of its own (else only PAM messages mean something).
        self.own = self.base in PROGRAMS


#: A line split a column at a time: (line position, timestamp, classified fields or None, program base).
_SplitLine = tuple[int, float, dict[str, Any] | None, str]


class SyslogRows(EventBatch):
    """The rows of one chunk of lines: header columns and classified fields for the lines split a
    column at a time, whole events for the others (see module doc)."""

    holds_lists = False  # header and message fields: text and numbers

    def __init__(self, name: str, chunk: list[tuple[int, str]], parts: pa.StructArray) -> None:
        self._name, self._chunk = name, chunk
        self._parts = parts
        self._columns: dict[str, list[Any]] = {}
        #: Per row: a split line or a whole event.
        self._rows: list[_SplitLine | Event] = []
        self._logsources: list[LogSource] = []
        self._whole_events = False
        self._cache: dict[int, Event] = {}

    def add_events(self, events: list[Event]) -> None:
        for event in events:
            self._rows.append(event)
            self._logsources.append(event.logsource)
        self._whole_events = self._whole_events or bool(events)

    def __len__(self) -> int:
        return len(self._rows)

    def logsource_groups(self) -> dict[LogSource, list[int]]:
        return EventList.group_by_logsource(self._logsources)

    def _part(self, name: str) -> list[Any]:
        column = self._columns.get(name)
        if column is None:
            column = pc.struct_field(self._parts, name).to_pylist()
            if name in ("pid", "pri"):  # RE2 gives "" for a group that took no part; Python None
                column = [value or None for value in column]
            self._columns[name] = column
        return column

    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        entries = self._rows
        header = self._header(name)
        if header is not None:
            return [
                EventList.field_value(entry, name) if isinstance(entry, Event) else header[entry[0]]
                for entry in map(entries.__getitem__, rows)
            ]
        original = _ORIGINAL.get(name.lower()) if "." not in name else None
        if original is None and not self._whole_events and name not in _DERIVED:
            # every row a split line, and the field only among its classified fields: no branch per row
            lines = cast(list[_SplitLine], self._rows)
            got = [line[2].get(name) if line[2] else None for line in map(lines.__getitem__, rows)]
            if set(map(type, got)) <= TEXT_TYPES:
                return got
            return [value if value is None or type(value) is str else sql_value(value) for value in got]
        out: list[Any] = []
        for row in rows:
            entry = entries[row]
            if isinstance(entry, Event):
                out.append(EventList.field_value(entry, name))
                continue
            position, _, classified, base = entry
            value = classified.get(name) if classified else None
            if value is None:
                if name == "event.provider":
                    value = base or None
                elif name == "source.address" and classified:
                    value = classified.get("source.ip") or classified.get("source.domain")
                elif original is not None:
                    value = self._original(position, original)
            out.append(value if value is None or type(value) is str else sql_value(value))
        return out

    def _header(self, name: str) -> list[Any] | None:
        """A header field for every line of the chunk, as the engine compares it; None for other fields."""
        if name not in _HEADER:
            return None
        column = self._columns.get(name)
        if column is None:
            column = self._columns[name] = _header_column(self, name)
        return column

    def _original(self, position: int, key: int) -> Any:
        if key == 0:
            return self._part("host")[position]
        if key == 1:
            return self._part("prog")[position]
        if key == 2:
            return self._part("pid")[position]
        return self._part("msg")[position]

    def raw(self, rows: Sequence[int]) -> list[str]:
        out = []
        for row in rows:
            entry = self._rows[row]
            out.append(entry.raw if isinstance(entry, Event) else self._chunk[entry[0]][1])
        return out

    def identities(self, rows: Sequence[int]) -> list[tuple[str, float | None]]:
        out: list[tuple[str, float | None]] = []
        for row in rows:
            entry = self._rows[row]
            if isinstance(entry, Event):
                out.append((entry.id, entry.timestamp))
                continue
            position, timestamp = entry[0], entry[1]
            number, text = self._chunk[position]
            out.append((record_id((self._name, str(number)), text), timestamp))  # as ``event`` names it
        return out

    def event(self, row: int) -> Event:
        entry = self._rows[row]
        if isinstance(entry, Event):
            return entry
        event = self._cache.get(row)
        if event is None:
            position, timestamp, classified, base = entry
            host, program = self._part("host")[position], self._part("prog")[position]
            pid, message = self._part("pid")[position], self._part("msg")[position]
            fields = line_fields(
                dict(classified or {}), host, program, base, pid, message, self._part("pri")[position]
            )
            number, text = self._chunk[position]
            event = self._cache[row] = Event(
                timestamp=timestamp,
                fields=fields,
                original={"hostname": host, "program": program, "pid": pid, "message": message},
                raw=text,
                logsource=self._logsources[row],
                input=self._name,
                offset=str(number),
                format="syslog",
            )
        return event


def _header_column(rows: SyslogRows, name: str) -> list[Any]:
    """A header field of every line position (``syslog.line_fields`` gives the same values)."""
    if name == "host.name":
        return rows._part("host")
    if name == "message":
        return rows._part("msg")
    if name == "process.name":
        return [split_program(program)[0] if program else None for program in rows._part("prog")]
    if name == "process.pid":
        return [str(int(pid)) if pid else None for pid in rows._part("pid")]
    names, facility = (_FACILITIES, True) if name == "log.syslog.facility.name" else (_SEVERITIES, False)
    out: list[Any] = []
    for pri in rows._part("pri"):
        number = int(pri) if pri else 192
        out.append(None if number >= 192 else names[number >> 3] if facility else names[number & 7])
    return out
