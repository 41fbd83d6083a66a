"""HTTP/1.x: one event per request/response pair, Basic auth attempts, bodies for content scanning."""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow

#: A request line: any token as method (RFC 9110), a target, and a version (recognition needs one).
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}"
_REQUEST = re.compile(rb"^" + _TOKEN + rb" [^\r\n]{0,8192}HTTP/[0-9]")
#: Where a request starts after lost data (a known method: an arbitrary token would match any text).
_RESYNC_REQUEST = re.compile(
    rb"(?:^|\n)((?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK"
    rb"|SEARCH|REPORT) \S)"
)
_METHOD = re.compile(_TOKEN.decode())
_REQUEST_LINE = re.compile(_TOKEN + rb" \S")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
MAX_HEADERS = 64 * 1024
#: Bodies are kept (for content scanning) up to this size; bigger ones are only counted.
MAX_BODY = 8 << 20
LOGSOURCE = LogSource(frozenset({"zeek"}), frozenset({"http"}), frozenset({"proxy", "webserver"}))


@dataclass
class _Message:
    start_line: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body_size: int = 0
    body: bytearray = field(default_factory=bytearray)
    timestamp: float = 0.0
    number: int = 0


class _Side:
    """The parsing state of one direction."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.state = "headers"
        self.remaining = 0
        self.message: _Message | None = None


class Http(Dissector):
    service = "http"
    ports = frozenset({80, 8000, 8008, 8080, 3128})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.sides = (_Side(), _Side())
        self.requests: deque[_Message] = deque(maxlen=64)
        self.keep_bodies = analyzer.scanner is not None

    @classmethod
    def recognizes(cls, data: bytes, from_client: bool) -> bool:
        return bool(_REQUEST.match(data)) if from_client else data.startswith(b"HTTP/1.")

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        side = self.sides[0 if from_client else 1]
        if gap:
            side.buffer.clear()
            side.state, side.message = "resync", None
        side.buffer += data
        while side.buffer and self._step(side, from_client, timestamp, number):
            pass

    def _step(self, side: _Side, from_client: bool, timestamp: float, number: int) -> bool:
        """Advance one state; False when more data is needed."""
        buffer = side.buffer
        if side.state == "tunnel":
            buffer.clear()
            return False
        if side.state == "resync":
            start = _resync(buffer, from_client)
            if start < 0:
                del buffer[: max(0, len(buffer) - 16)]
                return False
            del buffer[:start]
            side.state = "headers"
        if side.state == "headers":
            if not from_client and not buffer.startswith(b"HTTP/"[: len(buffer)]):
                if self.requests or not self._partial_request(timestamp, number):
                    side.state = "resync"
                    return True
                side.state = "simple"  # an HTTP/0.9 response: the body alone, until the connection closes
                side.message = _Message("", timestamp=timestamp, number=number)
                return True
            found = _HEAD_END.search(buffer, 0, MAX_HEADERS + 4)
            if found is None:
                if len(buffer) > MAX_HEADERS:
                    self.analyzer.stats.warn("http: header block too large")
                    buffer.clear()
                    side.state = "resync"
                return False
            head = _parse_head(bytes(buffer[: found.start()]).decode("latin-1"), timestamp, number)
            del buffer[: found.end()]
            if from_client and head.start_line and not _METHOD.fullmatch(head.start_line.split(" ", 1)[0]):
                self.analyzer.stats.warn("http: request line without a method token")
                return True
            side.message = head
            self._begin_body(side, head, from_client)
            return True
        message = side.message
        assert message is not None
        if side.state == "length":
            take = min(side.remaining, len(buffer))
            self._body(message, buffer[:take])
            del buffer[:take]
            side.remaining -= take
            if side.remaining == 0:
                self._complete(side, from_client)
            return True
        if side.state == "chunk-size":
            end = buffer.find(b"\r\n")
            if end < 0:
                return False
            size_text = bytes(buffer[:end]).split(b";")[0].strip()
            del buffer[: end + 2]
            try:
                side.remaining = int(size_text, 16)
            except ValueError:
                side.state = "resync"
                return True
            side.state = "chunk" if side.remaining else "trailer"
            return True
        if side.state == "chunk":
            take = min(side.remaining, len(buffer))
            self._body(message, buffer[:take])
            del buffer[:take]
            side.remaining -= take
            if side.remaining == 0:
                side.state = "chunk-end"
            return True
        if side.state == "chunk-end":
            if len(buffer) < 2:
                return False
            del buffer[:2]
            side.state = "chunk-size"
            return True
        if side.state == "trailer":
            end = buffer.find(b"\r\n")
            if end < 0:
                return False
            del buffer[: end + 2]
            if end == 0:
                self._complete(side, from_client)
            return True
        if side.state in ("until-close", "simple"):
            self._body(message, buffer)
            buffer.clear()
            return False
        return False

    def _partial_request(self, timestamp: float, number: int) -> bool:
        """A request line without the blank line after it (HTTP/0.9, or cut off) counts as a request."""
        side = self.sides[0]
        if side.state != "headers" or not _REQUEST_LINE.match(side.buffer[:MAX_HEADERS]):
            return False
        head = bytes(side.buffer[:MAX_HEADERS]).rstrip(b"\r\n")
        self.requests.append(_parse_head(head.decode("latin-1"), timestamp, number))
        side.buffer.clear()
        return True

    def _begin_body(self, side: _Side, message: _Message, from_client: bool) -> None:
        headers = message.headers
        if from_client:
            self.requests.append(message)
        else:
            status = _status(message)
            request = self.requests[0] if self.requests else None
            if status < 200 or status in (204, 304) or (request and request.start_line.startswith("HEAD ")):
                if status < 200 and status != 101:
                    side.state, side.message = "headers", None  # interim response: the request stays open
                    return
                self._complete(side, from_client)
                if status == 101:
                    side.state = self.sides[0].state = "tunnel"
                return
            if request and request.start_line.upper().startswith("CONNECT ") and 200 <= status < 300:
                self._complete(side, from_client)
                side.state = "tunnel"
                self.sides[0].state = "tunnel"
                return
        length = _content_length(headers.get("content-length"))
        if "chunked" in headers.get("transfer-encoding", "").lower():
            side.state = "chunk-size"
        elif length == -1:
            self.analyzer.stats.warn("http: conflicting Content-Length values")
            self._complete(side, from_client)
            side.state = "resync"
        elif length is not None:
            side.remaining = length
            side.state = "length"
            if side.remaining == 0:
                self._complete(side, from_client)
        elif from_client:
            self._complete(side, from_client)
        else:
            side.state = "until-close"

    def _body(self, message: _Message, chunk: bytes | bytearray) -> None:
        message.body_size += len(chunk)
        if self.keep_bodies and len(message.body) < MAX_BODY:
            message.body += chunk[: MAX_BODY - len(message.body)]

    def _complete(self, side: _Side, from_client: bool) -> None:
        message = side.message
        side.state, side.message = "headers", None
        if message is None:
            return
        if from_client:
            self._scan_body(message, "http request body")
            return
        request = self.requests.popleft() if self.requests else None
        self._scan_body(message, "http response body")
        self._transaction(request, message)

    def _scan_body(self, message: _Message, kind: str) -> None:
        if message.body:
            self.analyzer.payload(self.flow, kind, _decoded_body(message), message.timestamp)

    def close(self, timestamp: float, number: int) -> None:
        response = self.sides[1]
        self._partial_request(timestamp, number)
        if response.state in ("until-close", "simple") and response.message is not None:
            self._complete(response, False)
        while self.requests:
            request = self.requests.popleft()
            if request is self.sides[0].message:
                self._scan_body(request, "http request body")
            self._transaction(request, None)

    def _transaction(self, request: _Message | None, response: _Message | None) -> None:
        if request is None:
            request = _Message(timestamp=response.timestamp if response else 0.0)
        method, uri, version = _request_line(request.start_line)
        headers = request.headers
        domain, port = authority(headers.get("host"), uri)
        path, _, query = uri.partition("?") if uri.startswith("/") else ("", "", "")
        status = _status(response) if response else None
        user, password = basic_auth(headers.get("authorization") or headers.get("proxy-authorization"))
        fields: dict[str, Any] = {
            "event.category": "network",
            "event.type": "protocol",
            "event.action": method.lower() or None,
            "http.request.method": method or None,
            "url.original": uri or None,
            "url.domain": domain,
            "url.port": port,
            "url.path": path or None,
            "url.query": query or None,
            "http.version": version.removeprefix("HTTP/") or None,
            "user_agent.original": headers.get("user-agent"),
            "http.request.referrer": headers.get("referer"),
            "http.request.body.bytes": request.body_size,
            "http.request.mime_type": headers.get("content-type"),
            "http.response.status_code": status,
            "http.response.body.bytes": response.body_size if response else None,
            "http.response.mime_type": response.headers.get("content-type") if response else None,
            "user.name": user,
        }
        original = {
            "method": method or None,
            "host": headers.get("host"),
            "uri": uri or None,
            "user_agent": headers.get("user-agent"),
            "status_code": status,
            "request_body_len": request.body_size,
            "response_body_len": response.body_size if response else None,
            "username": user,
            "c-uri": uri or None,
            "cs-method": method or None,
            "cs-host": headers.get("host"),
            "c-useragent": headers.get("user-agent"),
            "cs-user-agent": headers.get("user-agent"),
            "sc-status": status,
            "cs-referrer": headers.get("referer"),
            "cs-uri-stem": uri.split("?")[0] or None,
            "cs-uri-query": uri.partition("?")[2] or None,
        }
        raw = f"{method} {headers.get('host', '')}{uri} {status if status is not None else '-'} {headers.get('user-agent', '')}".strip()
        self.emit(request.timestamp, request.number, "http", fields, original, raw, LOGSOURCE)
        if user is not None and status is not None:
            outcome = "failure" if status in (401, 403, 407) else "success" if status < 400 else "unknown"
            self.auth(request.timestamp, request.number, user, outcome, password, "http-basic")


def _parse_head(text: str, timestamp: float, number: int) -> _Message:
    """Start line and headers (names lower-cased; folded lines joined; repeated headers joined by ``, ``)."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    headers: dict[str, str] = {}
    name = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and name:  # obsolete line folding
            headers[name] = f"{headers[name]} {line.strip()}".strip()
            continue
        name, sep, value = line.partition(":")
        name = name.strip().lower()
        if not sep or not name:
            name = ""
            continue
        headers[name] = f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
    return _Message(lines[0].strip(), headers, timestamp=timestamp, number=number)


def _request_line(line: str) -> tuple[str, str, str]:
    """(method, target, version) as Wireshark splits them: the version is the third word, if any."""
    parts = line.split(" ")
    if len(parts) >= 3:
        return parts[0], " ".join(parts[1:-1]), parts[-1]
    return parts[0], parts[1] if len(parts) == 2 else "", ""


def authority(host: str | None, uri: str) -> tuple[str | None, int | None]:
    """(domain, port) from the Host header, else from an absolute-form target; the port only when given."""
    if not host:
        scheme, sep, rest = uri.partition("://")
        if not sep or not scheme.isalpha():
            return None, None
        host = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    host = host.strip()
    if host.startswith("["):  # an IPv6 literal
        literal, _, rest = host[1:].partition("]")
        port_text = rest.removeprefix(":")
        return literal or None, int(port_text) if port_text.isdigit() and int(port_text) < 65536 else None
    name, sep, port_text = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    if sep and port_text.isdigit() and int(port_text) < 65536:
        return name or None, int(port_text)
    return (name if sep else host) or None, None


def _content_length(value: str | None) -> int | None:
    """The body length, None when absent or unreadable, -1 when repeated with different values."""
    if value is None:
        return None
    lengths = {part.strip() for part in value.split(",")}
    if len(lengths) > 1:
        return -1
    length = lengths.pop()
    return int(length) if length.isdigit() else None


def _status(message: _Message | None) -> int:
    if message is None:
        return 0
    parts = message.start_line.split(" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def basic_auth(value: str | None) -> tuple[str | None, str | None]:
    """User and password of an ``Authorization: Basic`` header value (Zeek and EVE logs read them alike)."""
    if not value or not value.lower().startswith("basic"):
        return None, None
    try:
        decoded = base64.b64decode(value[5:].strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None, None
    user, _, password = decoded.partition(":")
    return user, password


def _decoded_body(message: _Message) -> bytes:
    """The body with its content encoding (gzip/deflate) undone, within the body size limit."""
    encoding = message.headers.get("content-encoding", "").lower()
    body = bytes(message.body)
    if encoding in ("gzip", "x-gzip", "deflate"):
        window = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        try:
            return zlib.decompressobj(window).decompress(body, MAX_BODY)
        except zlib.error:
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, MAX_BODY)
            except zlib.error:
                return body
    return body


def _resync(buffer: bytearray, from_client: bool) -> int:
    """Where the next message starts after lost data, or -1."""
    if from_client:
        match = _RESYNC_REQUEST.search(buffer)
        return match.start(1) if match else -1
    return buffer.find(b"HTTP/1.")
