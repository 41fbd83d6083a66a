"""What every web log format shares: an HTTP request's ECS fields, logins, X-Forwarded-For trust,
and the SigmaHQ ``webserver``/``proxy`` field names.

A format's parser finds the parts of a request (client, method, target, status, ...) in its own
way; ``Requests.fields`` turns them into ECS the same way for all of them, so a rule written
against ``url.path`` or ``http.response.status_code`` fires on every format.
"""

from __future__ import annotations

import base64
import binascii
import re
from calendar import timegm
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tocsin.model.event import LogSource
from tocsin.settings import WebSettings
from tocsin.sources.base import ParseOptions

#: SigmaHQ's ``webserver`` and ``proxy`` field names (W3C extended log names) and the ECS field
#: each one reads. A rule naming them resolves on every web format; a W3C log's own columns of
#: the same name are the same values.
SIGMA_FIELDS: dict[str, str] = {
    "c-ip": "source.ip",
    "cs-method": "http.request.method",
    "cs-uri": "url.original",
    "c-uri": "url.original",
    "cs-uri-stem": "url.path",
    "c-uri-stem": "url.path",
    "cs-uri-query": "url.query",
    "c-uri-query": "url.query",
    "c-uri-extension": "url.extension",
    "sc-status": "http.response.status_code",
    "sc-bytes": "http.response.body.bytes",
    "cs-user-agent": "user_agent.original",
    "c-useragent": "user_agent.original",
    "cs(user-agent)": "user_agent.original",
    "cs-referer": "http.request.referrer",
    "cs-referrer": "http.request.referrer",
    "cs(referer)": "http.request.referrer",
    "cs-host": "destination.domain",
    "cs(host)": "destination.domain",
    "r-dns": "destination.domain",
    "cs-username": "user.name",
    "cs-version": "http.version",
}

REQUEST_LINE = re.compile(
    r"(?P<method>[A-Za-z_-]{1,32}) (?P<target>\S+)(?: [A-Za-z]+/(?P<version>\d+(?:\.\d+)?))?"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
_ZONE = re.compile(r"[+-]\d{4}")


def request_line(request: str) -> tuple[str | None, str, str | None]:
    """``GET /a?b HTTP/1.1`` → (method, target, version); a line of another shape is all target."""
    match = REQUEST_LINE.fullmatch(request)
    if match is None:
        return None, request, None
    return match["method"], match["target"], match["version"]


def basic_auth_user(header: str | None) -> str | None:
    """The user name of an ``Authorization: Basic ...`` header, None for any other value."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None
    user = decoded.partition(":")[0]
    return user or None


def integer(value: str | None) -> int | None:
    """A decimal count as logged (``-`` and garbage: None)."""
    if value and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def split_host_port(address: str) -> tuple[str, int | None]:
    """``1.2.3.4:5678``, ``[::1]:80``, ``::1`` → (address, port or None)."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        return host, integer(rest[1:]) if rest.startswith(":") else None
    if address.count(":") == 1:
        host, _, port = address.partition(":")
        return host, integer(port)
    if address.count(":") > 1:  # Apache 2.4 writes IPv6 clients as ``::1:5678``
        host, _, port = address.rpartition(":")
        if port.isdigit() and _is_ip(host) and not _is_ip(address):
            return host, int(port)
    return address, None


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


class Clock:
    """Epoch seconds of the timestamp shapes web servers write; the last stamp is cached (lines of
    one second share it). Stamps without a zone are in ``zone``."""

    def __init__(self, zone: str) -> None:
        self.zone = None if zone.upper() == "UTC" else ZoneInfo(zone)
        self._last: tuple[str, float | None] = ("", None)
        self._days: dict[str, float | None] = {}

    def _midnight(self, key: str, year: int, month: int, day: int) -> float | None:
        """The UTC epoch of the start of a date (cached under ``key``); None when it does not exist."""
        if key not in self._days:
            moment = _moment(year, month, day, "00:00:00")
            if len(self._days) > 4096:
                self._days.clear()
            self._days[key] = None if moment is None else float(timegm(moment.timetuple()))
        return self._days[key]

    def _naive(self, year: int, month: int, day: int, clock: str, fraction: str = "") -> float | None:
        moment = _moment(year, month, day, clock)
        if moment is None:
            return None
        if self.zone is not None:
            epoch = moment.replace(tzinfo=self.zone).timestamp()
        else:
            epoch = float(timegm(moment.timetuple()))
        return epoch + (float(fraction) if fraction else 0.0)

    def clf(self, stamp: str) -> float | None:
        """``27/Jun/2019:12:00:00 +0000`` (a fraction and a missing zone, as HAProxy writes, too)."""
        last, epoch = self._last
        if stamp == last:
            return epoch
        epoch = None
        month = _MONTHS.get(stamp[3:6])
        if month and stamp[2:3] == "/" and stamp[6:7] == "/" and stamp[11:12] == ":" and stamp[:2].isdigit():
            clock, _, zone = stamp[12:].partition(" ")
            base, _, fraction = clock.partition(".")
            if stamp[7:11].isdigit() and len(base) == 8 and (not fraction or fraction.isdigit()):
                if zone and _ZONE.fullmatch(zone):
                    offset = (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60) * (-1 if zone[0] == "-" else 1)
                    midnight = self._midnight(stamp[:11], int(stamp[7:11]), month, int(stamp[:2]))
                    seconds = _seconds(base)
                    if midnight is not None and seconds is not None:
                        epoch = midnight + seconds - offset + (float("0." + fraction) if fraction else 0)
                elif not zone:
                    epoch = self._naive(
                        int(stamp[7:11]), month, int(stamp[:2]), base, "0." + fraction if fraction else ""
                    )
        self._last = (stamp, epoch)
        return epoch

    def ctime(self, stamp: str) -> float | None:
        """``Sun Dec 04 04:47:44 2005`` or ``Thu Jun 27 12:00:00.123456 2019`` (Apache error logs)."""
        parts = stamp.split()
        if len(parts) != 5 or parts[0][:3] not in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
            return None
        month = _MONTHS.get(parts[1])
        base, _, fraction = parts[3].partition(".")
        if not (month and parts[2].isdigit() and parts[4].isdigit() and len(base) == 8):
            return None
        return self._naive(
            int(parts[4]), month, int(parts[2]), base, "0." + fraction if fraction.isdigit() else ""
        )

    def numeric(self, day: str, clock: str) -> float | None:
        """``2019/06/27`` or ``2019-06-27`` and ``12:00:00[.fff]``."""
        key = day + clock
        last, epoch = self._last
        if key == last:
            return epoch
        base, _, fraction = clock.partition(".")
        epoch = None
        if (
            len(day) == 10
            and day[:4].isdigit()
            and day[5:7].isdigit()
            and day[8:].isdigit()
            and len(base) == 8
        ):
            epoch = self._naive(
                int(day[:4]), int(day[5:7]), int(day[8:]), base, "0." + fraction if fraction.isdigit() else ""
            )
        self._last = (key, epoch)
        return epoch


def _seconds(clock: str) -> int | None:
    """Seconds since midnight of ``hh:mm:ss``; None for a time that does not exist."""
    hour, minute, second = clock[0:2], clock[3:5], clock[6:8]
    if not (clock[2:3] == clock[5:6] == ":" and hour.isdigit() and minute.isdigit() and second.isdigit()):
        return None
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        return None
    return int(hour) * 3600 + int(minute) * 60 + int(second)


def _moment(year: int, month: int, day: int, clock: str) -> datetime | None:
    """A naive datetime of a date and ``hh:mm:ss``; None when it does not exist."""
    try:
        return datetime(year, month, day, int(clock[0:2]), int(clock[3:5]), int(clock[6:8]))
    except ValueError:
        return None


def glob_regex(patterns: list[str]) -> str | None:
    """One case-insensitive regular expression, the same for Python's ``re`` and RE2, matching a
    whole path that one of ``patterns`` matches (``*``: any characters, ``?``: one; a trailing ``/``
    is ignored); None for no patterns."""
    if not patterns:
        return None
    alternatives = (
        "".join(
            ".*" if char == "*" else "." if char == "?" else re.escape(char)
            for char in pattern.rstrip("/") or "/"
        )
        for pattern in patterns
    )
    return "(?is)^(?:" + "|".join(alternatives) + ")$"


#: What a request to a login endpoint is, by whether its status says it failed (``classify``).
LOGIN = ("authentication", "start", "web-login")


class Requests:
    """Turns the parts of one logged request into ECS fields, for one input of one format.

    ``product`` names the server (``apache``); ``dataset`` is ``event.dataset``; ``logsource``
    is that of a plain request, and a login request's adds category ``authentication``.
    """

    def __init__(self, options: ParseOptions, dataset: str, logsource: LogSource) -> None:
        settings = options.web or WebSettings()
        self.dataset = dataset
        family, _, service = dataset.partition(".")
        self.provider = service if family == "aws" else family
        self.logsource = logsource
        self.login_logsource = logsource.with_category("authentication")
        self._trusted: list[IPv4Network | IPv6Network] = [
            ip_network(network, strict=False) for network in settings.trusted_proxies
        ]
        self._trust_cache: dict[str, bool] = {}
        #: Login endpoints as regular expressions over the path without its trailing ``/``.
        self.login_paths = glob_regex(settings.login_paths)
        self.any_method_paths = glob_regex(settings.login_paths_any_method)
        self._login_paths = re.compile(self.login_paths) if self.login_paths else None
        self._any_method_paths = re.compile(self.any_method_paths) if self.any_method_paths else None
        self.login_methods = sorted({method.upper() for method in settings.login_methods})
        self._failures = frozenset(settings.failure_statuses)
        #: X-Forwarded-For is read (from trusted proxies only) when there are any.
        self.reads_forwarded = bool(settings.trusted_proxies)
        self.clock = Clock(options.timezone)

    def trusted(self, address: str) -> bool:
        """True when ``address`` is one of the configured trusted proxies."""
        known = self._trust_cache.get(address)
        if known is None:
            try:
                parsed = ip_address(address.strip())
            except ValueError:
                known = False
            else:
                known = any(parsed in network for network in self._trusted)
            if len(self._trust_cache) > 65536:
                self._trust_cache.clear()
            self._trust_cache[address] = known
        return known

    def client(self, connecting: str, forwarded: str | None) -> tuple[str, str | None]:
        """The request's source and, when it came through a trusted proxy, the proxy's address.

        With a trusted proxy connecting, X-Forwarded-For is read from the right, trusted proxies
        skipped, and the first other address is the source; an entry that is not an address ends
        the walk at the last trusted hop. Without trusted proxies X-Forwarded-For is never read.
        """
        if not self._trusted or not forwarded or forwarded == "-" or not self.trusted(connecting):
            return connecting, None
        source = connecting
        for hop in reversed(forwarded.split(",")):
            hop = hop.strip()
            if not _is_ip(hop):
                break
            source = hop
            if not self.trusted(hop):
                break
        return source, connecting if source != connecting else None

    def login(self, method: str | None, path: str | None) -> bool:
        """True when a request of ``method`` to ``path`` is a login attempt (``[web]`` settings)."""
        if not path:
            return False
        path = path.rstrip("/") or "/"
        if self._any_method_paths is not None and self._any_method_paths.match(path):
            return True
        return (
            method is not None
            and method.upper() in self.login_methods
            and self._login_paths is not None
            and self._login_paths.match(path) is not None
        )

    def classify(self, status: int | None, login: bool) -> tuple[str, str, str | None, str | None, LogSource]:
        """(category, type, action, outcome, log source) of a request with ``status``; ``login``: to a
        login endpoint. A login is one only when its status says how it went (see docs/web-logs.md)."""
        if status is None:
            return "web", "access", None, None, self.logsource
        if login and (status in self._failures or 200 <= status < 400):
            return (*LOGIN, "failure" if status in self._failures else "success", self.login_logsource)
        return "web", "access", None, "failure" if status >= 400 else "success", self.logsource

    def fields(
        self,
        *,
        client: str | None,
        method: str | None,
        target: str | None,
        status: int | None,
        version: str | None = None,
        size: int | None = None,
        referrer: str | None = None,
        agent: str | None = None,
        user: str | None = None,
        host: str | None = None,
        port: int | None = None,
        forwarded: str | None = None,
        duration: float | None = None,
        authorization: str | None = None,
    ) -> tuple[dict[str, Any], LogSource]:
        """ECS fields of a request and its log source (see module doc); ``duration`` in seconds."""
        fields: dict[str, Any] = {"event.kind": "event", "event.dataset": self.dataset}
        fields["event.provider"] = self.provider
        if client and client != "-":
            source, proxy = self.client(client, forwarded)
            fields["source.ip" if is_ip_cached(source) else "source.domain"] = source
            fields["source.address"] = source
            if proxy is not None:
                fields["client.ip"] = proxy
                fields["network.forwarded_ip"] = source
            elif port is not None:
                fields["source.port"] = port
        path = None
        if target:
            fields["url.original"] = target
            path, query, domain = _split_target(target)
            if path is not None:
                fields["url.path"] = path
                dot = path.rfind(".")
                if dot > path.rfind("/") and 0 < len(path) - dot - 1 <= 10:
                    fields["url.extension"] = path[dot + 1 :].lower()
            if query:
                fields["url.query"] = query
            host = host or domain
        if method:
            fields["http.request.method"] = method
        if version:
            fields["http.version"] = version
        if status is not None:
            fields["http.response.status_code"] = status
        if size is not None:
            fields["http.response.body.bytes"] = size
        if referrer and referrer != "-":
            fields["http.request.referrer"] = referrer
        if agent and agent != "-":
            fields["user_agent.original"] = agent
        if host and host != "-":
            fields["destination.domain"] = fields["url.domain"] = host
        if duration is not None and duration >= 0:
            fields["event.duration"] = round(duration * 1e9)
        if not user or user == "-":
            user = basic_auth_user(authorization)
        if user:
            fields["user.name"] = user
        category, kind, action, outcome, logsource = self.classify(
            status, status is not None and self.login(method, path)
        )
        fields["event.category"] = category
        fields["event.type"] = kind
        if action is not None:
            fields["event.action"] = action
        if outcome is not None:
            fields["event.outcome"] = outcome
        return fields, logsource


_IP_CACHE: dict[str, bool] = {}


def is_ip_cached(text: str) -> bool:
    """Whether ``text`` is an IP address (answers kept for the addresses seen last)."""
    known = _IP_CACHE.get(text)
    if known is None:
        if len(_IP_CACHE) > 65536:
            _IP_CACHE.clear()
        known = _IP_CACHE[text] = _is_ip(text)
    return known


def _split_target(target: str) -> tuple[str | None, str | None, str | None]:
    """(path, query, host) of a request target: ``/a?b``, ``http://h/a?b`` or ``h:443`` (CONNECT)."""
    if target.startswith("/"):
        path, _, query = target.partition("?")
        return path, query or None, None
    if "://" in target:
        try:
            parts = urlsplit(target)
            host = parts.hostname
        except ValueError:
            return None, None, None
        return parts.path or "/", parts.query or None, host
    return None, None, None
