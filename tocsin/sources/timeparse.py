"""Timestamps as sources write them, to epoch seconds (UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_FRACTION = re.compile(r"(\.\d{6})\d+")
#: Epoch seconds Python's ``datetime`` can show (years 1 to 9999, a day's margin each side): a value
#: beyond them, or not finite, is no time at all (a hostile ``@timestamp`` of 1e300 stopped the scan
#: where its alert was dated).
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_LATEST = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an ISO 8601 string, a 'YYYY-MM-DD hh:mm:ss[.fff]' string or epoch number.

    Naive times are UTC. Numbers above 1e14 are read as microseconds, above
    1e11 as milliseconds. Returns None for anything unparseable, and for a time
    outside the years 1 to 9999.
    """
    seconds = _epoch(value)
    return seconds if seconds is not None and _EARLIEST <= seconds <= _LATEST else None


def _epoch(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer with hundreds of digits
            return None
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.replace(".", "", 1).isdigit():
            number = float(text)
        else:
            try:  # the common shapes (with "Z", up to 6 fraction digits) parse as they are
                parsed = datetime.fromisoformat(text)
            except ValueError:
                parsed = None
            if parsed is not None:
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
            text = _FRACTION.sub(r"\1", text.replace("Z", "+00:00").replace("z", "+00:00"))
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.timestamp()
    else:
        return None
    if number > 1e14:
        return number / 1e6
    if number > 1e11:
        return number / 1e3
    return number
