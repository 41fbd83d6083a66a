"""The native JSON Lines reader (``native/``) against orjson (``jsonstream.loads``) and ``sql_text``,
its oracle.

Every batch it takes must give, key by key, the text ``sql_text`` gives the value orjson decodes,
and which lines hold the key; a batch it refuses goes to orjson, so refusing is allowed only for the
reasons its documentation gives: a test below checks that it takes every batch free of them.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.test_batches_match_events import assert_same
from tocsin.batch import EventList
from tocsin.scan import ReadSummary, read_batches
from tocsin.sources import ParseOptions, flatjson
from tocsin.sources.jsonstream import MAX_JSON_DEPTH, loads

pytestmark = pytest.mark.skipif(
    not flatjson.AVAILABLE, reason="the native reader is not built (pip install ./native, needs cargo)"
)

KEYS = ["user.name", "User.Name", "process.name", "message", "@timestamp", "é", 'a"b', "", "n"]
SCALARS = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
RECORDS = st.lists(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6), min_size=1, max_size=12)


def expected_text(value: Any, listed: bool = False) -> tuple[str | None, bool]:
    """The text a column holds for ``value`` (``listed``: the only value of a list), and whether a
    column cannot hold it (``other``)."""
    if isinstance(value, list):
        return expected_text(value[0], listed=True) if len(value) == 1 and not listed else (None, True)
    if value is None:
        return None, False
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, str):
        return value, False
    if held_integer(value):
        return str(value), False
    return (
        None,
        True,
    )  # a fraction, an integer past 64 bits (read as a number with a fraction), a list, an object


def held_integer(value: Any) -> bool:
    """Whether a column holds ``value`` as an integer (its text: ``FlatColumn.ints``)."""
    return type(value) is int and -(2**63) <= value < 2**64


def plain(line: str, record: dict[str, Any]) -> bool:
    """Whether the reader must take ``line``: nothing its documentation gives as a reason to refuse."""
    return (
        not any(isinstance(value, dict) for value in record.values())
        and not any(character < " " for character in line)
        and "\\ud" not in line.lower()
        and line.count("{") + line.count("[") <= MAX_JSON_DEPTH
    )


@settings(max_examples=300, deadline=None)
@given(RECORDS, st.booleans())
def test_columns_hold_what_orjson_reads(records: list[dict[str, Any]], ascii_only: bool) -> None:
    lines = [json.dumps(record, ensure_ascii=ascii_only) for record in records]
    columns = flatjson.flat_columns(lines)
    if columns is None:
        assert not all(map(plain, lines, records)), lines
        return
    decoded = [loads(line) for line in lines]
    assert set(columns) == set().union(*decoded)
    for key, column in columns.items():
        expected = [expected_text(record.get(key)) for record in decoded]
        assert column.other == any(other for _, other in expected), key
        texts = [text for text, _ in expected]
        assert column.text.to_pylist() == texts, key
        assert column.uniform == (len(set(texts)) == 1), key
        assert column.present.to_pylist() == [key in record for record in decoded], key
        values = [record.get(key) for record in decoded]
        assert column.typed == any(value is not None and not isinstance(value, str) for value in values), key
        assert column.ints == any(
            held_integer(value) or (isinstance(value, list) and len(value) == 1 and held_integer(value[0]))
            for value in values
        ), key


@pytest.mark.parametrize(
    "line",
    [
        '{"a": "x", "a": "y"}',  # orjson keeps the last value: the records decide
        "[1, 2]",
        '{"a": NaN}',
        '{"a": 1,}',
        '{"a": "\\ud800"}',
        '{"a": "tab\there"}',
        '{"a": ' + "[" * 65 + "]" * 65 + "}",
        '{"a": "x"} {"b": "y"}',
        '\ufeff{"a": 1}',
        '{"a": 1}}',
        '{"a": {"b": "c"}}',
    ],
)
def test_refuses_what_orjson_reads_otherwise(line: str) -> None:
    assert flatjson.flat_columns(['{"a": "plain"}', line]) is None


def test_refuses_text_utf8_cannot_hold() -> None:
    assert flatjson.flat_columns(['{"a": "plain"}', '{"a": "\ud800"}']) is None


def test_refuses_more_keys_than_columns() -> None:
    lines = [json.dumps({f"k{index}": index}) for index in range(600)]
    assert flatjson.flat_columns(lines) is None
    assert flatjson.flat_columns(lines[:500]) is not None


def test_batches_of_flat_lines_are_read_into_columns(tmp_path: Path) -> None:
    """The scan's reader takes the native path for flat records, and orjson's for a batch holding a
    line the reader refuses, with the same counts either way."""
    flat = {"@timestamp": "2025-01-01T00:00:00Z", "process.name": "sshd", "user.name": "root", "pid": 7}
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(flat) for _ in range(100)) + "\n")
    summary = ReadSummary()
    kinds = [type(batch).__name__ for batch in read_batches([str(path)], None, ParseOptions(), summary, 40)]
    assert kinds == ["FlatJsonRows"] * 3
    assert (summary.inputs[0].records, summary.inputs[0].events) == (100, 100)
    path.write_text(
        "\n".join([json.dumps(flat)] * 50 + ['{"a": NaN}', "{oops"] + [json.dumps(flat)] * 48) + "\n"
    )
    summary = ReadSummary()
    kinds = [type(batch).__name__ for batch in read_batches([str(path)], None, ParseOptions(), summary, 40)]
    assert kinds == ["FlatJsonRows", "JsonRecords", "FlatJsonRows"]
    [stats] = summary.inputs
    assert (stats.records, stats.events, dict(stats.skipped)) == (99, 99, {"malformed JSON": 1})


def test_values_keep_what_sql_value_keeps(tmp_path: Path) -> None:
    """A batch's ``values`` (what correlation candidates store) are the events' own: numbers stay
    numbers, a fraction included, whichever column the reader could hold as text."""
    records = [
        {"@timestamp": "2025-01-01T00:00:00Z", "d": 1.5, "source.port": 22, "ok": True, "tag": ["x"]},
        {"@timestamp": "2025-01-01T00:00:01Z", "d": 2.5, "source.port": 2222, "ok": False, "tag": "y"},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in records * 10) + "\n")
    [batch] = read_batches([str(path)], None, ParseOptions(), ReadSummary(), 100)
    assert type(batch).__name__ == "FlatJsonRows"
    rows = list(range(len(batch)))
    for name in ("d", "source.port", "ok", "tag", "absent"):
        assert batch.values(name, rows) == [EventList.field_value(batch.event(row), name) for row in rows], (
            name
        )
    assert batch.values("d", [0, 1]) == [1.5, 2.5]


FLAT_KEYS = [
    "@timestamp",
    "timestamp",
    "user.name",
    "process.name",
    "event.category",
    "event.dataset",
    "event.provider",
    "source.ip",
    "source.domain",
    "source.port",
    "message",
    "event",
]
FLAT_VALUES = st.one_of(
    st.sampled_from(["sshd", "authentication", "iam", "system.auth", "10.0.0.1", "2025-01-01T00:00:00Z", ""]),
    st.text(max_size=6),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(["sshd", "iam", "x"]) | st.integers(0, 9), max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.dictionaries(st.sampled_from(FLAT_KEYS), FLAT_VALUES, max_size=7), min_size=1, max_size=30)
)
def test_flat_batches_match_their_events(records: list[dict[str, Any]]) -> None:
    """Whatever the types of a flat record's values, the batch the reader builds gives the engine
    what the events give (values, texts, routing, counts): ``assert_same`` compares them. Timestamp
    keys hold readable times (see ``test_unreadable_timestamps_are_not_counted``)."""
    for record in records:
        for key in {"@timestamp", "timestamp"} & record.keys():
            record[key] = "2025-01-01T00:00:00Z"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        path.write_text("\n".join(json.dumps(record) for record in records) + "\n")
        assert_same(path)


@pytest.mark.xfail(strict=True, reason="known gap: batches count records without a timestamp key only")
def test_unreadable_timestamps_are_not_counted(tmp_path: Path) -> None:
    """A record whose timestamp key holds no readable time (null, a word) is counted "without a
    readable timestamp" when read as events, not when read as a batch (record or column): telling
    them apart would parse every record's time (about a tenth of a JSON scan). Routing and alerts
    are the same either way; only that summary count differs."""
    path = tmp_path / "events.jsonl"
    path.write_text('{"@timestamp": null, "user.name": "a"}\n{"@timestamp": "soon", "user.name": "b"}\n')
    assert_same(path)


@pytest.mark.xfail(strict=True, reason="known gap: a key in another spelling beside a null one")
def test_a_null_key_beside_another_spelling(tmp_path: Path) -> None:
    """The event of ``{"User.Name": "x", "user.name": null}`` takes ``user.name`` from the other
    spelling (the parser skips null values); a batch, of records or of columns, reads the null one.
    Found by the property test above, older than the native reader."""
    path = tmp_path / "events.jsonl"
    path.write_text('{"@timestamp": "2025-01-01T00:00:00Z", "User.Name": "x", "user.name": null}\n')
    assert_same(path)
