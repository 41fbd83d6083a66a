"""Incremental correlation (``tocsin watch``) finds the same episodes as a batch scan.

The built-in authentication rules (event counts, distinct values, and a nested temporal_ordered
rule) run over a synthetic stream of logins, once as a batch and once in random micro-batches
through the persistent engine, with events arriving out of order and a restart (a new engine on
the same database) in the middle.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.engine_helpers import make_event
from tocsin.detectors.sigma.correlation import CorrelationRunner
from tocsin.detectors.sigma.engine import EVIDENCE_CAP, SigmaEngine
from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules
from tocsin.model.event import Event
from tocsin.storage.sqlite import connect

START = 1_700_000_000.0


def login_stream(seed: int) -> list[Event]:
    """Bursts of failures from a few attackers, some ending in success, over benign logins."""
    rng = random.Random(seed)
    events: list[Event] = []
    users = [f"user{n}" for n in range(12)]

    def add(ts: float, outcome: str, user: str, ip: str) -> None:
        events.append(
            make_event(
                timestamp=ts,
                offset=str(len(events)),
                event__category="authentication",
                event__type="start",
                event__outcome=outcome,
                user__name=user,
                source__ip=ip,
            )
        )

    for second in range(0, 4 * 3600, 7):
        add(START + second, "success", rng.choice(users), f"10.0.0.{rng.randrange(1, 20)}")
    for attack in range(25):
        at = START + rng.uniform(0, 4 * 3600)
        ip = f"203.0.113.{attack}"
        targets = users if attack % 3 == 0 else [rng.choice(users)]
        for n in range(rng.randrange(3, 40)):
            add(at + n * rng.uniform(1, 30), "failure", rng.choice(targets), ip)
        if attack % 2 == 0:
            add(at + 700, "success", targets[0], ip)
    return events


def merged(episodes: list[tuple[Any, Any]]) -> set[tuple[str, str, float]]:
    """Episodes of one rule and group that overlap count as one (as the watch dedupes them):
    the set of (rule, group, end of each merged run)."""
    spans: dict[tuple[str, str], list[list[float]]] = {}
    rows = sorted(
        (rule.info.id, repr(sorted(e.group.items())), e.window_start, e.end) for rule, e in episodes
    )
    for rule, group, start, end in rows:
        runs = spans.setdefault((rule, group), [])
        if runs and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    return {(rule, group, run[1]) for (rule, group), runs in spans.items() for run in runs}


@pytest.mark.parametrize("seed", [3, 17])
def test_incremental_equals_batch(tmp_path: Path, seed: int) -> None:
    ruleset = load_rules([builtin_rules_path() / "authentication"])
    assert any(ref.child for rule in ruleset.correlations for ref in rule.references), "needs a nested rule"
    events = login_stream(seed)
    ordered = sorted(events, key=lambda event: event.timestamp or 0)

    batch = SigmaEngine(ruleset, connect(":memory:"))
    batch.process(ordered)
    runner = CorrelationRunner(batch.connection, batch.table, EVIDENCE_CAP)
    expected = merged(
        [
            (rule, episode)
            for rule in ruleset.correlations
            if rule.emits_alerts
            for episode in runner.episodes(rule)
        ]
    )
    assert len(expected) > 10

    # Micro-batches of random size; three in ten events arrive up to ten minutes late.
    rng = random.Random(seed)
    arrival = sorted(
        ordered, key=lambda e: (e.timestamp or 0) + (rng.uniform(0, 600) if rng.random() < 0.3 else 0)
    )
    database = str(tmp_path / "state.db")
    engine = SigmaEngine(ruleset, connect(database), "live_candidates")
    found = []
    position = 0
    restarted = False
    while position < len(arrival):
        size = rng.randrange(1, 400)
        engine.process(arrival[position : position + size])
        found += [(rule, episode) for rule, episode, _ in engine.correlate()]
        position += size
        if not restarted and position > len(arrival) // 2:
            engine.connection.commit()
            engine.connection.close()
            engine = SigmaEngine(ruleset, connect(database), "live_candidates")
            restarted = True
    assert merged(found) == expected


def test_a_nested_rule_with_more_hits_than_one_flush_chunk() -> None:
    """A batch scan stores a nested rule's hits in chunks of 10,000; their ids stay unique across chunks."""
    ruleset = load_rules([builtin_rules_path() / "authentication"])
    events = [
        make_event(
            timestamp=START + n,
            offset=str(n),
            event__category="authentication",
            event__type="start",
            event__outcome="failure",
            user__name="root",
            source__ip="203.0.113.1",
        )
        for n in range(10_050)
    ]
    engine = SigmaEngine(ruleset, connect(":memory:"))
    engine.process(events)
    titles = {alert.rule.title for alert in engine.finish()}
    assert "Brute Force From One Source" in titles  # and no IntegrityError on the 10,046 hits
