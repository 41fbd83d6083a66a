"""Syslog lines a batch at a time: split and classified into columns, events made only where needed.

The native reader (``sources.native``, ``native/src/syslog.rs``) splits each RFC 3164 line's header
and classifies sshd's, sudo's and PAM's messages into columns, as ``SyslogParser.parse`` does
(``linux_auth``'s regular expressions are given to it; the tests compare the two). Timestamps are
computed once per distinct stamp. The engine reads the columns directly; an ``Event`` is made, by
the same code as ``parse``, only for a row that raised something or whose document is asked for.

Lines the reader does not take (anything but printable ASCII and tabs, other header shapes,
"message repeated N times", programs whose classifiers it lacks) go through ``SyslogLines.events``
one by one, in their place, so a batch gives the same events in the same order as ``parse``. A
pinned ``--year`` advances line by line, so those inputs are read by ``parse``, and so is every
input where the native reader is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from itertools import islice
from typing import Any, cast, overload

import pyarrow as pa
import pyarrow.compute as pc

from tocsin.batch import EVENT_LIST_ROWS, EventBatch, EventList, TextColumns
from tocsin.model.event import Event, LogSource, record_id
from tocsin.sources import linux_auth
from tocsin.sources.base import InputSource, InputStats
from tocsin.sources.inputs import line_blocks, numbered_lines
from tocsin.sources.native import NATIVE, text_array
from tocsin.sources.syslog import (
    _FACILITIES,
    _SEVERITIES,
    SyslogLines,
    SyslogParser,
    line_fields,
    split_program,
)

#: What the native reader made of a line (``native/src/syslog.rs``) when it did not read it (1):
#: left it to ``SyslogLines.events``, found no record (blank), skipped it (longer than the bound).
_OTHER, _BLANK, _TOO_LONG = 0, 2, 3
#: The header columns the native reader gives, in its order.
_PARTS = ("pri", "stamp", "host", "prog", "pid", "msg")
#: The event's ``original`` keys, resolved case-insensitively like ``lookup_path`` would.
_ORIGINAL = {"hostname": "host", "program": "prog", "pid": "pid", "message": "msg"}


def syslog_batches(
    parser: SyslogParser, source: InputSource, stats: InputStats, size: int
) -> Iterator[EventBatch]:
    """The input's events in batches of at most ``size`` lines (see module doc)."""
    reader = _reader()
    if parser.options.year is not None or reader is None:
        events = parser.parse(source, stats)
        while chunk := list(islice(events, min(size, EVENT_LIST_ROWS))):
            yield EventList(chunk)
        return
    lines = SyslogLines(parser.options, source)
    max_bytes = parser.options.max_record_bytes
    with source.open() as stream:
        for first, run in _runs(line_blocks(stream, stats, max_bytes, source.first_line), size):
            if isinstance(run, list):
                yield _batch(reader, lines, _Lines(first, run), stats, max_bytes)
                continue
            numbered = numbered_lines(first, run, stats, max_bytes)  # line by line, as parse reads them
            while part := list(islice(numbered, EVENT_LIST_ROWS)):
                stats.records += len(part)
                yield EventList(
                    [event for number, text in part for event in lines.events(number, text, stats)]
                )


def _runs(blocks: Iterator[tuple[int, bytes]], size: int) -> Iterator[tuple[int, list[str] | bytes]]:
    """Runs of at most ``size`` consecutive lines as text (``_texts``), with the number of the first;
    a block ``_texts`` cannot split is given as it is."""
    first, texts = 0, list[str]()
    for number, block in blocks:
        decoded = _texts(block)
        if texts and (decoded is None or first + len(texts) != number):  # a line dropped between
            yield first, texts
            texts = []
        if decoded is None:
            yield number, block
            continue
        if not texts:
            first = number
        texts += decoded
        while len(texts) >= size:
            yield first, texts[:size]
            first, texts = first + size, texts[size:]
    if texts:
        yield first, texts


def _texts(block: bytes) -> list[str] | None:
    """A block's lines as text, line ends but the newline left (see ``_Lines``); None for a block
    holding NUL bytes or anything but UTF-8, which ``inputs.numbered_lines`` reads line by line."""
    if b"\x00" in block:
        return None
    try:
        texts = block.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    if texts[-1] == "":  # the block ends with a newline, as every block but an input's last does
        texts.pop()
    return texts


class _Lines(Sequence[tuple[int, str]]):
    """Consecutive lines of a block, from line number ``first``: each line's number and text, the
    text as ``inputs.numbered_lines`` gives it (without its line end)."""

    def __init__(self, first: int, texts: list[str]) -> None:
        self.first, self.texts = first, texts

    def __len__(self) -> int:
        return len(self.texts)

    @overload
    def __getitem__(self, position: int) -> tuple[int, str]: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[tuple[int, str]]: ...
    def __getitem__(self, position: int | slice) -> tuple[int, str] | Sequence[tuple[int, str]]:
        if isinstance(position, slice):
            return [self[index] for index in range(*position.indices(len(self)))]
        return self.first + position, self.texts[position].rstrip("\r\n")


@cache
def _reader() -> Any:
    """The native reader, given ``linux_auth``'s patterns and which classifier each program has;
    None when the extension is not installed."""
    if NATIVE is None:
        return None
    patterns = {
        "pam_failure": linux_auth._PAM_FAILURE.pattern,
        "pam_session": linux_auth._PAM_SESSION.pattern,
        "sudo": linux_auth._SUDO_COMMAND.pattern,
        "address": linux_auth._ADDRESS.pattern,
    }
    sshd = [(list(words), pattern.pattern, action) for words, pattern, action in linux_auth._SSHD]
    return NATIVE.SyslogReader(
        patterns, sshd, {name: _kind(classifier) for name, (classifier, _) in linux_auth.PROGRAMS.items()}
    )


def _kind(classifier: linux_auth.Classifier) -> str:
    """How the native reader classifies a program's lines: as sshd, sudo, PAM only, or not at all."""
    if classifier is linux_auth.classify_sshd:
        return "sshd"
    if classifier is linux_auth.classify_sudo:
        return "sudo"
    if isinstance(classifier, linux_auth.PamOnly):
        return f"pam:{classifier.program}"
    return "caller"


def _batch(reader: Any, lines: SyslogLines, chunk: _Lines, stats: InputStats, max_bytes: int) -> SyslogRows:
    states, header, names, fields, shapes, shape_of = reader.read(chunk.texts, max_bytes)
    count = len(chunk)
    parts = dict(zip(_PARTS, (text_array(column, count) for column in header), strict=True))
    epochs = _epochs(lines, parts["stamp"])  # null where not taken, or no such day
    programs = parts["prog"].dictionary_encode()
    classified = {name: column for name, column in zip(names, fields, strict=True) if column.nulls < count}
    # each line's log source: its program's, for plain lines or authentication ones
    sources = [
        source
        for program in programs.dictionary.to_pylist()
        for source in lines.program(*split_program(program))[1:]
    ]
    category = classified.get("event.category")
    authentication = (
        pc.fill_null(pc.equal(text_array(category, count), "authentication"), False)
        if category
        else pa.repeat(False, count)
    )
    source_of = pc.add(pc.multiply(programs.indices, 2), pc.cast(authentication, pa.int32())).to_pylist()
    timestamps = epochs.to_pylist()
    rows = SyslogRows(
        lines.name,
        chunk,
        parts,
        timestamps,
        classified,
        [tuple(names[field] for field in shape) for shape in shapes],
        memoryview(shape_of).cast("H"),
        programs,
    )
    if epochs.null_count == 0:  # the usual batch: every line taken, with a timestamp
        rows._rows, rows._positions_are_rows = list(range(count)), True
        rows._logsources = list(map(sources.__getitem__, source_of))
        stats.records += count
        stats.events += count
        return rows
    add_row, add_logsource = rows._rows.append, rows._logsources.append
    added = 0
    for position, (state, timestamp, source) in enumerate(zip(states, timestamps, source_of, strict=True)):
        if state == _BLANK:
            continue
        if state == _TOO_LONG:
            stats.skip(f"record longer than {max_bytes} bytes")
            continue
        stats.records += 1
        if state == _OTHER:
            number, text = chunk[position]
            rows.add_events(list(lines.events(number, text, stats)))
            continue
        if timestamp is None:
            stats.skip("invalid timestamp")
            continue
        add_logsource(sources[source])
        add_row(position)
        added += 1
    stats.events += added
    return rows


def _epochs(lines: SyslogLines, stamps: pa.Array) -> pa.Array:
    """Epoch seconds of RFC 3164 stamps (``Jan  5 10:00:00``): each day's start once, plus the clock."""
    days = pc.utf8_slice_codeunits(stamps, 0, -9).dictionary_encode()
    starts = pa.array([lines.day_start(day) for day in days.dictionary.to_pylist()], pa.float64())
    clock = pc.utf8_slice_codeunits(stamps, -8)

    def number(start: int) -> pa.Array:
        return pc.cast(pc.utf8_slice_codeunits(clock, start, start + 2), pa.int64())

    seconds = pc.add(pc.add(pc.multiply(number(0), 3600), pc.multiply(number(3), 60)), number(6))
    return pc.add(pc.take(starts, days.indices), pc.cast(seconds, pa.float64()))


class SyslogRows(EventBatch):
    """The rows of one chunk of lines: header and classified columns for the lines the native
    reader took, whole events for the others (see module doc)."""

    holds_lists = False  # header and message fields: text and numbers

    def __init__(
        self,
        name: str,
        chunk: Sequence[tuple[int, str]],
        parts: dict[str, pa.Array],
        timestamps: list[float | None],
        classified: dict[str, Any],
        shapes: list[tuple[str, ...]],
        shape_of: Sequence[int],
        programs: pa.DictionaryArray,
    ) -> None:
        self._name, self._chunk = name, chunk
        self._parts, self._timestamps = parts, timestamps
        #: The program tags, dictionary-encoded.
        self._programs = programs
        #: The reader's columns of classified fields (those some line holds), and each line's
        #: fields in the order its classifier set them.
        self._classified = classified
        self._shapes, self._shape_of = shapes, shape_of
        #: Fields derived so far, for every line position (see ``_column``).
        self._arrays: dict[str, tuple[pa.Array, bool]] = {}
        #: Per row: the position of a line the reader took, or a whole event.
        self._rows: list[int | Event] = []
        self._logsources: list[LogSource] = []
        self._whole_events = False
        #: Row n is the line at position n (every line taken, with a timestamp).
        self._positions_are_rows = False
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

    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        entries = self._rows
        lines = rows if not self._whole_events else [row for row in rows if type(entries[row]) is int]
        texts, integers = self._column(name)
        values = texts.take(self._positions(lines)).to_pylist()
        if integers:
            values = [None if value is None else int(value) for value in values]
        if not self._whole_events:
            return values
        split = iter(values)
        return [
            next(split) if type(entry) is int else EventList.field_value(entry, name)  # type: ignore[arg-type]
            for entry in map(entries.__getitem__, rows)
        ]

    def text_columns(self, names: Sequence[str], rows: Sequence[int]) -> TextColumns:
        if self._whole_events:
            return super().text_columns(names, rows)
        at = self._positions(rows)
        return TextColumns([self._column(name)[0].take(at) for name in names])

    def _positions(self, rows: Sequence[int]) -> pa.Array:
        """The line positions of rows that are split lines."""
        entries = self._rows
        return pa.array(rows if self._positions_are_rows else [entries[row] for row in rows], pa.int64())

    def _column(self, name: str) -> tuple[pa.Array, bool]:
        """Field ``name`` of every line position as text (``texts``: a header field as
        ``syslog.line_fields`` sets it, else what the classifier found, else a derived default), and
        whether its values are integers (which ``values`` keeps as numbers)."""
        known = self._arrays.get(name)
        if known is None:
            known = self._arrays[name] = self._derive(name)
        return known

    def _derive(self, name: str) -> tuple[pa.Array, bool]:
        parts = self._parts
        original = _ORIGINAL.get(name.lower()) if "." not in name else None
        if original is not None:
            return parts[original], False
        if name in ("host.name", "message"):
            return parts["host" if name == "host.name" else "msg"], False
        if name == "process.name":
            return self._by_program(
                [split_program(program)[0] for program in self._programs.dictionary.to_pylist()]
            ), False
        if name == "process.pid":
            return _integer_texts(parts["pid"]), False
        if name in ("log.syslog.facility.name", "log.syslog.severity.name"):
            priorities = parts["pri"].dictionary_encode()
            names = [_priority_name(name, pri) for pri in priorities.dictionary.to_pylist()]
            return pa.array(names, pa.large_string()).take(priorities.indices), False
        read = self._classified.get(name)
        if read is not None and read.ints:
            return _integer_texts(text_array(read, len(self._chunk))), True
        column = text_array(read, len(self._chunk)) if read is not None else None
        if name == "event.provider":
            bases = self._by_program(
                [split_program(program)[0] or None for program in self._programs.dictionary.to_pylist()]
            )
            return (bases if column is None else pc.coalesce(column, bases)), False
        if name == "source.address":
            sources = [self._column(other)[0] for other in ("source.ip", "source.domain")]
            return pc.coalesce(*([] if column is None else [column]), *map(_not_empty, sources)), False
        if column is None:
            return pa.nulls(len(self._chunk), pa.large_string()), False
        return column, False

    def _by_program(self, values: list[str | None]) -> pa.Array:
        """A value per distinct program tag, for every line position."""
        return pa.array(values, pa.large_string()).take(self._programs.indices)

    def raw(self, rows: Sequence[int]) -> list[str]:
        chunk = self._chunk
        return [
            chunk[entry][1] if type(entry) is int else entry.raw  # type: ignore[union-attr]
            for entry in map(self._rows.__getitem__, rows)
        ]

    def identities(self, rows: Sequence[int]) -> list[tuple[str, float | None]]:
        out: list[tuple[str, float | None]] = []
        for row in rows:
            entry = self._rows[row]
            if isinstance(entry, Event):
                out.append((entry.id, entry.timestamp))
                continue
            number, text = self._chunk[entry]
            identity = record_id((self._name, str(number)), text)  # as ``event`` names it
            out.append((identity, self._timestamps[entry]))
        return out

    def event(self, row: int) -> Event:
        entry = self._rows[row]
        if isinstance(entry, Event):
            return entry
        event = self._cache.get(row)
        if event is None:
            self.events_at([row])
            event = self._cache[row]
        return event

    def events_at(self, rows: Sequence[int]) -> list[Event]:
        """Rows ``rows`` as whole events: the columns' values at their lines taken together."""
        entries, cache = self._rows, self._cache
        wanted = sorted({row for row in rows if row not in cache and type(entries[row]) is int})
        if wanted:
            positions = cast(list[int], [entries[row] for row in wanted])
            at = pa.array(positions, pa.int64())
            parts = {name: self._parts[name].take(at).to_pylist() for name in _PARTS}
            bases = self._column("process.name")[0].take(at).to_pylist()
            shapes = [self._shapes[self._shape_of[position]] for position in positions]
            fields = {
                name: _typed(
                    self._classified[name], text_array(self._classified[name], len(self._chunk)).take(at)
                )
                for name in set().union(*shapes)
            }
            for index, (row, position, shape) in enumerate(zip(wanted, positions, shapes, strict=True)):
                host, program, pid, message = (parts[name][index] for name in ("host", "prog", "pid", "msg"))
                classified = {name: fields[name][index] for name in shape}
                fields_of_line = line_fields(
                    classified, host, program, bases[index], pid, message, parts["pri"][index]
                )
                number, text = self._chunk[position]
                cache[row] = Event(
                    timestamp=self._timestamps[position],
                    fields=fields_of_line,
                    original={"hostname": host, "program": program, "pid": pid, "message": message},
                    raw=text,
                    logsource=self._logsources[row],
                    input=self._name,
                    offset=str(number),
                    format="syslog",
                )
        return [
            entry if isinstance(entry, Event) else cache[row]
            for row, entry in zip(rows, map(entries.__getitem__, rows), strict=True)
        ]


def _typed(read: Any, texts: pa.Array) -> list[Any]:
    """A classified column's values as the classifier gives them: text, integers, or flags (true)."""
    values = texts.to_pylist()
    if read.ints:
        return [None if value is None else int(value) for value in values]
    if read.typed:
        return [None if value is None else True for value in values]
    return values


def _integer_texts(texts: pa.Array) -> pa.Array:
    """Decimal digits as Python writes the integer they spell (no leading zeros)."""
    try:
        return pc.cast(pc.cast(texts, pa.int64()), pa.large_string())
    except pa.ArrowInvalid:  # beyond 64 bits
        return pa.array(
            [None if text is None else str(int(text)) for text in texts.to_pylist()], pa.large_string()
        )


def _not_empty(texts: pa.Array) -> pa.Array:
    """The texts, an empty one as null."""
    return pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.large_string()), texts)


def _priority_name(name: str, pri: str | None) -> str | None:
    """The facility (or severity) name of a syslog priority, as ``syslog.line_fields`` gives it."""
    number = int(pri) if pri else 192
    if number >= 192:
        return None
    return _FACILITIES[number >> 3] if name == "log.syslog.facility.name" else _SEVERITIES[number & 7]
