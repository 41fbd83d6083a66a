"""A scan read by several processes (``scan --workers N``): its inputs cut into shares.

The inputs, in reading order, are cut into shares of about equal size. A file whose parser reads
any run of its lines as the whole file would (``Parser.splittable``: syslog, JSON Lines, web server
line logs) is cut at line ends; any other input goes whole to the share it starts in. The first
process reads the first share; a worker forked before any engine exists (``Worker``) reads each
other share with a pipeline of its own, and the first process then takes the shares over in order
(see ``tocsin.scan``), so the run gives the alerts, ids and counts a run with one process gives.

The end of such a scan (correlations and stateful rules over every kept row) is spread too: each
rule is evaluated by one process (``split_finish``), over the rows every share kept.
"""

from __future__ import annotations

import errno
import multiprocessing
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

from tocsin.pipeline import FinishPart, FinishTask
from tocsin.sources.base import InputSource, InputStats, Parser
from tocsin.sources.inputs import cut_at_lines, plain_size
from tocsin.storage.sqlite import is_disk_full

T = TypeVar("T")


@dataclass
class Unit:
    """An input, or a part of one, with its parser and the counts its records go to."""

    source: InputSource
    parser: Parser
    stats: InputStats


def plan_shares(units: list[Unit], count: int) -> list[list[Unit]]:
    """``units`` (in reading order) cut into at most ``count`` non-empty shares of about equal size,
    in reading order (see module doc)."""
    sizes = [_size(unit) for unit in units]
    total = sum(size for size, _ in sizes)
    shares: list[list[Unit]] = [[] for _ in range(count)]
    bounds = [share * total // count for share in range(1, count)]
    start = 0
    for unit, (size, splittable) in zip(units, sizes, strict=True):
        inside = [bound - start for bound in bounds if start < bound < start + size]
        parts = cut_at_lines(unit.source, inside) if splittable and inside else [unit.source]
        offset = start
        for part in parts:
            # A part belongs to the share its first byte falls in (an empty input to the current one).
            share = min(count - 1, offset * count // total) if total else 0
            shares[share].append(Unit(part, unit.parser, unit.stats))
            offset += part.size or 0
        start += size
    return [share for share in shares if share]


def _size(unit: Unit) -> tuple[int, bool]:
    """The unit's bytes on disk, and whether it may be cut at line ends."""
    size = plain_size(unit.source) if unit.parser.splittable(unit.source) else None
    if size is not None:
        return size, True
    return unit.source.size or 0, False


def add_stats(total: InputStats, part: InputStats) -> None:
    """Count a part's records (read by a worker) into its input's ``total``."""
    total.records += part.records
    total.events += part.events
    total.skipped.update(part.skipped)
    total.warnings.update(part.warnings)
    total.error = total.error or part.error


def split_finish(costs: dict[FinishTask, int], count: int) -> list[FinishPart]:
    """The rules of a scan's end spread over at most ``count`` processes, each taking the costliest
    rule left to the least loaded (rules that read nothing go to the first process)."""
    parts = [FinishPart() for _ in range(count)]
    loads = [0] * count
    for task, cost in sorted(costs.items(), key=lambda item: -item[1]):
        least = loads.index(min(loads)) if cost else 0
        parts[least].add(task)
        loads[least] += cost
    return [part for part in parts if part.correlations or part.stateful]


class SharedCount:
    """A count forked workers add to and their parent follows (events read, for the progress)."""

    def __init__(self) -> None:
        self._value = multiprocessing.get_context("fork").Value("q", 0)
        self._taken = 0

    def add(self, count: int) -> None:
        with self._value.get_lock():
            self._value.value += count

    def take(self) -> int:
        """What was added since the last ``take``."""
        total = self._value.value
        added, self._taken = total - self._taken, total
        return added


class WorkerFailed(RuntimeError):
    """A worker stopped on an error: the scan cannot give its share's alerts."""


class Worker(Generic[T]):
    """``job`` run in a forked process; ``result`` waits for what it returned.

    Fork shares the parent's loaded rules at no cost; it must happen before the parent opens an
    engine (DuckDB, SQLite), which a child must never use.
    """

    def __init__(self, job: Callable[[], T]) -> None:
        context = multiprocessing.get_context("fork")
        self._results, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(job, sender), daemon=True)
        self._process.start()
        sender.close()

    def result(self, waiting: Callable[[], None] | None = None) -> T:
        """What the job returned, calling ``waiting`` about five times a second until then; raises
        ``WorkerFailed`` if it raised or the process died, ``OSError`` (ENOSPC) if its disk was full."""
        while waiting is not None and not self._results.poll(0.2):
            waiting()
        try:
            done, value = self._results.recv()
        except EOFError:
            self._process.join()
            raise WorkerFailed(f"a scan worker died (exit code {self._process.exitcode})") from None
        self._process.join()
        if not done:
            raise value if isinstance(value, OSError) else WorkerFailed(f"a scan worker failed: {value}")
        result: T = value
        return result

    def stop(self) -> None:
        """End the process if it still runs (the scan stopped early)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _run(job: Callable[[], object], results: Connection) -> None:
    try:
        outcome: tuple[bool, object] = (True, job())
    except BaseException as exc:  # whatever stops the job is reported to the parent
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
        # A full disk is the user's to fix, not an internal error: the parent says it as for its own writes.
        full = OSError(errno.ENOSPC, f"a scan worker: {exc}") if is_disk_full(exc) else None
        outcome = (False, full or f"{type(exc).__name__}: {exc}{where}")
    results.send(outcome)
    results.close()
