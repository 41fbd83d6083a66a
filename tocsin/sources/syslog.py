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
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tocsin.model.event import Event, LogSource
from tocsin.sources.base import BatchParser, InputSource, InputStats, ParseOptions, Sample
from tocsin.sources.inputs import decode_lines
from tocsin.sources.linux_auth import PROGRAMS, Classifier, PamOnly

if TYPE_CHECKING:
    from tocsin.batch import EventBatch

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
        midnight = self.midnight(month, day)
        if midnight is None:
            return None
        return midnight + (int(clock[0:2]) * 3600 + int(clock[3:5]) * 60 + int(clock[6:8]))

    def midnight(self, month: int, day: int) -> float | None:
        """The epoch of the start of that day in the inferred year, None for a date that does not exist."""
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
        return midnight


class SyslogParser(BatchParser):
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
        lines = SyslogLines(self.options, source)
        with source.open() as stream:
            for number, line in decode_lines(stream, stats, self.options.max_record_bytes, source.first_line):
                stats.records += 1
                yield from lines.events(number, line, stats)

    def splittable(self, source: InputSource) -> bool:
        """A part of a file is read as in the whole file, save with a pinned ``--year`` (which
        advances line by line)."""
        return self.options.year is None

    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[EventBatch]:
        """Lines in batches whose headers are split a column at a time (``syslog_columns``); events
        are made only for the rows that need them."""
        from tocsin.sources.syslog_columns import syslog_batches

        return syslog_batches(self, source, stats, size)


class SyslogLines:
    """One input's lines turned into events: the year inference and caches of that input."""

    def __init__(self, options: ParseOptions, source: InputSource) -> None:
        reference = source.mtime if source.mtime is not None else time.time()
        self.years = YearInference(reference, options.year, options.timezone)
        self.name = source.name
        self._stamps: dict[str, float | None] = {}
        self._programs: dict[tuple[str, bool], tuple[Classifier, LogSource, LogSource]] = {}

    def stamp_epoch(self, stamp: str, month_name: str, day: str, clock: str) -> float | None:
        """The epoch of an RFC 3164 stamp (``Jan  5 10:00:00``), cached per stamp."""
        timestamp = self._stamps.get(stamp)
        if timestamp is None:
            month = _MONTHS.get(month_name)
            timestamp = self.years.epoch(month, int(day), clock) if month else None
            if len(self._stamps) > 4096:
                self._stamps.clear()
            self._stamps[stamp] = timestamp
        return timestamp

    def day_start(self, day_key: str) -> float | None:
        """The epoch of the start of an RFC 3164 day (``Jan  5``), None for a day that does not exist."""
        month = _MONTHS.get(day_key[:3])
        return self.years.midnight(month, int(day_key[4:])) if month else None

    def program(self, base: str, pam_style: bool) -> tuple[Classifier, LogSource, LogSource]:
        """A program's classifier, and its log source for plain and for authentication lines."""
        known = self._programs.get((base, pam_style))
        if known is None:
            classifier, services = PROGRAMS.get(base, (PamOnly(base), ()))
            plain = LogSource.of("linux", (*services, "syslog"))
            known = (classifier, plain, plain.with_category("authentication"))
            self._programs[(base, pam_style)] = known
        return known

    def events(self, number: int, line: str, stats: InputStats) -> Iterator[Event]:
        """The events of one line (several for "message repeated N times"), counted in ``stats``."""
        rfc3164 = _RFC3164.match(line)
        header: re.Match[str] | dict[str, Any]
        if rfc3164:
            header = rfc3164
            timestamp = self.stamp_epoch(header["stamp"], header["mon"], header["day"], header["time"])
            tag = _TAG.match(header["rest"])
            if tag:
                program, pid, message = tag["prog"], tag["pid"], tag["msg"]
            else:
                program, pid, message = "", None, header["rest"]
        else:
            parsed = parse_modern(line)
            if parsed is None:
                stats.skip("not a syslog line")
                return
            header, timestamp, program, pid, message = parsed
        if timestamp is None:
            stats.skip("invalid timestamp")
            return
        host = header["host"]
        base, pam_style = split_program(program)
        classifier, plain, authentication = self.program(base, pam_style)
        repeated = _REPEATED.match(message)
        count = 1
        if repeated:
            count = min(int(repeated["count"]), MAX_REPEAT)
            message = repeated["msg"]
        classified = classifier(message, pam_style) if program else {}
        fields = line_fields(classified, host, program, base, pid, message, header["pri"])
        original = {"hostname": host, "program": program, "pid": pid, "message": message}
        logsource = authentication if fields.get("event.category") == "authentication" else plain
        for copy in range(count):
            stats.events += 1
            yield Event(
                timestamp=timestamp,
                fields=fields if copy == 0 else dict(fields),
                original=original,
                raw=line,
                logsource=logsource,
                input=self.name,
                offset=str(number) if copy == 0 else f"{number}#{copy}",
                format="syslog",
            )


def split_program(program: str) -> tuple[str, bool]:
    """``sshd(pam_unix)`` is program sshd logging through PAM: ``("sshd", True)``."""
    if program.endswith(")") and "(" in program:
        return program.split("(", 1)[0], True
    return program, False


def line_fields(
    classified: dict[str, Any],
    host: str,
    program: str,
    base: str,
    pid: str | None,
    message: str,
    pri: str | None,
) -> dict[str, Any]:
    """A line's ECS fields: what its program's classifier found, then the header's."""
    fields = classified
    fields["host.name"] = host
    if program:
        fields["process.name"] = base
        if pid:
            fields["process.pid"] = int(pid)
    fields["message"] = message
    if pri:
        number = int(pri)
        if number < 192:
            fields["log.syslog.facility.name"] = _FACILITIES[number >> 3]
            fields["log.syslog.severity.name"] = _SEVERITIES[number & 7]
    return fields


def parse_modern(line: str) -> tuple[dict[str, Any], float | None, str, str | None, str] | None:
    """An RFC 5424 or RFC 3339-stamped line: (header, epoch, program, pid, message), or None."""
    match = _RFC5424.match(line)
    if match:
        app = "" if match["app"] == "-" else match["app"]
        pid = match["procid"] if match["procid"].isdigit() else None
        return match.groupdict(), iso_to_epoch(match["stamp"]), app, pid, match["msg"] or ""
    match = _ISO.match(line)
    if match:
        tag = _TAG.match(match["rest"])
        program, pid, message = (tag["prog"], tag["pid"], tag["msg"]) if tag else ("", None, match["rest"])
        return match.groupdict(), iso_to_epoch(match["stamp"]), program, pid, message
    return None
