"""Bidirectional flows: the 5-tuple, who started it, counts each way and the TCP flag history."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from tocsin.sources.pcap.reader import ACK, FIN, RST, SYN, TCP, UDP, Packet

#: Ports that name a service: the side using one is the server even when the SYN was not captured.
SERVICE_PORTS = frozenset(
    {20, 21, 22, 23, 25, 53, 80, 88, 110, 143, 389, 443, 465, 587, 636, 993, 995, 1080, 1433,
     1812, 3128, 3306, 3389, 5353, 5432, 6379, 6667, 8000, 8080, 8443, 10080}
)  # fmt: skip
TRANSPORTS = {TCP: "tcp", UDP: "udp", 1: "icmp", 58: "ipv6-icmp"}
#: Flags recorded in the history (Zeek letters): upper case from the client, lower from the server.
_HISTORY = ((SYN, "S"), (FIN, "F"), (RST, "R"))

#: A closed connection stays in the table this long (capture time) to absorb its last ACKs.
CLOSED_LINGER = 5.0

FlowKey = tuple[int, str, int, str, int]


@dataclass(slots=True)
class Flow:
    """One connection or UDP exchange; ``client`` is the side that started it."""

    protocol: int
    client: str
    client_port: int
    server: str
    server_port: int
    start: float
    end: float
    first_packet: int
    packets: list[int] = field(default_factory=lambda: [0, 0])
    bytes: list[int] = field(default_factory=lambda: [0, 0])
    payload_bytes: list[int] = field(default_factory=lambda: [0, 0])
    history: str = ""
    fins: int = 0
    closed: bool = False
    service: str | None = None
    state: Any = None
    _uid: str | None = None

    @property
    def uid(self) -> str:
        """The Community ID v1 of the flow: the same flow gets the same id in Zeek, Suricata and here."""
        if self._uid is None:
            self._uid = community_id(
                self.protocol, self.client, self.client_port, self.server, self.server_port
            )
        return self._uid

    @property
    def transport(self) -> str:
        return TRANSPORTS.get(self.protocol, str(self.protocol))

    def note(self, flags: int, from_client: bool) -> None:
        """Add TCP flags to the history (each letter once per direction)."""
        for bit, letter in _HISTORY:
            if flags & bit:
                mark = letter if from_client else letter.lower()
                if bit == SYN and flags & ACK:
                    mark = "H" if from_client else "h"
                if mark not in self.history:
                    self.history += mark
        if flags & FIN:
            self.fins |= 1 if from_client else 2


def community_id(protocol: int, src: str, sport: int, dst: str, dport: int) -> str:
    """Community ID v1 (seed 0) of a 5-tuple."""
    family = socket.AF_INET6 if ":" in src else socket.AF_INET
    a, b = socket.inet_pton(family, src), socket.inet_pton(family, dst)
    if (a, sport) > (b, dport):
        a, b, sport, dport = b, a, dport, sport
    data = struct.pack("!H", 0) + a + b + struct.pack("!BBHH", protocol, 0, sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


class FlowTable:
    """The live flows, with idle expiry and a cap on how many are tracked at once."""

    def __init__(self, max_flows: int = 100_000, tcp_idle: float = 600.0, udp_idle: float = 120.0) -> None:
        self.flows: dict[FlowKey, Flow] = {}
        self.max_flows = max_flows
        self.idle = {TCP: tcp_idle}
        self.default_idle = udp_idle
        self.evicted = 0

    def lookup(self, packet: Packet) -> tuple[Flow, bool]:
        """(flow, packet is from the client) for a packet, creating the flow if needed."""
        flows = self.flows
        key = (packet.protocol, packet.src, packet.sport, packet.dst, packet.dport)
        flow = flows.get(key)
        if flow is not None:
            return flow, flow.client == packet.src and flow.client_port == packet.sport
        reverse = (packet.protocol, packet.dst, packet.dport, packet.src, packet.sport)
        flow = flows.get(reverse)
        if flow is not None:
            return flow, flow.client == packet.src and flow.client_port == packet.sport
        from_client = not _starts_from_server(packet)
        if from_client:
            flow = Flow(packet.protocol, packet.src, packet.sport, packet.dst, packet.dport,
                        packet.timestamp, packet.timestamp, packet.number)  # fmt: skip
        else:
            flow = Flow(packet.protocol, packet.dst, packet.dport, packet.src, packet.sport,
                        packet.timestamp, packet.timestamp, packet.number)  # fmt: skip
        flows[key] = flow
        return flow, from_client

    def remove(self, flow: Flow) -> None:
        key = (flow.protocol, flow.client, flow.client_port, flow.server, flow.server_port)
        if self.flows.pop(key, None) is None:
            self.flows.pop(
                (flow.protocol, flow.server, flow.server_port, flow.client, flow.client_port), None
            )

    def expired(self, now: float) -> list[Flow]:
        """Flows idle for longer than their timeout, then the oldest ones beyond the cap."""
        idle = [
            f
            for f in self.flows.values()
            if now - f.end > (CLOSED_LINGER if f.closed else self.idle.get(f.protocol, self.default_idle))
        ]
        excess = len(self.flows) - len(idle) - self.max_flows
        if excess > 0:
            chosen = {id(f) for f in idle}
            oldest = [f for f in self.flows.values() if id(f) not in chosen][:excess]
            self.evicted += len(oldest)
            idle += oldest
        return idle


def _starts_from_server(packet: Packet) -> bool:
    """Whether the first packet seen of a flow was sent by its server (a SYN-ACK, or a missed SYN)."""
    if packet.protocol == TCP and packet.flags & SYN:
        return bool(packet.flags & ACK)
    return packet.sport in SERVICE_PORTS and packet.dport not in SERVICE_PORTS and packet.sport < packet.dport
