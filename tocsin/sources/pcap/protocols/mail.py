"""FTP, SMTP, POP3 and IMAP: commands, authentication attempts with their outcome, mail bodies."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass

from tocsin.sources.pcap.analyzer import Analyzer
from tocsin.sources.pcap.flows import Flow
from tocsin.sources.pcap.protocols.lines import MAX_LINE, LineDissector, Sasl

_REPLY = re.compile(r"^(\d{3})([ -]|$)(.*)")
#: A mail message is scanned up to this size.
MAX_MESSAGE = 16 << 20
#: At most this many MIME parts of one message are scanned.
MAX_PARTS = 256
#: Parsing stops before this many ``--`` lines (MIME boundaries): the email package spends ~0.1 ms
#: on each part, so a message of a hundred thousand tiny parts would stall the capture.
MAX_BOUNDARY_LINES = 2 * MAX_PARTS


@dataclass(frozen=True, slots=True)
class MimePart:
    """One leaf part of a mail message, decoded from its transfer encoding (base64, quoted-printable)."""

    data: bytes
    content_type: str
    #: The attachment's file name, if it gave one.
    filename: str | None
    attachment: bool


def mime_parts(raw: bytes) -> tuple[list[MimePart], list[str]]:
    """The decoded leaf parts of a message (at most ``MAX_PARTS``), and the MIME defects met.

    The email package records most damage as defects; what it still raises on, the caller catches.
    """
    parts: list[MimePart] = []
    defects: list[str] = []
    cut = -1
    for _ in range(MAX_BOUNDARY_LINES):
        cut = raw.find(b"\n--", cut + 1)
        if cut < 0:
            break
    else:
        raw = raw[: cut + 1]
        defects.append(f"more than {MAX_BOUNDARY_LINES} boundary lines")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in message.walk():
        if not part.is_multipart():
            if len(parts) == MAX_PARTS:
                defects.append(f"more than {MAX_PARTS} parts")
                break
            payload = part.get_payload(decode=True)  # records bad base64 etc. as defects
            data = payload if isinstance(payload, bytes) else b""
            try:
                filename = part.get_filename()
                attachment = filename is not None or part.get_content_disposition() == "attachment"
            except (ValueError, IndexError):  # the header parser trips on some mangled parameters
                filename, attachment = None, False
                defects.append("unreadable Content-Disposition")
            if filename is not None:
                filename = "".join(c for c in filename if c.isprintable())[:255]
            parts.append(MimePart(data, part.get_content_type(), filename, attachment))
        defects += (type(defect).__name__ for defect in part.defects)
    return parts, defects


class Ftp(LineDissector):
    service = "ftp"
    ports = frozenset({21})
    secret_commands = frozenset({"PASS", "ACCT"})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.user: str | None = None
        self.password: str | None = None
        self.awaiting: str | None = None

    def client_line(self, line: str, timestamp: float, number: int) -> None:
        command, _, argument = line.strip().partition(" ")
        verb = command.upper()
        self.command_event(verb, argument, timestamp, number, {"user.name": self.user} if self.user else None)
        if verb == "USER":
            self.user, self.password, self.awaiting = argument, None, "USER"
        elif (
            verb == "PASS" and self.awaiting is not None
        ):  # a PASS after the login's verdict is no new attempt
            self.password, self.awaiting = argument, "PASS"

    def server_line(self, line: str, timestamp: float, number: int) -> None:
        match = _REPLY.match(line)
        if not match or match.group(2) == "-" or self.awaiting is None:
            return
        code = int(match.group(1))
        if code == 331 or code == 332:
            if self.awaiting == "USER":
                self.awaiting = "USER-OK"
            return
        if 200 <= code < 300 or code >= 500 or code in (421, 430):
            self.auth(timestamp, number, self.user, "success" if code < 300 else "failure", self.password)
            self.awaiting = None

    def close(self, timestamp: float, number: int) -> None:
        """A password sent without a verdict seen is still an attempt."""
        if self.awaiting == "PASS":
            self.auth(timestamp, number, self.user, "unknown", self.password)
            self.awaiting = None


class _MailAuth(LineDissector):
    """Shared SASL bookkeeping of SMTP, POP3 and IMAP."""

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.sasl: Sasl | None = None
        self.login: tuple[str | None, str | None, str] | None = None

    def start_sasl(self, argument: str) -> None:
        mechanism, _, initial = argument.strip().partition(" ")
        self.sasl = Sasl(mechanism, initial or None)

    def sasl_continue(self, line: str) -> bool:
        """Feed a client line to a running SASL exchange; True when it was consumed."""
        if self.sasl is None or self.login is not None:
            return False
        if not self.sasl.response(line):
            self.sasl = None
        return True

    def finish_login(self, success: bool, timestamp: float, number: int) -> None:
        if self.login is not None:
            user, secret, method = self.login
        elif self.sasl is not None:
            user, method = self.sasl.user, f"sasl-{self.sasl.mechanism.lower()}"
            secret = self.sasl.secret if self.sasl.carries_password else None
        else:
            return
        self.auth(timestamp, number, user, "success" if success else "failure", secret, method)
        self.login, self.sasl = None, None


class Smtp(_MailAuth):
    service = "smtp"
    ports = frozenset({25, 587, 2525})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.in_data = False
        self.message = bytearray()
        self.message_start = 0.0
        #: BDAT (RFC 3030): bytes of the current chunk still to come, whether it is the LAST one.
        self.chunk_left = 0
        self.chunk_last = False
        self.in_bdat = False
        self._pending = b""

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        """Client bytes are lines, except BDAT chunks: exactly as many bytes as the command announced."""
        if not from_client:
            super().data(from_client, data, timestamp, number, gap)
            return
        if gap:
            if self.chunk_left:
                self.analyzer.stats.warn("smtp: BDAT chunk with missing data; message scanned as far as seen")
                self.chunk_left, self.in_bdat = 0, False
                self._deliver()
            self._pending = b""
            super().data(True, b"", timestamp, number, True)
        buffer = self._pending + data if self._pending else data
        position = 0
        while position < len(buffer):
            if self.chunk_left:
                take = min(self.chunk_left, len(buffer) - position)
                self._chunk(buffer[position : position + take])
                position += take
                self.chunk_left -= take
                if not self.chunk_left and self.chunk_last:
                    self._end_bdat()
                continue
            end = buffer.find(b"\n", position)
            if end < 0:
                break
            super().data(True, buffer[position : end + 1], timestamp, number, False)
            position = end + 1
        rest = buffer[position:]
        if len(rest) > MAX_LINE:  # the line machinery drops it, counted
            super().data(True, rest, timestamp, number, False)
            rest = b""
        self._pending = rest

    def client_line(self, line: str, timestamp: float, number: int) -> None:
        if self.in_data:
            self._message_line(line, timestamp)
            return
        if self.sasl_continue(line):
            return
        command, _, argument = line.strip().partition(" ")
        verb = command.upper()
        self.command_event(verb, "" if verb == "AUTH" else argument, timestamp, number,
                           {"smtp.auth_mechanism": argument.split(" ")[0].upper()} if verb == "AUTH" else None)  # fmt: skip
        if verb == "AUTH":
            self.start_sasl(argument)
        elif verb == "DATA":
            self.in_data, self.message, self.message_start = True, bytearray(), timestamp
        elif verb == "BDAT":
            self._bdat(argument, timestamp)
        elif verb == "RSET":
            self.message, self.in_bdat = bytearray(), False

    def _bdat(self, argument: str, timestamp: float) -> None:
        size, _, last = argument.strip().partition(" ")
        if not size.isdigit():
            self.analyzer.stats.warn("smtp: BDAT without a valid chunk size")
            return
        if not self.in_bdat:
            self.in_bdat, self.message, self.message_start = True, bytearray(), timestamp
        self.chunk_left, self.chunk_last = int(size), last.strip().upper() == "LAST"
        if not self.chunk_left and self.chunk_last:
            self._end_bdat()

    def _chunk(self, data: bytes) -> None:
        if len(self.message) < MAX_MESSAGE and self.analyzer.scanner is not None:
            self.message += data[: MAX_MESSAGE - len(self.message)]

    def _end_bdat(self) -> None:
        self.in_bdat = False
        self._deliver()

    def _message_line(self, line: str, timestamp: float) -> None:
        if line == ".":
            self.in_data = False
            self._deliver()
            return
        if len(self.message) < MAX_MESSAGE and self.analyzer.scanner is not None:
            self.message += line.removeprefix(".").encode() + b"\r\n"

    def server_line(self, line: str, timestamp: float, number: int) -> None:
        match = _REPLY.match(line)
        if not match or match.group(2) == "-":
            return
        code = int(match.group(1))
        if self.sasl is not None and code != 334:
            self.finish_login(200 <= code < 300, timestamp, number)
        if code == 354:
            self.in_data = True

    def _deliver(self) -> None:
        """A message is complete: its decoded MIME parts go to the content scanner (the raw message is
        scanned with the stream); a message the email package cannot take is scanned raw instead."""
        raw, self.message = bytes(self.message), bytearray()
        if not raw or self.analyzer.scanner is None:
            return
        try:
            parts, defects = mime_parts(raw)
        except Exception as exc:  # the email package is lenient, but not with everything
            self.analyzer.stats.warn(f"smtp: MIME message not parsed ({type(exc).__name__}); scanned raw")
            self.analyzer.payload(self.flow, "smtp message", raw, self.message_start)
            return
        for defect in sorted(set(defects)):
            self.analyzer.stats.warn(f"smtp: malformed MIME message ({defect})")
        for number, part in enumerate(parts):
            kind = "smtp attachment" if part.attachment else "smtp body"
            self.analyzer.payload(
                self.flow, kind, part.data, self.message_start, name=part.filename, part=number
            )

    def close(self, timestamp: float, number: int) -> None:
        if self.in_data or self.in_bdat:
            self._deliver()


class Pop3(_MailAuth):
    service = "pop3"
    ports = frozenset({110})
    secret_commands = frozenset({"PASS"})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.user: str | None = None

    def client_line(self, line: str, timestamp: float, number: int) -> None:
        if self.sasl_continue(line):
            return
        command, _, argument = line.strip().partition(" ")
        verb = command.upper()
        self.command_event(verb, argument, timestamp, number)
        if verb == "USER":
            self.user = argument
        elif verb == "PASS":
            self.login = (self.user, argument, "password")
        elif verb == "APOP":
            self.login = (argument.split(" ")[0], None, "apop")
        elif verb == "AUTH" and argument:
            self.start_sasl(argument)

    def server_line(self, line: str, timestamp: float, number: int) -> None:
        if line.startswith("+OK"):
            self.finish_login(True, timestamp, number)
        elif line.startswith("-ERR"):
            self.finish_login(False, timestamp, number)


_IMAP_ARGS = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


class Imap(_MailAuth):
    service = "imap"
    ports = frozenset({143})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.tag: str | None = None

    def client_line(self, line: str, timestamp: float, number: int) -> None:
        if self.sasl_continue(line):
            return
        tag, _, rest = line.strip().partition(" ")
        command, _, argument = rest.partition(" ")
        verb = command.upper()
        self.command_event(verb, "" if verb in ("LOGIN", "AUTHENTICATE") else argument, timestamp, number)
        if verb == "LOGIN":
            words = [quoted if quoted else bare for quoted, bare in _IMAP_ARGS.findall(argument)]
            if len(words) >= 2:
                self.tag, self.login = tag, (words[0], words[1], "password")
        elif verb == "AUTHENTICATE":
            self.tag = tag
            self.start_sasl(argument)

    def server_line(self, line: str, timestamp: float, number: int) -> None:
        tag, _, rest = line.partition(" ")
        if self.tag is not None and tag == self.tag:
            self.finish_login(rest.upper().startswith("OK"), timestamp, number)
            self.tag = None
