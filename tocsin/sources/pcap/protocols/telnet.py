"""Telnet: IAC negotiation stripped, the login and password prompts and the answers typed (keystroke
by keystroke or line by line), the outcome the server shows, and the commands typed after login."""

from __future__ import annotations

import re
from typing import Any

from tocsin.credentials import mask
from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow

LOGSOURCE = LogSource.of("zeek", ("telnet",), None)
IAC, SB, SE, WILL, WONT, DO, DONT = 255, 250, 240, 251, 252, 253, 254
#: A suboption longer than this is abandoned (an unclosed SB must not swallow the session).
MAX_SUBOPTION = 4096
#: A typed line longer than this is dropped; the server's current line is kept to this tail.
MAX_LINE = 1024
#: Command events per connection.
MAX_EVENTS = 2000

_LOGIN_PROMPT = re.compile(r"(?:login|user ?name|user)\s*:\s*$", re.IGNORECASE)
_PASSWORD_PROMPT = re.compile(r"(?:password|passcode|passwort)\s*:\s*$", re.IGNORECASE)
_FAILURE = re.compile(r"incorrect|invalid|fail|denied|bad password|not allowed|wrong", re.IGNORECASE)
_SUCCESS_LINE = re.compile(r"last login|welcome|logged in|you have (?:new )?mail", re.IGNORECASE)
_SHELL_PROMPT = re.compile(r"[$#>%]\s*$")
_DATA, _IAC, _OPTION, _SB, _SB_IAC = range(5)


class _Side:
    """IAC state and text of one direction."""

    __slots__ = ("line", "overlong", "state", "sub", "swallow_lf")

    def __init__(self) -> None:
        self.state = _DATA
        self.sub = 0
        self.line: list[str] = []
        self.overlong = False
        self.swallow_lf = False


def strip_iac(side: _Side, data: bytes, stats: Any = None) -> bytes:
    """The data bytes of ``data``: negotiation and suboptions removed, ``IAC IAC`` kept as one 0xFF."""
    if side.state == _DATA and IAC not in data:
        return data
    out = bytearray()
    position, size = 0, len(data)
    while position < size:
        state = side.state
        if state == _DATA:
            next_iac = data.find(b"\xff", position)
            if next_iac < 0:
                out += data[position:]
                break
            out += data[position:next_iac]
            position = next_iac + 1
            side.state = _IAC
            continue
        byte = data[position]
        position += 1
        if state == _IAC:
            if byte == IAC:
                out.append(IAC)
                side.state = _DATA
            elif byte in (WILL, WONT, DO, DONT):
                side.state = _OPTION
            elif byte == SB:
                side.state, side.sub = _SB, 0
            else:
                side.state = _DATA
        elif state == _OPTION:
            side.state = _DATA
        else:  # in a suboption
            side.sub += 1
            if side.sub > MAX_SUBOPTION:
                if stats is not None:
                    stats.warn(f"telnet: suboption longer than {MAX_SUBOPTION} bytes abandoned")
                side.state = _DATA
            elif state == _SB:
                if byte == IAC:
                    side.state = _SB_IAC
            elif byte == SE:
                side.state = _DATA
            else:
                side.state = _SB
    return bytes(out)


class Telnet(Dissector):
    service = "telnet"
    ports = frozenset({23, 2323})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.sides = (_Side(), _Side())
        self.screen = ""  # the server's current (unterminated) line
        self.prompt: str | None = None
        self.user: str | None = None
        self.password: str | None = None
        self.awaiting: tuple[float, int] | None = None
        self.logged_in = False
        self.events = 0

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        return len(data) >= 3 and data[0] == IAC and data[1] in (WILL, WONT, DO, DONT)

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        side = self.sides[0 if from_client else 1]
        if gap:
            side.state, side.line, side.overlong = _DATA, [], True
        text = strip_iac(side, data, self.analyzer.stats).decode("utf-8", "replace")
        if not text:
            return
        if from_client:
            self._keys(side, text, timestamp, number)
        else:
            self._server(text, timestamp, number)

    # -- client keystrokes ------------------------------------------------------------------

    def _keys(self, side: _Side, text: str, timestamp: float, number: int) -> None:
        for char in text:
            if char == "\n" and side.swallow_lf:
                side.swallow_lf = False
                continue
            side.swallow_lf = False
            if char in "\r\n":
                side.swallow_lf = char == "\r"
                line, overlong = "".join(side.line), side.overlong
                side.line, side.overlong = [], False
                if overlong:
                    self.analyzer.stats.warn(f"telnet: typed line longer than {MAX_LINE} characters dropped")
                else:
                    self._typed(line, timestamp, number)
            elif char in "\x08\x7f":
                if side.line:
                    side.line.pop()
            elif char == "\x15":  # ^U: kill line
                side.line = []
            elif char >= " " or char == "\t":
                if len(side.line) >= MAX_LINE:
                    side.overlong = True
                else:
                    side.line.append(char)

    def _typed(self, line: str, timestamp: float, number: int) -> None:
        prompt, self.prompt = self.prompt, None
        if prompt == "login":
            self.user = line.strip() or None
            self._event(
                "telnet-login-name", {"user.name": self.user}, "login", self.user or "", timestamp, number
            )
        elif prompt == "password":
            if self.awaiting is not None:  # asked for the password again: the last one was refused
                self._outcome("failure", timestamp, number)
            self.password = line
            self.awaiting = (timestamp, number)
            shown = mask(line) if line else ""
            self._event("telnet-password", {"user.name": self.user}, "password", shown, timestamp, number)
        elif self.logged_in and line.strip():
            self._event(
                "telnet-command", {"user.name": self.user}, "command", line.strip(), timestamp, number
            )

    # -- server output -----------------------------------------------------------------------

    def _server(self, text: str, timestamp: float, number: int) -> None:
        lines = (self.screen + text).split("\n")
        self.screen = lines.pop()[-MAX_LINE:]
        for line in lines:
            line = line.strip("\r\0")
            if self.awaiting is not None and line:
                self._verdict(line, timestamp, number, complete=True)
        partial = self.screen.strip("\r\0")
        if not partial:
            return
        if self.awaiting is not None:
            self._verdict(partial, timestamp, number, complete=False)
        if _PASSWORD_PROMPT.search(partial):
            self.prompt = "password"
        elif _LOGIN_PROMPT.search(partial):
            self.prompt = "login"
            if self.awaiting is not None:  # asked to log in again: the password was refused
                self._outcome("failure", timestamp, number)

    def _verdict(self, line: str, timestamp: float, number: int, complete: bool) -> None:
        if _FAILURE.search(line):
            self._outcome("failure", timestamp, number)
        elif _SUCCESS_LINE.search(line) or (not complete and _SHELL_PROMPT.search(line)):
            self._outcome("success", timestamp, number)

    def _outcome(self, outcome: str, timestamp: float, number: int) -> None:
        if self.awaiting is None:
            return
        self.auth(timestamp, number, self.user, outcome, self.password or None)
        self.awaiting, self.password = None, None
        self.logged_in = outcome == "success"

    def close(self, timestamp: float, number: int) -> None:
        if self.awaiting is not None:
            self._outcome("unknown", *self.awaiting)

    def _event(self, action: str, fields: dict[str, Any], command: str, argument: str,
               timestamp: float, number: int) -> None:  # fmt: skip
        if self.events >= MAX_EVENTS:
            return
        self.events += 1
        self.emit(
            timestamp, number, "telnet",
            {"event.category": "network", "event.type": "protocol", "event.action": action, **fields},
            {"command": command, "arg": argument or None, "user": self.user},
            f"TELNET {command} {argument}".rstrip(), LOGSOURCE,
        )  # fmt: skip
