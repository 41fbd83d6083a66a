"""From packets to events: flows, reassembly, protocol dissectors and payload hand-off."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from tocsin.credentials import mask, secret_fields
from tocsin.model.event import Event, LogSource, iso_timestamp
from tocsin.sources.base import InputStats, ParseOptions, compact
from tocsin.sources.pcap.flows import Flow, FlowTable
from tocsin.sources.pcap.payloads import Payload
from tocsin.sources.pcap.reader import RST, SYN, TCP, UDP, Packet
from tocsin.sources.pcap.reassembly import ReassemblyBudget, StreamReassembler

FORMAT = "pcap"
FLOW_LOGSOURCE = LogSource.of("zeek", ("conn",), "firewall")
#: Stream bytes are handed to content scanners in chunks of this size (with an overlap).
SCAN_CHUNK = 1 << 20
SCAN_OVERLAP = 4096
#: At most this much of each stream direction is scanned.
SCAN_LIMIT_PER_STREAM = 64 << 20
#: Flows are checked for idleness every this many packets.
EXPIRY_EVERY = 20_000


class Dissector:
    """A protocol parser for one flow: fed in-order bytes (TCP) or datagrams (UDP)."""

    service: ClassVar[str]
    #: Server ports the protocol usually runs on.
    ports: ClassVar[frozenset[int]] = frozenset()
    transport: ClassVar[int] = TCP

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        self.analyzer = analyzer
        self.flow = flow

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        """True when the first payload bytes clearly are this protocol, whatever the port."""
        return False

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        raise NotImplementedError

    def close(self, timestamp: float, number: int) -> None:
        """The flow ended (or the capture did)."""

    def emit(self, timestamp: float, number: int, dataset: str, fields: dict[str, Any],
             original: dict[str, Any], raw: str, logsource: LogSource) -> None:  # fmt: skip
        self.analyzer.emit(self.flow, timestamp, number, dataset, fields, original, raw, logsource)

    def auth(self, timestamp: float, number: int, user: str | None, outcome: str,
             secret: str | bytes | None = None, method: str = "password",
             extra: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.analyzer.auth(self.flow, timestamp, number, self.service, user, outcome, secret, method, extra)


def choose_dissector(
    dissectors: Iterable[type[Dissector]], transport: int, port: int, data: bytes, from_client: bool
) -> type[Dissector] | None:
    """The dissector of a connection: by content first (a protocol on an unusual port), then by the
    server's ``port``; ``dissectors`` in the order content recognition tries them."""
    candidates = [cls for cls in dissectors if cls.transport == transport]
    for cls in candidates:
        if cls.recognizes(data, from_client):
            return cls
    for cls in candidates:
        if port in cls.ports:
            return cls
    return None


class _StreamScan:
    """One stream direction's bytes, handed to the payload scanner in overlapping chunks."""

    __slots__ = ("buffer", "offset", "scanned")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.offset = 0
        self.scanned = 0


class Analyzer:
    """Turns the packets of one input into events (``pending``, drained by the parser)."""

    def __init__(
        self, input_name: str, options: ParseOptions, stats: InputStats, dissectors: Sequence[type[Dissector]]
    ) -> None:
        self.input = input_name
        #: The protocols this analyzer recognizes (``tocsin.sources.pcap.protocols.DISSECTORS``).
        self.dissectors = dissectors
        self.options = options
        self.stats = stats
        self.flows = FlowTable()
        self.budget = ReassemblyBudget()
        self.pending: list[Event] = []
        self.scanner = options.payload_scanner
        self.packets = 0
        self.last_time = 0.0

    # -- packets ----------------------------------------------------------------------

    def packet(self, packet: Packet) -> None:
        self.packets += 1
        self.last_time = packet.timestamp
        flow, from_client = self.flows.lookup(packet)
        side = 0 if from_client else 1
        flow.packets[side] += 1
        flow.bytes[side] += packet.length
        if packet.timestamp > flow.end:
            flow.end = packet.timestamp
        if packet.protocol == TCP:
            self._tcp(flow, from_client, packet)
        elif packet.protocol == UDP and packet.payload:
            flow.payload_bytes[side] += len(packet.payload)
            self._payload(flow, from_client, packet.payload, packet.timestamp, packet.number, False)
        if self.packets % EXPIRY_EVERY == 0:
            for expired in self.flows.expired(packet.timestamp):
                self.close_flow(expired, packet.timestamp, packet.number)

    def _tcp(self, flow: Flow, from_client: bool, packet: Packet) -> None:
        flags = packet.flags
        flow.note(flags, from_client)
        state = flow.state
        if state is None:
            state = flow.state = _TcpState(self, flow)
        stream = state.streams[0 if from_client else 1]
        if flags & SYN:
            stream.syn(packet.seq)
        if packet.payload and not flow.closed:
            flow.payload_bytes[0 if from_client else 1] += len(packet.payload)
            state.now = (packet.timestamp, packet.number)
            stream.segment(packet.seq, packet.payload)
        if (flags & RST or flow.fins == 3) and not flow.closed:
            self._end_streams(flow, packet.timestamp, packet.number)

    def _payload(
        self, flow: Flow, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool
    ) -> None:
        """In-order payload of one direction: to the dissector and the stream scanner."""
        if flow.service is None:
            cls = choose_dissector(self.dissectors, flow.protocol, flow.server_port, data, from_client)
            flow.service = cls.service if cls else "unknown"
            handler = cls(self, flow) if cls else None
            if flow.protocol == TCP:
                flow.state.dissector = handler
            else:
                flow.state = handler
        handler = flow.state.dissector if flow.protocol == TCP else flow.state
        if handler is not None:
            try:
                handler.data(from_client, data, timestamp, number, gap)
            except (ValueError, IndexError, KeyError, UnicodeError, struct.error) as exc:
                self.stats.warn(f"{flow.service}: malformed message ({type(exc).__name__})")
                if flow.protocol == TCP:
                    flow.state.dissector = None
                else:
                    flow.state = None
        if self.scanner is not None and flow.protocol == TCP:
            self._scan_stream(flow, from_client, data, timestamp)

    def _scan_stream(self, flow: Flow, from_client: bool, data: bytes, timestamp: float) -> None:
        scan = flow.state.scans[0 if from_client else 1]
        if scan.scanned >= SCAN_LIMIT_PER_STREAM:
            return
        scan.buffer += data
        if len(scan.buffer) >= SCAN_CHUNK:
            self._flush_scan(flow, from_client, scan, timestamp, final=False)

    def _flush_scan(
        self, flow: Flow, from_client: bool, scan: _StreamScan, timestamp: float, final: bool
    ) -> None:
        if not scan.buffer or self.scanner is None:
            return
        direction = "client→server" if from_client else "server→client"
        self.payload(flow, f"tcp stream {direction}", bytes(scan.buffer), timestamp, scan.offset)
        scan.scanned += len(scan.buffer)
        if final or scan.scanned >= SCAN_LIMIT_PER_STREAM:
            scan.buffer = bytearray()
            return
        kept = scan.buffer[-SCAN_OVERLAP:]
        scan.offset += len(scan.buffer) - len(kept)
        scan.buffer = bytearray(kept)

    # -- ends -------------------------------------------------------------------------

    def close_flow(self, flow: Flow, timestamp: float, number: int) -> None:
        """Forget a flow: end its streams if still open, then emit its flow event."""
        self.flows.remove(flow)
        if not flow.closed:
            self._end_streams(flow, timestamp, number)
        self._flow_event(flow)

    def _end_streams(self, flow: Flow, timestamp: float, number: int) -> None:
        """The connection ended (FIN both ways, RST, idle or end of input): flush and close dissection."""
        flow.closed = True
        state = flow.state
        if flow.protocol == TCP and state is not None:
            state.now = (timestamp, number)
            for stream in state.streams:
                stream.flush()
            if state.dissector is not None:
                state.dissector.close(timestamp, number)
                state.dissector = None
            for from_client, scan in ((True, state.scans[0]), (False, state.scans[1])):
                self._flush_scan(flow, from_client, scan, flow.end, final=True)
        elif isinstance(state, Dissector):
            state.close(timestamp, number)
            flow.state = None

    def finish(self) -> None:
        """End of input: close every flow still open, and report what the caps cost."""
        for flow in list(self.flows.flows.values()):
            self.close_flow(flow, self.last_time, 0)
        budget = self.budget
        if budget.per_stream_hits:
            self.stats.warn(
                f"TCP reassembly per-stream cap ({budget.per_stream >> 10} KiB) hit {budget.per_stream_hits} time(s); holes skipped"
            )
        if budget.total_hits:
            self.stats.warn(
                f"TCP reassembly total cap ({budget.total >> 20} MiB) hit {budget.total_hits} time(s); holes skipped"
            )
        if budget.gaps:
            self.stats.warn(
                f"TCP streams with missing data: {budget.gaps} gap(s), {budget.gap_bytes:,} bytes"
            )
        if self.flows.evicted:
            self.stats.warn(
                f"flow table cap ({self.flows.max_flows:,}) hit: {self.flows.evicted} flow(s) closed early"
            )

    # -- events -----------------------------------------------------------------------

    def emit(self, flow: Flow, timestamp: float, number: int, dataset: str, fields: dict[str, Any],
             original: dict[str, Any], raw: str, logsource: LogSource) -> None:  # fmt: skip
        base = {
            "event.kind": "event",
            "event.module": "network",
            "event.dataset": f"network.{dataset}",
            "source.ip": flow.client,
            "source.port": flow.client_port,
            "destination.ip": flow.server,
            "destination.port": flow.server_port,
            "network.transport": flow.transport,
            "network.protocol": flow.service if flow.service != "unknown" else None,
            "network.community_id": flow.uid,
        }
        zeek = {
            "uid": flow.uid,
            "id.orig_h": flow.client,
            "id.orig_p": flow.client_port,
            "id.resp_h": flow.server,
            "id.resp_p": flow.server_port,
        }
        self.pending.append(
            Event(
                timestamp=timestamp,
                fields=compact({**base, **fields}),
                original=compact({**zeek, **original}),
                raw=raw,
                logsource=logsource,
                input=self.input,
                offset=f"packet {number or flow.first_packet}",
                format=FORMAT,
            )
        )

    def auth(self, flow: Flow, timestamp: float, number: int, protocol: str, user: str | None, outcome: str,
             secret: str | bytes | None, method: str, extra: dict[str, Any] | None = None) -> None:  # fmt: skip
        """An authentication attempt seen on the wire, shaped like the log-based ones.

        ``extra`` adds protocol fields (``user.domain``, the database, an error reason) to the event.
        """
        fields: dict[str, Any] = {
            "event.category": "authentication",
            "event.type": "start",
            "event.outcome": outcome,
            "event.action": f"{protocol}-login",
            "user.name": user,
            "credential.method": method,
            **(extra or {}),
        }
        masked = ""
        if secret is not None:
            fields.update(secret_fields(secret, "password", self.options.reveal_secrets))
            masked = f" password={mask(secret)}"
        raw = f"{protocol.upper()} login user={user or '-'}{masked} method={method} outcome={outcome}"
        logsource = LogSource.of("zeek", (protocol,), "authentication")
        self.emit(flow, timestamp, number, "auth", fields, {"service": protocol}, raw, logsource)

    def payload(self, flow: Flow, kind: str, data: bytes, timestamp: float, offset: int = 0,
                name: str | None = None, part: int | None = None) -> None:  # fmt: skip
        """Hand content to the scanner, if one is listening."""
        if self.scanner is not None and data:
            self.scanner(
                Payload(
                    data,
                    kind,
                    self.input,
                    timestamp,
                    flow.uid,
                    flow.client,
                    flow.client_port,
                    flow.server,
                    flow.server_port,
                    offset,
                    name,
                    part,
                )
            )

    def _flow_event(self, flow: Flow) -> None:
        duration = max(0.0, flow.end - flow.start)
        fields = {
            "event.category": "network",
            "event.type": "connection",
            "event.start": iso_timestamp(flow.start),
            "event.end": iso_timestamp(flow.end),
            "event.duration": int(duration * 1e9),
            "source.packets": flow.packets[0],
            "source.bytes": flow.bytes[0],
            "destination.packets": flow.packets[1],
            "destination.bytes": flow.bytes[1],
            "network.packets": sum(flow.packets),
            "network.bytes": sum(flow.bytes),
            "network.tcp_flags_history": flow.history or None,
        }
        original = {
            "proto": flow.transport,
            "service": flow.service if flow.service != "unknown" else None,
            "duration": round(duration, 6),
            "orig_bytes": flow.payload_bytes[0],
            "resp_bytes": flow.payload_bytes[1],
            "orig_pkts": flow.packets[0],
            "resp_pkts": flow.packets[1],
            "history": flow.history or None,
            "src_ip": flow.client,
            "dst_ip": flow.server,
            "dst_port": flow.server_port,
        }
        raw = (
            f"{flow.transport} {flow.client}:{flow.client_port} -> {flow.server}:{flow.server_port} "
            f"{flow.service or '-'} {sum(flow.packets)} pkts {sum(flow.bytes)} bytes {duration:.3f} s"
        )
        self.emit(flow, flow.start, flow.first_packet, "flow", fields, original, raw, FLOW_LOGSOURCE)


class _TcpState:
    """The reassemblers, dissector and scan buffers of one TCP flow."""

    __slots__ = ("dissector", "now", "scans", "streams")

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        self.dissector: Dissector | None = None
        self.now: tuple[float, int] = (flow.start, flow.first_packet)
        self.scans = (_StreamScan(), _StreamScan())
        self.streams = (
            StreamReassembler(self._deliver(analyzer, flow, True), analyzer.budget),
            StreamReassembler(self._deliver(analyzer, flow, False), analyzer.budget),
        )

    def _deliver(self, analyzer: Analyzer, flow: Flow, from_client: bool) -> Callable[[bytes, bool], None]:
        def deliver(data: bytes, gap: bool) -> None:
            analyzer._payload(flow, from_client, data, self.now[0], self.now[1], gap)

        return deliver
