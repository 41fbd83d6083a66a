"""TCP stream reassembly for one direction of a connection.

Copes with what real traces contain: retransmissions and overlaps (the data
first seen wins, as most stacks do), out-of-order segments (held until the
hole fills), a missing SYN (the first data segment sets the start) and
missing FINs (held data is flushed at the end). Held data is capped per
direction and in total; when a cap is hit the hole is skipped and counted.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

_WRAP = 1 << 32
_HALF = 1 << 31

#: on_data(data, gap_before): contiguous bytes, and whether bytes were lost just before them.
DataCallback = Callable[[bytes, bool], None]


@dataclass
class ReassemblyBudget:
    """The total bytes held out of order across all streams, and what happened at the caps."""

    per_stream: int = 1 << 20
    total: int = 64 << 20
    held: int = 0
    per_stream_hits: int = 0
    total_hits: int = 0
    retransmitted: int = 0
    gaps: int = 0
    gap_bytes: int = 0


@dataclass
class StreamReassembler:
    """One direction of a TCP connection, delivering in-order bytes to ``on_data``."""

    on_data: DataCallback
    budget: ReassemblyBudget
    next_seq: int | None = None
    position: int = 0
    held_bytes: int = 0
    _held: list[tuple[int, bytes]] = field(default_factory=list)
    _gap: bool = False

    def syn(self, seq: int) -> None:
        """The SYN fixes the first data sequence number (a repeated SYN changes nothing)."""
        if self.next_seq is None:
            self.next_seq = (seq + 1) % _WRAP

    def segment(self, seq: int, payload: bytes) -> None:
        """Add one segment's payload."""
        if not payload:
            return
        if self.next_seq is None:
            self.next_seq = seq
        offset = (seq - self.next_seq) % _WRAP
        start = self.position + (offset - _WRAP if offset >= _HALF else offset)
        if start > self.position:
            self._hold(start, payload)
            return
        self._deliver(start, payload)
        self._drain()

    def flush(self) -> None:
        """Deliver whatever is held, skipping the holes (end of stream or of capture)."""
        while self._held:
            start, _ = self._held[0]
            if start > self.position:
                self._skip_to(start)
            self._drain()

    def _hold(self, start: int, payload: bytes) -> None:
        budget = self.budget
        size = len(payload)
        over_stream = self.held_bytes + size > budget.per_stream
        if over_stream or budget.held + size > budget.total:
            if over_stream:
                budget.per_stream_hits += 1
            else:
                budget.total_hits += 1
            self.flush()
            if start > self.position:
                self._skip_to(start)
            self._deliver(start, payload)
            return
        heapq.heappush(self._held, (start, payload))
        self.held_bytes += size
        budget.held += size

    def _skip_to(self, start: int) -> None:
        self.budget.gaps += 1
        self.budget.gap_bytes += start - self.position
        self.next_seq = (self.next_seq + start - self.position) % _WRAP  # type: ignore[operator]
        self.position = start
        self._gap = True

    def _deliver(self, start: int, payload: bytes) -> None:
        end = start + len(payload)
        if end <= self.position:
            self.budget.retransmitted += 1
            return
        fresh = payload[self.position - start :] if start < self.position else payload
        self.position = end
        self.next_seq = (self.next_seq + len(fresh)) % _WRAP  # type: ignore[operator]
        gap, self._gap = self._gap, False
        self.on_data(fresh, gap)

    def _drain(self) -> None:
        held = self._held
        while held and held[0][0] <= self.position:
            start, payload = heapq.heappop(held)
            self.held_bytes -= len(payload)
            self.budget.held -= len(payload)
            self._deliver(start, payload)
