"""W3C extended log files: IIS and CloudFront. The ``#Fields:`` directive names the columns; a new
``#Fields:`` further down (IIS writes one whenever it restarts or the logged fields change) names
them for the lines after it.

``COLUMNS`` maps the W3C column names to the parts of a request (``Requests.fields``); columns it
does not name are kept under their own names in the event's original fields, so rules written
against them (``s-sitename``, ``x-edge-location``) still match.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from itertools import islice
from typing import Any, ClassVar
from urllib.parse import unquote

from tocsin.model.event import LogSource
from tocsin.sources.base import InputSource, InputStats, Sample
from tocsin.sources.inputs import decode_lines
from tocsin.sources.web.batch import WebParser, WebRecords
from tocsin.sources.web.requests import Clock, Requests, integer

#: W3C column (lower case) → the part of a request it holds. Later columns of the same part win.
COLUMNS: dict[str, str] = {
    "c-ip": "client",
    "c-port": "port",
    "cs-method": "method",
    "cs-uri-stem": "path",
    "cs-uri-query": "query",
    "sc-status": "status",
    "sc-bytes": "size",
    "cs(user-agent)": "agent",
    "cs(referer)": "referrer",
    "cs(referrer)": "referrer",
    "cs-username": "user",
    "cs-host": "host",
    "cs(host)": "host",
    "x-host-header": "host",
    "time-taken": "duration",
    "cs-version": "version",
    "cs-protocol-version": "version",
    "x-forwarded-for": "forwarded",
    "cs(x-forwarded-for)": "forwarded",
    "cs(authorization)": "authorization",
}


class W3CFormat(WebParser):
    """A W3C extended log; ``separator`` splits columns, ``unit`` is that of ``time-taken``."""

    #: A line reads by the ``#Fields:`` header above it: lines appended to a followed file cannot be
    #: read on their own.
    line_oriented = False
    dataset: ClassVar[str]
    logsource: ClassVar[LogSource]
    separator: ClassVar[str | None]
    unit: ClassVar[float]

    @classmethod
    @abstractmethod
    def recognizes(cls, directives: str) -> int:
        """Confidence from the ``#`` directives at the start of a file (lower case)."""

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        directives = "\n".join(line for line in sample.text.lower().splitlines()[:10] if line.startswith("#"))
        return cls.recognizes(directives) if "#fields:" in directives else 0

    @staticmethod
    def decode(part: str, value: str) -> str | None:
        """The value of a column holding ``part`` as the request had it; None for ``-``."""
        return None if value == "-" else value

    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[WebRecords]:
        requests = Requests(self.options, self.dataset, self.logsource)
        clock = Clock("UTC")  # W3C logs are written in UTC
        columns: list[str] | None = None
        with source.open() as stream:
            lines = decode_lines(stream, stats, self.options.max_record_bytes)
            while chunk := list(islice(lines, size)):
                batch = WebRecords(source.name, self.name)
                for number, line in chunk:
                    if line.startswith("#"):
                        if line[:8].lower() == "#fields:":
                            columns = line[8:].split()
                        continue
                    if not line.strip():
                        continue
                    stats.records += 1
                    row = self._row(line, columns, stats)
                    if row is None:
                        continue
                    timestamp = clock.numeric(row.get("date", ""), row.get("time", ""))
                    if timestamp is None:
                        stats.skip("invalid timestamp")
                        continue
                    fields, logsource = self._fields(row, requests)
                    batch.add(fields, timestamp, line, number, logsource, row)
                stats.events += len(batch)
                if len(batch):
                    yield batch

    def _row(self, line: str, columns: list[str] | None, stats: InputStats) -> dict[str, str] | None:
        if columns is None:
            stats.skip("line before any #Fields header")
            return None
        values = line.rstrip("\r").split(self.separator)
        if len(values) != len(columns):
            stats.skip("column count differs from the #Fields header")
            return None
        if "date" not in columns or "time" not in columns:
            stats.skip("#Fields header without date and time")
            return None
        return dict(zip(columns, values, strict=True))

    def _fields(self, row: dict[str, str], requests: Requests) -> tuple[dict[str, Any], LogSource]:
        parts: dict[str, str] = {}
        decode = self.decode
        for column, value in row.items():
            part = COLUMNS.get(column.lower())
            if part is not None:
                decoded = decode(part, value)
                if decoded is not None:
                    parts[part] = decoded
        path, query = parts.get("path"), parts.get("query")
        target = None if path is None else f"{path}?{query}" if query else path
        duration = parts.get("duration")
        try:
            seconds = float(duration) * self.unit if duration is not None else None
        except ValueError:
            seconds = None
        version = parts.get("version")
        return requests.fields(
            client=parts.get("client"),
            port=integer(parts.get("port")),
            method=parts.get("method"),
            target=target,
            version=version.partition("/")[2] if version and "/" in version else version,
            status=integer(parts.get("status")),
            size=integer(parts.get("size")),
            referrer=parts.get("referrer"),
            agent=parts.get("agent"),
            user=parts.get("user"),
            host=parts.get("host"),
            forwarded=parts.get("forwarded"),
            duration=seconds,
            authorization=parts.get("authorization"),
        )


class IisParser(W3CFormat):
    name = "iis"
    description = "IIS W3C extended logs (columns from #Fields, which may change mid-file)"
    dataset = "iis.access"
    logsource = LogSource.of("iis", ("access", "iis"), "webserver")
    separator = None  # runs of spaces
    unit = 1e-3  # time-taken in milliseconds

    @classmethod
    def recognizes(cls, directives: str) -> int:
        if "#software: microsoft internet information services" in directives:
            return 95
        return 85 if "cs-method" in directives and "x-edge-location" not in directives else 0

    @staticmethod
    def decode(part: str, value: str) -> str | None:
        """IIS writes a space inside a header value as ``+``."""
        if value == "-":
            return None
        return value.replace("+", " ") if part in ("agent", "referrer") else value

    def _fields(self, row: dict[str, str], requests: Requests) -> tuple[dict[str, Any], LogSource]:
        fields, logsource = super()._fields(row, requests)
        substatus = row.get("sc-substatus")
        if substatus and substatus.isdigit():
            fields["iis.access.sub_status"] = int(substatus)
        return fields, logsource


class CloudFrontParser(W3CFormat):
    name = "aws-cloudfront"
    description = "Amazon CloudFront standard logs (W3C, tab-separated)"
    dataset = "aws.cloudfront"
    logsource = LogSource(frozenset({"aws"}), frozenset({"cloudfront"}), frozenset({"webserver", "proxy"}))
    separator = "\t"
    unit = 1.0  # time-taken in seconds

    @classmethod
    def recognizes(cls, directives: str) -> int:
        return 95 if "x-edge-location" in directives else 0

    @staticmethod
    def decode(part: str, value: str) -> str | None:
        """CloudFront URL-encodes header values (``%20``); ``-`` is empty."""
        if value == "-":
            return None
        return unquote(value) if part in ("agent", "referrer") and "%" in value else value
