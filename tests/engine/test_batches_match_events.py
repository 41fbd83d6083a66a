"""Batch readers give exactly the events, and the field values, of the event-at-a-time parsers.

The engine reads columns from batches and makes events only where needed; anything a rule can
read must therefore be the same either way. Compared on the real samples and on lines chosen to
fall off the column-at-a-time path (other header shapes, non-ASCII, control characters, repeats).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import shared
from tocsin.batch import EventList
from tocsin.scan import ReadSummary, read_batches, read_events
from tocsin.sources import ParseOptions

EDGE_LINES = [
    "<38>Jan  5 10:00:00 host sshd[123]: Failed password for root from 1.2.3.4 port 22 ssh2",
    "<200>Jan  5 10:00:01 host sshd[123]: Failed password for invalid user bob from 1.2.3.4 port 22 ssh2",
    "Jan 5 10:00:02 host sshd: Accepted publickey for alice from ::1 port 22 ssh2: RSA SHA256:x",
    "Feb 30 10:00:02 host sshd[1]: Accepted publickey for alice from ::1 port 22 ssh2",
    "Jan  5 10:00:03 host (x)[1]: authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=a.b  user=root",
    "Jan  5 10:00:03 host sshd(pam_unix)[99]: authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
    "rhost=10.0.0.1  user=root",
    "Jan  5 10:00:04 host CRON[5]: pam_unix(cron:session): session opened for user root by (uid=0)",
    "Jan  5 10:00:05 host kernel: message repeated 3 times: [ Failed password for root from 1.2.3.4 port 22 ssh2 ]",
    "Jan  5 10:00:06 host sshd[7]: Invalid user caf\u00e9 from 1.2.3.4",
    "Jan  5 10:00:06 host sshd[7]: Invalid user a\x0bb from 1.2.3.4",
    "Jan  5 10:00:06 host sshd[7]: Invalid user a\tb from 1.2.3.4",
    "Jan  5 10:00:07 host -- MARK --",
    "Jan  5 10:00:07 host sshd[7]:",
    "Jan  5 10:00:07.123 host sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls",
    "2025-01-05T10:00:08+00:00 host sshd[7]: Failed password for root from 5.6.7.8 port 22 ssh2",
    "<34>1 2025-01-05T10:00:09Z host sshd 77 - - Failed password for root from 5.6.7.8 port 22 ssh2",
    "garbage line",
    "Jan  5 10:00:12 host sshd[\u0663]: Failed password for root from 1.2.3.4 port 22 ssh2",
    "Jan  5 10:00:13 host sshd[8]: Failed password for root from 1.2.3.4 port \u0662\u0662 ssh2",
    "Jan  5 10:00:18 host foo[1]: session opened for user x",
    "Jan  5 10:00:19 host sshd[9]: Failed password for root from 1.2.3.4 port 22 ssh2\r",
    "Jan  5 10:00:20 host\u00a0sshd[9]: Failed password for root from 1.2.3.4 port 22 ssh2",
    "Jan  5 10:00:21 h\x1cst sshd[9]: Failed password for root from 1.2.3.4 port 22 ssh2",
]
#: Fields rules may read besides those the events carry: the original fields and derived ECS ones.
EXTRA_FIELDS = {
    "hostname",
    "program",
    "pid",
    "Message",
    "event.provider",
    "source.address",
    "user.target.name",
}


def text(value: object) -> str | None:
    """A value as the engine's columns hold it (every column is text)."""
    return None if value is None else str(value)


def assert_same(path: Path, options: ParseOptions | None = None) -> None:
    options = options or ParseOptions()
    by_event, by_batch = ReadSummary(), ReadSummary()
    events = list(read_events([str(path)], None, options, by_event))
    fields = set(EXTRA_FIELDS).union(*(event.fields for event in events))
    documents, identities = [], []
    for batch in read_batches([str(path)], None, options, by_batch, 500):
        rows = list(range(len(batch)))
        identities += batch.identities(rows)  # before any row is made an event
        columns = {name: batch.texts(name, rows) for name in fields}
        names = sorted(fields)
        read = batch.text_columns(names, rows)  # all at once where it can: the same columns
        assert [array.to_pylist() for array in read.texts] == [columns[name] for name in names]
        made = EventList([batch.event(row) for row in rows])
        assert read.elements.keys() == made.text_columns(names, rows).elements.keys()
        assert all(
            values.to_pylist() == made.text_columns([name], rows).elements[name].to_pylist()
            for name, values in read.elements.items()
        )
        for row, raw in zip(rows, batch.raw(rows), strict=True):
            event = batch.event(row)
            assert raw == event.raw
            documents.append(event.to_document())
            for name in fields:
                assert columns[name][row] == text(EventList.field_value(event, name)), (name, event.raw)
    expected = [event.to_document() for event in events]
    assert identities == [(event.id, event.timestamp) for event in events]
    assert json.dumps(documents, default=str) == json.dumps(expected, default=str)
    [stats_events], [stats_batches] = by_event.inputs, by_batch.inputs
    assert (stats_batches.records, stats_batches.events, stats_batches.skipped, stats_batches.warnings) == (
        stats_events.records, stats_events.events, stats_events.skipped, stats_events.warnings,
    )  # fmt: skip


@pytest.mark.parametrize("sample", ["authlogs/OpenSSH_2k.log", "authlogs/Linux_2k.log", "cloud/okta.jsonl"])
def test_real_samples(sample: str) -> None:
    assert_same(shared(sample))


def test_lines_off_the_column_path(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    path.write_text("\n".join(EDGE_LINES * 30) + "\n", encoding="utf-8")
    assert_same(path)


def test_generic_ecs_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    records = [
        {"@timestamp": "2025-01-01T00:00:00Z", "process.name": "sshd", "source.ip": "10.0.0.1", "user.name": "a"},
        {"@timestamp": "2025-01-01T00:00:01Z", "event": {"dataset": "system.auth", "category": ["iam"]},
         "user": {"name": "b"}, "Source.IP": "1.2.3.4"},
        {"timestamp": 1735689600, "Message": "x", "source": {"domain": "h.example"}, "port": 22},
        {"no_time": True, "event.category": "iam", "user.name": "c", "source.port": "22"},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(record) for record in records * 20) + "\n")
    assert_same(path)


def test_json_values_that_are_not_text(tmp_path: Path) -> None:
    """Numbers, booleans, lists and objects where rules read text: the columns give them as the
    events compare them, not as one conversion of the records would refuse or change them."""
    path = tmp_path / "events.jsonl"
    records = [
        {"@timestamp": "2025-01-01T00:00:00Z", "process.name": "sshd", "user.name": "a", "event.outcome": "success"},
        {"@timestamp": "2025-01-01T00:00:01Z", "process.name": "sshd", "user.name": 12345, "event.outcome": True},
        {"@timestamp": "2025-01-01T00:00:02Z", "process.name": ["sshd"], "user.name": {"x": 1}, "source.ip": 1.5},
        {"@timestamp": "2025-01-01T00:00:03Z", "event": {"type": ["user", "creation"]}, "user.name": [None, 2]},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(record) for record in records * 20) + "\n")
    assert_same(path)


def test_flat_json_hints_that_are_not_text(tmp_path: Path) -> None:
    """Flat records (the native reader's) whose log source hints are a list of one value, a boolean
    or a number: routed as the records are, not as their text."""
    path = tmp_path / "events.jsonl"
    records = [
        {"@timestamp": "2025-01-01T00:00:00Z", "process.name": ["sshd"], "user.name": "a"},
        {"@timestamp": "2025-01-01T00:00:01Z", "process.name": "sshd", "event.dataset": True},
        {"@timestamp": "2025-01-01T00:00:02Z", "event.module": 7, "event.category": ["authentication"]},
        {"@timestamp": "2025-01-01T00:00:03Z", "process.name": "sshd", "event.category": "authentication"},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(record) for record in records * 20) + "\n")
    assert_same(path)
    single = tmp_path / "single.jsonl"
    single.write_text("\n".join(json.dumps(records[0]) for _ in range(40)) + "\n")
    assert_same(single)


#: JSON lines that must leave a block to the line-by-line decoder, each for its own reason.
HOSTILE_JSON_LINES = [
    b"",
    b"   \t",
    b"[1, 2]",
    b'{"a": NaN, "@timestamp": "2025-01-01T00:00:00Z"}',
    b'{"big": 123456789012345678901234567890}',
    b'{"a": 1e999}',
    b'{"a": 1,}',
    b'{"user.name": "x", "user.name": "y", "process.name": "sshd"}',
    b'{"d": ' + b"[" * 70 + b"]" * 70 + b"}",
    b'{"user.name": "caf\xe9"}',
    b'{"user.name": "nul\x00"}',
    b"\xc2\xa0",
    b'{"process.name": "sshd", "message": "crlf"}\r',
    b"not json",
]


def test_json_blocks_read_as_lines(tmp_path: Path) -> None:
    """Blocks decoded in one sweep and blocks decoded line by line give the same records, counts and
    columns, whichever way each block of a large input goes."""
    plain = json.dumps(
        {"@timestamp": "2025-01-01T00:00:00Z", "process.name": "sshd", "event.category": "authentication",
         "user.name": "root", "source.ip": "1.2.3.4", "message": "Failed password for root " + "x" * 200}
    ).encode()  # fmt: skip
    lines = [plain] * 5000 + HOSTILE_JSON_LINES * 3 + [plain] * 5000 + [b""] * 3 + [plain] * 10
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert path.stat().st_size > 2 << 20  # more than one block of the reader
    assert_same(path)
