"""What generators produce: one record of one output stream at one moment, optionally part of an attack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Frame:
    """A captured Ethernet frame; ``wire_length`` is its size on the wire (more than its bytes when truncated)."""

    data: bytes
    wire_length: int


@dataclass(frozen=True, slots=True)
class Record:
    """A log line (``str``), a JSON record (``dict``) or a frame, bound for ``stream``."""

    time: float
    stream: str
    payload: str | dict[str, Any] | Frame
    attack: str | None = None


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def iso_ms(timestamp: float) -> str:
    """``2026-03-02T09:14:03.123Z`` (Okta, Auth0, Google Workspace)."""
    return utc(timestamp).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_s(timestamp: float) -> str:
    """``2026-03-02T09:14:03Z`` (CloudTrail, report stream)."""
    return utc(timestamp).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_7(timestamp: float) -> str:
    """``2026-03-02T09:14:03.1234567Z`` (Entra ID's seven fractional digits)."""
    return utc(timestamp).isoformat(timespec="microseconds").replace("+00:00", "0Z")


def iso_us(timestamp: float) -> str:
    """``2026-03-02T09:14:03.123456+00:00`` (rsyslog's RFC 3339 format, Duo)."""
    return utc(timestamp).isoformat(timespec="microseconds")
