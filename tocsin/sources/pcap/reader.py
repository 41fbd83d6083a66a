"""Reading pcap and pcapng records, and decoding link, IP and TCP/UDP headers cheaply.

scapy's full dissection runs at about 1,300 packets/s on SMB traffic; the hot
path here reads records from large buffered chunks with ``struct`` and
decodes only the headers flows need (see bench/RESULTS_PCAP.md). Corrupt or
truncated records are counted and reading stops cleanly, never raises.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from tocsin.sources.base import InputStats
from tocsin.sources.inputs import STREAM_ERRORS

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
#: Classic pcap magic → (byte order, seconds per timestamp fraction unit).
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
#: A record claiming more than this is corrupt: no link carries such frames.
MAX_RECORD = 256 * 1024
#: The largest IP datagram payload reassembled (IPv4's limit; IPv6 jumbograms are not fragmented).
MAX_DATAGRAM = 65535
_CHUNK = 1 << 20

LINK_NULL, LINK_ETHERNET, LINK_RAW, LINK_LOOP, LINK_SLL, LINK_SLL2 = 0, 1, 101, 108, 113, 276
_RAW_LINKS = {LINK_RAW, 12, 14, 228, 229}
_VLAN_TYPES = {0x8100, 0x88A8, 0x9100}
_BSD_INET6 = {24, 28, 30}

TCP, UDP = 6, 17
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_unpack_u16 = struct.Struct("!H").unpack_from
_IPV4 = struct.Struct("!BBHHHBBH4s4s").unpack_from
_TCP = struct.Struct("!HHIIBB").unpack_from
_UDP = struct.Struct("!HHH").unpack_from
_ntoa = socket.inet_ntoa


@dataclass(slots=True)
class Frame:
    """One captured record: its 1-based number, time, link type and bytes."""

    number: int
    timestamp: float
    linktype: int
    data: bytes
    wire_length: int


@dataclass(slots=True)
class Packet:
    """The decoded headers of an IP packet and its transport payload."""

    timestamp: float
    number: int
    protocol: int
    src: str
    dst: str
    sport: int
    dport: int
    flags: int
    seq: int
    payload: bytes
    length: int


class _Buffered:
    """Reads exact byte counts from a stream through a large buffer."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.buffer = b""
        self.position = 0

    def read(self, size: int) -> bytes | None:
        """Exactly ``size`` bytes, or None at (or truncated before) the end."""
        end = self.position + size
        if end > len(self.buffer):
            rest = self.buffer[self.position :]
            chunks = [rest]
            have = len(rest)
            while have < size:
                chunk = self.stream.read(max(_CHUNK, size - have))
                if not chunk:
                    break
                chunks.append(chunk)
                have += len(chunk)
            self.buffer = b"".join(chunks)
            self.position = 0
            end = size
            if have < size:
                self.buffer, self.position = b"", 0
                return None if have == 0 else b""
        data = self.buffer[self.position : end]
        self.position = end
        return data


def capture_kind(head: bytes) -> str | None:
    """'pcap' or 'pcapng' from the first bytes, else None."""
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if (
        head[:4] == PCAPNG_MAGIC
        and len(head) >= 12
        and head[8:12] in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d")
    ):
        return "pcapng"
    return None


class CaptureReader:
    """The records of a pcap or pcapng stream."""

    def __init__(self, stream: IO[bytes], stats: InputStats) -> None:
        self._reader = _Buffered(stream)
        self.stats = stats

    def frames(self) -> Iterator[Frame]:
        """Every record; problems are counted in ``stats`` and end the input cleanly."""
        reader, stats = self._reader, self.stats
        try:
            head = reader.read(4)
            if not head:
                return
            if head in PCAP_MAGICS:
                yield from _pcap_frames(reader, head, stats)
            elif head == PCAPNG_MAGIC:
                yield from _pcapng_frames(reader, stats)
            else:
                stats.skip("not a pcap or pcapng capture")
        except STREAM_ERRORS as exc:
            stats.skip(f"truncated or corrupt compressed data ({type(exc).__name__})")


def _pcap_frames(reader: _Buffered, magic: bytes, stats: InputStats) -> Iterator[Frame]:
    order, unit = PCAP_MAGICS[magic]
    header = reader.read(20)
    if not header:
        stats.skip("truncated capture header")
        return
    linktype = struct.unpack(order + "HHiIII", header)[5] & 0x0FFFFFFF
    record = struct.Struct(order + "IIII").unpack
    number = 0
    while True:
        raw = reader.read(16)
        if raw is None:
            return
        if len(raw) < 16:
            stats.skip("truncated packet record")
            return
        seconds, fraction, captured, wire = record(raw)
        if captured > MAX_RECORD:
            stats.skip("absurd packet length (corrupt capture; rest not read)")
            return
        data = reader.read(captured)
        number += 1
        if data is None or len(data) < captured:
            stats.skip("truncated packet record")
            return
        yield Frame(number, seconds + fraction * unit, linktype, data, wire)


def _pcapng_frames(reader: _Buffered, stats: InputStats) -> Iterator[Frame]:
    order = "<"
    interfaces: list[tuple[int, float]] = []
    number = 0
    block_type = 0x0A0D0D0A
    while True:
        if block_type is None:
            raw = reader.read(4)
            if raw is None:
                return
            if len(raw) < 4:
                stats.skip("truncated pcapng block")
                return
            block_type = struct.unpack(order + "I", raw)[0]
        raw_length = reader.read(4)
        if not raw_length or len(raw_length) < 4:
            stats.skip("truncated pcapng block")
            return
        if block_type == 0x0A0D0D0A:
            body_start = reader.read(4)
            if not body_start or len(body_start) < 4:
                stats.skip("truncated pcapng block")
                return
            order = "<" if body_start == b"\x4d\x3c\x2b\x1a" else ">"
            length = struct.unpack(order + "I", raw_length)[0]
            body = body_start + (reader.read(length - 16) or b"") if 16 <= length <= MAX_RECORD else None
            interfaces = []
        else:
            length = struct.unpack(order + "I", raw_length)[0]
            body = reader.read(length - 12) if 12 <= length <= MAX_RECORD + 64 and length % 4 == 0 else None
        if body is None or len(body) < length - 12:
            stats.skip("corrupt or truncated pcapng block (rest not read)")
            return
        trailer = reader.read(4)
        if not trailer or len(trailer) < 4:
            stats.skip("truncated pcapng block")
            return
        if block_type == 1 and len(body) >= 8:
            linktype = struct.unpack_from(order + "H", body)[0]
            interfaces.append((linktype, _ts_resolution(body[8:], order)))
        elif block_type in (6, 2) and len(body) >= 20:
            interface, high, low, captured, wire = struct.unpack_from(order + "IIIII", body)
            if block_type == 2:
                interface &= 0xFFFF
            number += 1
            if interface >= len(interfaces) or captured > len(body) - 20:
                stats.skip("pcapng packet with unknown interface or bad length")
            else:
                linktype, unit = interfaces[interface]
                yield Frame(number, ((high << 32) | low) * unit, linktype, body[20 : 20 + captured], wire)
        elif block_type == 3 and len(body) >= 4 and interfaces:
            number += 1
            wire = struct.unpack_from(order + "I", body)[0]
            yield Frame(number, 0.0, interfaces[0][0], body[4 : 4 + wire], wire)
        block_type = None  # type: ignore[assignment]


def _ts_resolution(options: bytes, order: str) -> float:
    """The ``if_tsresol`` option of an interface block (default microseconds)."""
    position = 0
    while position + 4 <= len(options):
        code, size = struct.unpack_from(order + "HH", options, position)
        if code == 0:
            break
        if code == 9 and size >= 1:
            value = options[position + 4]
            return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0**-value
        position += 4 + ((size + 3) & ~3)
    return 1e-6


@dataclass(slots=True)
class _Datagram:
    """The fragments of one IP datagram received so far."""

    first_seen: float
    pieces: dict[int, bytes] = field(default_factory=dict)
    size: int | None = None
    held: int = 0


class Defragmenter:
    """IPv4 and IPv6 fragments put back into datagrams (RFC 791, RFC 8200), within limits.

    A datagram is bounded in size and pieces, the datagrams held at once and their bytes are capped, and
    one not whole within ``timeout`` seconds of capture time is dropped; every drop is counted by reason.
    Overlapping pieces: the one received first wins.
    """

    def __init__(self, max_datagrams: int = 4096, max_bytes: int = 32 << 20, timeout: float = 60.0,
                 max_pieces: int = 1024) -> None:  # fmt: skip
        self.max_datagrams = max_datagrams
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_pieces = max_pieces
        self.open: dict[tuple[object, ...], _Datagram] = {}
        self.held = 0
        self.fragments = 0
        self.reassembled = 0

    def add(self, key: tuple[object, ...], offset: int, more: bool, payload: bytes, timestamp: float,
            stats: InputStats) -> bytes | None:  # fmt: skip
        """Add one fragment; the whole datagram's payload once it is complete, else None."""
        self.fragments += 1
        self._expire(timestamp, stats)
        datagram = self.open.get(key)
        if datagram is None:
            if len(self.open) >= self.max_datagrams:
                self._drop(
                    next(iter(self.open)), "IP fragments dropped: too many datagrams in reassembly", stats
                )
            datagram = self.open[key] = _Datagram(timestamp)
        if offset + len(payload) > MAX_DATAGRAM or len(datagram.pieces) >= self.max_pieces:
            self._drop(key, "IP fragments dropped: datagram over the size or piece limit", stats)
            stats.skip("IP fragments dropped: datagram over the size or piece limit")
            return None
        if self.held + len(payload) > self.max_bytes:
            self._drop(key, "IP fragments dropped: reassembly memory cap", stats)
            stats.skip("IP fragments dropped: reassembly memory cap")
            return None
        if not more:
            datagram.size = offset + len(payload)
        if offset not in datagram.pieces:
            datagram.pieces[offset] = payload
            datagram.held += len(payload)
            self.held += len(payload)
        whole = _assemble(datagram)
        if whole is not None:
            del self.open[key]
            self.held -= datagram.held
            self.reassembled += 1
        return whole

    def finish(self, stats: InputStats) -> None:
        """End of input: count what stayed incomplete, and report the datagrams reassembled."""
        for key in list(self.open):
            self._drop(key, "IP fragments of a datagram never completed", stats)
        if self.reassembled:
            stats.warn(
                f"IP datagrams reassembled from fragments: {self.reassembled:,} (from {self.fragments:,} fragments)"
            )

    def _expire(self, now: float, stats: InputStats) -> None:
        while self.open:
            key, oldest = next(iter(self.open.items()))
            if now - oldest.first_seen <= self.timeout:
                return
            self._drop(key, f"IP fragments of a datagram not completed within {self.timeout:g} s", stats)

    def _drop(self, key: tuple[object, ...], reason: str, stats: InputStats) -> None:
        datagram = self.open.pop(key, None)
        if datagram is not None:
            self.held -= datagram.held
            if datagram.pieces:
                stats.skip(reason, len(datagram.pieces))


def _assemble(datagram: _Datagram) -> bytes | None:
    """The datagram's payload when its pieces cover it from 0 to its known size without a hole."""
    if datagram.size is None:
        return None
    whole = bytearray(datagram.size)
    covered = 0
    for offset in sorted(datagram.pieces):
        piece = datagram.pieces[offset]
        if offset > covered:
            return None
        end = min(offset + len(piece), datagram.size)
        if end > covered:
            whole[covered:end] = piece[covered - offset : end - offset]
            covered = end
    return bytes(whole) if covered >= datagram.size else None


def network_layer(linktype: int, data: bytes) -> tuple[int, int]:
    """(IP version 4/6 or 0 when not IP, offset of the IP header) for a link-layer frame."""
    if linktype == LINK_ETHERNET:
        if len(data) < 14:
            return 0, 0
        ethertype = _unpack_u16(data, 12)[0]
        offset = 14
        while ethertype in _VLAN_TYPES and len(data) >= offset + 4:
            ethertype = _unpack_u16(data, offset + 2)[0]
            offset += 4
        return (4 if ethertype == 0x0800 else 6 if ethertype == 0x86DD else 0), offset
    if linktype in _RAW_LINKS:
        return (data[0] >> 4 if data else 0), 0
    if linktype == LINK_SLL:
        return (_ethertype_version(_unpack_u16(data, 14)[0]) if len(data) >= 16 else 0), 16
    if linktype == LINK_SLL2:
        return (_ethertype_version(_unpack_u16(data, 0)[0]) if len(data) >= 20 else 0), 20
    if linktype in (LINK_NULL, LINK_LOOP):
        if len(data) < 4:
            return 0, 0
        family = struct.unpack_from("<I" if data[0] else ">I", data)[0]
        return (4 if family == 2 else 6 if family in _BSD_INET6 else 0), 4
    return 0, 0


def _ethertype_version(ethertype: int) -> int:
    return 4 if ethertype == 0x0800 else 6 if ethertype == 0x86DD else 0


def decode(frame: Frame, stats: InputStats, fragments: Defragmenter | None = None) -> Packet | None:
    """The IP/TCP/UDP headers of a frame; None (counted) when it is not IP or is malformed.

    With ``fragments``, IP fragments are held until their datagram is whole (None meanwhile); without,
    a first fragment is decoded alone and the others are skipped.
    """
    version, offset = network_layer(frame.linktype, frame.data)
    data = frame.data
    if version == 4:
        if len(data) < offset + 20:
            stats.skip("truncated IPv4 header")
            return None
        first, _, total, ident, fragment, _, protocol, _, src, dst = _IPV4(data, offset)
        header = (first & 0x0F) * 4
        if first >> 4 != 4 or header < 20:
            stats.skip("malformed IPv4 header")
            return None
        end = offset + total if offset + header <= offset + total <= len(data) else len(data)
        start = offset + header
        source, destination = _ntoa(src), _ntoa(dst)
        if fragment & 0x3FFF:  # more fragments, or not the first
            if fragments is None:
                if fragment & 0x1FFF:
                    stats.skip("IP fragment after the first (not reassembled)")
                    return None
            else:
                key = (4, source, destination, ident, protocol)
                whole = fragments.add(key, (fragment & 0x1FFF) * 8, bool(fragment & 0x2000), data[start:end],
                                      frame.timestamp, stats)  # fmt: skip
                if whole is None:
                    return None
                data, start, end = whole, 0, len(whole)
    elif version == 6:
        if len(data) < offset + 40:
            stats.skip("truncated IPv6 header")
            return None
        length = _unpack_u16(data, offset + 4)[0]
        protocol = data[offset + 6]
        source = socket.inet_ntop(socket.AF_INET6, data[offset + 8 : offset + 24])
        destination = socket.inet_ntop(socket.AF_INET6, data[offset + 24 : offset + 40])
        start = offset + 40
        end = min(start + length, len(data)) if length else len(data)
        for _ in range(8):
            if protocol not in (0, 43, 60, 44) or start + 8 > end:
                break
            if protocol == 44 and (field := _unpack_u16(data, start + 2)[0]) & 0xFFF9:  # offset or more
                if fragments is None:
                    if field & 0xFFF8:
                        stats.skip("IP fragment after the first (not reassembled)")
                        return None
                else:
                    key = (6, source, destination, struct.unpack_from("!I", data, start + 4)[0], data[start])
                    whole = fragments.add(key, field & 0xFFF8, bool(field & 1), data[start + 8 : end],
                                          frame.timestamp, stats)  # fmt: skip
                    if whole is None:
                        return None
                    protocol, data, start, end = data[start], whole, 0, len(whole)
                    continue
            protocol, size = data[start], (8 if protocol == 44 else (data[start + 1] + 1) * 8)
            start += size
    else:
        stats.skip(f"not IP (link type {frame.linktype})")
        return None
    if protocol == TCP:
        if end - start < 20:
            stats.skip("truncated TCP header")
            return None
        sport, dport, seq, _, data_offset, flags = _TCP(data, start)
        header_end = start + (data_offset >> 4) * 4
        payload = data[header_end:end] if header_end <= end else b""
        return Packet(
            frame.timestamp,
            frame.number,
            TCP,
            source,
            destination,
            sport,
            dport,
            flags,
            seq,
            payload,
            frame.wire_length,
        )
    if protocol == UDP:
        if end - start < 8:
            stats.skip("truncated UDP header")
            return None
        sport, dport, _ = _UDP(data, start)
        return Packet(
            frame.timestamp,
            frame.number,
            UDP,
            source,
            destination,
            sport,
            dport,
            0,
            0,
            data[start + 8 : end],
            frame.wire_length,
        )
    return Packet(
        frame.timestamp, frame.number, protocol, source, destination, 0, 0, 0, 0, b"", frame.wire_length
    )
