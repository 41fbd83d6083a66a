"""Live capture for ``tocsin watch --interface``: scapy sniffs, the capture pipeline analyses.

A scapy ``AsyncSniffer`` thread (BPF filter in the kernel) puts each frame's bytes on a
bounded queue; the watch loop drains it at every iteration and feeds the frames to the same
``decode`` and ``Analyzer`` as a capture read from disk (flows, reassembly, the protocol
dissectors), so the events are the same. The kernel cannot be told to wait: when the queue
is full the frame is dropped and counted (``dropped`` in the status). Flows idle for longer
than their timeout are closed every few seconds, so their flow events do not wait for more
traffic; the rest are closed when the watch stops.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from tocsin.model.event import Event
from tocsin.sources.base import InputStats, ParseOptions
from tocsin.sources.pcap.analyzer import Analyzer
from tocsin.sources.pcap.protocols import DISSECTORS
from tocsin.sources.pcap.reader import Frame, decode

log = logging.getLogger("tocsin.watch")

LINK_ETHERNET = 1
#: Seconds between two looks for idle flows.
EXPIRE_EVERY = 5.0


class CaptureError(RuntimeError):
    """The interface cannot be captured on (no such interface, not root, bad filter)."""


class LiveCapture:
    """Frames from one interface, turned into events by ``read``."""

    def __init__(
        self, interface: str, bpf: str | None, options: ParseOptions, queue_size: int = 100_000
    ) -> None:
        self.interface, self.bpf = interface, bpf
        self.name = f"interface:{interface}"
        self.stats = InputStats(self.name, "pcap")
        self.analyzer = Analyzer(self.name, options, self.stats, DISSECTORS)
        self.frames: queue.Queue[tuple[float, int, bytes, int]] = queue.Queue(queue_size)
        self.number = 0
        self.dropped = 0
        self.run_id = f"{time.time_ns()}"  # packet numbers restart with each run: ids must not
        self._last_expiry = time.monotonic()
        self.sniffer: Any = None

    def start(self) -> None:
        try:
            from scapy.config import conf
            from scapy.sendrecv import AsyncSniffer
        except ImportError:
            raise CaptureError("live capture needs scapy: pip install 'tocsin[capture]'") from None

        layers = conf.l2types.layer2num

        def enqueue(packet: Any) -> None:
            data = bytes(packet)
            linktype = layers.get(type(packet), LINK_ETHERNET)
            try:
                self.frames.put_nowait((float(packet.time), linktype, data, packet.wirelen or len(data)))
            except queue.Full:
                self.dropped += 1

        started = threading.Event()
        self.sniffer = AsyncSniffer(
            iface=self.interface, filter=self.bpf, prn=enqueue, store=False, started_callback=started.set
        )
        self.sniffer.start()
        deadline = time.monotonic() + 10  # the socket is open and the filter set once it has started
        while not started.wait(0.05):
            if time.monotonic() > deadline or not self.sniffer.thread.is_alive():
                self.sniffer.stop_cb()
                reason = self.sniffer.exception or "the capture did not start"
                self.sniffer = None
                raise CaptureError(f"cannot capture on {self.interface}: {reason}")
        log.info("capture started", extra={"fields": {"interface": self.interface, "bpf": self.bpf}})

    def read(self, limit: int = 10_000) -> list[Event]:
        """Analyse up to ``limit`` queued frames; the events they completed."""
        analyzer, stats = self.analyzer, self.stats
        for _ in range(limit):
            try:
                timestamp, linktype, data, length = self.frames.get_nowait()
            except queue.Empty:
                break
            self.number += 1
            stats.records += 1
            packet = decode(Frame(self.number, timestamp, linktype, data, length), stats)
            if packet is not None:
                analyzer.packet(packet)
        now = time.monotonic()
        if now - self._last_expiry >= EXPIRE_EVERY and analyzer.flows.flows:
            self._last_expiry = now
            for flow in analyzer.flows.expired(time.time()):
                analyzer.close_flow(flow, flow.end, 0)
        return self._take()

    def stop(self) -> list[Event]:
        """Stop sniffing; analyse what was queued, close every flow; the last events."""
        if self.sniffer is not None and self.sniffer.running:
            self.sniffer.stop(join=True)
        self.sniffer = None
        events = self.read(limit=self.frames.qsize() + 1)
        self.analyzer.finish()
        return events + self._take()

    def _take(self) -> list[Event]:
        events, pending = list(self.analyzer.pending), self.analyzer.pending
        pending.clear()
        for event in events:
            event.identify(self.name, self.run_id, event.offset)
        self.stats.events += len(events)
        return events

    def status(self) -> dict[str, Any]:
        return {
            "path": self.name,
            "format": "pcap",
            "offset": self.number,
            "size": self.number + self.frames.qsize(),
            "lag_bytes": 0,
            "lag_packets": self.frames.qsize(),
            "packets": self.number,
            "dropped": self.dropped,
            "events": self.stats.events,
            "skipped": self.stats.skipped_total,
            "not_followed": None,
        }
