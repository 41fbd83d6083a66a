"""Line-oriented protocols (FTP, SMTP, POP3, IMAP, IRC): framing, command events, SASL."""

from __future__ import annotations

import base64
import binascii
from typing import Any, ClassVar

from tocsin.credentials import mask
from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow

#: Longer lines are dropped (and counted): a line protocol has no business sending them.
MAX_LINE = 8192


class LineDissector(Dissector):
    """Splits each direction into lines and hands them to ``client_line``/``server_line``."""

    #: Commands whose argument is a secret and is masked in events.
    secret_commands: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self._partial = [b"", b""]
        self._discarding = [False, False]
        self.logsource = LogSource.of("zeek", (self.service,), None)

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        side = 0 if from_client else 1
        if gap:
            self._partial[side], self._discarding[side] = b"", True
        lines = (self._partial[side] + data).split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_LINE:
            self.analyzer.stats.warn(f"{self.service}: line longer than {MAX_LINE} bytes dropped")
            rest, self._discarding[side] = b"", True
        self._partial[side] = rest
        for raw in lines:
            if self._discarding[side]:
                self._discarding[side] = False
                continue
            if len(raw) > MAX_LINE:
                self.analyzer.stats.warn(f"{self.service}: line longer than {MAX_LINE} bytes dropped")
                continue
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if from_client:
                self.client_line(line, timestamp, number)
            else:
                self.server_line(line, timestamp, number)

    def client_line(self, line: str, timestamp: float, number: int) -> None: ...

    def server_line(self, line: str, timestamp: float, number: int) -> None: ...

    def command_event(self, command: str, argument: str, timestamp: float, number: int,
                      extra: dict[str, Any] | None = None) -> None:  # fmt: skip
        """One client command, its argument masked when it is a secret."""
        verb = command.upper()
        shown = mask(argument) if verb in self.secret_commands and argument else argument
        self.emit(
            timestamp, number, self.service,
            {"event.category": "network", "event.type": "protocol", "event.action": verb.lower(), **(extra or {})},
            {"command": verb, "arg": shown or None},
            f"{self.service.upper()} {verb} {shown}".rstrip(),
            self.logsource,
        )  # fmt: skip


class Sasl:
    """A SASL PLAIN or LOGIN exchange: the client's base64 responses give user and password."""

    def __init__(self, mechanism: str, initial: str | None) -> None:
        self.mechanism = mechanism.upper()
        self.user: str | None = None
        self.secret: str | None = None
        self.steps = 0
        if initial and initial != "=":
            self.response(initial)

    def response(self, line: str) -> bool:
        """Take one client response; False when the client cancelled (``*``) or sent garbage."""
        if line.strip() == "*":
            return False
        try:
            decoded = base64.b64decode(line.strip(), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return False
        if self.mechanism == "PLAIN":
            parts = decoded.split("\0")
            if len(parts) >= 3:
                self.user, self.secret = parts[1] or parts[0], "\0".join(parts[2:])
        elif self.mechanism == "LOGIN":
            if self.steps == 0:
                self.user = decoded
            else:
                self.secret = decoded
        self.steps += 1
        return True

    @property
    def carries_password(self) -> bool:
        return self.mechanism in ("PLAIN", "LOGIN")
