"""TLS handshakes (ClientHello SNI, version, JA3/JA4; server version and certificate) and SSH banners."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow

TLS_LOGSOURCE = LogSource.of("zeek", ("ssl",), None)
SSH_LOGSOURCE = LogSource.of("zeek", ("ssh",), None)
#: Handshake bytes kept per direction; certificates chains fit well within it.
MAX_HANDSHAKE = 128 * 1024
VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
_JA4_VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}
_OID_NAMES = {b"\x55\x04\x03": "CN", b"\x55\x04\x0a": "O", b"\x55\x04\x0b": "OU", b"\x55\x04\x06": "C",
              b"\x55\x04\x07": "L", b"\x55\x04\x08": "ST"}  # fmt: skip


def _grease(value: int) -> bool:
    return value & 0x0F0F == 0x0A0A and value >> 8 == value & 0xFF


class Tls(Dissector):
    service = "tls"
    ports = frozenset({443, 465, 636, 853, 993, 995, 8443})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.records = [bytearray(), bytearray()]
        self.handshake = [bytearray(), bytearray()]
        self.done = [False, False]
        self.info: dict[str, Any] = {}
        self.first = (0.0, 0)

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        return len(data) >= 6 and data[0] == 0x16 and data[1] == 3 and data[5] in (1, 2)

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        side = 0 if from_client else 1
        if self.done[side] or gap:
            self.done[side] = True
            return
        if not self.first[1]:
            self.first = (timestamp, number)
        records = self.records[side]
        records += data
        while len(records) >= 5:
            kind, size = records[0], struct.unpack_from("!H", records, 3)[0]
            if len(records) < 5 + size:
                break
            body = bytes(records[5 : 5 + size])
            del records[: 5 + size]
            if kind == 0x16:
                self._handshake(side, body)
            elif kind != 0x15:  # ChangeCipherSpec, application data or not TLS: the handshake is over
                self.done[side] = True
                return
        if len(records) > MAX_HANDSHAKE:
            self.done[side] = True

    def _handshake(self, side: int, body: bytes) -> None:
        buffer = self.handshake[side]
        buffer += body
        while len(buffer) >= 4:
            kind = buffer[0]
            size = int.from_bytes(buffer[1:4], "big")
            if len(buffer) < 4 + size:
                if size > MAX_HANDSHAKE:
                    self.done[side] = True
                    buffer.clear()
                return
            message = bytes(buffer[4 : 4 + size])
            del buffer[: 4 + size]
            if kind == 1:
                self.info.update(client_hello(message))
            elif kind == 2:
                self.info.update(server_hello(message))
            elif kind == 11:
                self.info.update(certificate(message))

    def close(self, timestamp: float, number: int) -> None:
        info = self.info
        if not info:
            return
        version = info.get("server_version") or info.get("client_version")
        version_name = None if version is None else VERSIONS.get(version)
        fields = {
            "event.category": "network",
            "event.type": "protocol",
            "event.action": "tls-handshake",
            "tls.version": (version_name or "").removeprefix("TLSv").removeprefix("SSLv") or None,
            "tls.version_protocol": "ssl" if version == 0x0300 else "tls",
            "tls.client.server_name": info.get("sni"),
            "tls.client.ja3": info.get("ja3"),
            "tls.client.ja4": info.get("ja4"),
            "tls.client.supported_ciphers": info.get("ciphers"),
            "tls.next_protocol": info.get("alpn"),
            "tls.cipher": info.get("cipher"),
            "tls.server.subject": info.get("subject"),
            "tls.server.issuer": info.get("issuer"),
        }
        original = {
            "server_name": info.get("sni"),
            "version": version_name,
            "ja3": info.get("ja3"),
            "ja4": info.get("ja4"),
            "subject": info.get("subject"),
            "issuer": info.get("issuer"),
        }
        raw = f"TLS {version_name or '?'} sni={info.get('sni') or '-'} ja3={info.get('ja3') or '-'} subject={info.get('subject') or '-'}"
        self.emit(self.first[0], self.first[1], "tls", fields, original, raw, TLS_LOGSOURCE)


def client_hello(message: bytes) -> dict[str, Any]:
    """SNI, version, ciphers, ALPN, and the JA3 and JA4 fingerprints of a ClientHello."""
    version = struct.unpack_from("!H", message)[0]
    position = 34
    position += 1 + message[position]
    cipher_length = struct.unpack_from("!H", message, position)[0]
    ciphers = [struct.unpack_from("!H", message, position + 2 + i)[0] for i in range(0, cipher_length - 1, 2)]
    position += 2 + cipher_length
    position += 1 + message[position]
    extensions: list[int] = []
    groups: list[int] = []
    formats: list[int] = []
    signatures: list[int] = []
    versions: list[int] = []
    alpn: list[str] = []
    sni = None
    if position + 2 <= len(message):
        end = min(len(message), position + 2 + struct.unpack_from("!H", message, position)[0])
        position += 2
        while position + 4 <= end:
            kind, size = struct.unpack_from("!HH", message, position)
            data = message[position + 4 : position + 4 + size]
            position += 4 + size
            extensions.append(kind)
            if kind == 0 and len(data) > 5:
                sni = data[5 : 5 + struct.unpack_from("!H", data, 3)[0]].decode("utf-8", "replace")
            elif kind == 10 and len(data) >= 2:
                groups = [struct.unpack_from("!H", data, 2 + i)[0] for i in range(0, len(data) - 3, 2)]
            elif kind == 11 and data:
                formats = list(data[1 : 1 + data[0]])
            elif kind == 13 and len(data) >= 2:
                signatures = [struct.unpack_from("!H", data, 2 + i)[0] for i in range(0, len(data) - 3, 2)]
            elif kind == 43 and data:
                versions = [struct.unpack_from("!H", data, 1 + i)[0] for i in range(0, data[0] - 1, 2)]
            elif kind == 16 and len(data) > 2:
                index = 2
                while index < len(data):
                    alpn.append(data[index + 1 : index + 1 + data[index]].decode("ascii", "replace"))
                    index += 1 + data[index]
    ciphers = [c for c in ciphers if not _grease(c)]
    extensions = [e for e in extensions if not _grease(e)]
    groups = [g for g in groups if not _grease(g)]
    ja3 = ",".join(
        [str(version), "-".join(map(str, ciphers)), "-".join(map(str, extensions)),
         "-".join(map(str, groups)), "-".join(map(str, formats))]
    )  # fmt: skip
    best = max([v for v in versions if not _grease(v)] or [version])
    first_alpn = alpn[0] if alpn else ""
    alpn_code = (first_alpn[0] + first_alpn[-1]) if first_alpn and first_alpn.isascii() else "00"
    ja4_a = (
        f"t{_JA4_VERSIONS.get(best, '00')}{'d' if sni else 'i'}{min(len(ciphers), 99):02d}"
        f"{min(len(extensions), 99):02d}{alpn_code}"
    )
    ja4_b = _ja4_hash(",".join(f"{c:04x}" for c in sorted(ciphers)))
    kept = sorted(e for e in extensions if e not in (0, 16))
    ja4_c_text = ",".join(f"{e:04x}" for e in kept)
    if signatures:
        ja4_c_text += "_" + ",".join(f"{s:04x}" for s in signatures)
    return {
        "client_version": best,
        "sni": sni,
        "ciphers": [f"0x{c:04x}" for c in ciphers] or None,
        "alpn": first_alpn or None,
        "ja3": hashlib.md5(ja3.encode(), usedforsecurity=False).hexdigest(),
        "ja4": f"{ja4_a}_{ja4_b}_{_ja4_hash(ja4_c_text)}",
    }


def _ja4_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12] if text else "000000000000"


def server_hello(message: bytes) -> dict[str, Any]:
    version = struct.unpack_from("!H", message)[0]
    position = 34
    position += 1 + message[position]
    cipher = struct.unpack_from("!H", message, position)[0]
    position += 3
    if position + 2 <= len(message):
        end = min(len(message), position + 2 + struct.unpack_from("!H", message, position)[0])
        position += 2
        while position + 4 <= end:
            kind, size = struct.unpack_from("!HH", message, position)
            if kind == 43 and size == 2:
                version = struct.unpack_from("!H", message, position + 4)[0]
            position += 4 + size
    return {"server_version": version, "cipher": f"0x{cipher:04x}"}


def certificate(message: bytes) -> dict[str, Any]:
    """Subject and issuer of the first (server) certificate of a TLS 1.2 Certificate message."""
    if len(message) < 6:
        return {}
    size = int.from_bytes(message[3:6], "big")
    der = message[6 : 6 + size]
    tbs = _children(_children(der)[0][1])[0][1] if der else b""
    parts = _children(tbs)
    if parts and parts[0][0] == 0xA0:
        parts = parts[1:]
    if len(parts) < 5:
        return {}
    return {"issuer": _name(parts[2][1]), "subject": _name(parts[4][1])}


def _children(der: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) elements of a DER sequence's content."""
    found = []
    position = 0
    while position + 2 <= len(der):
        tag, length = der[position], der[position + 1]
        position += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(der[position : position + count], "big")
            position += count
        found.append((tag, der[position : position + length]))
        position += length
    return found


def _name(der: bytes) -> str:
    """An X.501 name as ``CN=…,O=…``."""
    parts = []
    for _, rdn in _children(der):
        for _, attribute in _children(rdn):
            pair = _children(attribute)
            if len(pair) == 2:
                label = _OID_NAMES.get(pair[0][1], pair[0][1].hex())
                parts.append(f"{label}={pair[1][1].decode('utf-8', 'replace')}")
    return ",".join(parts)


class Ssh(Dissector):
    service = "ssh"
    ports = frozenset({22, 2222})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.banners: list[str | None] = [None, None]
        self.buffers = [bytearray(), bytearray()]
        self.first = (0.0, 0)

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        return data.startswith(b"SSH-")

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        side = 0 if from_client else 1
        if self.banners[side] is not None or len(self.buffers[side]) > 8192:
            return
        if not self.first[1]:
            self.first = (timestamp, number)
        buffer = self.buffers[side]
        buffer += data
        for line in bytes(buffer).split(b"\n")[:-1]:
            if line.startswith(b"SSH-"):
                self.banners[side] = line.rstrip(b"\r").decode("utf-8", "replace")
                self.buffers[side] = bytearray()
                break

    def close(self, timestamp: float, number: int) -> None:
        client, server = self.banners
        if client is None and server is None:
            return
        fields = {
            "event.category": "network",
            "event.type": "protocol",
            "event.action": "ssh-banner",
            "ssh.client.banner": client,
            "ssh.server.banner": server,
        }
        raw = f"SSH client={client or '-'} server={server or '-'}"
        self.emit(
            self.first[0],
            self.first[1],
            "ssh",
            fields,
            {"client": client, "server": server},
            raw,
            SSH_LOGSOURCE,
        )
