"""Syslog files (auth.log, secure, messages): RFC 3164, RFC 3339 timestamps and RFC 5424.

RFC 3164 lines carry no year. It is inferred from a reference time, the
file's modification time (or now, for stdin): a line dated later in the year
than the reference belongs to the year before, which also handles a file
that spans New Year. ``--year`` pins the first line's year instead; a later
line whose month goes backwards (Dec then Jan) moves on a year.
"""

from __future__ import annotations

import re
import time
from calendar import timegm
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.event import Event, LogSource
from tocsin.sources.base import InputSource, InputStats, Parser, Sample, register
from tocsin.sources.linux_auth import PROGRAMS, classify_other
from tocsin.sources.reader import decode_lines

_RFC3164 = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?(?P<stamp>(?P<mon>[A-Z][a-z]{2}) (?P<day>[ \d]?\d) (?P<time>\d\d:\d\d:\d\d))"
    r"(?:\.\d+)? (?P<host>\S+) (?P<rest>.*)"
)
_ISO = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?(?P<stamp>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r" (?P<host>\S+) (?P<rest>.*)"
)
_RFC5424 = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<stamp>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?:\ufeff)?(?P<msg>.*))?"
)
_TAG = re.compile(r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)")
_REPEATED = re.compile(r"(?:last )?message repeated (?P<count>\d+) times:? \[ ?(?P<msg>.*?) ?\]$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1
    )
}
_FACILITIES = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
] + [f"local{i}" for i in range(8)]
_SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
#: Cap on how many events one "message repeated N times" line expands into.
MAX_REPEAT = 10_000


def iso_to_epoch(stamp: str) -> float | None:
    """Parse an RFC 3339 timestamp; naive ones are read as UTC."""
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return timegm(parsed.timetuple()) + parsed.microsecond / 1e6
    return parsed.timestamp()


class YearInference:
    """Turns RFC 3164 'Mon dd hh:mm:ss' stamps into epoch seconds (see module doc)."""

    def __init__(self, reference: float, pinned_year: int | None, timezone: str) -> None:
        ref = time.gmtime(reference)
        self.ref_year = ref.tm_year
        self.ref_date = date(ref.tm_year, ref.tm_mon, ref.tm_mday)
        self.pinned_year = pinned_year
        self.last_month = 0
        self.zone = None if timezone.upper() == "UTC" else ZoneInfo(timezone)
        self._day_cache: dict[tuple[int, int, int], float] = {}

    def year_for(self, month: int, day: int) -> int:
        if self.pinned_year is not None:
            if self.last_month and month < self.last_month - 6:
                self.pinned_year += 1
            self.last_month = month
            return self.pinned_year
        # One day of slack absorbs clock and time-zone differences around the mtime.
        try:
            late = date(self.ref_year, month, day) > self.ref_date + timedelta(days=1)
        except ValueError:  # Feb 29 outside a leap year: only the previous years can have it
            late = True
        return self.ref_year - 1 if late else self.ref_year

    def epoch(self, month: int, day: int, clock: str) -> float | None:
        year = self.year_for(month, day)
        key = (year, month, day)
        midnight = self._day_cache.get(key)
        if midnight is None:
            try:
                naive = datetime(year, month, day)
            except ValueError:
                return None
            midnight = (
                naive.replace(tzinfo=self.zone).timestamp() if self.zone else float(timegm(naive.timetuple()))
            )
            self._day_cache[key] = midnight
        return midnight + int(clock[0:2]) * 3600 + int(clock[3:5]) * 60 + int(clock[6:8])


@register
class SyslogParser(Parser):
    name = "syslog"
    description = "Linux syslog auth logs (auth.log, secure, messages): RFC 3164, RFC 3339 and RFC 5424"
    line_oriented = True

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        lines = [line for line in sample.text.splitlines()[:20] if line.strip()]
        if not lines:
            return 0
        hits = sum(1 for line in lines if _RFC3164.match(line) or _ISO.match(line) or _RFC5424.match(line))
        return 80 * hits // len(lines)

    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]:
        reference = source.mtime if source.mtime is not None else time.time()
        years = YearInference(reference, self.options.year, self.options.timezone)
        cache: dict[str, float | None] = {}
        logsources: dict[tuple[str, bool], tuple[Any, LogSource, LogSource]] = {}
        name = source.name
        with source.open() as stream:
            for number, line in decode_lines(stream, stats, self.options.max_record_bytes):
                stats.records += 1
                header = _RFC3164.match(line)
                if header:
                    stamp = header["stamp"]
                    timestamp = cache.get(stamp)
                    if timestamp is None:
                        month = _MONTHS.get(header["mon"])
                        timestamp = years.epoch(month, int(header["day"]), header["time"]) if month else None
                        if len(cache) > 4096:
                            cache.clear()
                        cache[stamp] = timestamp
                    tag = _TAG.match(header["rest"])
                    if tag:
                        program, pid, message = tag["prog"], tag["pid"], tag["msg"]
                    else:
                        program, pid, message = "", None, header["rest"]
                else:
                    parsed = self._parse_modern(line)
                    if parsed is None:
                        stats.skip("not a syslog line")
                        continue
                    header, timestamp, program, pid, message = parsed
                if timestamp is None:
                    stats.skip("invalid timestamp")
                    continue
                host = header["host"]
                base, pam_style = program, False
                if program.endswith(")") and "(" in program:
                    base, pam_style = program.split("(", 1)[0], True
                known = logsources.get((base, pam_style))
                if known is None:
                    classifier, services = PROGRAMS.get(base, (classify_other(base), ()))
                    plain = LogSource.of("linux", (*services, "syslog"))
                    known = (classifier, plain, plain.with_category("authentication"))
                    logsources[(base, pam_style)] = known
                classifier, plain, authentication = known
                repeated = _REPEATED.match(message)
                count = 1
                if repeated:
                    count = min(int(repeated["count"]), MAX_REPEAT)
                    message = repeated["msg"]
                fields = classifier(message, pam_style) if program else {}
                fields["host.name"] = host
                if program:
                    fields["process.name"] = base
                    if pid:
                        fields["process.pid"] = int(pid)
                fields["message"] = message
                original = {"hostname": host, "program": program, "pid": pid, "message": message}
                if header["pri"]:
                    pri = int(header["pri"])
                    if pri < 192:
                        fields["log.syslog.facility.name"] = _FACILITIES[pri >> 3]
                        fields["log.syslog.severity.name"] = _SEVERITIES[pri & 7]
                logsource = authentication if fields.get("event.category") == "authentication" else plain
                for copy in range(count):
                    stats.events += 1
                    yield Event(
                        timestamp=timestamp,
                        fields=fields if copy == 0 else dict(fields),
                        original=original,
                        raw=line,
                        logsource=logsource,
                        input=name,
                        offset=str(number) if copy == 0 else f"{number}#{copy}",
                        format="syslog",
                    )

    @staticmethod
    def _parse_modern(line: str) -> tuple[dict[str, Any], float | None, str, str | None, str] | None:
        match = _RFC5424.match(line)
        if match:
            app = "" if match["app"] == "-" else match["app"]
            pid = match["procid"] if match["procid"].isdigit() else None
            return match.groupdict(), iso_to_epoch(match["stamp"]), app, pid, match["msg"] or ""
        match = _ISO.match(line)
        if match:
            tag = _TAG.match(match["rest"])
            program, pid, message = (
                (tag["prog"], tag["pid"], tag["msg"]) if tag else ("", None, match["rest"])
            )
            return match.groupdict(), iso_to_epoch(match["stamp"]), program, pid, message
        return None
