"""The output files of a scenario: where each stream goes, and the writers that number its records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from scapy.utils import RawPcapWriter

from tocsin.simulate.records import Frame, Record

ETHERNET = 1


@dataclass(frozen=True)
class Stream:
    """An output file: its path under the scenario's ``logs/``, tocsin's parser for it and its record unit."""

    path: str
    format: str
    unit: str = "line"
    snaplen: int = 65535


STREAMS = {
    "sshd": Stream("syslog/bastion-auth.log", "syslog"),
    "okta": Stream("okta/system_log.jsonl", "okta"),
    "entra": Stream("entra/signin_logs.jsonl", "entra"),
    "workspace": Stream("google_workspace/activities.jsonl", "google_workspace"),
    "cloudtrail": Stream("cloudtrail/events.jsonl", "cloudtrail"),
    "auth0": Stream("auth0/tenant_logs.jsonl", "auth0"),
    "duo": Stream("duo/authentication.jsonl", "duo"),
    "reports": Stream("reports/user_reports.jsonl", "report_stream"),
    "platform": Stream("platform/app_events.jsonl", "platform"),
    #: The platform's nginx access log exported as ECS JSON (read by the web JSON access-log reader).
    "web": Stream("web/nginx_access.jsonl", "web-json"),
    "network": Stream("pcap/office-gateway.pcap", "pcap", "packet"),
    #: A long-term sensor that keeps headers only (tcpdump -s 96): flows, not payloads.
    "edge": Stream("pcap/edge-sensor-headers.pcap", "pcap", "packet", snaplen=96),
}


class Writer:
    """Appends records to one stream's file; ``write`` returns the record's 1-based number."""

    def __init__(self, stream: Stream, root: Path) -> None:
        path = root / stream.path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.stream = stream
        self.count = 0
        self._text: IO[str] | None = None
        self._pcap: RawPcapWriter | None = None
        if stream.unit == "packet":
            self._pcap = RawPcapWriter(str(path), linktype=ETHERNET, snaplen=stream.snaplen)
            self._pcap.write_header(None)
        else:
            self._text = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed by close()

    def write(self, record: Record) -> int:
        self.count += 1
        payload = record.payload
        if self._pcap is not None:
            assert isinstance(payload, Frame)
            data = payload.data[: self.stream.snaplen]
            seconds = int(record.time)
            self._pcap.write_packet(
                data,
                sec=seconds,
                usec=int((record.time - seconds) * 1_000_000),
                caplen=len(data),
                wirelen=payload.wire_length,
            )
        else:
            assert self._text is not None
            line = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
            self._text.write(line + "\n")
        return self.count

    def close(self) -> None:
        if self._pcap is not None:
            self._pcap.close()
        if self._text is not None:
            self._text.close()
