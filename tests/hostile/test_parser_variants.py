"""Per parser, hostile variants of a valid input (truncated, oversized, deeply nested, wrong encoding,
control characters, markup): no crash, the bad record counted, the rest still read, and nothing of it
unescaped in the outputs (strict JSON; the terminal shows markup and escape sequences as text)."""

from __future__ import annotations

import io
import json

import pytest

from tests.hostile.test_fuzz import SEED_FORMATS, SEEDS
from tocsin.model.event import Event
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions
from tocsin.terminal import console

LIMIT = 4096
TEXT_SEEDS = sorted(name for name, fmt in SEED_FORMATS.items() if fmt not in {"pcap", "evtx"})
MARKUP = "[/bold][link=http://evil.example]x\x1b[2J\x1b]8;;http://evil.example\x1b\\<script>alert(1)</script>"


def _parse(format_name: str, data: bytes) -> tuple[list[Event], InputStats]:
    stats = InputStats("variant", format_name)
    source = InputSource("variant", lambda: io.BytesIO(data))
    return list(PARSERS[format_name](ParseOptions(max_record_bytes=LIMIT)).parse(source, stats)), stats


def _lines(name: str) -> list[bytes]:
    return SEEDS[name].rstrip(b"\n").split(b"\n")


def _bad_record(name: str, kind: str) -> bytes:
    first = _lines(name)[-1]
    if kind == "oversized":
        return first + b" " + b"A" * (2 * LIMIT)
    if kind == "nested":
        return b"[" * 3000 + b"]" * 3000 if SEED_FORMATS[name] != "syslog" else first + b" " + b"[" * 3000
    if kind == "encoding":
        return first.replace(b"a", b"\xe9\xff", 3)
    if kind == "control":
        return first.replace(b"a", b"\x1b[2J\x00", 1)
    return (
        first.replace(b"a", MARKUP.encode(), 1)
        if b'"' not in first
        else first.replace(b"a", json.dumps(MARKUP)[1:-1].encode(), 1)
    )


def _check_outputs(events: list[Event]) -> None:
    screen = io.StringIO()
    terminal = console(file=screen, force_terminal=True, width=300)
    for event in events:
        json.loads(json.dumps(event.to_document(), default=str, allow_nan=False))
        for value in event.fields.values():
            terminal.print(str(value))
    assert "\x1b[2J" not in screen.getvalue() and "\x1b]8;" not in screen.getvalue()


@pytest.mark.parametrize("kind", ["oversized", "nested", "encoding", "control", "markup"])
@pytest.mark.parametrize("name", TEXT_SEEDS)
def test_bad_record_in_the_middle(name: str, kind: str) -> None:
    clean, clean_stats = _parse(SEED_FORMATS[name], SEEDS[name])
    lines = _lines(name)
    hostile = b"\n".join([lines[0], _bad_record(name, kind), *lines[1:]]) + b"\n"
    events, stats = _parse(SEED_FORMATS[name], hostile)
    _check_outputs(events)
    # Every clean record is still read; the hostile one is an event, a skip or a warning: never lost silently.
    assert len(events) >= len(clean)
    assert (
        len(events) + stats.skipped_total + sum(stats.warnings.values())
        > len(clean) + clean_stats.skipped_total
    )


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_truncated_input_keeps_what_came_before(name: str) -> None:
    clean, _ = _parse(SEED_FORMATS[name], SEEDS[name])
    data = SEEDS[name]
    events, stats = _parse(SEED_FORMATS[name], data[: len(data) * 3 // 4])
    _check_outputs(events)
    assert len(events) >= min(1, len(clean)) or stats.skipped_total
    assert len(events) <= len(clean)
