"""Benign background traffic: one registered source per output stream, scheduled a day at a time.

A source returns the day's schedule, ``(time, expand)`` pairs: ``expand()`` makes the records of
one activity (a sign-in with its MFA step, a DNS lookup...), all at or after ``time``. Only the
schedule is held; records are made as the writer reaches them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from random import Random

from tocsin.simulate.daily import DAY, Day, Trip
from tocsin.simulate.records import Record
from tocsin.simulate.world import World

Activity = tuple[float, Callable[[], Iterable[Record]]]


@dataclass
class Background:
    """What a background source draws on."""

    world: World
    rng: Random
    trips: dict[str, Trip]


#: A stream's benign background (``tocsin.simulate.formats.BACKGROUNDS``): one day's activities.
Source = Callable[[Background, Day], Iterable[Activity]]


def background_records(
    world: World, trips: dict[str, Trip], streams: Mapping[str, Source], seed: str, start: float, days: int
) -> Iterator[Record]:
    """Every background record of ``streams`` (sources by stream name) over ``days`` from ``start``, in
    time order."""
    sources = [
        (streams[name], Background(world, Random(f"{seed}/{name}"), trips)) for name in sorted(streams)
    ]
    pending: list[tuple[float, int, Record]] = []
    sequence = 0
    for index in range(days):
        day = Day(index, start + index * DAY)
        schedule = [activity for source, context in sources for activity in source(context, day)]
        schedule.sort(key=lambda activity: activity[0])
        for time, expand in schedule:
            while pending and pending[0][0] <= time:
                yield heapq.heappop(pending)[2]
            for record in expand():
                sequence += 1
                heapq.heappush(pending, (record.time, sequence, record))
    while pending:
        yield heapq.heappop(pending)[2]
