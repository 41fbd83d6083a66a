"""IRC: client commands (NICK, USER, PASS, JOIN, PRIVMSG, OPER, DCC offers...) as events; the
connection password (PASS) and OPER credentials as authentication attempts with their outcome."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from tocsin.credentials import mask
from tocsin.sources.pcap.analyzer import Analyzer
from tocsin.sources.pcap.flows import Flow
from tocsin.sources.pcap.protocols.lines import LineDissector

#: Commands not worth an event each (keep-alives).
QUIET = frozenset({"PING", "PONG"})
#: Command events per connection; the rest are counted.
MAX_EVENTS = 2000
_DCC = re.compile(r"\x01DCC\s+(\w+)\s+(\"[^\"]*\"|\S+)\s+(\S+)\s+(\S+)(?:\s+(\d+))?", re.IGNORECASE)
#: Replies ending registration: welcome (success) and password mismatch / banned (failure).
WELCOME, PASSWORD_MISMATCH, YOURE_OPER, NO_OPER_HOST = "001", "464", "381", "491"


def _dcc(message: str) -> dict[str, Any] | None:
    """The fields of a CTCP DCC offer (``DCC SEND file ip port size``), None when malformed."""
    match = _DCC.search(message)
    if not match:
        return None
    kind, name, host, port, size = match.groups()
    try:
        address = str(ipaddress.ip_address(int(host))) if host.isdigit() else str(ipaddress.ip_address(host))
        port_number = int(port)
    except ValueError:
        return None
    if not 0 < port_number < 65536:
        return None
    return {"irc.dcc.type": kind.upper(), "irc.dcc.file_name": name.strip('"'), "irc.dcc.address": address,
            "irc.dcc.port": port_number, "irc.dcc.size": int(size) if size else None}  # fmt: skip


class Irc(LineDissector):
    service = "irc"
    ports = frozenset({6665, 6666, 6667, 6668, 6669, 6697, 7000})
    secret_commands = frozenset({"PASS"})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.nick: str | None = None
        self.user: str | None = None
        self.password: str | None = None
        self.registered = False
        self.oper: tuple[str, str] | None = None
        self.events = 0

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        if from_client:
            return data.startswith((b"NICK ", b"CAP LS", b"CAP REQ"))
        first = data.split(b"\n", 1)[0]
        return first.startswith(b":") and b" NOTICE " in first[:80]

    def client_line(self, line: str, timestamp: float, number: int) -> None:
        line = line.strip()
        if line.startswith(":"):  # a prefix from a client is legal and ignored
            line = line.partition(" ")[2].lstrip()
        command, _, argument = line.partition(" ")
        verb = command.upper()
        if not verb:
            return
        extra: dict[str, Any] = {}
        shown = argument
        if verb == "NICK":
            self.nick = argument.lstrip(":").split(" ")[0] or self.nick
        elif verb == "USER":
            self.user = argument.split(" ")[0] or self.user
        elif verb == "PASS":
            self.password = argument.lstrip(":") or None
        elif verb == "OPER":
            name, _, password = argument.partition(" ")
            self.oper = (name, password.lstrip(":"))
            shown = f"{name} {mask(self.oper[1])}" if password else name
        elif verb in ("PRIVMSG", "NOTICE"):
            target, _, message = argument.partition(" ")
            extra["irc.target"] = target
            if "\x01DCC" in message.upper():
                extra.update(_dcc(message) or {"irc.dcc.malformed": True})
        elif verb == "JOIN":
            extra["irc.channel"] = argument.split(" ")[0]
        if verb in QUIET:
            return
        if self.events >= MAX_EVENTS:
            if self.events == MAX_EVENTS:
                self.analyzer.stats.warn(
                    f"irc: more than {MAX_EVENTS} commands in one connection; the rest not emitted"
                )
                self.events += 1
            return
        self.events += 1
        extra.update({"irc.nick": self.nick, "user.name": self.user or self.nick})
        self.command_event(verb, shown, timestamp, number, {k: v for k, v in extra.items() if v is not None})

    def server_line(self, line: str, timestamp: float, number: int) -> None:
        words = line.split(" ", 3)
        if words and words[0].startswith(":"):
            words = words[1:]
        if not words:
            return
        reply = words[0].upper()
        if reply == WELCOME and not self.registered:
            self.registered = True
            if len(words) > 1 and words[1] != "*":
                self.nick = words[1]
            self._login(True, timestamp, number)
        elif reply == PASSWORD_MISMATCH or (reply == "ERROR" and not self.registered):
            if self.oper is not None and self.registered:
                self._oper(False, timestamp, number)
            else:
                self._login(False, timestamp, number)
        elif reply == YOURE_OPER:
            self._oper(True, timestamp, number)
        elif reply == NO_OPER_HOST:
            self._oper(False, timestamp, number)

    def _login(self, success: bool, timestamp: float, number: int) -> None:
        if self.password is None:
            return
        self.auth(timestamp, number, self.user or self.nick, "success" if success else "failure", self.password,
                  "password", {"irc.nick": self.nick})  # fmt: skip
        self.password = None

    def _oper(self, success: bool, timestamp: float, number: int) -> None:
        if self.oper is None:
            return
        name, password = self.oper
        self.auth(timestamp, number, name, "success" if success else "failure", password or None, "irc-oper",
                  {"irc.nick": self.nick})  # fmt: skip
        self.oper = None
