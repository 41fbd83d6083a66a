"""Building small captures with scapy: TCP sessions with correct sequence numbers, UDP exchanges."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

CLIENT, SERVER = "10.0.0.5", "203.0.113.9"
T0 = 1_700_000_000.0


class Session:
    """A TCP connection: handshake, data each way, FIN; every packet stamped one millisecond apart."""

    def __init__(self, server_port: int, client: str = CLIENT, server: str = SERVER, client_port: int = 40000,
                 start: float = T0) -> None:  # fmt: skip
        self.ends = {True: (client, client_port), False: (server, server_port)}
        self.seq = {True: 1000, False: 5000}
        self.time = start
        self.packets: list[Packet] = []

    def _packet(self, from_client: bool, flags: str, payload: bytes = b"", seq: int | None = None) -> Packet:
        (src, sport), (dst, dport) = self.ends[from_client], self.ends[not from_client]
        packet = Ether() / IP(src=src, dst=dst) / TCP(
            sport=sport, dport=dport, flags=flags, seq=self.seq[from_client] if seq is None else seq,
            ack=self.seq[not from_client],
        )  # fmt: skip
        if payload:
            packet = packet / Raw(payload)
        self.time += 0.001
        packet.time = self.time
        return packet

    def handshake(self) -> Session:
        self.packets.append(self._packet(True, "S"))
        self.seq[True] += 1
        self.packets.append(self._packet(False, "SA"))
        self.seq[False] += 1
        self.packets.append(self._packet(True, "A"))
        return self

    def send(self, from_client: bool, payload: bytes) -> Session:
        self.packets.append(self._packet(from_client, "PA", payload))
        self.seq[from_client] += len(payload)
        return self

    def segment(self, from_client: bool, payload: bytes, offset: int) -> Packet:
        """A data segment at ``offset`` from the current sequence number, not appended (for reordering)."""
        return self._packet(from_client, "PA", payload, seq=self.seq[from_client] + offset)

    def close(self) -> Session:
        self.packets.append(self._packet(True, "FA"))
        self.seq[True] += 1
        self.packets.append(self._packet(False, "FA"))
        self.seq[False] += 1
        self.packets.append(self._packet(True, "A"))
        return self

    def dialogue(self, *lines: tuple[bool, bytes]) -> Session:
        for from_client, payload in lines:
            self.send(from_client, payload)
        return self


def udp(
    payload: bytes, sport: int, dport: int, src: str = CLIENT, dst: str = SERVER, at: float = T0
) -> Packet:
    packet = Ether() / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)
    packet.time = at
    return packet


def write(path: Path, packets: list[Packet], **options: object) -> Path:
    wrpcap(str(path), packets, **options)
    return path
