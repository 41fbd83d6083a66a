"""DNS over UDP and TCP: one event per query/answer pair (unanswered queries at the end)."""

from __future__ import annotations

import socket
import struct
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow
from tocsin.sources.pcap.reader import TCP, UDP

LOGSOURCE = LogSource.of("zeek", ("dns",), "dns")
#: RR type mnemonics, those Wireshark names (255, ``*`` there and in Zeek, is ``ANY`` as rules write it).
TYPES = {0: "Unused", 1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR", 10: "NULL",
         11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25",
         20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA",
         29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT",
         38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG",
         47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 55: "HIP", 57: "RKEY",
         58: "TALINK", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB",
         65: "HTTPS", 99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32",
         106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR",
         253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 32768: "TA", 32769: "DLV", 65281: "WINS",
         65282: "WINS-R", 65422: "XPF"}  # fmt: skip
CLASSES = {1: "IN", 2: "CS", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
#: Response codes, the extended ones (EDNS) included.
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
          7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 11: "DSOTYPENI", 16: "BADVERS", 17: "BADKEY",
          18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE"}  # fmt: skip
_FLAG_BITS = (("AA", 0x400), ("TC", 0x200), ("RD", 0x100), ("RA", 0x80), ("AD", 0x20), ("CD", 0x10))
OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE", 6: "DSO"}
#: mDNS reuses the top bit of the class (unicast response / cache flush).
MDNS_PORT = 5353
#: A name is at most this long (RFC 1035); longer ones are malformed.
MAX_NAME = 255
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
        if position + length > len(message):
            raise Malformed("label runs past the message")
        labels.append(message[position : position + length].decode("ascii", "backslashreplace"))
        position += length
        if sum(len(label) + 1 for label in labels) > MAX_NAME:
            raise Malformed("name longer than 255 bytes")
    return ".".join(labels), end if end >= 0 else position


def parse_message(message: bytes, mdns: bool = False) -> dict[str, Any]:
    """Header, first question, answers and EDNS of a DNS message; damage after the header is kept in ``error``.

    Only a message shorter than a header raises: everything else is reported with what could be read.
    """
    if len(message) < 12:
        raise Malformed("shorter than a DNS header")
    ident, flags, questions, answers, authorities, additionals = _HEADER(message)
    parsed: dict[str, Any] = {
        "id": ident,
        "response": bool(flags & 0x8000),
        "opcode": (flags >> 11) & 0xF,
        "rcode": flags & 0xF,
        "name": "",
        "qtype": None,
        "qclass": None,
        "answers": [],
        "header_flags": [name for name, bit in _FLAG_BITS if flags & bit],
        "error": None,
    }
    position = 12
    try:
        for index in range(min(questions, MAX_RECORDS)):
            qname, position = read_name(message, position)
            if position + 4 > len(message):
                raise Malformed("truncated question")
            if index == 0:
                qtype, qclass = struct.unpack_from("!HH", message, position)
                parsed.update(name=qname, qtype=qtype, qclass=qclass & 0x7FFF if mdns else qclass)
            position += 4
        sections = (answers, authorities, additionals)
        for section, count in enumerate(sections):
            for _ in range(min(count, MAX_RECORDS)):
                position = _record(message, position, section, parsed, mdns)
    except Malformed as exc:
        parsed["error"] = str(exc)
    return parsed


def _record(message: bytes, position: int, section: int, parsed: dict[str, Any], mdns: bool) -> int:
    """Read one resource record: answers are kept, the OPT record extends the response code."""
    name, position = read_name(message, position)
    if position + 10 > len(message):
        raise Malformed("truncated resource record")
    rtype, rclass, ttl, size = struct.unpack_from("!HHIH", message, position)
    position += 10
    data = message[position : position + size]
    if len(data) < size:
        raise Malformed("record data runs past the message")
    if rtype == 41:  # EDNS: the upper eight bits of the extended response code
        parsed["rcode"] |= (ttl >> 24) << 4
        parsed["edns"] = {"udp_size": rclass, "version": (ttl >> 16) & 0xFF, "do": bool(ttl & 0x8000)}
    elif section == 0 and parsed["opcode"] != 5:  # an UPDATE's second section holds prerequisites
        parsed["answers"].append({
            "name": name,
            "type": TYPES.get(rtype, str(rtype)),
            "class": _class_name(rclass & 0x7FFF if mdns else rclass),
            "ttl": ttl,
            "data": _rdata(message, rtype, data, position),
        })  # fmt: skip
    return position + size


def _class_name(value: int) -> str:
    return CLASSES.get(value, str(value))


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


class Dns(Dissector):
    service = "dns"
    ports = frozenset({53, 5353, 5355})
    transport = UDP

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.pending: dict[int, list[tuple[dict[str, Any], None, float, int]]] = {}
        self.queued = 0
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
            message = parse_message(data, MDNS_PORT in (self.flow.server_port, self.flow.client_port))
        except Malformed as exc:
            self.analyzer.stats.warn(f"dns: malformed message ({exc})")
            return
        if message["error"]:
            self.analyzer.stats.warn(f"dns: malformed message ({message['error']}), kept as far as read")
        if not message["response"]:
            if self.queued < MAX_PENDING:
                self.pending.setdefault(message["id"], []).append((message, None, timestamp, number))
                self.queued += 1
            else:
                self._event(message, None, timestamp, number)
            return
        waiting = self.pending.get(message["id"])
        if not waiting:
            self._event(None, message, timestamp, number)
            return
        # the oldest query with this id (ids repeat: retransmissions, mDNS's id 0)
        query = waiting.pop(0)
        self.queued -= 1
        if not waiting:
            del self.pending[message["id"]]
        self._event(query[0], message, query[2], query[3])

    def close(self, timestamp: float, number: int) -> None:
        for waiting in self.pending.values():
            for pending in waiting:
                self._event(*pending)
        self.pending.clear()
        self.queued = 0

    def _event(
        self, query: dict[str, Any] | None, answer: dict[str, Any] | None, timestamp: float, number: int
    ) -> None:
        known = answer if query is None or (not query["name"] and answer is not None) else query
        assert known is not None
        qtype = None if known["qtype"] is None else TYPES.get(known["qtype"], str(known["qtype"]))
        qclass = None if known["qclass"] is None else _class_name(known["qclass"])
        rcode = RCODES.get(answer["rcode"], str(answer["rcode"])) if answer else None
        answers = answer["answers"] if answer else []
        values = [record["data"] for record in answers]
        name = known["name"]
        labels = name.split(".") if name else []
        errors = [m["error"] for m in (query, answer) if m is not None and m["error"]]
        fields = {
            "event.category": "network",
            "event.type": "protocol",
            "event.action": "dns-query",
            "dns.id": known["id"],
            "dns.op_code": OPCODES.get(known["opcode"], str(known["opcode"])),
            "dns.type": "answer" if answer else "query",
            "dns.question.name": name,
            "dns.question.type": qtype,
            "dns.question.class": qclass,
            "dns.question.registered_domain": ".".join(labels[-2:]) or None,
            "dns.response_code": rcode,
            "dns.answers": answers or None,
            "dns.resolved_ip": [v for v in values if is_ip(v)] or None,
            "dns.header_flags": answer["header_flags"] if answer else None,
            "dns.question.longest_label": max((len(label) for label in labels), default=0),
            "dns.question.name_length": len(name),
            "error.message": f"malformed DNS message: {'; '.join(errors)}" if errors else None,
        }
        original = {
            "query": name,
            "qtype_name": qtype,
            "qclass_name": qclass,
            "rcode_name": rcode,
            "answers": values or None,
            "TTLs": [record["ttl"] for record in answers] or None,
            "trans_id": known["id"],
            "proto": "tcp" if self.flow.protocol == TCP else "udp",
        }
        raw = f"DNS {qtype or '-'} {name} {rcode or '-'} {' '.join(values[:10])}".rstrip()
        self.emit(timestamp, number, "dns", fields, original, raw, LOGSOURCE)


def is_ip(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)
            return True
        except OSError:
            continue
    return False


class DnsTcp(Dns):
    """DNS over TCP: the same messages, each behind a two-byte length."""

    transport = TCP
