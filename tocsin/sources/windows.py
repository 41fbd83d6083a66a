"""Windows event logs: binary ``.evtx`` files and their ``evtx_dump`` JSON renderings.

Records are flattened the way Chainsaw, Zircolite and Hayabusa do it, so that
SigmaHQ Windows rules match their native field names: the System fields at
the top level (``EventID``, ``Channel``, ``Computer``, ``Provider_Name``,
``TimeCreated_SystemTime``, ``Security_UserID``...) beside every EventData
or UserData field (``TargetUserName``, ``IpAddress``, ``LogonType``...). The
Security logon family (4624, 4625, 4648, 4768, 4771, 4776, 4740) is also
normalised to ECS authentication fields.
"""

from __future__ import annotations

import io
import ipaddress
import json
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from evtx import PyEvtxParser

from tocsin.memo import bounded_cache
from tocsin.model.event import Event, LogSource
from tocsin.sources.base import InputSource, InputStats, Parser, Sample, compact
from tocsin.sources.inputs import STREAM_ERRORS
from tocsin.sources.jsonbase import JsonParser, Normalized, dig
from tocsin.sources.timeparse import parse_time

EVTX_MAGIC = b"ElfFile\x00"
_FILE_HEADER_SIZE = 4096
_CHUNK_SIZE = 65536
#: Compressed and piped inputs are spooled; this much stays in memory.
_SPOOL_IN_MEMORY = 64 << 20

#: Channel -> Sigma service (lower-cased); other channels use their own name lower-cased.
CHANNEL_SERVICES = {
    "security": "security",
    "system": "system",
    "application": "application",
    "microsoft-windows-sysmon/operational": "sysmon",
    "windows powershell": "powershell-classic",
    "microsoft-windows-powershell/operational": "powershell",
    "microsoft-windows-windows defender/operational": "windefend",
    "microsoft-windows-taskscheduler/operational": "taskscheduler",
}

#: Security event id -> (event.action, outcome: None when it depends on Status).
_LOGON_EVENTS: dict[int, tuple[str, str | None]] = {
    4624: ("logged-in", "success"),
    4625: ("logon-failed", "failure"),
    4648: ("logged-in-explicit", "success"),
    4768: ("kerberos-tgt-requested", None),
    4771: ("kerberos-preauth-failed", "failure"),
    4776: ("credential-validated", None),
}
_ACCOUNT_LOCKED_OUT = 4740

LOGON_TYPES = {
    0: "System",
    2: "Interactive",
    3: "Network",
    4: "Batch",
    5: "Service",
    7: "Unlock",
    8: "NetworkCleartext",
    9: "NewCredentials",
    10: "RemoteInteractive",
    11: "CachedInteractive",
    12: "CachedRemoteInteractive",
    13: "CachedUnlock",
}

#: NTSTATUS (4625, 4776) and Kerberos (4768, 4771) failure codes -> event.reason.
FAILURE_REASONS = {
    0xC0000064: "unknown user",
    0xC000006A: "wrong password",
    0xC000006D: "bad user name or password",
    0xC000006E: "account restriction",
    0xC000006F: "logon outside allowed hours",
    0xC0000070: "workstation not allowed",
    0xC0000071: "password expired",
    0xC0000072: "account disabled",
    0xC0000133: "clock skew",
    0xC000015B: "logon type not granted",
    0xC0000193: "account expired",
    0xC0000224: "password must change",
    0xC0000234: "account locked out",
    0x06: "unknown user",
    0x12: "account disabled, expired or locked out",
    0x17: "password expired",
    0x18: "wrong password",
    0x25: "clock skew",
}

_EMPTY = {"", "-"}


def flatten_record(record: dict[str, Any]) -> dict[str, Any] | None:
    """The flat field dict of a Windows event record, or None if ``record`` is not one.

    Accepts the evtx JSON shape (``{"Event": {"System": ..., "EventData": ...}}``),
    Winlogbeat documents (``{"winlog": {...}}``) and records already flat
    (``EventID`` and ``Channel`` at the top level, returned as they are).
    """
    event = record.get("Event")
    if isinstance(event, dict) and isinstance(event.get("System"), dict):
        return _flatten_event(event)
    winlog = record.get("winlog")
    if isinstance(winlog, dict) and "event_id" in winlog:
        return _flatten_winlogbeat(record, winlog)
    if "EventID" in record and "Channel" in record:
        return record
    return None


def _flatten_event(event: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in event["System"].items():
        _flatten_element(flat, name, value)
    if "EventID" in flat:
        flat["EventID"] = _event_id(flat["EventID"])
    for section in ("EventData", "UserData"):
        data = event.get(section)
        if isinstance(data, dict):
            _flatten_data(flat, data)
    return flat


def _flatten_element(flat: dict[str, Any], name: str, value: Any) -> None:
    """``<Name attr="a">text</Name>`` -> ``Name: text, Name_attr: a`` (nested elements likewise)."""
    if not isinstance(value, dict):
        if value is not None:
            flat[name] = value
        return
    if name.endswith("_attributes"):  # evtx_dump --separate-json-attributes
        name, value = name.removesuffix("_attributes"), {"#attributes": value}
    for key, item in value.items():
        if key == "#text":
            flat[name] = item
        elif key == "#attributes" and isinstance(item, dict):
            for attribute, attribute_value in item.items():
                flat[f"{name}_{attribute}"] = attribute_value
        else:
            _flatten_element(flat, f"{name}_{key}", item)


def _flatten_data(flat: dict[str, Any], data: dict[str, Any]) -> None:
    """EventData/UserData fields at the top level, never overriding a System field."""
    for key, value in data.items():
        if key == "#attributes":
            continue
        if isinstance(value, dict):
            if "#text" in value:
                flat.setdefault(key, value["#text"])
            else:
                _flatten_data(flat, value)  # UserData wraps its fields in one element
        else:
            flat.setdefault(key, value)


def _flatten_winlogbeat(record: dict[str, Any], winlog: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {
        "EventID": int(winlog["event_id"]),
        "Channel": winlog.get("channel"),
        "Computer": winlog.get("computer_name"),
        "Provider_Name": winlog.get("provider_name"),
        "EventRecordID": winlog.get("record_id"),
        "TimeCreated_SystemTime": record.get("@timestamp"),
    }
    for section in ("event_data", "user_data"):
        data = winlog.get(section)
        if isinstance(data, dict):
            _flatten_data(flat, data)
    return {key: value for key, value in flat.items() if value is not None}


@bounded_cache(entries=256, longest=256)
def _logsource(channel: str, authentication: bool) -> LogSource:
    lowered = channel.lower()
    logsource = LogSource.of("windows", (CHANNEL_SERVICES.get(lowered, lowered),) if lowered else ())
    return logsource.with_category("authentication") if authentication else logsource


def normalize_windows(flat: dict[str, Any]) -> Normalized:
    """Timestamp, ECS fields and logsource of a flattened Windows event (see ``flatten_record``)."""
    event_id = _event_id(flat.get("EventID"))
    channel = str(flat.get("Channel") or "")
    fields: dict[str, Any] = {
        "event.code": str(event_id) if event_id is not None else None,
        "event.provider": flat.get("Provider_Name"),
        "host.name": flat.get("Computer"),
        "winlog.channel": channel,
        "winlog.record_id": flat.get("EventRecordID"),
    }
    authentication = False
    if channel.lower() == "security":
        if event_id in _LOGON_EVENTS:
            fields.update(_logon_fields(event_id, flat))
            authentication = True
        elif event_id == _ACCOUNT_LOCKED_OUT:
            fields.update(
                {
                    "event.category": "iam",
                    "event.type": "change",
                    "event.action": "account-locked-out",
                    "user.name": _present(flat.get("TargetUserName")),
                    "source.domain": _present(flat.get("TargetDomainName")),  # the caller computer
                }
            )
    return Normalized(
        parse_time(flat.get("TimeCreated_SystemTime")), compact(fields), _logsource(channel, authentication)
    )


def _logon_fields(event_id: int, flat: dict[str, Any]) -> dict[str, Any]:
    action, outcome = _LOGON_EVENTS[event_id]
    status = _status(flat.get("Status"))
    if outcome is None:
        outcome = "success" if status == 0 else "failure"
    fields: dict[str, Any] = {
        "event.category": "authentication",
        "event.type": "start",
        "event.action": action,
        "event.outcome": outcome,
        "user.name": _present(flat.get("TargetUserName")),
        "user.domain": _present(flat.get("TargetDomainName")),
        "source.domain": _present(flat.get("WorkstationName")),
    }
    for key in ("IpAddress", "ClientAddress", "Workstation"):
        address = _present(flat.get(key))
        if address:
            address = address.removeprefix("::ffff:").lstrip("\\")  # 4776 may name \\WKS01
            fields["source.ip" if _looks_like_ip(address) else "source.domain"] = address
            break
    port = str(flat.get("IpPort") or "")
    if port.isdigit() and int(port) > 0:
        fields["source.port"] = int(port)
    logon_type = str(flat.get("LogonType") or "")
    if logon_type.isdigit():
        fields["winlog.logon.type"] = LOGON_TYPES.get(int(logon_type), logon_type)
    if outcome == "failure":
        fields["event.reason"] = _failure_reason(status, _status(flat.get("SubStatus")))
    return fields


def _failure_reason(status: int | None, sub_status: int | None) -> str | None:
    """The most specific known reason: SubStatus first (4625 puts the detail there), then Status."""
    for code in (sub_status, status):
        if code and code in FAILURE_REASONS:
            return FAILURE_REASONS[code]
    code = sub_status or status
    return f"status 0x{code:X}" if code else None


def _event_id(value: Any) -> Any:
    """EventID as an int, as Sigma rules compare it (exports sometimes quote it)."""
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _status(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 16)
    except ValueError:
        return None


def _present(value: Any) -> str | None:
    """A Data value, or None for Windows' placeholders for "nothing" ("-", empty)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in _EMPTY else text


def _looks_like_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class EvtxParser(Parser):
    name = "evtx"
    description = "Windows event log files (.evtx), any channel"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        if sample.head.startswith(EVTX_MAGIC):
            return 100
        # A damaged file that keeps its name still goes here, to be reported as such.
        return 25 if sample.name.lower().endswith(".evtx") else 0

    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]:
        with source.open() as opened:
            try:
                stream = _random_access(opened)
                magic = stream.read(len(EVTX_MAGIC))
                size = stream.seek(0, io.SEEK_END)
                stream.seek(0)
            except STREAM_ERRORS as exc:
                stats.skip(f"truncated or corrupt compressed data ({type(exc).__name__})")
                return
            with stream:
                if magic != EVTX_MAGIC or size < _FILE_HEADER_SIZE:
                    stats.skip("not a valid evtx file (bad or truncated file header)")
                    return
                if (size - _FILE_HEADER_SIZE) % _CHUNK_SIZE:
                    stats.skip("truncated evtx file (incomplete last chunk dropped)")
                try:
                    records = PyEvtxParser(stream, indent=False).records_json()
                except (OSError, RuntimeError, ValueError):
                    stats.skip("not a valid evtx file (unreadable file header)")
                    return
                yield from self._events(records, source.name, stats)

    def _events(
        self, records: Iterator[dict[str, Any] | None], name: str, stats: InputStats
    ) -> Iterator[Event]:
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except (RuntimeError, OSError, ValueError):
                stats.records += 1
                stats.skip("corrupt evtx record")
                continue
            if record is None:  # the binding's stub allows it; pyo3 ends iterations with StopIteration
                return
            stats.records += 1
            raw = record["data"]
            try:
                flat = flatten_record(json.loads(raw))
            except (ValueError, TypeError, AttributeError, RecursionError):
                flat = None
            if flat is None:
                stats.skip("evtx record of unexpected shape")
                continue
            yield normalize_windows(flat).event(
                flat, raw, name, str(record["event_record_id"]), self.name, stats
            )


def _random_access(stream: IO[bytes]) -> IO[bytes]:
    """``stream`` itself for a plain file, else a spooled copy.

    The evtx reader seeks, which decompressors do slowly (gzip rewinds and
    starts over) and pipes not at all.
    """
    if isinstance(getattr(stream, "raw", None), io.FileIO):
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - the caller closes it
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool


class EvtxJsonParser(JsonParser):
    name = "evtx_json"
    description = "Windows events as JSON: evtx_dump -o json/jsonl, Winlogbeat, or already-flat records"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        if isinstance(dig(record, "Event", "System"), dict):
            return 90
        if isinstance(record.get("winlog"), dict) and "event_id" in record["winlog"]:
            return 60
        return 50 if "EventID" in record and "Channel" in record else 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        """Normalize ``record``, replacing its content in place by the flat form kept as the original."""
        flat = flatten_record(record)
        if flat is None:
            return None
        if flat is not record:
            record.clear()
            record.update(flat)
        return normalize_windows(record)
