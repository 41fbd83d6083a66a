"""SOCKS 4/5: the proxied destination and RFC 1929 username/password authentication."""

from __future__ import annotations

import socket
import struct

from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector, choose_dissector
from tocsin.sources.pcap.flows import Flow
from tocsin.sources.pcap.reader import TCP

LOGSOURCE = LogSource.of("zeek", ("socks",), "proxy")
#: Bytes of each direction looked at before the connection becomes an opaque tunnel.
MAX_HANDSHAKE = 4096


class Socks(Dissector):
    service = "socks"
    ports = frozenset({1080, 10080})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.buffers = [bytearray(), bytearray()]
        self.stage = "greeting"
        self.user: str | None = None
        self.password: str | None = None
        self.destination_port = 0
        #: The protocol inside the tunnel, once the proxy said the connection is made.
        self.inner: Dissector | None = None

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        return (
            from_client and len(data) >= 3 and data[0] == 5 and 1 <= data[1] <= 8 and len(data) == 2 + data[1]
        )

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        if self.stage == "tunnel":
            if self.inner is None:
                self._open_tunnel(data, from_client)
            if self.inner is not None:
                self.inner.data(from_client, data, timestamp, number, gap)
            return
        if gap:
            self.stage = "opaque"
        if self.stage == "opaque":
            return
        buffer = self.buffers[0 if from_client else 1]
        buffer += data
        if len(buffer) > MAX_HANDSHAKE:
            self.stage = "opaque"
            return
        while self._step(timestamp, number):
            pass
        if self.stage == "tunnel":
            for side, rest in ((True, self.buffers[0]), (False, self.buffers[1])):
                if rest:
                    self.data(side, bytes(rest), timestamp, number, False)
                    rest.clear()

    def _open_tunnel(self, data: bytes, from_client: bool) -> None:
        """Dissect the proxied connection: the protocol its first bytes show, else its destination port."""
        others = [cls for cls in self.analyzer.dissectors if cls is not Socks]
        chosen = choose_dissector(others, TCP, self.destination_port, data, from_client)
        if chosen is not None:
            self.inner = chosen(self.analyzer, self.flow)

    def close(self, timestamp: float, number: int) -> None:
        if self.inner is not None:
            self.inner.close(timestamp, number)

    def _step(self, timestamp: float, number: int) -> bool:
        client, server = self.buffers
        if self.stage == "greeting" and client:
            if client[0] == 4:
                return self._socks4(client, timestamp, number)
            if len(client) < 2 or len(client) < 2 + client[1]:
                return False
            del client[: 2 + client[1]]
            self.stage = "method"
            return True
        if self.stage == "method" and len(server) >= 2:
            method = server[1]
            del server[:2]
            self.stage = "userpass" if method == 2 else "request"
            return True
        if self.stage == "userpass" and len(client) >= 2:
            user_end = 2 + client[1]
            if len(client) < user_end + 1 or len(client) < user_end + 1 + client[user_end]:
                return False
            self.user = client[2:user_end].decode("utf-8", "replace")
            self.password = client[user_end + 1 : user_end + 1 + client[user_end]].decode("utf-8", "replace")
            del client[: user_end + 1 + client[user_end]]
            self.stage = "userpass-reply"
            return True
        if self.stage == "userpass-reply" and len(server) >= 2:
            self.auth(timestamp, number, self.user, "success" if server[1] == 0 else "failure", self.password)
            del server[:2]
            self.stage = "request"
            return True
        if self.stage == "request" and len(client) >= 7:
            destination = _socks5_address(bytes(client))
            if destination is None:
                return False
            self._connect_event(*destination, timestamp, number)
            del client[: _socks5_size(client)]
            self.stage = "reply"
            return True
        if self.stage == "reply" and len(server) >= 7 and len(server) >= _socks5_size(server):
            succeeded = server[1] == 0
            del server[: _socks5_size(server)]
            self.stage = "tunnel" if succeeded else "opaque"
        if self.stage == "reply4" and len(server) >= 8:
            succeeded = server[1] == 90
            del server[:8]
            self.stage = "tunnel" if succeeded else "opaque"
        return False

    def _socks4(self, client: bytearray, timestamp: float, number: int) -> bool:
        end = client.find(b"\0", 8)
        if len(client) < 9 or end < 0:
            return False
        port = struct.unpack_from("!H", client, 2)[0]
        host = socket.inet_ntoa(bytes(client[4:8]))
        self.user = client[8:end].decode("utf-8", "replace") or None
        if host.startswith("0.0.0.") and (name_end := client.find(b"\0", end + 1)) > 0:
            host = client[end + 1 : name_end].decode("utf-8", "replace")
            end = name_end
        self._connect_event(host, port, timestamp, number)
        del client[: end + 1]
        self.stage = "reply4"
        return True

    def _connect_event(self, host: str, port: int, timestamp: float, number: int) -> None:
        self.destination_port = port
        self.emit(
            timestamp, number, "socks",
            {"event.category": "network", "event.type": "connection", "event.action": "socks-connect",
             "user.name": self.user, "socks.destination.address": host, "socks.destination.port": port},
            {"request.host": host, "request_p": port, "user": self.user},
            f"SOCKS connect {host}:{port} user={self.user or '-'}",
            LOGSOURCE,
        )  # fmt: skip


def _socks5_size(data: bytes | bytearray) -> int:
    """The length of a SOCKS 5 request or reply (version, code, reserved, address, port)."""
    kind = data[3]
    return 10 if kind == 1 else 22 if kind == 4 else 7 + data[4] if kind == 3 else len(data)


def _socks5_address(data: bytes) -> tuple[str, int] | None:
    kind = data[3]
    if kind == 1 and len(data) >= 10:
        return socket.inet_ntoa(data[4:8]), struct.unpack_from("!H", data, 8)[0]
    if kind == 3 and len(data) >= 5 + data[4] + 2:
        end = 5 + data[4]
        return data[5:end].decode("utf-8", "replace"), struct.unpack_from("!H", data, end)[0]
    if kind == 4 and len(data) >= 22:
        return socket.inet_ntop(socket.AF_INET6, data[4:20]), struct.unpack_from("!H", data, 20)[0]
    return None
