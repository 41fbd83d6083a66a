"""DNS over UDP and TCP: one event per query/answer pair (unanswered queries at the end)."""

from __future__ import annotations

import socket
import struct
from typing import Any

from tocsin.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector, dissector
from tocsin.sources.pcap.flows import Flow
from tocsin.sources.pcap.reader import TCP, UDP

LOGSOURCE = LogSource.of("zeek", ("dns",), "dns")
TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
         35: "NAPTR", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 64: "SVCB", 65: "HTTPS",
         99: "SPF", 250: "TSIG", 251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA"}  # fmt: skip
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
MAX_POINTERS = 32
MAX_RECORDS = 100
MAX_PENDING = 1000
_HEADER = struct.Struct("!HHHHHH").unpack_from


class Malformed(ValueError):
    """A DNS message that cannot be parsed."""


def read_name(message: bytes, position: int) -> tuple[str, int]:
    """A (possibly compressed) name and the position after it; compression loops are bounded."""
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        if position >= len(message):
            raise Malformed("name runs past the message")
        length = message[position]
        if length & 0xC0 == 0xC0:
            if position + 1 >= len(message):
                raise Malformed("truncated pointer")
            jumps += 1
            if jumps > MAX_POINTERS:
                raise Malformed("compression loop")
            if end < 0:
                end = position + 2
            position = ((length & 0x3F) << 8) | message[position + 1]
            continue
        if length & 0xC0:
            raise Malformed("bad label type")
        position += 1
        if length == 0:
            break
        labels.append(message[position : position + length].decode("ascii", "backslashreplace"))
        position += length
    return ".".join(labels), end if end >= 0 else position


def parse_message(message: bytes) -> dict[str, Any]:
    """The header, first question and answer data of a DNS message."""
    if len(message) < 12:
        raise Malformed("shorter than a DNS header")
    ident, flags, questions, answers, _, _ = _HEADER(message)
    position = 12
    name, qtype = "", 0
    for index in range(min(questions, MAX_RECORDS)):
        qname, position = read_name(message, position)
        if position + 4 > len(message):
            raise Malformed("truncated question")
        if index == 0:
            name, qtype = qname, struct.unpack_from("!H", message, position)[0]
        position += 4
    found: list[str] = []
    ttls: list[int] = []
    for _ in range(min(answers, MAX_RECORDS)):
        _, position = read_name(message, position)
        if position + 10 > len(message):
            break
        rtype, _, ttl, size = struct.unpack_from("!HHIH", message, position)
        position += 10
        data = message[position : position + size]
        if len(data) < size:
            break
        found.append(_rdata(message, rtype, data, position))
        ttls.append(ttl)
        position += size
    return {
        "id": ident,
        "response": bool(flags & 0x8000),
        "opcode": (flags >> 11) & 0xF,
        "rcode": flags & 0xF,
        "name": name,
        "qtype": qtype,
        "answers": found,
        "ttls": ttls,
        "header_flags": [n for n, bit in (("AA", 0x400), ("TC", 0x200), ("RD", 0x100), ("RA", 0x80)) if flags & bit],
    }


def _rdata(message: bytes, rtype: int, data: bytes, position: int) -> str:
    if rtype == 1 and len(data) == 4:
        return socket.inet_ntoa(data)
    if rtype == 28 and len(data) == 16:
        return socket.inet_ntop(socket.AF_INET6, data)
    if rtype in (2, 5, 12):
        return read_name(message, position)[0]
    if rtype == 15 and len(data) > 2:
        return read_name(message, position + 2)[0]
    if rtype == 16:
        parts, index = [], 0
        while index < len(data):
            parts.append(data[index + 1 : index + 1 + data[index]].decode("utf-8", "replace"))
            index += 1 + data[index]
        return "".join(parts)
    return f"<{TYPES.get(rtype, rtype)} {len(data)} bytes>"


@dissector
class Dns(Dissector):
    service = "dns"
    ports = frozenset({53, 5353, 5355})
    transport = UDP

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.pending: dict[int, tuple[dict[str, Any], float, int]] = {}
        self.buffers = [bytearray(), bytearray()]

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        if self.flow.protocol == UDP:
            self._message(data, timestamp, number)
            return
        buffer = self.buffers[0 if from_client else 1]
        if gap:
            buffer.clear()
            return
        buffer += data
        while len(buffer) >= 2:
            size = struct.unpack_from("!H", buffer)[0]
            if len(buffer) < 2 + size:
                break
            self._message(bytes(buffer[2 : 2 + size]), timestamp, number)
            del buffer[: 2 + size]

    def _message(self, data: bytes, timestamp: float, number: int) -> None:
        try:
            message = parse_message(data)
        except Malformed as exc:
            self.analyzer.stats.warn(f"dns: malformed message ({exc})")
            return
        if not message["response"]:
            if len(self.pending) < MAX_PENDING:
                self.pending[message["id"]] = (message, timestamp, number)
            else:
                self._event(message, None, timestamp, number)
            return
        query = self.pending.pop(message["id"], None)
        if query is None:
            self._event(None, message, timestamp, number)
        else:
            self._event(query[0], message, query[1], query[2])

    def close(self, timestamp: float, number: int) -> None:
        for query, started, first in self.pending.values():
            self._event(query, None, started, first)
        self.pending.clear()

    def _event(self, query: dict[str, Any] | None, answer: dict[str, Any] | None, timestamp: float, number: int) -> None:
        known = query or answer
        assert known is not None
        qtype = TYPES.get(known["qtype"], str(known["qtype"]))
        rcode = RCODES.get(answer["rcode"], str(answer["rcode"])) if answer else None
        answers = answer["answers"] if answer else []
        name = known["name"]
        labels = name.split(".") if name else []
        fields = {
            "event.category": "network",
            "event.type": "protocol",
            "event.action": "dns-query",
            "dns.id": known["id"],
            "dns.type": "answer" if answer else "query",
            "dns.question.name": name,
            "dns.question.type": qtype,
            "dns.question.registered_domain": ".".join(labels[-2:]) or None,
            "dns.response_code": rcode,
            "dns.answers": [{"data": value} for value in answers] or None,
            "dns.resolved_ip": [v for v in answers if _is_ip(v)] or None,
            "dns.header_flags": answer["header_flags"] if answer else None,
            "dns.question.longest_label": max((len(label) for label in labels), default=0),
            "dns.question.name_length": len(name),
        }
        original = {
            "query": name,
            "qtype_name": qtype,
            "rcode_name": rcode,
            "answers": answers or None,
            "trans_id": known["id"],
            "proto": "tcp" if self.flow.protocol == TCP else "udp",
        }
        raw = f"DNS {qtype} {name} {rcode or '-'} {' '.join(answers[:10])}".rstrip()
        self.emit(timestamp, number, "dns", fields, original, raw, LOGSOURCE)


def _is_ip(value: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)
            return True
        except OSError:
            continue
    return False


@dissector
class DnsTcp(Dns):
    """DNS over TCP: the same messages, each behind a two-byte length."""

    transport = TCP
