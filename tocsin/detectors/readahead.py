"""Reading a group's rows ahead to learn whether they can alert at all, within a bound."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

Row = TypeVar("Row")

#: Rows held at most while reading ahead: past this many the rows are given on as they come.
READ_AHEAD = 10_000


def of_enough_kinds(
    rows: Iterator[Row], kind: Callable[[Row], Hashable], kinds: int, limit: int = READ_AHEAD
) -> Iterator[Row] | None:
    """``rows`` again when they are of at least ``kinds`` kinds (a correlation's referenced rules, a
    stateful rule's roles), None when they end with fewer. The rows read to tell are held, ``limit``
    of them at most: past that, the rows are given on without knowing, so memory does not grow
    with a group's size."""
    held: list[Row] = []
    seen: set[Hashable] = set()
    for row in rows:
        held.append(row)
        seen.add(kind(row))
        if len(seen) >= kinds or len(held) >= limit:
            return itertools.chain(held, rows)
    return None
