"""JSON Lines records read into columns by the native reader, one column per key, and served to the
engine from them.

The reader is the ``tocsin_native`` extension (``sources.native``). It takes a batch of lines only
when each is a flat JSON object (no value an object) it reads exactly as orjson would, with each key
once; every other batch, and every batch where the extension is not installed, is decoded by orjson
record by record (``jsonstream``), which counts what it skips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

from tocsin.batch import DERIVED, JsonRecords, TextColumns
from tocsin.model.event import Event, LogSource
from tocsin.sources.jsonstream import loads
from tocsin.sources.native import NATIVE, text_array

#: True when the native reader is installed.
AVAILABLE = NATIVE is not None


@dataclass(frozen=True)
class FlatColumn:
    """One key of a batch: each row's value as text (``sql_text``; null where the row holds null or
    lacks the key, or holds a value ``other`` stands for), and whether the row holds the key."""

    text: pa.Array
    present: pa.Array
    #: Some row holds a value no text column holds as ``sql_text`` would (a number with a fraction,
    #: a list of several values or of a list or object): the records are read for this key.
    other: bool
    #: Some row holds an integer, which ``sql_value`` keeps as a number.
    ints: bool
    #: Some row holds a value that is not a string (a number, a boolean, a list), which code reading
    #: the records' own values (log source inference) tells from its text.
    typed: bool
    #: Every row holds the same text (or every row none).
    uniform: bool

    def holders(self) -> int:
        """The rows holding the key, as the bits of a number (row 0 the lowest)."""
        return int.from_bytes(self.present.buffers()[1].to_pybytes(), "little")


def flat_columns(lines: list[str]) -> dict[str, FlatColumn] | None:
    """The columns of ``lines`` by key, or None when the reader is not installed or does not take
    them (see the module doc)."""
    if NATIVE is None:
        return None
    read = NATIVE.flat_columns(lines)
    if read is None:
        return None
    count = len(lines)
    names, columns = read
    return {
        name: FlatColumn(
            text_array(column, count),
            pa.Array.from_buffers(pa.bool_(), count, [None, pa.py_buffer(column.present)]),
            column.other,
            column.ints,
            column.typed,
            column.uniform,
        )
        for name, column in zip(names, columns, strict=True)
    }


class FlatJsonRows(JsonRecords):
    """JSON Lines records the native reader read into columns (``flat_columns``).

    The engine reads the columns as they are. A record is decoded (``decoded_records``) only for its
    event; every record, once, only for a field the columns cannot give as ``JsonRecords`` resolves
    it: one some record may hold in another spelling or in an object, or holds as a value no column
    holds (``FlatColumn.other``), or a number where ``values`` keeps numbers. ``records``, when the
    caller decoded them already.
    """

    def __init__(
        self,
        columns: dict[str, FlatColumn],
        raws: list[str],
        offsets: list[int],
        logsources: list[LogSource],
        materialize: Callable[[dict[str, Any], str, str, LogSource], Event],
        records: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__([], raws, offsets, logsources, materialize, set(columns))
        self._columns = columns
        self._decoded = records
        self._texts: dict[str, pa.Array | None] = {}

    @property
    def records(self) -> list[dict[str, Any]]:
        if self._decoded is None:
            self._decoded = decoded_records(self._raws)
        return self._decoded

    def _record(self, row: int) -> dict[str, Any]:
        return _decoded(self._raws[row]) if self._decoded is None else self._decoded[row]

    def _text(self, name: str) -> pa.Array | None:
        """Field ``name`` of every row as text, as ``JsonRecords.values`` resolves it, derived default
        included; None when the columns cannot give it (see the class doc)."""
        if name not in self._texts:
            self._texts[name] = self._derive(name)
        return self._texts[name]

    def _derive(self, name: str) -> pa.Array | None:
        if name == "user.target.name":
            names = [name, "event.category", "user.name"]
        else:
            names = [name, *DERIVED.get(name, ())]
        if not all(map(self._spelled_plainly, names)):
            return None
        columns = [self._columns.get(part) for part in names]
        if len(names) == 1:
            column = columns[0]
            if column is None:
                return pa.nulls(len(self), pa.large_string())
            return None if column.other else column.text
        if any(column is not None and column.typed for column in columns):
            return None  # a default taken by truthiness (``complete_ecs``): the records' own values
        import pyarrow.compute as pc  # for derived fields alone: a scan without them never imports it

        absent = pa.nulls(len(self), pa.large_string())
        texts = [absent if column is None else column.text for column in columns]
        # as ``resolved``: an ECS field holds no empty text, the record's own value comes last
        held = [pc.if_else(pc.equal(text, ""), absent, text) for text in texts]
        if name == "user.target.name":  # an iam event's target is its user.name
            own, category, user = held
            iam = pc.fill_null(pc.equal(category, "iam"), False)
            return pc.coalesce(own, pc.if_else(iam, user, absent), texts[0])
        return pc.coalesce(*held, texts[0])

    def text_columns(self, names: Sequence[str], rows: Sequence[int]) -> TextColumns:
        columns = TextColumns()
        indices = None if len(rows) == len(self) else pa.array(rows, pa.int64())
        for name in names:
            text = self._text(name)
            if text is None:
                self._add_text_column(columns, name, rows)
            else:
                columns.texts.append(text if indices is None else text.take(indices))
        return columns

    def texts(self, name: str, rows: Sequence[int]) -> list[str | None]:
        text = self._text(name)
        if text is None:
            return super().texts(name, rows)
        return text.take(pa.array(rows, pa.int64())).to_pylist()

    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        column = self._columns.get(name)
        if self._plain(name) and (column is None or not (column.ints or column.other)):
            return self.texts(name, rows)  # every value text, as sql_value gives it
        return super().values(name, rows)


def decoded_records(raws: list[str]) -> list[dict[str, Any]]:
    """Lines the reader took, decoded."""
    return list(map(_decoded, raws))


def _decoded(raw: str) -> Any:
    """A line the reader took, decoded: by orjson, or by ``loads`` for an integer past 64 bits (the
    reader's lines need no nesting check: they hold at most ``MAX_JSON_DEPTH`` brackets)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return loads(raw)
