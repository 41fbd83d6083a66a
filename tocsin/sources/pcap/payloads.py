"""The side channel carrying captured payloads to content scanners (YARA) without passing
them through events: payloads are handed over as they complete and dropped after, so memory
stays bounded by the per-stream limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Payload:
    """Bytes seen on the wire: a stream direction, an HTTP body or a decoded mail part.

    ``name`` is the file name an attachment carried; ``part`` numbers the MIME parts of a message.
    """

    data: bytes
    kind: str
    input: str
    timestamp: float
    flow_id: str
    source_ip: str
    source_port: int
    destination_ip: str
    destination_port: int
    offset: int = 0
    name: str | None = None
    part: int | None = None


#: Content rules' side of a scan (``ParseOptions.payload_scanner``): captures hand payloads to it.
PayloadScanner = Callable[[Payload], None]
