"""PostgreSQL logins: SSLRequest, StartupMessage (user, database, application), the authentication
request (cleartext, MD5, SASL), the PasswordMessage (a credential when cleartext) and the outcome
(AuthenticationOk vs ErrorResponse)."""

from __future__ import annotations

import struct
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow

LOGSOURCE = LogSource.of("zeek", ("postgresql",), "database")
#: Login messages are small; anything bigger ends dissection.
MAX_MESSAGE = 1 << 16
SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST, PROTOCOL_3 = 80877103, 80877104, 80877102, 196608
AUTH_METHODS = {
    0: "trust",
    2: "kerberos-v5",
    3: "cleartext",
    5: "md5",
    6: "scm",
    7: "gss",
    9: "sspi",
    10: "sasl",
}


def _fields(body: bytes) -> dict[str, str]:
    """The ``(code byte, string)`` fields of an ErrorResponse or NoticeResponse."""
    fields: dict[str, str] = {}
    offset = 0
    while offset < len(body) and body[offset]:
        end = body.find(b"\0", offset + 1)
        if end < 0:
            end = len(body)
        fields[chr(body[offset])] = body[offset + 1 : end].decode("utf-8", "replace")
        offset = end + 1
    return fields


class Postgresql(Dissector):
    service = "postgresql"
    ports = frozenset({5432})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.buffers = [bytearray(), bytearray()]
        self.stage = "startup"  # startup → (ssl-reply) → auth → auth-ok → done
        self.parameters: dict[str, str] = {}
        self.auth_code: int | None = None
        self.method: str | None = None
        self.secret: str | None = None
        self.encryption = "ssl"

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        if not from_client or len(data) < 8:
            return False
        size, code = struct.unpack_from("!II", data)
        if code in (SSL_REQUEST, GSSENC_REQUEST):
            return size == 8
        return code == PROTOCOL_3 and 9 <= size <= 10_000 and data.endswith(b"\0") and b"user\0" in data

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        if self.stage == "done":
            return
        if gap:
            self.stage = "done"
            return
        buffer = self.buffers[0 if from_client else 1]
        buffer += data
        while buffer and self.stage != "done":
            if from_client and self.stage == "startup":
                if len(buffer) < 8:
                    return
                size = struct.unpack_from("!I", buffer)[0]
                if not 8 <= size <= MAX_MESSAGE:
                    raise ValueError("PostgreSQL: bad startup message length")
                if len(buffer) < size:
                    return
                message = bytes(buffer[:size])
                del buffer[:size]
                self._startup(message, timestamp, number)
            elif not from_client and self.stage == "ssl-reply":
                answer = buffer[0]
                del buffer[:1]
                self._ssl_reply(answer, timestamp, number)
            else:
                if len(buffer) < 5:
                    return
                kind, size = buffer[0], struct.unpack_from("!I", buffer, 1)[0]
                if size < 4 or size > MAX_MESSAGE:
                    raise ValueError("PostgreSQL: bad message length")
                if len(buffer) < 1 + size:
                    return
                body = bytes(buffer[5 : 1 + size])
                del buffer[: 1 + size]
                if from_client:
                    self._client(kind, body)
                else:
                    self._server(kind, body, timestamp, number)

    def _startup(self, message: bytes, timestamp: float, number: int) -> None:
        code = struct.unpack_from("!I", message, 4)[0]
        if code in (SSL_REQUEST, GSSENC_REQUEST):
            self.stage = "ssl-reply"
            self.encryption = "ssl" if code == SSL_REQUEST else "gss"
            return
        if code == CANCEL_REQUEST:
            self.stage = "done"
            return
        if code >> 16 != 3:
            raise ValueError("PostgreSQL: unknown startup code")
        parts = message[8:].split(b"\0")
        for key, value in zip(parts[::2], parts[1::2], strict=False):
            if key:
                self.parameters[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        user, database = self.parameters.get("user"), self.parameters.get("database")
        application = self.parameters.get("application_name")
        self.emit(
            timestamp, number, "postgresql",
            {"event.category": "database", "event.type": "start", "event.action": "postgresql-startup",
             "user.name": user or None, "postgresql.database": database or user or None,
             "postgresql.application_name": application or None},
            {"frontend": "startup", "user": user, "database": database, "application_name": application},
            f"PostgreSQL startup user={user or '-'} database={database or user or '-'} application={application or '-'}",
            LOGSOURCE,
        )  # fmt: skip
        self.stage = "auth"

    def _ssl_reply(self, answer: int, timestamp: float, number: int) -> None:
        accepted = answer in (ord("S"), ord("G"))
        self.emit(
            timestamp, number, "postgresql",
            {"event.category": "database", "event.type": "info", "event.action": f"postgresql-{self.encryption}-request",
             "postgresql.encryption_accepted": accepted},
            {"frontend": f"{self.encryption}_request", "backend": chr(answer) if 0x20 < answer < 0x7F else hex(answer)},
            f"PostgreSQL {self.encryption.upper()} request {'accepted' if accepted else 'refused'}", LOGSOURCE,
        )  # fmt: skip
        self.stage = "done" if accepted else "startup"

    def _client(self, kind: int, body: bytes) -> None:
        if self.stage != "auth" or kind != ord("p"):
            return
        if self.auth_code == 3:
            self.secret = body.rstrip(b"\0").decode("utf-8", "replace")
        elif self.auth_code == 10 and self.method == "sasl":  # SASLInitialResponse names the mechanism
            mechanism = body.split(b"\0", 1)[0].decode("ascii", "replace")
            if mechanism.replace("-", "").isalnum():
                self.method = f"sasl-{mechanism.lower()}"

    def _server(self, kind: int, body: bytes, timestamp: float, number: int) -> None:
        if self.stage not in ("auth", "auth-ok"):
            return
        if kind == ord("R") and self.stage == "auth":
            if len(body) < 4:
                raise ValueError("PostgreSQL: short authentication request")
            code = struct.unpack_from("!I", body)[0]
            self.auth_code = code
            if code == 0:
                self.stage = "auth-ok"  # the login is done at ReadyForQuery; an error may still refuse it
            elif code in AUTH_METHODS:
                self.method = AUTH_METHODS[code]
        elif kind == ord("Z") and self.stage == "auth-ok":
            self._outcome(True, timestamp, number)
        elif kind == ord("E"):
            fields = _fields(body)
            self._outcome(
                False, timestamp, number, {"error.code": fields.get("C"), "error.message": fields.get("M")}
            )

    def close(self, timestamp: float, number: int) -> None:
        if self.stage == "auth-ok":
            self._outcome(True, timestamp, number)

    def _outcome(
        self, success: bool, timestamp: float, number: int, error: dict[str, Any] | None = None
    ) -> None:
        user = self.parameters.get("user") or None
        extra = {"postgresql.database": self.parameters.get("database") or user,
                 "postgresql.application_name": self.parameters.get("application_name"), **(error or {})}  # fmt: skip
        method = self.method or "trust"
        self.auth(timestamp, number, user, "success" if success else "failure", self.secret, method, extra)
        self.secret = None
        self.stage = "done"
