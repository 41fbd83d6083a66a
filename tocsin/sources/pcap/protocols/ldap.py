"""LDAP binds: simple bind name and password (masked), SASL/NTLM binds, and the BindResponse outcome."""

from __future__ import annotations

import struct
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow
from tocsin.sources.pcap.protocols import ber

LOGSOURCE = LogSource.of("zeek", ("ldap",), None)
#: A message larger than this ends dissection of the connection (binds are small).
MAX_MESSAGE = 1 << 20
#: Unanswered binds remembered per connection.
MAX_PENDING = 64
BIND_REQUEST, BIND_RESPONSE, EXTENDED_REQUEST, EXTENDED_RESPONSE = 0, 1, 23, 24
START_TLS = "1.3.6.1.4.1.1466.20037"
SASL_IN_PROGRESS = 14
RESULTS = {
    0: "success", 1: "operationsError", 2: "protocolError", 7: "authMethodNotSupported",
    8: "strongerAuthRequired", 13: "confidentialityRequired", 14: "saslBindInProgress",
    32: "noSuchObject", 34: "invalidDNSyntax", 48: "inappropriateAuthentication",
    49: "invalidCredentials", 50: "insufficientAccessRights", 51: "busy", 52: "unavailable",
    53: "unwillingToPerform", 80: "other",
}  # fmt: skip
_SICILY = {9: "sicily-discovery", 10: "sicily-negotiate", 11: "sicily-response"}


def ntlm_user(blob: bytes) -> tuple[str | None, str | None]:
    """(user, domain) from an NTLMSSP AUTHENTICATE message somewhere inside ``blob``."""
    start = blob.find(b"NTLMSSP\x00\x03\x00\x00\x00")
    if start < 0 or len(blob) < start + 64:
        return None, None
    message = blob[start:]
    flags = struct.unpack_from("<I", message, 60)[0]
    encoding = "utf-16-le" if flags & 1 else "latin-1"

    def field(at: int) -> str | None:
        length, _, offset = struct.unpack_from("<HHI", message, at)
        if not length or offset + length > len(message):
            return None
        return message[offset : offset + length].decode(encoding, "replace")

    return field(36), field(28)


class Ldap(Dissector):
    service = "ldap"
    ports = frozenset({389, 3268})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.buffers = [bytearray(), bytearray()]
        self.done = [False, False]
        #: messageID → (user, secret, method, extra fields)
        self.pending: dict[int, tuple[str | None, bytes | None, str, dict[str, Any]]] = {}
        self.start_tls: int | None = None
        #: After a StartTLS or a SASL bind (which may negotiate a security layer) the stream may stop being plain LDAP.
        self.maybe_wrapped = False
        self.sasl_user: tuple[str | None, str | None] = (None, None)

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        """A client's first message is a BindRequest: SEQUENCE { INTEGER id, [APPLICATION 0] ... }."""
        if not from_client or len(data) < 12 or data[0] != 0x30:
            return False
        try:
            outer = ber.header(data)
            message_id = ber.read(data, outer[3])
            op = ber.header(data, message_id.end)
        except ValueError:
            return False
        return (
            message_id.cls == 0 and message_id.tag == 2 and op[0] == ber.APPLICATION and op[2] == BIND_REQUEST
        )

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        side = 0 if from_client else 1
        if self.done[side]:
            return
        if gap:
            self.done[side] = True
            return
        buffer = self.buffers[side]
        buffer += data
        while buffer:
            if buffer[0] != 0x30:
                if not self.maybe_wrapped:
                    raise ValueError("LDAP: message is not a SEQUENCE")
                self.done[side] = True  # TLS or a SASL security layer: opaque from here
                buffer.clear()
                return
            try:
                _, _, _, start, length = ber.header(buffer)
            except ValueError:
                if len(buffer) < 8:
                    return  # the header itself is incomplete
                raise
            if start + length > MAX_MESSAGE:
                self.analyzer.stats.warn(
                    f"ldap: message over {MAX_MESSAGE >> 10} KiB; rest of the connection skipped"
                )
                self.done[side] = True
                buffer.clear()
                return
            if len(buffer) < start + length:
                return
            message = bytes(buffer[: start + length])
            del buffer[: start + length]
            self._message(from_client, message, timestamp, number)

    def _message(self, from_client: bool, message: bytes, timestamp: float, number: int) -> None:
        outer = ber.read(message)
        parts = ber.children(message, outer)
        if len(parts) < 2 or parts[0].tag != 2 or parts[1].cls != ber.APPLICATION:
            raise ValueError("LDAP: bad LDAPMessage")
        message_id, op = ber.integer(message, parts[0]), parts[1]
        if from_client and op.tag == BIND_REQUEST:
            self._bind_request(message_id, message, op)
        elif not from_client and op.tag == BIND_RESPONSE:
            self._bind_response(message_id, message, op, timestamp, number)
        elif from_client and op.tag == EXTENDED_REQUEST:
            fields = ber.children(message, op)
            if fields and ber.text(message, fields[0]) == START_TLS:
                self.start_tls = message_id
        elif not from_client and op.tag == EXTENDED_RESPONSE and message_id == self.start_tls:
            fields = ber.children(message, op)
            if fields and ber.integer(message, fields[0]) == 0:
                self.maybe_wrapped = True
                self.emit(
                    timestamp, number, "ldap",
                    {"event.category": "network", "event.type": "protocol", "event.action": "ldap-starttls"},
                    {"operation": "extended", "object": START_TLS, "result": "success"},
                    "LDAP StartTLS accepted", LOGSOURCE,
                )  # fmt: skip

    def _bind_request(self, message_id: int, message: bytes, op: ber.Tlv) -> None:
        fields = ber.children(message, op)
        if len(fields) < 3:
            raise ValueError("LDAP: short BindRequest")
        version = ber.integer(message, fields[0])
        name = ber.text(message, fields[1]) or None
        auth = fields[2]
        extra: dict[str, Any] = {"ldap.version": version}
        secret: bytes | None = None
        if auth.tag == 0:  # simple
            password = ber.octets(message, auth)
            if password:
                method, secret = "simple", password
            else:
                method = "anonymous" if name is None else "unauthenticated"
        elif auth.tag == 3:  # SASL
            sasl = ber.children(message, auth)
            mechanism = ber.text(message, sasl[0]) if sasl else "?"
            method = f"sasl-{mechanism.lower()}"
            self.maybe_wrapped = True
            if len(sasl) > 1:
                user, domain = ntlm_user(ber.octets(message, sasl[1]))
                if user:
                    self.sasl_user = (user, domain)
        elif auth.tag in _SICILY:
            method = _SICILY[auth.tag]
            user, domain = ntlm_user(ber.octets(message, auth))
            if user:
                self.sasl_user = (user, domain)
        else:
            method = f"auth-{auth.tag}"
        if len(self.pending) >= MAX_PENDING:
            self.pending.pop(next(iter(self.pending)))
        self.pending[message_id] = (name, secret, method, extra)

    def _bind_response(
        self, message_id: int, message: bytes, op: ber.Tlv, timestamp: float, number: int
    ) -> None:
        request = self.pending.pop(message_id, None)
        fields = ber.children(message, op)
        if not fields:
            raise ValueError("LDAP: empty BindResponse")
        code = ber.integer(message, fields[0])
        if request is None:
            return
        name, secret, method, extra = request
        if code == SASL_IN_PROGRESS:
            return
        diagnostic = ber.text(message, fields[2]).strip("\0 ") if len(fields) > 2 else ""
        result = RESULTS.get(code, str(code))
        user, domain = name, None
        if name is None and self.sasl_user[0]:
            user, domain = self.sasl_user
        self.sasl_user = (None, None)
        outcome = "success" if code == 0 else "failure"
        self.emit(
            timestamp, number, "ldap",
            {"event.category": "network", "event.type": "protocol", "event.action": "ldap-bind",
             "event.outcome": outcome, "user.name": user, "ldap.bind.method": method,
             "ldap.result_code": code, "ldap.result": result},
            {"message_id": message_id, "version": extra.get("ldap.version"), "operation": "bind " + method,
             "object": name, "result": result, "diagnostic_message": diagnostic or None},
            f"LDAP bind {method} name={name or '-'} result={result}", LOGSOURCE,
        )  # fmt: skip
        if method in ("anonymous", "sicily-discovery", "sicily-negotiate"):
            return
        details = {**extra, "ldap.result_code": code, "ldap.result": result, "user.domain": domain,
                   "error.message": (diagnostic or None) if code else None}  # fmt: skip
        self.auth(timestamp, number, user, outcome, secret, method, details)
