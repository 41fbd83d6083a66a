"""Windows event logs: .evtx files (written by tests/sources/evtx_writer.py) and evtx_dump JSON."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from evtx import PyEvtxParser

from tests.sources.evtx_writer import build_evtx, windows_event, write_evtx
from tocsin.model.event import Event
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions
from tocsin.sources.detect import detect_format
from tocsin.sources.inputs import resolve_inputs
from tocsin.sources.windows import flatten_record, normalize_windows

T0 = datetime(2024, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)

#: (event id, EventData, extra writer arguments) of the Security events used throughout.
SECURITY_EVENTS: list[tuple[int, dict[str, Any], dict[str, Any]]] = [
    (
        4624,
        {
            "SubjectUserSid": "S-1-5-18",
            "SubjectUserName": "DC01$",
            "SubjectDomainName": "CORP",
            "TargetUserName": "alice",
            "TargetDomainName": "CORP",
            "TargetLogonId": "0x3e7a1",
            "LogonType": 10,
            "LogonProcessName": "User32",
            "AuthenticationPackageName": "Negotiate",
            "WorkstationName": "WKS01",
            "IpAddress": "203.0.113.7",
            "IpPort": "50123",
        },
        {},
    ),
    (
        4625,
        {
            "SubjectUserSid": "S-1-0-0",
            "SubjectUserName": "-",
            "TargetUserName": "administrator",
            "TargetDomainName": "CORP",
            "Status": "0xc000006d",
            "FailureReason": "%%2313",
            "SubStatus": "0xc000006a",
            "LogonType": 3,
            "WorkstationName": "-",
            "IpAddress": "::ffff:198.51.100.9",
            "IpPort": "0",
        },
        {"qualifiers": 0},
    ),
    (
        4776,
        {
            "PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0",
            "TargetUserName": "bob",
            "Workstation": "WKS02",
            "Status": "0xc0000064",
        },
        {},
    ),
    (
        4648,
        {
            "SubjectUserName": "alice",
            "SubjectDomainName": "CORP",
            "TargetUserName": "svc_backup",
            "TargetDomainName": "CORP",
            "TargetServerName": "fs01.corp.local",
            "ProcessName": "C:\\Windows\\System32\\runas.exe",
            "IpAddress": "-",
            "IpPort": "-",
        },
        {},
    ),
]

EXPECTED_FIELDS: list[dict[str, Any]] = [
    {
        "event.code": "4624",
        "event.action": "logged-in",
        "event.outcome": "success",
        "user.name": "alice",
        "user.domain": "CORP",
        "source.ip": "203.0.113.7",
        "source.port": 50123,
        "source.domain": "WKS01",
        "winlog.logon.type": "RemoteInteractive",
    },
    {
        "event.code": "4625",
        "event.action": "logon-failed",
        "event.outcome": "failure",
        "user.name": "administrator",
        "user.domain": "CORP",
        "source.ip": "198.51.100.9",
        "winlog.logon.type": "Network",
        "event.reason": "wrong password",
    },
    {
        "event.code": "4776",
        "event.action": "credential-validated",
        "event.outcome": "failure",
        "user.name": "bob",
        "source.domain": "WKS02",
        "event.reason": "unknown user",
    },
    {
        "event.code": "4648",
        "event.action": "logged-in-explicit",
        "event.outcome": "success",
        "user.name": "svc_backup",
        "user.domain": "CORP",
    },
]


def security_log() -> list:
    return [
        windows_event(event_id, data, time=T0.replace(second=index), record_id=100 + index, **extra)
        for index, (event_id, data, extra) in enumerate(SECURITY_EVENTS)
    ]


def read(path: Path, forced: str | None = None) -> tuple[str, list[Event], InputStats]:
    (source,) = resolve_inputs([str(path)])
    assert isinstance(source, InputSource)
    parser = detect_format(source, forced)
    assert parser is not None
    stats = InputStats(source.name)
    return parser.name, list(parser(ParseOptions()).parse(source, stats)), stats


def evtx_dump_records(evtx_path: Path) -> list[dict[str, Any]]:
    """The records as ``evtx_dump`` renders them (it is the same library)."""
    return [json.loads(record["data"]) for record in PyEvtxParser(str(evtx_path)).records_json()]


def assert_security_events(events: list[Event]) -> None:
    assert len(events) == len(EXPECTED_FIELDS)
    for index, (event, expected) in enumerate(zip(events, EXPECTED_FIELDS, strict=True)):
        assert event.timestamp == T0.replace(second=index).timestamp()
        for name, value in expected.items():
            assert event.fields.get(name) == value, (expected["event.code"], name)
        if "event.reason" not in expected:
            assert "event.reason" not in event.fields
        assert event.fields["event.category"] == "authentication"
        assert event.fields["event.type"] == "start"
        assert event.fields["event.provider"] == "Microsoft-Windows-Security-Auditing"
        assert event.fields["host.name"] == "DC01.corp.local"
        assert event.fields["winlog.channel"] == "Security"
        assert event.fields["winlog.record_id"] == 100 + index
        assert event.logsource.accepts("windows", "security", "authentication")
        assert not event.logsource.accepts("windows", "sysmon", None)
        original = event.original
        assert original["EventID"] == SECURITY_EVENTS[index][0]
        assert original["Channel"] == "Security"
        assert original["TargetUserName"] == SECURITY_EVENTS[index][1]["TargetUserName"]
        assert original["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
        assert original["TimeCreated_SystemTime"].startswith("2024-03-01T10:00:0")
        assert not any(isinstance(value, dict) for value in original.values()), "original must be flat"


def test_evtx_file_normalizes_the_logon_family(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "Security.evtx", security_log(), first_record_id=100)
    name, events, stats = read(path)
    assert name == "evtx"
    assert_security_events(events)
    assert (stats.records, stats.events, stats.skipped_total) == (4, 4, 0)
    assert events[1].original["EventID_Qualifiers"] == 0  # EventID as {"#text", "#attributes"}
    assert events[0].original["LogonType"] == 10
    assert events[0].original["IpAddress"] == "203.0.113.7"
    assert events[0].offset == "100"


def test_written_evtx_passes_checksum_validation(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "Security.evtx", security_log())
    parser = PyEvtxParser(str(path), validate_checksums=True)
    assert [record["event_record_id"] for record in parser.records_json()] == [1, 2, 3, 4]


def test_evtx_dump_json_pretty_and_jsonl_normalize_like_evtx(tmp_path: Path) -> None:
    evtx_path = write_evtx(tmp_path / "Security.evtx", security_log(), first_record_id=100)
    records = evtx_dump_records(evtx_path)
    pretty = tmp_path / "security.json"
    pretty.write_text(
        "".join(f"Record {100 + i}\n{json.dumps(record, indent=2)}\n" for i, record in enumerate(records))
    )
    lines = tmp_path / "security.jsonl"
    lines.write_text("".join(json.dumps(record) + "\n" for record in records))
    _, from_evtx, _ = read(evtx_path)
    for path in (pretty, lines):
        name, events, stats = read(path)
        assert name == "evtx_json"
        assert stats.skipped_total == 0
        assert_security_events(events)
        for event, reference in zip(events, from_evtx, strict=True):
            assert (event.fields, event.original, event.logsource) == (
                reference.fields,
                reference.original,
                reference.logsource,
            )


def test_evtx_dump_json_written_by_hand(tmp_path: Path) -> None:
    record = {
        "Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                "EventID": {"#text": 4625, "#attributes": {"Qualifiers": 0}},
                "TimeCreated": {"#attributes": {"SystemTime": "2024-03-01T10:00:00.250000Z"}},
                "EventRecordID": 7,
                "Channel": "Security",
                "Computer": "DC01",
                "Security": None,
            },
            "EventData": {
                "TargetUserName": "eve",
                "IpAddress": "10.1.2.3",
                "Status": "0xC0000234",
                "SubStatus": "0x0",
                "LogonType": "3",
            },
        }
    }
    path = tmp_path / "dump.json"
    path.write_text(f"Record 7\n{json.dumps(record, indent=2)}\n")
    name, (event,), _ = read(path)
    assert name == "evtx_json"
    assert event.timestamp == T0.timestamp()
    assert event.original["EventID"] == 4625
    assert event.fields["event.reason"] == "account locked out"
    assert event.fields["winlog.logon.type"] == "Network"


def test_separate_json_attributes_flatten_alike() -> None:
    """``evtx_dump --separate-json-attributes`` moves attributes to ``<Element>_attributes`` keys."""
    record = {
        "Event": {
            "System": {
                "Provider_attributes": {"Name": "Microsoft-Windows-Security-Auditing"},
                "EventID": 4624,
                "EventID_attributes": {"Qualifiers": 0},
                "TimeCreated_attributes": {"SystemTime": "2024-03-01T10:00:00.250000Z"},
                "Channel": "Security",
                "Security_attributes": {"UserID": "S-1-5-18"},
            },
            "EventData": {"TargetUserName": "alice"},
        }
    }
    assert flatten_record(record) == {
        "Provider_Name": "Microsoft-Windows-Security-Auditing",
        "EventID": 4624,
        "EventID_Qualifiers": 0,
        "TimeCreated_SystemTime": "2024-03-01T10:00:00.250000Z",
        "Channel": "Security",
        "Security_UserID": "S-1-5-18",
        "TargetUserName": "alice",
    }


@pytest.mark.parametrize(
    ("event_id", "data", "expected"),
    [
        (
            4776,
            {"TargetUserName": "bob", "Workstation": "\\\\WKS02", "Status": "0x0"},
            {"event.outcome": "success", "event.action": "credential-validated", "source.domain": "WKS02"},
        ),
        (
            4768,
            {
                "TargetUserName": "bob",
                "TargetDomainName": "CORP.LOCAL",
                "Status": "0x0",
                "IpAddress": "::ffff:10.0.0.8",
                "IpPort": "49811",
            },
            {
                "event.outcome": "success",
                "event.action": "kerberos-tgt-requested",
                "source.ip": "10.0.0.8",
                "source.port": 49811,
                "user.domain": "CORP.LOCAL",
            },
        ),
        (
            4768,
            {"TargetUserName": "ghost", "Status": "0x6", "IpAddress": "::ffff:10.0.0.8"},
            {"event.outcome": "failure", "event.reason": "unknown user"},
        ),
        (
            4771,
            {"TargetUserName": "bob", "Status": "0x18", "IpAddress": "::1", "IpPort": "0"},
            {
                "event.outcome": "failure",
                "event.action": "kerberos-preauth-failed",
                "event.reason": "wrong password",
                "source.ip": "::1",
            },
        ),
        (
            4625,
            {"TargetUserName": "carol", "Status": "0xC000018C", "SubStatus": "0x0"},
            {"event.outcome": "failure", "event.reason": "status 0xC000018C"},
        ),
    ],
)
def test_status_decides_outcome_and_reason(
    event_id: int, data: dict[str, Any], expected: dict[str, Any]
) -> None:
    normalized = normalize_windows({"EventID": event_id, "Channel": "Security", **data})
    assert {name: normalized.fields.get(name) for name in expected} == expected
    assert normalized.fields["event.category"] == "authentication"
    assert "authentication" in normalized.logsource.categories
    if expected["event.outcome"] == "success":
        assert "event.reason" not in normalized.fields


def test_account_lockout_is_an_iam_change() -> None:
    flat = {"EventID": 4740, "Channel": "Security", "TargetUserName": "bob", "TargetDomainName": "WKS07"}
    normalized = normalize_windows(flat)
    assert normalized.fields["event.category"] == "iam"
    assert normalized.fields["event.type"] == "change"
    assert normalized.fields["user.name"] == "bob"
    assert normalized.fields["source.domain"] == "WKS07"
    assert normalized.logsource.categories == frozenset()


@pytest.mark.parametrize(
    ("channel", "service"),
    [
        ("Security", "security"),
        ("System", "system"),
        ("Application", "application"),
        ("Microsoft-Windows-Sysmon/Operational", "sysmon"),
        ("Windows PowerShell", "powershell-classic"),
        ("Microsoft-Windows-PowerShell/Operational", "powershell"),
        ("Microsoft-Windows-Windows Defender/Operational", "windefend"),
        ("Microsoft-Windows-TaskScheduler/Operational", "taskscheduler"),
        ("Microsoft-Windows-Bits-Client/Operational", "microsoft-windows-bits-client/operational"),
    ],
)
def test_channel_gives_the_sigma_service(channel: str, service: str) -> None:
    normalized = normalize_windows({"EventID": 1, "Channel": channel})
    assert normalized.logsource.products == frozenset({"windows"})
    assert normalized.logsource.services == frozenset({service})
    assert normalized.logsource.categories == frozenset()
    assert "event.category" not in normalized.fields


def test_sysmon_and_userdata_events_are_flattened(tmp_path: Path) -> None:
    sysmon = windows_event(
        1,
        {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd.exe /c whoami"},
        time=T0,
        record_id=1,
        channel="Microsoft-Windows-Sysmon/Operational",
        provider="Microsoft-Windows-Sysmon",
        user_id="S-1-5-18",
    )
    path = write_evtx(tmp_path / "sysmon.evtx", [sysmon])
    _, (event,), _ = read(path)
    assert event.original["CommandLine"] == "cmd.exe /c whoami"
    assert event.original["Security_UserID"] == "S-1-5-18"
    assert event.original["EventID"] == 1
    assert event.logsource.accepts("windows", "sysmon", None)
    assert "event.category" not in event.fields

    cleared = {
        "Event": {
            "System": {
                "EventID": 1102,
                "Channel": "Security",
                "Computer": "DC01",
                "TimeCreated": {"#attributes": {"SystemTime": "2024-03-01T10:00:00Z"}},
            },
            "UserData": {
                "LogFileCleared": {
                    "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
                    "SubjectUserName": "mallory",
                    "SubjectDomainName": "CORP",
                }
            },
        }
    }
    flat = flatten_record(cleared)
    assert flat is not None
    assert (flat["EventID"], flat["SubjectUserName"], flat["Channel"]) == (1102, "mallory", "Security")


def test_winlogbeat_and_flat_records(tmp_path: Path) -> None:
    winlogbeat = {
        "@timestamp": "2024-03-01T10:00:00.250Z",
        "winlog": {
            "event_id": 4625,
            "channel": "Security",
            "computer_name": "DC01",
            "record_id": 5,
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "event_data": {"TargetUserName": "eve", "IpAddress": "10.9.9.9", "SubStatus": "0xc0000072"},
        },
    }
    flat = {
        "EventID": 4624,
        "Channel": "Security",
        "TimeCreated_SystemTime": "2024-03-01T10:00:00.250Z",
        "TargetUserName": "frank",
        "LogonType": "3",
    }
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(winlogbeat) + "\n" + json.dumps(flat) + "\n")
    name, events, _ = read(path)
    assert name == "evtx_json"
    assert [event.timestamp for event in events] == [T0.timestamp()] * 2
    assert events[0].original["TargetUserName"] == "eve"
    assert events[0].fields["event.reason"] == "account disabled"
    assert events[1].original == flat
    assert events[1].fields["event.action"] == "logged-in"


def parse_stream(name: str, opener: Any) -> tuple[list[Event], InputStats]:
    stats = InputStats(name)
    return list(PARSERS["evtx"](ParseOptions()).parse(InputSource(name, opener), stats)), stats


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_compressed_and_unseekable_evtx_streams() -> None:
    data = build_evtx(security_log(), first_record_id=100)
    compressed = gzip.compress(data)
    events, stats = parse_stream(
        "Security.evtx.gz", lambda: io.BufferedReader(gzip.GzipFile(fileobj=io.BytesIO(compressed)))
    )
    assert_security_events(events)
    events, stats = parse_stream("<stdin>", lambda: io.BufferedReader(_Unseekable(data)))
    assert_security_events(events)
    assert stats.skipped_total == 0
    events, stats = parse_stream(
        "cut.evtx.gz",
        lambda: io.BufferedReader(gzip.GzipFile(fileobj=io.BytesIO(compressed[: len(compressed) // 2]))),
    )
    assert events == []
    assert stats.skipped == {"truncated or corrupt compressed data (EOFError)": 1}


def test_garbage_named_evtx_is_counted_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "Security.evtx"
    path.write_bytes(b"this is not an event log\x00\x01\x02" * 50)
    name, events, stats = read(path)
    assert name == "evtx"
    assert events == []
    assert stats.skipped == {"not a valid evtx file (bad or truncated file header)": 1}


def test_truncated_evtx_is_counted_not_raised(tmp_path: Path) -> None:
    data = build_evtx(security_log())
    header_only = tmp_path / "header.evtx"
    header_only.write_bytes(data[:1000])
    _, events, stats = read(header_only)
    assert events == []
    assert stats.skipped == {"not a valid evtx file (bad or truncated file header)": 1}

    cut = tmp_path / "cut.evtx"
    cut.write_bytes(data[: 4096 + 2000])
    _, events, stats = read(cut)
    assert events == []
    assert stats.skipped == {"truncated evtx file (incomplete last chunk dropped)": 1}


def test_corrupt_record_is_counted_and_the_rest_read(tmp_path: Path) -> None:
    data = bytearray(build_evtx(security_log(), first_record_id=100))
    first_token = 4096 + 512 + 24 + 4  # file header, chunk header, record header, BinXML fragment header
    data[first_token] = 0x77
    path = tmp_path / "Security.evtx"
    path.write_bytes(bytes(data))
    _, events, stats = read(path)
    assert [event.fields["event.code"] for event in events] == ["4625", "4776", "4648"]
    assert stats.skipped == {"corrupt evtx record": 1}
    assert (stats.records, stats.events) == (4, 3)
