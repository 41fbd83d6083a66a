"""systemd journal exports (``journalctl -o json``), read like syslog.

Messages go through the same Linux authentication classifiers as syslog
lines, so an sshd failure read from the journal gets exactly the ECS fields
and logsource it gets from ``/var/log/auth.log``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.base import ParseOptions
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.linux_auth import PROGRAMS, PamOnly
from tocsin.sources.syslog import _FACILITIES, _SEVERITIES

Classifier = Callable[[str, bool], dict[str, Any]]


def journal_text(value: Any) -> str:
    """A journal field as text: binary values are exported as lists of byte values."""
    if value is None:
        return ""
    if isinstance(value, list):
        if all(isinstance(item, int) for item in value):
            return bytes(item & 0xFF for item in value).decode("utf-8", "replace")
        return "\n".join(journal_text(item) for item in value)  # a field logged several times
    return str(value)


def _number(value: Any) -> int | None:
    text = journal_text(value)
    return int(text) if text.isdigit() else None


class JournaldParser(JsonParser):
    name = "journald"
    description = "systemd journal exported with journalctl -o json"

    def __init__(self, options: ParseOptions) -> None:
        super().__init__(options)
        self._programs: dict[tuple[str, bool], tuple[Classifier, LogSource, LogSource]] = {}

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        if "__REALTIME_TIMESTAMP" in record and ("MESSAGE" in record or "__CURSOR" in record):
            return 95
        return 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        """ECS fields of a journal entry; a binary MESSAGE is decoded in place in the kept record."""
        if "__REALTIME_TIMESTAMP" not in record:
            return None
        stamp = _number(record["__REALTIME_TIMESTAMP"])
        message = journal_text(record.get("MESSAGE"))
        if isinstance(record.get("MESSAGE"), list):
            record["MESSAGE"] = message
        program = journal_text(record.get("SYSLOG_IDENTIFIER") or record.get("_COMM"))
        base, pam_style = program, False
        if program.endswith(")") and "(" in program:
            base, pam_style = program.split("(", 1)[0], True
        classifier, plain, authentication = self._program(base, pam_style)
        fields = classifier(message, pam_style) if program else {}
        host = journal_text(record.get("_HOSTNAME"))
        if host:
            fields["host.name"] = host
        if program:
            fields["process.name"] = base
            pid = _number(record.get("SYSLOG_PID") or record.get("_PID"))
            if pid is not None:
                fields["process.pid"] = pid
        fields["message"] = message
        facility, severity = _number(record.get("SYSLOG_FACILITY")), _number(record.get("PRIORITY"))
        if facility is not None and facility < len(_FACILITIES):
            fields["log.syslog.facility.name"] = _FACILITIES[facility]
        if severity is not None and severity < len(_SEVERITIES):
            fields["log.syslog.severity.name"] = _SEVERITIES[severity]
        unit = journal_text(record.get("_SYSTEMD_UNIT"))
        if unit:
            fields["systemd.unit"] = unit
        logsource = authentication if fields.get("event.category") == "authentication" else plain
        return Normalized(stamp / 1e6 if stamp is not None else None, fields, logsource)

    def _program(self, base: str, pam_style: bool) -> tuple[Classifier, LogSource, LogSource]:
        """The classifier and logsources of a program, as the syslog parser derives them."""
        known = self._programs.get((base, pam_style))
        if known is None:
            classifier, services = PROGRAMS.get(base, (PamOnly(base), ()))
            plain = LogSource.of("linux", (*services, "syslog"))
            known = (classifier, plain, plain.with_category("authentication"))
            self._programs[(base, pam_style)] = known
        return known
