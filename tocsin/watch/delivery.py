"""Delivering the watch's alerts: to every sink once, also when a full disk interrupts a delivery.

The service hands each list of alerts from the outbox to a ``Fanout``; when a sink raises (a full
disk), the service pauses and hands the same list over again later. The fanout remembers which
alerts each sink already took, so every sink gets every alert exactly once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tocsin.model.alert import Alert


class Sink(Protocol):
    def write(self, alert: Alert) -> None: ...


class Fanout:
    """Each alert to every sink, then the whole list to ``after`` (the response hand-over, which
    deduplicates by alert id itself)."""

    def __init__(self, sinks: list[Sink], after: Callable[[list[Alert]], None] | None = None) -> None:
        self.sinks = sinks
        self.after = after
        #: Per sink, the ids of the alerts it took of the list being delivered.
        self.taken: list[set[str]] = [set() for _ in sinks]

    def __call__(self, alerts: list[Alert]) -> None:
        for sink, taken in zip(self.sinks, self.taken, strict=True):
            for alert in alerts:
                if alert.id not in taken:
                    sink.write(alert)
                    taken.add(alert.id)
        if self.after is not None:
            self.after(alerts)
        for taken in self.taken:
            taken.clear()


class AlertFile:
    """``-o FILE``: alerts appended as JSON Lines, the file created 0600. A write that fails (a full
    disk) is cut back to the last complete line and raised, so it can be retried."""

    def __init__(self, path: Path) -> None:
        self.descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, alert: Alert) -> None:
        append_whole(self.descriptor, (alert.json_text() + "\n").encode("utf-8"))

    def close(self) -> None:
        os.close(self.descriptor)


def append_whole(descriptor: int, data: bytes, sync: bool = False) -> None:
    """Append ``data`` to a file opened with ``O_APPEND``, all of it or nothing (then fsync it when
    ``sync``): when a write fails (a full disk) the file is cut back to where it was, and it raises."""
    complete = os.fstat(descriptor).st_size
    rest = memoryview(data)
    try:
        while rest:
            rest = rest[os.write(descriptor, rest) :]
        if sync:
            os.fsync(descriptor)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, complete)
        raise
