"""MySQL logins: the server greeting, the client HandshakeResponse (user, database, auth plugin),
auth switches, COM_CHANGE_USER, and the OK/ERR packet that decides the outcome.

Passwords are only ever in clear with the ``mysql_clear_password`` plugin; that one is a credential.
"""

from __future__ import annotations

import struct
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow

LOGSOURCE = LogSource.of("zeek", ("mysql",), "database")
#: Packets larger than this are skipped over, not buffered.
MAX_PACKET = 1 << 16
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_COMPRESS = 0x20
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
CLIENT_PLUGIN_AUTH_LENENC = 0x200000
COM_CHANGE_USER = 0x11
CLEAR_PLUGIN = "mysql_clear_password"


def _cstring(data: bytes, offset: int) -> tuple[str, int]:
    end = data.find(b"\0", offset)
    if end < 0:
        end = len(data)
    return data[offset:end].decode("utf-8", "replace"), end + 1


def _lenenc(data: bytes, offset: int) -> tuple[int, int]:
    first = data[offset]
    if first < 0xFB:
        return first, offset + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
    if size is None or offset + 1 + size > len(data):
        raise ValueError("MySQL: bad length-encoded integer")
    return int.from_bytes(data[offset + 1 : offset + 1 + size], "little"), offset + 1 + size


class _Framer:
    """One direction's packets: 3-byte length, sequence id, payload; big packets are skipped."""

    __slots__ = ("buffer", "skip")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.skip = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        if self.skip:
            dropped = min(self.skip, len(data))
            self.skip -= dropped
            data = data[dropped:]
        buffer = self.buffer
        buffer += data
        packets: list[tuple[int, bytes]] = []
        while len(buffer) >= 4:
            size = buffer[0] | buffer[1] << 8 | buffer[2] << 16
            if size > MAX_PACKET:
                self.skip = max(0, 4 + size - len(buffer))
                del buffer[: 4 + size]
                continue
            if len(buffer) < 4 + size:
                break
            packets.append((buffer[3], bytes(buffer[4 : 4 + size])))
            del buffer[: 4 + size]
        return packets

    def reset(self) -> None:
        self.buffer.clear()
        self.skip = 0


class Mysql(Dissector):
    service = "mysql"
    ports = frozenset({3306})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.framers = (_Framer(), _Framer())
        self.stage = "greeting"
        self.server_version: str | None = None
        self.plugin: str | None = None
        self.user: str | None = None
        self.database: str | None = None
        self.secret: str | None = None
        self.capabilities = 0

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        """A server greeting: length, sequence 0, protocol 10, a printable version ending in NUL."""
        if from_client or len(data) < 40 or data[3] != 0 or data[4] != 10:
            return False
        size = data[0] | data[1] << 8 | data[2] << 16
        end = data.find(b"\0", 5, 64)
        return 30 <= size <= 1024 and end > 6 and all(0x20 <= b < 0x7F for b in data[5:end])

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        if self.stage == "done":
            return
        if gap:
            self.stage = "done"
            return
        framer = self.framers[0 if from_client else 1]
        if not from_client and self.stage == "command":
            framer.reset()  # result sets: nothing to read until the client asks for a new login
            return
        for _, payload in framer.feed(data):
            if self.stage == "done":
                return
            if from_client:
                self._client(payload, timestamp, number)
            else:
                self._server(payload, timestamp, number)

    # -- client ---------------------------------------------------------------------------

    def _client(self, payload: bytes, timestamp: float, number: int) -> None:
        if not payload:
            return
        if self.stage in ("greeting", "login"):
            self._handshake_response(payload, timestamp, number)
        elif self.stage == "auth":
            if self.plugin == CLEAR_PLUGIN and self.secret is None:
                self.secret = _cstring(payload, 0)[0]
        elif self.stage == "command" and payload[0] == COM_CHANGE_USER:
            self._change_user(payload)

    def _handshake_response(self, payload: bytes, timestamp: float, number: int) -> None:
        if len(payload) < 4:
            raise ValueError("MySQL: short handshake response")
        caps = struct.unpack_from("<H", payload)[0]
        if caps & CLIENT_PROTOCOL_41:
            caps = struct.unpack_from("<I", payload)[0]
            if caps & CLIENT_SSL and len(payload) <= 32:
                self._event("mysql-tls", "SSL request: the rest of the connection is TLS", timestamp, number)
                self.stage = "done"
                return
            if len(payload) < 33:
                raise ValueError("MySQL: short HandshakeResponse41")
            self.user, offset = _cstring(payload, 32)
            if caps & CLIENT_PLUGIN_AUTH_LENENC:
                size, offset = _lenenc(payload, offset)
                auth, offset = payload[offset : offset + size], offset + size
            elif caps & CLIENT_SECURE_CONNECTION:
                size = payload[offset] if offset < len(payload) else 0
                auth, offset = payload[offset + 1 : offset + 1 + size], offset + 1 + size
            else:
                _, end = _cstring(payload, offset)
                auth, offset = payload[offset : end - 1], end
            if caps & CLIENT_CONNECT_WITH_DB and offset < len(payload):
                self.database, offset = _cstring(payload, offset)
            if caps & CLIENT_PLUGIN_AUTH and offset < len(payload):
                self.plugin = _cstring(payload, offset)[0] or self.plugin
        else:
            if caps & CLIENT_SSL and len(payload) <= 5:
                self._event("mysql-tls", "SSL request: the rest of the connection is TLS", timestamp, number)
                self.stage = "done"
                return
            self.user, offset = _cstring(payload, 5)
            auth = payload[offset:].split(b"\0")[0]
            if caps & CLIENT_CONNECT_WITH_DB and b"\0" in payload[offset:]:
                self.database = _cstring(payload, payload.index(b"\0", offset) + 1)[0] or None
        self.capabilities = caps
        self.user = self.user or None
        self.database = self.database or None
        self.secret = (
            auth.rstrip(b"\0").decode("utf-8", "replace") if self.plugin == CLEAR_PLUGIN and auth else None
        )
        self.stage = "auth"

    def _change_user(self, payload: bytes) -> None:
        self.user, offset = _cstring(payload, 1)
        self.user = self.user or None
        if self.capabilities & CLIENT_SECURE_CONNECTION and offset < len(payload):
            offset += 1 + payload[offset]
        else:
            offset = _cstring(payload, offset)[1]
        self.database = None
        if offset < len(payload):
            self.database, offset = _cstring(payload, offset)
            self.database = self.database or None
            offset += 2  # character set
            if self.capabilities & CLIENT_PLUGIN_AUTH and offset < len(payload):
                self.plugin = _cstring(payload, offset)[0] or self.plugin
        self.secret = None
        self.stage = "auth"
        self.framers[1].reset()

    # -- server ---------------------------------------------------------------------------

    def _server(self, payload: bytes, timestamp: float, number: int) -> None:
        if not payload:
            return
        kind = payload[0]
        if self.stage == "greeting":
            if kind == 0xFF:
                code, message = _error(payload)
                self._event("mysql-error", f"connection refused: {code} {message}", timestamp, number,
                            {"error.code": str(code), "error.message": message})  # fmt: skip
                self.stage = "done"
                return
            if kind != 10:
                raise ValueError("MySQL: unknown greeting")
            self.server_version, offset = _cstring(payload, 1)
            offset += 4 + 8 + 1  # thread id, scramble part 1, filler
            if offset + 2 <= len(payload):
                caps = struct.unpack_from("<H", payload, offset)[0]
                offset += 2 + 1 + 2
                if offset + 2 <= len(payload):
                    caps |= struct.unpack_from("<H", payload, offset)[0] << 16
                    scramble = payload[offset + 2]
                    offset += 3 + 10 + max(13, scramble - 8)
                    if caps & CLIENT_PLUGIN_AUTH and offset < len(payload):
                        self.plugin = _cstring(payload, offset)[0] or None
            self.stage = "login"
        elif self.stage == "auth":
            if kind == 0x00:
                self._outcome(True, timestamp, number)
            elif kind == 0xFF:
                code, message = _error(payload)
                self._outcome(False, timestamp, number, {"error.code": str(code), "error.message": message})
            elif kind == 0xFE and len(payload) > 1:
                self.plugin = _cstring(payload, 1)[0] or self.plugin  # AuthSwitchRequest

    def _outcome(
        self, success: bool, timestamp: float, number: int, error: dict[str, Any] | None = None
    ) -> None:
        extra = {"mysql.auth_plugin": self.plugin, "mysql.database": self.database,
                 "mysql.server_version": self.server_version, **(error or {})}  # fmt: skip
        self.auth(timestamp, number, self.user, "success" if success else "failure", self.secret,
                  self.plugin or "mysql-password", extra)  # fmt: skip
        self.secret = None
        if success and self.capabilities & CLIENT_COMPRESS:
            self.stage = "done"  # compressed framing from here
        else:
            self.stage = "command"
        self.framers[1].reset()

    def _event(
        self, action: str, text: str, timestamp: float, number: int, extra: dict[str, Any] | None = None
    ) -> None:
        self.emit(
            timestamp, number, "mysql",
            {"event.category": "database", "event.type": "info", "event.action": action,
             "mysql.server_version": self.server_version, **(extra or {})},
            {"cmd": action.removeprefix("mysql-"), "arg": text},
            f"MySQL {text}", LOGSOURCE,
        )  # fmt: skip


def _error(payload: bytes) -> tuple[int, str]:
    """(error code, message) of an ERR packet."""
    if len(payload) < 3:
        raise ValueError("MySQL: short ERR packet")
    code = struct.unpack_from("<H", payload, 1)[0]
    offset = 3
    if len(payload) > 9 and payload[3:4] == b"#":
        offset = 9
    return code, payload[offset:].decode("utf-8", "replace")
