"""Frames for captures, built with scapy: TCP connections (handshake, data both ways, close) and UDP."""

from __future__ import annotations

from random import Random

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from tocsin.simulate.records import Frame, Record

GATEWAY_MAC = "00:1b:21:3a:4f:01"
HEADERS = 14 + 20 + 20
#: Data bytes of one segment: the Ethernet MSS, or what a capture with GRO/TSO shows.
MSS = 1460
#: A bulk segment of a host capture with generic receive offload.
GRO_SEGMENT = 64000
#: Exchange: who sends (True: the client) and the bytes, or just a size for opaque bulk data.
Exchange = tuple[bool, bytes | int]


def mac(ip: str) -> str:
    """A stable locally-administered MAC for a host address."""
    octets = [int(part) for part in ip.split(".")]
    return "02:00:" + ":".join(f"{octet:02x}" for octet in octets)


def _frame(packet: Packet, wire_length: int | None = None) -> Frame:
    data = bytes(packet)
    return Frame(data, wire_length or len(data))


def _ether(source: str, destination: str, internal: bool) -> Ether:
    """Ethernet header as the gateway sees it: hosts on one side, the router on the other."""
    return Ether(
        src=mac(source) if internal else GATEWAY_MAC, dst=GATEWAY_MAC if internal else mac(destination)
    )


def udp(
    stream: str,
    time: float,
    source: str,
    sport: int,
    destination: str,
    dport: int,
    payload: Packet | bytes,
    internal_source: bool = True,
) -> Record:
    packet = _ether(source, destination, internal_source) / IP(
        src=source, dst=destination, ttl=64 if internal_source else 57
    )
    return Record(time, stream, _frame(packet / UDP(sport=sport, dport=dport) / payload))


class TcpConnection:
    """One TCP connection from ``client`` to ``server``: call ``send`` in order, then ``close``."""

    def __init__(
        self,
        rng: Random,
        stream: str,
        time: float,
        client: str,
        client_port: int,
        server: str,
        server_port: int,
        rtt: float = 0.03,
        segment: int = MSS,
        client_internal: bool = True,
    ) -> None:
        self.rng, self.stream, self.time, self.rtt, self.segment = rng, stream, time, rtt, segment
        self.ends = ((client, client_port, client_internal), (server, server_port, not client_internal))
        self.seq = [rng.getrandbits(32), rng.getrandbits(32)]
        self.records: list[Record] = []
        self._packet(True, "S")
        self.seq[0] += 1
        self.time += rtt / 2
        self._packet(False, "SA")
        self.seq[1] += 1
        self.time += rtt / 2
        self._packet(True, "A")

    def _packet(self, from_client: bool, flags: str, data: bytes | int = b"") -> None:
        (src, sport, internal), (dst, dport, _) = self.ends if from_client else self.ends[::-1]
        me, peer = (0, 1) if from_client else (1, 0)
        size = data if isinstance(data, int) else len(data)
        ip = IP(src=src, dst=dst, ttl=64 if internal else 57, flags="DF")
        if isinstance(data, int):  # opaque bulk data: only the headers are kept, the IP length tells the size
            ip.len = 40 + size
            payload: bytes = bytes(16)
        else:
            payload = data
        tcp = TCP(
            sport=sport,
            dport=dport,
            flags=flags,
            seq=self.seq[me] % 2**32,
            ack=self.seq[peer] % 2**32 if "A" in flags else 0,
            window=64240,
        )
        packet = _ether(src, dst, internal) / ip / tcp
        if payload:
            packet = packet / Raw(payload)
        self.records.append(Record(self.time, self.stream, _frame(packet, HEADERS + size)))

    def send(self, from_client: bool, data: bytes | int, think: float = 0.0) -> None:
        """``data`` from one side, in segments, each acknowledged; ``think`` seconds before it starts."""
        self.time += think
        me = 0 if from_client else 1
        remaining = data if isinstance(data, int) else len(data)
        offset = segments = 0
        while remaining > 0:
            size = min(self.segment, remaining)
            chunk: bytes | int = size if isinstance(data, int) else data[offset : offset + size]
            self._packet(from_client, "PA", chunk)
            self.seq[me] += size
            offset += size
            remaining -= size
            segments += 1
            self.time += size / 12_500_000 + self.rng.uniform(0.0001, 0.001)  # ~100 Mbit/s
            if remaining <= 0 or segments % 2 == 0:  # delayed ACK: one for every two segments
                self._packet(not from_client, "A")
        self.time += self.rtt

    def close(self) -> list[Record]:
        """FIN from the client, FIN-ACK, last ACK: the connection's frames."""
        self._packet(True, "FA")
        self.seq[0] += 1
        self.time += self.rtt / 2
        self._packet(False, "FA")
        self.seq[1] += 1
        self.time += self.rtt / 2
        self._packet(True, "A")
        return self.records


def tcp_connection(
    rng: Random,
    stream: str,
    time: float,
    client: str,
    client_port: int,
    server: str,
    server_port: int,
    exchanges: list[Exchange],
    segment: int = MSS,
    client_internal: bool = True,
) -> list[Record]:
    """A whole connection: handshake, the exchanges in order (with a short pause before each), close."""
    connection = TcpConnection(
        rng,
        stream,
        time,
        client,
        client_port,
        server,
        server_port,
        segment=segment,
        client_internal=client_internal,
    )
    for from_client, data in exchanges:
        connection.send(from_client, data, think=rng.uniform(0.001, 0.05) if from_client else 0.01)
    return connection.close()
