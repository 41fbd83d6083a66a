"""Combined/common access log lines a batch at a time, kept as columns.

Each line is split by the format's one compiled pattern (``lines.COMBINED``; Python's ``re`` takes
these lines apart faster than RE2's submatch extraction does) and its groups are kept as columns,
not as a dict of fields per line; RE2 then splits the request lines and paths a column at a time,
times are computed once per distinct stamp and login endpoints matched a column at a time. The
engine reads the columns it needs; an ``Event`` is made, by the same code as ``LineFormat.batches``
(``CombinedFormat.read``), only for a row that raised something or whose document is asked for.

Lines RE2 cannot take exactly as Python's ``re`` would (anything but printable ASCII and tabs),
absolute-URL requests (proxies), client host names, and every line when X-Forwarded-For is read
(``[web] trusted_proxies``) go through ``CombinedFormat.read`` one by one, in their place, so a
batch gives the same events in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from tocsin.batch import EventBatch, EventList
from tocsin.model.event import Event, LogSource, sql_value
from tocsin.sources.base import InputStats
from tocsin.sources.web.batch import sigma_names
from tocsin.sources.web.lines import COMBINED
from tocsin.sources.web.requests import REQUEST_LINE, SIGMA_FIELDS, Requests, integer, is_ip_cached

if TYPE_CHECKING:
    from tocsin.sources.web.lines import CombinedFormat

#: ``lines.COMBINED`` for RE2 (no look-ahead, see module doc; no possessive quantifiers, which change
#: nothing in a pattern RE2 runs without backtracking), anchored.
RE2_COMBINED = "^" + COMBINED.pattern.replace(r" (?=\S+ \S+ \S+ \[)", " ").replace("*+", "*") + "$"
_RE2_REQUEST = "^" + REQUEST_LINE.pattern + "$"
_PATH = r"^(?P<path>/[^?]*)(?:\?(?P<query>.*))?$"
_EXTENSION = r"\.(?P<extension>[^./]{1,10})$"
#: Lines on which RE2's ``\d``, ``\s`` and ``.`` mean what Python's mean: printable ASCII and tabs.
_PLAIN_TEXT = r"^[\x20-\x7e\t]*$"
_NULL = pa.scalar(None, pa.string())


def _text(array: pa.Array) -> list[str | None]:
    """A column as Python strings, ``""`` (RE2's group that took no part) as None."""
    return [value or None for value in array.to_pylist()]


class CombinedRows(EventBatch):
    """One chunk of combined-format lines (see module doc)."""

    holds_lists = False  # the fields of an access log line: text and numbers

    def __init__(
        self,
        parser: CombinedFormat,
        requests: Requests,
        name: str,
        chunk: list[tuple[int, str]],
        stats: InputStats,
    ) -> None:
        self._parser, self._requests, self._name, self._chunk = parser, requests, name, chunk
        fullmatch = COMBINED.fullmatch
        matches = [fullmatch(text) for _, text in chunk]
        empty = (None,) * COMBINED.groups
        columns = list(zip(*(empty if match is None else match.groups() for match in matches), strict=True))
        self._groups = {name: list(columns[index - 1]) for name, index in COMBINED.groupindex.items()}
        texts = pa.array([text for _, text in chunk], pa.string())
        plain = pc.fill_null(pc.match_substring_regex(texts, _PLAIN_TEXT), False)
        request = pc.if_else(plain, pa.array(self._groups["request"], pa.string()), _NULL)
        line = pc.extract_regex(request, _RE2_REQUEST)
        target = pc.coalesce(pc.if_else(pc.is_valid(line), pc.struct_field(line, "target"), _NULL), request)
        path = pc.extract_regex(target, _PATH)
        self._line, self._target, self._path = line, target, path
        self._columns: dict[str, list[Any]] = {}
        absolute = pc.fill_null(
            pc.and_not(pc.match_substring(target, "://"), pc.starts_with(target, "/")), False
        )
        fast = pc.and_(pc.and_(plain, pc.is_valid(request)), pc.invert(absolute)).to_pylist()
        clients, stamps = self._groups["client"], self._groups["time"]
        slow = {
            client
            for client in set(clients)
            if client is not None and client != "-" and not is_ip_cached(client)
        }
        if requests.reads_forwarded:
            slow = set(clients)
        epochs: dict[str | None, float | None] = {None: None}
        clf = requests.clock.clf
        statuses = [integer(status) for status in self._groups["status"]]
        logins = self._logins(requests).to_pylist()
        known: dict[tuple[int | None, bool], tuple[str, str, str | None, str | None, LogSource]] = {}
        #: Per row: the line's position, or for lines read one by one (position, fields).
        self._rows: list[int | tuple[int, dict[str, Any]]] = []
        self._timestamps: list[float | None] = []
        self._logsources: list[LogSource] = []
        #: Per line position of a row split a column at a time: (category, type, action, outcome, log source).
        self._classes: list[tuple[str, str, str | None, str | None, LogSource] | None] = [None] * len(chunk)
        add_row, add_time, add_logsource = self._rows.append, self._timestamps.append, self._logsources.append
        skip_reason = f"line not in the {parser.name} format"
        for position, is_fast in enumerate(fast):
            if is_fast and clients[position] not in slow:
                stamp = stamps[position]
                timestamp = epochs[stamp] if stamp in epochs else epochs.setdefault(stamp, clf(stamp))
                if timestamp is None:
                    stats.skip("invalid timestamp")
                    continue
                key = (statuses[position], logins[position])
                classes = known.get(key)
                if classes is None:
                    classes = known[key] = requests.classify(*key)
                self._classes[position] = classes
                add_row(position)
                add_logsource(classes[4])
            else:
                match = matches[position]
                if match is None:
                    stats.skip(skip_reason)
                    continue
                timestamp, fields, logsource = parser.read(match, requests)
                if timestamp is None:
                    stats.skip("invalid timestamp")
                    continue
                add_row((position, fields))
                add_logsource(logsource)
            add_time(timestamp)
        self._statuses = statuses
        self._cache: dict[int, Event] = {}

    def _logins(self, requests: Requests) -> pa.Array:
        """Whether each line is a request to a login endpoint (``Requests.login``, a column at a time)."""
        path = pc.struct_field(self._path, "path")
        trimmed = pc.utf8_rtrim(path, characters="/")
        trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar("/"), trimmed)
        login = pa.array([False] * len(trimmed), pa.bool_())
        if requests.any_method_paths:
            login = pc.or_(
                login, pc.fill_null(pc.match_substring_regex(trimmed, requests.any_method_paths), False)
            )
        if requests.login_paths and requests.login_methods:
            method = pc.utf8_upper(pc.struct_field(self._line, "method"))
            posted = pc.is_in(method, value_set=pa.array(requests.login_methods, pa.string()))
            matched = pc.match_substring_regex(trimmed, requests.login_paths)
            login = pc.or_(login, pc.fill_null(pc.and_(posted, matched), False))
        return login

    def __len__(self) -> int:
        return len(self._rows)

    def logsource_groups(self) -> dict[LogSource, list[int]]:
        return EventList.group_by_logsource(self._logsources)

    def values(self, name: str, rows: Sequence[int]) -> list[Any]:
        name = SIGMA_FIELDS.get(name.lower(), name)
        column = self._column(name)
        entries = self._rows
        out: list[Any] = []
        for row in rows:
            entry = entries[row]
            value = column[entry] if isinstance(entry, int) else entry[1].get(name)
            out.append(value if value is None or type(value) is str else sql_value(value))
        return out

    def _column(self, name: str) -> list[Any]:
        """Field ``name`` of every line position (None for lines read one by one, and for fields
        this format does not have)."""
        column = self._columns.get(name)
        if column is None:
            column = self._columns[name] = self._compute(name)
        return column

    def _part(self, name: str) -> list[str | None]:
        """A group of the pattern at every line position, empty values as None."""
        return [value or None for value in self._groups[name]]

    def _compute(self, name: str) -> list[Any]:
        size = len(self._chunk)
        requests = self._requests
        if name in ("source.ip", "source.address"):
            return [None if client == "-" else client for client in self._part("client")]
        if name == "user.name":
            return [None if user == "-" else user for user in self._part("user")]
        if name == "url.original":
            return _text(self._target)
        if name in ("url.path", "url.query"):
            return _text(pc.struct_field(self._path, name[4:]))
        if name == "url.extension":
            extension = pc.extract_regex(pc.struct_field(self._path, "path"), _EXTENSION)
            return [
                value.lower() if value else None
                for value in pc.struct_field(extension, "extension").to_pylist()
            ]
        if name in ("http.request.method", "http.version"):
            group = "method" if name == "http.request.method" else "version"
            return _text(pc.if_else(pc.is_valid(self._line), pc.struct_field(self._line, group), _NULL))
        if name == "http.response.status_code":
            return self._statuses
        if name == "http.response.body.bytes":
            return [integer(size) for size in self._part("bytes")]
        if name in ("http.request.referrer", "user_agent.original"):
            values = self._part("referrer" if name == "http.request.referrer" else "agent")
            return [None if value == "-" else value for value in values]
        if name in ("destination.domain", "url.domain"):
            return [None if host == "-" else host for host in self._part("vhost")]
        if name == "event.duration":
            unit = self._parser.unit
            out: list[Any] = []
            for duration in self._part("duration"):
                if duration is None:
                    out.append(None)
                else:
                    seconds = float(duration) if "." in duration else int(duration) * unit
                    out.append(round(seconds * 1e9))
            return out
        constant = {
            "event.kind": "event",
            "event.dataset": requests.dataset,
            "event.provider": requests.provider,
        }
        if name in constant:
            return [constant[name]] * size
        classes = ("event.category", "event.type", "event.action", "event.outcome")
        if name in classes:
            index = classes.index(name)
            return [None if known is None else known[index] for known in self._classes]
        return [None] * size

    def raw(self, rows: Sequence[int]) -> list[str]:
        chunk, entries = self._chunk, self._rows
        return [
            chunk[entry if isinstance(entry, int) else entry[0]][1]
            for entry in map(entries.__getitem__, rows)
        ]

    def event(self, row: int) -> Event:
        event = self._cache.get(row)
        if event is None:
            entry = self._rows[row]
            if isinstance(entry, int):
                match = COMBINED.fullmatch(self._chunk[entry][1])
                if match is None:  # RE2 took the line: the same pattern in Python's re does too
                    raise RuntimeError(f"{self._name}: line {self._chunk[entry][0]} matched RE2 but not re")
                _, fields, _ = self._parser.read(match, self._requests)
                position = entry
            else:
                position, fields = entry
            number, text = self._chunk[position]
            event = self._cache[row] = Event(
                timestamp=self._timestamps[row],
                fields=dict(fields),
                original=sigma_names(fields, None),
                raw=text,
                logsource=self._logsources[row],
                input=self._name,
                offset=str(number),
                format=self._parser.name,
            )
        return event
