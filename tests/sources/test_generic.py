"""Generic JSON and CSV inputs, with and without an ECS field mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import shared
from tocsin.model.event import Event
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions
from tocsin.sources.detect import detect_format
from tocsin.sources.generic import FieldMapper, _key_plan
from tocsin.sources.inputs import resolve_inputs
from tocsin.sources.jsonstream import _plain_block

T0 = datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC).timestamp()


def read(
    path: Path, field_map: dict[str, str] | None = None, forced: str | None = None
) -> tuple[str, list[Event], InputStats]:
    (source,) = resolve_inputs([str(path)])
    assert isinstance(source, InputSource)
    parser = detect_format(source, forced)
    assert parser is not None
    stats = InputStats(source.name)
    return parser.name, list(parser(ParseOptions(field_map=field_map or {})).parse(source, stats)), stats


def test_json_field_map_with_dotted_paths(tmp_path: Path) -> None:
    records = [
        {
            "ts": "2024-03-01T10:00:00Z",
            "actor": {"login": "octocat", "org": "acme"},
            "client": "203.0.113.9",
            "result": "failure",
            "op": "signin",
        },
        {"ts": 1709287260, "actor": {"login": "hubot"}, "client": "198.51.100.3", "result": "success"},
    ]
    path = tmp_path / "vendor.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    field_map = {
        "@timestamp": "ts",
        "user.name": "actor.login",
        "source.ip": "client",
        "event.outcome": "result",
        "event.action": "op",
        "event.category": "authentication",
    }
    name, (first, second), stats = read(path, field_map)
    assert name == "json"
    assert stats.skipped_total == 0 and not stats.warnings
    assert first.timestamp == T0 and second.timestamp == T0 + 60
    assert first.fields == {
        "user.name": "octocat",
        "source.ip": "203.0.113.9",
        "source.address": "203.0.113.9",
        "event.outcome": "failure",
        "event.action": "signin",
        "event.category": "authentication",
    }
    assert "event.action" not in second.fields
    assert first.original == records[0]
    assert first.logsource.accepts(None, None, "authentication")
    assert not first.logsource.products and not first.logsource.services


def test_json_without_a_map_takes_ecs_named_fields(tmp_path: Path) -> None:
    record = {
        "@timestamp": "2024-03-01T10:00:00.000Z",
        "user": {"name": "bob", "roles": ["admin"]},
        "source.ip": "10.0.0.7",
        "source": {"port": "2222"},
        "event": {"category": ["authentication", "session"], "outcome": "failure"},
        "message": "login failed",
        "extra": {"user": "ignored"},
    }
    path = tmp_path / "ecs.json"
    path.write_text(json.dumps(record, indent=2))
    name, (event,), _ = read(path)
    assert name == "json"
    assert event.timestamp == T0
    assert event.fields == {
        "user.name": "bob",
        "source.ip": "10.0.0.7",
        "source.address": "10.0.0.7",
        "source.port": 2222,
        "event.category": ["authentication", "session"],
        "event.outcome": "failure",
        "message": "login failed",
    }
    assert event.logsource.categories == frozenset({"authentication", "session"})


@pytest.mark.parametrize("key", ["timestamp", "time", "ts", "date", "eventTime", "Timestamp"])
def test_usual_timestamp_keys(tmp_path: Path, key: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({key: "2024-03-01 10:00:00", "id": 1}) + "\n")
    _, (event,), stats = read(path)
    assert event.timestamp == T0
    assert not stats.warnings


def test_a_map_to_an_absent_field_is_not_a_constant(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"time": "2024-03-01T10:00:00Z", "who": "eve"}) + "\n")
    _, (event,), _ = read(path, {"user.name": "login", "event.type": "start", "event.outcome": "kind"})
    assert event.fields == {"event.type": "start"}
    assert event.logsource.categories == frozenset()


def test_csv_with_a_map_and_a_ragged_row(tmp_path: Path) -> None:
    path = tmp_path / "signins.csv"
    path.write_text(
        "\ufeffTime,User Name,Client IP,Result,Detail\n"
        '2024-03-01T10:00:00Z,alice,203.0.113.4,failure,"bad password, twice"\n'
        "2024-03-01T10:01:00Z,alice,203.0.113.4,success\n"
        '2024-03-01T10:02:00Z,bob,198.51.100.8,success,"multi\nline"\n'
    )
    field_map = {
        "user.name": "User Name",
        "source.ip": "Client IP",
        "event.outcome": "Result",
        "event.category": "authentication",
    }
    name, events, stats = read(path, field_map)
    assert name == "csv"
    assert [event.fields["user.name"] for event in events] == ["alice", "bob"]
    assert stats.skipped == {"CSV row whose field count differs from the header": 1}
    assert (stats.records, stats.events) == (3, 2)
    first, multi = events
    assert first.timestamp == T0
    assert first.original["Detail"] == "bad password, twice"
    assert first.raw == '2024-03-01T10:00:00Z,alice,203.0.113.4,failure,"bad password, twice"'
    assert first.offset == "2"
    assert first.fields["event.category"] == "authentication"
    assert first.logsource.accepts(None, None, "authentication")
    assert multi.original["Detail"] == "multi\nline"
    assert multi.offset == "5"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "export.csv"
    rows = [["timestamp", "user.name", "source.ip", "source.port"], ["1709287200", "carol", "10.1.1.1", "22"]]
    path.write_text("".join(delimiter.join(row) + "\n" for row in rows))
    name, (event,), _ = read(path)
    assert name == "csv"
    assert event.timestamp == T0
    assert event.fields == {
        "user.name": "carol",
        "source.ip": "10.1.1.1",
        "source.address": "10.1.1.1",
        "source.port": 22,
    }


def test_text_that_is_not_a_table_is_not_csv(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    path.write_text(
        "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0\n"
        "Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown\n"
    )
    name, _, _ = read(path)
    assert name == "syslog"
    (source,) = resolve_inputs([str(path)])
    assert isinstance(source, InputSource)
    stats = InputStats(source.name)
    events = list(PARSERS["csv"](ParseOptions()).parse(source, stats))
    assert events == []
    assert stats.skipped == {"CSV without a header row": 1}


@pytest.mark.parametrize("name", ["OpenSSH_2k.log_structured.csv", "Linux_2k.log_structured.csv"])
def test_loghub_structured_csv(name: str) -> None:
    fmt, events, stats = read(shared(f"authlogs/{name}"))
    assert fmt == "csv"
    assert (stats.records, stats.events, stats.skipped_total) == (2000, 2000, 0)
    assert events[0].original["LineId"] == "1"
    assert events[-1].original["LineId"] == "2000"
    assert events[0].original["Content"]
    # Time holds only a time of day and Date a day or month name: no guessed timestamp.
    assert all(event.timestamp is None for event in events)
    assert stats.warnings == {"record without a readable timestamp": 2000}


def test_plain_json_blocks_are_decoded_in_one_sweep() -> None:
    """The sweep takes a block of ordinary lines (blank lines and CRLF included) and leaves every
    block holding a line it would read differently to the line-by-line decoder."""
    plain = b'{"user.name": "a"}\r\n\n{"user.name": "b"}\n'
    lines = _plain_block(7, plain, 1 << 20)
    assert lines is not None
    assert (lines.numbers, lines.raws, lines.values) == (
        [7, 9], ['{"user.name": "a"}', '{"user.name": "b"}'], [{"user.name": "a"}, {"user.name": "b"}],
    )  # fmt: skip
    for hostile in (
        b'{"a": NaN}',
        b'{"a": 1,}',
        b'{"a": "caf\xe9"}',
        b'{"a": "\x00"}',
        b'{"d": ' + b"[" * 65 + b"]" * 65 + b"}",
    ):
        assert _plain_block(1, plain + hostile + b"\n", 1 << 20) is None, hostile
    assert (
        _plain_block(1, b'{"a": "' + "\u00e9".encode() * 300 + b'"}\n', 500) is None
    )  # longer than the limit
    assert _plain_block(1, b'{"a": "' + b"x" * 400 + b'"}\n', 1000) is not None  # a block within it


def test_records_sharing_keys_map_each_by_its_own_values_and_spelling() -> None:
    """Records with the same keys share how their keys map (looked at once per key set), each still
    mapped by its own values: an object, a null or another spelling of the same field."""
    mapper = FieldMapper({})
    records = [
        {"User.Name": "Alice", "user.name": "bob", "message": "m1"},
        {"User.Name": "carol", "user.name": None, "message": "m2"},
        {"User.Name": {"first": "x"}, "user.name": "dave", "message": "m3"},
        {"user": {"name": "erin"}, "message": "m4"},
        {"user": "frank", "message": "m5"},
    ]
    names = [mapper(record).fields.get("user.name") for record in records]
    assert names == ["bob", "carol", "dave", "erin", None]
    assert [mapper(record).fields["message"] for record in records] == ["m1", "m2", "m3", "m4", "m5"]


def test_records_with_ever_new_keys_are_mapped_without_keeping_every_key_set() -> None:
    mapper = FieldMapper({})
    for number in range(1000):
        fields = mapper({f"k{number}": 1, "User.Name": f"u{number}"}).fields
        assert fields["user.name"] == f"u{number}"
    assert len(_key_plan.remembered) <= 256  # type: ignore[attr-defined]
