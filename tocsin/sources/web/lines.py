"""Web log formats of one record per line, each declared as a regular expression with named groups.

Every format reads its lines the same way (``LineFormat.batches``): one compiled pattern
``fullmatch`` per line, its groups handed to ``Requests.fields``; a line the pattern does not take
is counted as skipped with the format's name, and the rest of the input is read.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator
from itertools import islice
from typing import Any, ClassVar

from tocsin.batch import EventBatch
from tocsin.model.event import LogSource
from tocsin.sources.base import InputSource, InputStats, Sample
from tocsin.sources.inputs import decode_lines
from tocsin.sources.timeparse import parse_time
from tocsin.sources.web.batch import WebParser, WebRecords
from tocsin.sources.web.requests import Requests, integer, request_line, split_host_port

#: A double-quoted field in which ``\"`` and ``\\`` are escapes (Apache, nginx, ALB); possessive, so
#: an unclosed quote in a hostile line fails in linear time.
_QUOTED = r'"(?P<{}>[^"\\]*+(?:\\.[^"\\]*+)*+)"'

#: Combined and common log formats (Apache, nginx, Tomcat), with an optional virtual host (and
#: port) first, an optional X-Forwarded-For after the user agent (nginx's ``main`` format) and an
#: optional response time last.
COMBINED = re.compile(
    r"(?:(?P<vhost>[^\s:\[\"]+)(?::(?P<vport>\d{1,5}))? (?=\S+ \S+ \S+ \[))?"
    r"(?P<client>[^\s\[\"]+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]{1,40})\] "
    + _QUOTED.format("request")
    + r" (?P<status>\d{3}|-) (?P<bytes>\d+|-)"
    + r"(?: "
    + _QUOTED.format("referrer")
    + " "
    + _QUOTED.format("agent")
    + r"(?: "
    + _QUOTED.format("forwarded")
    + r")?)?(?: (?P<duration>\d+(?:\.\d+)?))?[ \t]*"
)

#: Apache error log, 2.2 (``[date] [level] [client ip] message``) and 2.4 (``[date] [module:level]
#: [pid N:tid N] [client ip:port] AHnnnnn: message``).
APACHE_ERROR = re.compile(
    r"\[(?P<time>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4})\] "
    r"\[(?:(?P<module>[^:\]\s]+):)?(?P<level>emerg|alert|crit|error|warn|notice|info|debug|trace[1-8])\]"
    r"(?: \[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\])?(?: \[client (?P<client>[^\]\s]+)\])? ?(?P<message>.*)"
)
_AH_CODE = re.compile(r"(AH\d{5}): ")

#: nginx error log: ``2019/06/27 12:00:00 [error] 123#0: *1 message, client: ..., server: ...``.
NGINX_ERROR = re.compile(
    r"(?P<day>\d{4}/\d\d/\d\d) (?P<clock>\d\d:\d\d:\d\d) "
    r"\[(?P<level>debug|info|notice|warn|error|crit|alert|emerg)\] (?P<pid>\d+)#(?P<tid>\d+): "
    r"(?:\*(?P<connection>\d+) )?(?P<message>.*)"
)
_NGINX_CONTEXT = re.compile(
    r", client: (?P<client>[^,\s]+), server: (?P<server>[^,]*)"
    r'(?:, request: "(?P<request>(?:[^"\\]|\\.)*)")?(?:, \w+: "(?:[^"\\]|\\.)*")*?'
    r'(?:, host: "(?P<host>(?:[^"\\]|\\.)*)")?'
)

#: HAProxy's HTTP log format behind a syslog header.
HAPROXY = re.compile(
    r"(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) (?P<host>\S+) "
    r"(?P<program>haproxy)\[(?P<pid>\d+)\]: (?P<client>\S+) "
    r"\[(?P<time>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d(?:\.\d+)?)\] "
    r"(?P<frontend>\S+) (?P<backend>[^\s/]+)/(?P<server>\S+) "
    r"(?P<tq>-?\d+)/(?P<tw>-?\d+)/(?P<tc>-?\d+)/(?P<tr>-?\d+)/\+?(?P<tt>-?\d+) "
    r"(?P<status>-?\d{1,3}) \+?(?P<bytes>\d+) \S+ \S+ \S+ \S+ \S+"
    r"(?: \{[^}]*\})?(?: \{[^}]*\})? " + _QUOTED.format("request") + r".*"
)

_HAPROXY_TAG = re.compile(r"^\S.{0,40} haproxy\[\d+\]: ")

#: AWS Application Load Balancer access log entries (the fields up to ``domain_name``).
ALB = re.compile(
    r"(?P<type>https?|h2|grpcs?|wss?) (?P<time>\S+) (?P<elb>\S+) (?P<client>\S+) (?P<target>\S+) "
    r"(?P<t1>-?[\d.]+) (?P<t2>-?[\d.]+) (?P<t3>-?[\d.]+) (?P<status>\d{3}|-) (?P<target_status>\d{3}|-) "
    r"(?P<received>\d+|-) (?P<sent>\d+|-) "
    + _QUOTED.format("request")
    + " "
    + _QUOTED.format("agent")
    + r" (?P<cipher>\S+) (?P<protocol>\S+) (?P<group>\S+) "
    + _QUOTED.format("trace")
    + " "
    + _QUOTED.format("domain")
    + r"(?: .*)?"
)

_LEVEL_TYPES = {"emerg": "error", "alert": "error", "crit": "error", "error": "error", "warn": "info"}


class LineFormat(WebParser):
    """A line format: ``pattern`` takes one line, ``read`` turns its groups into a row.

    ``hints`` are words of a file name that pick this format over one of the same syntax (an
    nginx or Tomcat access log reads exactly like Apache's); a format with hints is chosen only
    when the name has one.
    """

    pattern: ClassVar[re.Pattern[str]]
    dataset: ClassVar[str]
    logsource: ClassVar[LogSource]
    hints: ClassVar[tuple[str, ...]] = ()
    confidence: ClassVar[int] = 85

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        if cls.hints and not any(hint in sample.name.lower() for hint in cls.hints):
            return 0
        lines = [line for line in sample.text.splitlines()[:20] if line.strip()]
        if len(lines) > 1 and not sample.head.endswith(b"\n"):
            lines.pop()  # cut off by the sample's size
        if not lines:
            return 0
        hits = sum(1 for line in lines if cls.pattern.fullmatch(line))
        return cls.confidence * hits // len(lines)

    @abstractmethod
    def read(
        self, match: re.Match[str], requests: Requests
    ) -> tuple[float | None, dict[str, Any], LogSource]:
        """(time, ECS fields, log source) of a matched line."""

    def splittable(self, source: InputSource) -> bool:
        """Each line is read alone (the request, the client, the time zone it carries)."""
        return True

    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[EventBatch]:
        requests = Requests(self.options, self.dataset, self.logsource)
        fullmatch, read, skip_reason = (
            self.pattern.fullmatch,
            self.read,
            f"line not in the {self.name} format",
        )
        with source.open() as stream:
            lines = decode_lines(stream, stats, self.options.max_record_bytes, source.first_line)
            while chunk := list(islice(lines, size)):
                batch = WebRecords(source.name, self.name)
                stats.records += len(chunk)
                for number, line in chunk:
                    match = fullmatch(line)
                    if match is None:
                        stats.skip(skip_reason)
                        continue
                    timestamp, fields, logsource = read(match, requests)
                    if timestamp is None:
                        stats.skip("invalid timestamp")
                        continue
                    batch.add(fields, timestamp, line, number, logsource)
                stats.events += len(batch)
                if len(batch):
                    yield batch


class CombinedFormat(LineFormat):
    """Combined/common access logs; ``unit`` is the unit of a response time logged as an integer."""

    pattern = COMBINED
    unit: ClassVar[float] = 1e-6

    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[EventBatch]:
        """Lines in batches split a column at a time (``web.columns``)."""
        from tocsin.sources.web.columns import CombinedRows

        requests = Requests(self.options, self.dataset, self.logsource)
        with source.open() as stream:
            lines = decode_lines(stream, stats, self.options.max_record_bytes, source.first_line)
            while chunk := list(islice(lines, size)):
                stats.records += len(chunk)
                rows = CombinedRows(self, requests, source.name, chunk, stats)
                stats.events += len(rows)
                if len(rows):
                    yield rows

    def read(
        self, match: re.Match[str], requests: Requests
    ) -> tuple[float | None, dict[str, Any], LogSource]:
        method, target, version = request_line(match["request"])
        duration = match["duration"]
        seconds = None
        if duration is not None:
            seconds = float(duration) if "." in duration else int(duration) * self.unit
        fields, logsource = requests.fields(
            client=match["client"],
            method=method,
            target=target,
            version=version,
            status=integer(match["status"]),
            size=integer(match["bytes"]),
            referrer=match["referrer"],
            agent=match["agent"],
            user=match["user"],
            host=match["vhost"],
            forwarded=match["forwarded"],
            duration=seconds,
        )
        return requests.clock.clf(match["time"]), fields, logsource


class ApacheAccessParser(CombinedFormat):
    name = "apache-access"
    description = "Apache access logs: combined, common, with virtual host or response time (%D, µs)"
    dataset = "apache.access"
    logsource = LogSource.of("apache", ("access", "apache"), "webserver")
    confidence = 80


class NginxAccessParser(CombinedFormat):
    name = "nginx-access"
    description = "nginx access logs: combined and main (X-Forwarded-For), with $request_time (s)"
    dataset = "nginx.access"
    logsource = LogSource.of("nginx", ("access", "nginx"), "webserver")
    hints = ("nginx",)
    unit = 1.0


class TomcatAccessParser(CombinedFormat):
    name = "tomcat-access"
    description = "Tomcat AccessLogValve logs (common and combined patterns, %D in ms)"
    dataset = "tomcat.access"
    logsource = LogSource.of("tomcat", ("access", "tomcat"), "webserver")
    hints = ("localhost_access_log", "tomcat", "catalina")
    unit = 1e-3


def _error_fields(dataset: str, provider: str, level: str, message: str) -> dict[str, Any]:
    """The fields every error-log line has, whichever server wrote it."""
    return {
        "event.kind": "event",
        "event.category": "web",
        "event.type": _LEVEL_TYPES.get(level, "info"),
        "event.dataset": dataset,
        "event.provider": provider,
        "log.level": level,
        "message": message,
    }


class ApacheErrorParser(LineFormat):
    name = "apache-error"
    description = "Apache error logs (2.2 and 2.4 styles)"
    pattern = APACHE_ERROR
    dataset = "apache.error"
    logsource = LogSource.of("apache", ("error", "apache"), "webserver")

    def read(
        self, match: re.Match[str], requests: Requests
    ) -> tuple[float | None, dict[str, Any], LogSource]:
        message = match["message"]
        fields = _error_fields(self.dataset, "apache", match["level"], message)
        if match["module"]:
            fields["log.logger"] = match["module"]
        if match["pid"]:
            fields["process.pid"] = int(match["pid"])
        if match["tid"]:
            fields["process.thread.id"] = int(match["tid"])
        if match["client"]:
            address, port = split_host_port(match["client"])
            fields["source.ip"] = fields["source.address"] = address
            if port is not None:
                fields["source.port"] = port
        code = _AH_CODE.match(message)
        if code:
            fields["error.code"] = code[1]
        return requests.clock.ctime(match["time"]), fields, self.logsource


class NginxErrorParser(LineFormat):
    name = "nginx-error"
    description = "nginx error logs"
    pattern = NGINX_ERROR
    dataset = "nginx.error"
    logsource = LogSource.of("nginx", ("error", "nginx"), "webserver")

    def read(
        self, match: re.Match[str], requests: Requests
    ) -> tuple[float | None, dict[str, Any], LogSource]:
        message, level = match["message"], match["level"]
        context = _NGINX_CONTEXT.search(message)
        fields: dict[str, Any] = {}
        if context is not None:
            method, target, version = request_line(context["request"] or "")
            fields, _ = requests.fields(
                client=context["client"],
                method=method,
                target=target or None,
                version=version,
                status=None,
                host=context["host"] or context["server"] or None,
            )
            message = message[: context.start()]
        fields.update(_error_fields(self.dataset, "nginx", level, message))
        fields.update({"process.pid": int(match["pid"]), "process.thread.id": int(match["tid"])})
        return requests.clock.numeric(match["day"], match["clock"]), fields, self.logsource


class HaproxyParser(LineFormat):
    name = "haproxy"
    description = "HAProxy HTTP logs (option httplog) behind a syslog header"
    pattern = HAPROXY
    dataset = "haproxy.log"
    logsource = LogSource(frozenset({"haproxy"}), frozenset(), frozenset({"webserver", "proxy"}))
    confidence = 90  # its lines are syslog lines too: HAProxy's own shape is the closer match

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        """HAProxy's own lines, HTTP logs among them: its notices ("Proxy started") are counted as
        skipped, not a reason to read the file as plain syslog."""
        lines = [line for line in sample.text.splitlines()[:20] if line.strip()]
        if not lines or not all(_HAPROXY_TAG.search(line) for line in lines):
            return 0
        return cls.confidence if any(cls.pattern.fullmatch(line) for line in lines) else 0

    def read(
        self, match: re.Match[str], requests: Requests
    ) -> tuple[float | None, dict[str, Any], LogSource]:
        method, target, version = request_line(match["request"])
        address, port = split_host_port(match["client"])
        total = int(match["tt"])
        status = integer(match["status"])
        fields, logsource = requests.fields(
            client=address,
            port=port,
            method=method,
            target=target,
            version=version,
            status=status,
            size=integer(match["bytes"]),
            duration=total / 1000 if total >= 0 else None,
        )
        fields["host.name"] = match["host"]
        fields["process.name"] = "haproxy"
        fields["process.pid"] = int(match["pid"])
        fields["haproxy.frontend_name"] = match["frontend"]
        fields["haproxy.backend_name"] = match["backend"]
        fields["haproxy.server_name"] = match["server"]
        return requests.clock.clf(match["time"]), fields, logsource


class AlbParser(LineFormat):
    name = "aws-alb"
    description = "AWS Application Load Balancer access logs"
    pattern = ALB
    dataset = "aws.elb"
    logsource = LogSource(frozenset({"aws"}), frozenset({"elb"}), frozenset({"webserver", "proxy"}))
    confidence = 90

    def read(
        self, match: re.Match[str], requests: Requests
    ) -> tuple[float | None, dict[str, Any], LogSource]:
        method, target, version = request_line(match["request"])
        address, port = split_host_port(match["client"])
        times = [float(match[name]) for name in ("t1", "t2", "t3") if _number(match[name])]
        duration = sum(times) if len(times) == 3 and min(times) >= 0 else None
        domain = match["domain"]
        fields, logsource = requests.fields(
            client=address,
            port=port,
            method=method,
            target=target,
            version=version,
            status=integer(match["status"]),
            size=integer(match["sent"]),
            agent=match["agent"],
            host=domain if domain and domain != "-" else None,
            duration=duration,
        )
        fields["aws.elb.name"] = match["elb"]
        if match["target_status"] != "-":
            fields["aws.elb.target_status_code"] = match["target_status"]
        return parse_time(match["time"]), fields, logsource


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
