"""What ``tocsin watch`` prints for people: one line per alert, readable log lines.

Machines get JSON (``--format jsonl``, ``--log-format json``, or any pipe); a terminal gets this.
Every value is shown as text: control characters are written as ``\\xNN``, never sent.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import IO, Any

from tocsin.model.alert import Alert
from tocsin.tabular import SHORT_ID

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_STANDARD = set(vars(logging.makeLogRecord({})))
_COLOURS = {"critical": "\x1b[1;37;41m", "high": "\x1b[1;31m", "medium": "\x1b[33m", "low": "\x1b[36m"}
_RESET = "\x1b[0m"


def printable(value: Any) -> str:
    """Text safe for a terminal: control characters (escape sequences) shown, never sent."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", str(value))


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


class HumanLogFormatter(logging.Formatter):
    """``2026-12-02 21:58:01 info  batch committed  events=12 alerts=1`` (UTC)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {}) or {}
        extra = " ".join(f"{key}={printable(_brief(value))}" for key, value in fields.items())
        line = f"{_clock(record.created)} {record.levelname.lower():7} {printable(record.getMessage())}"
        if extra:
            line += f"  {extra}"
        if record.exc_info:
            line += "\n" + printable(self.formatException(record.exc_info)).replace("\\x0a", "\n")
        return line


def _brief(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items()) or "-"
    return str(value)


class HumanAlertSink:
    """One line per alert: time, level, message, short id; colours only on a terminal."""

    def __init__(self, stream: IO[str], colour: bool) -> None:
        self.stream, self.colour = stream, colour

    def write(self, alert: Alert) -> None:
        level = alert.level.name
        tag = f"{level.upper():8}"
        if self.colour and level in _COLOURS:
            tag = f"{_COLOURS[level]}{tag}{_RESET}"
        start = alert.window.start if alert.window else alert.timestamp
        self.stream.write(
            f"{start.astimezone(UTC):%Y-%m-%d %H:%M:%S} {tag} {printable(alert.message)}  [{alert.id[:SHORT_ID]}]\n"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()
