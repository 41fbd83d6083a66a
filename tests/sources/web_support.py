"""Reading web log fixtures the way ``tocsin scan`` does: detected format, batches, events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tocsin.model.event import Event
from tocsin.sources import InputSource, InputStats, ParseOptions
from tocsin.sources.base import BatchParser
from tocsin.sources.detect import detect_format
from tocsin.sources.inputs import resolve_inputs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "web"


def read(
    path: Path, options: ParseOptions | None = None, forced: str | None = None
) -> tuple[str, list[Event], InputStats]:
    """(detected format, events, stats) of one file, read in batches of three rows so that batch
    boundaries fall inside every fixture."""
    (source,) = resolve_inputs([str(path)])
    assert isinstance(source, InputSource)
    parser_class = detect_format(source, forced)
    assert parser_class is not None
    parser = parser_class(options or ParseOptions())
    assert isinstance(parser, BatchParser)
    stats = InputStats(source.name)
    events = [event for batch in parser.batches(source, stats, 3) for event in batch.events]
    assert stats.events == len(events)
    return parser_class.name, events, stats


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def ecs(event: Event, *names: str) -> dict[str, Any]:
    """The named ECS fields of an event (absent ones as None)."""
    return {name: event.fields.get(name) for name in names}
