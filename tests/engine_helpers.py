"""Running Sigma rules over hand-made events with the real engine (no mocks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tocsin.detectors.sigma.engine import SigmaEngine
from tocsin.detectors.sigma.ruleset import RuleSet, load_rules
from tocsin.model.alert import Alert
from tocsin.model.event import Event, LogSource
from tocsin.storage.sqlite import connect

TEST_LOGSOURCE = LogSource.of("testproduct", ("testservice",), "authentication")


def make_event(
    timestamp: float | None = 1_700_000_000.0,
    raw: str | None = None,
    logsource: LogSource = TEST_LOGSOURCE,
    original: dict[str, Any] | None = None,
    offset: str = "1",
    **fields: Any,
) -> Event:
    """An event whose ECS fields are given as keyword arguments with ``__`` for dots."""
    flat = {key.replace("__", "."): value for key, value in fields.items()}
    return Event(
        timestamp=timestamp,
        fields=flat,
        original=original or {},
        raw=raw if raw is not None else json.dumps(flat),
        logsource=logsource,
        input="test",
        offset=offset,
        format="test",
    )


def ruleset_from(
    tmp_path: Path, *documents: str, placeholders: dict[str, list[str]] | None = None
) -> RuleSet:
    """Write each YAML document to its own rule file and load them all."""
    directory = tmp_path / "rules"
    directory.mkdir(parents=True, exist_ok=True)
    for index, document in enumerate(documents):
        (directory / f"rule{index}.yml").write_text(document)
    return load_rules([directory], placeholders)


def run(ruleset: RuleSet, events: list[Event], batch_size: int = 1000) -> list[Alert]:
    """All alerts of a scan of ``events`` in batches, single-event and correlation."""
    engine = SigmaEngine(ruleset, connect(":memory:"))
    alerts = []
    for start in range(0, len(events), batch_size):
        alerts += engine.process(events[start : start + batch_size])
    return alerts + engine.finish()
