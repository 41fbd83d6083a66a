"""journalctl -o json exports: the same authentication fields as the equivalent syslog lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tocsin.model.event import Event
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions
from tocsin.sources.base import Sample
from tocsin.sources.detect import detect_format
from tocsin.sources.inputs import read_head, resolve_inputs

STAMP_US = 1709287200123456  # 2024-03-01T10:00:00.123456Z


def journal_entry(index: int, identifier: str, message: Any, **extra: str) -> dict[str, Any]:
    """A journal entry as journalctl -o json prints it (every value a string, or a byte list)."""
    return {
        "__CURSOR": f"s=6f1c2a9e4b7d4c0f8e3a5b1c2d3e4f50;i={0x1A2B + index:x};b=0c5d;m=3b9aca00;t=613a",
        "__REALTIME_TIMESTAMP": str(STAMP_US + index * 1_000_000),
        "__MONOTONIC_TIMESTAMP": str(1_000_000_000 + index),
        "_BOOT_ID": "0c5d8e2f1a4b4c7d9e3f2a1b0c9d8e7f",
        "_MACHINE_ID": "4e9f1c2d3b5a46788a9b0c1d2e3f4a5b",
        "_HOSTNAME": "web01",
        "_TRANSPORT": "syslog",
        "PRIORITY": "6",
        "SYSLOG_IDENTIFIER": identifier,
        "_COMM": identifier,
        "MESSAGE": message,
        **extra,
    }


ENTRIES = [
    journal_entry(
        0,
        "sshd",
        "Failed password for invalid user admin from 203.0.113.5 port 51422 ssh2",
        SYSLOG_FACILITY="4",
        SYSLOG_PID="1234",
        _PID="1234",
        _SYSTEMD_UNIT="ssh.service",
    ),
    journal_entry(
        1,
        "sshd",
        "Accepted publickey for deploy from 198.51.100.20 port 40022 ssh2: "
        "ED25519 SHA256:Vn7cR0tL1bXo0m3u0Zr5bK9s2u4kq0p8yQhX1f0c2aE",
        SYSLOG_FACILITY="4",
        SYSLOG_PID="1240",
        _PID="1240",
        _SYSTEMD_UNIT="ssh.service",
    ),
    journal_entry(
        2,
        "sudo",
        "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
        SYSLOG_FACILITY="10",
        _PID="2211",
        PRIORITY="5",
    ),
    journal_entry(
        3,
        "backup.sh",
        list(b"\x1b[1;31mbackup failed:\x1b[0m disk full \xe2\x9c\x97"),
        _PID="3300",
        _TRANSPORT="stdout",
        _SYSTEMD_UNIT="backup.service",
        PRIORITY="3",
    ),
]


def write_journal(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return path


def read(path: Path, forced: str | None = None) -> tuple[str, list[Event], InputStats]:
    (source,) = resolve_inputs([str(path)])
    assert isinstance(source, InputSource)
    parser = detect_format(source, forced)
    assert parser is not None
    stats = InputStats(source.name)
    return parser.name, list(parser(ParseOptions()).parse(source, stats)), stats


def test_journal_entries_are_normalized(tmp_path: Path) -> None:
    name, events, stats = read(write_journal(tmp_path / "journal.json", ENTRIES))
    assert name == "journald"
    assert (stats.records, stats.events, stats.skipped_total) == (4, 4, 0)
    assert [event.timestamp for event in events] == [(STAMP_US + i * 1_000_000) / 1e6 for i in range(4)]

    failed, accepted, sudo, binary = events
    assert {
        key: failed.fields.get(key)
        for key in (
            "event.category",
            "event.type",
            "event.action",
            "event.outcome",
            "user.name",
            "user.invalid",
            "source.ip",
            "source.port",
            "host.name",
            "process.name",
            "process.pid",
            "systemd.unit",
            "log.syslog.facility.name",
            "log.syslog.severity.name",
        )
    } == {
        "event.category": "authentication",
        "event.type": "start",
        "event.action": "ssh-login",
        "event.outcome": "failure",
        "user.name": "admin",
        "user.invalid": True,
        "source.ip": "203.0.113.5",
        "source.port": 51422,
        "host.name": "web01",
        "process.name": "sshd",
        "process.pid": 1234,
        "systemd.unit": "ssh.service",
        "log.syslog.facility.name": "auth",
        "log.syslog.severity.name": "info",
    }
    assert failed.logsource.accepts("linux", "sshd", "authentication")
    assert failed.logsource.accepts("linux", "auth", None)
    assert failed.original["MESSAGE"].startswith("Failed password")

    assert accepted.fields["event.outcome"] == "success"
    assert accepted.fields["system.auth.ssh.method"] == "publickey"
    assert accepted.fields["user.name"] == "deploy"

    assert sudo.fields["event.action"] == "sudo-command"
    assert sudo.fields["process.command_line"] == "/usr/bin/systemctl restart nginx"
    assert sudo.fields["user.effective.name"] == "root"
    assert sudo.fields["log.syslog.facility.name"] == "authpriv"
    assert sudo.logsource.accepts("linux", "sudo", None)
    assert not sudo.logsource.accepts(None, None, "authentication")

    text = "\x1b[1;31mbackup failed:\x1b[0m disk full \u2717"
    assert binary.fields["message"] == text
    assert binary.original["MESSAGE"] == text
    assert binary.fields["process.name"] == "backup.sh"
    assert binary.logsource.accepts("linux", None, None)
    assert "event.category" not in binary.fields


def test_sshd_from_the_journal_matches_syslog(tmp_path: Path) -> None:
    """The same sshd message gives the same ECS fields and logsource as from auth.log."""
    entries = ENTRIES[:2]
    syslog = tmp_path / "auth.log"
    syslog.write_text(
        "".join(
            f"2024-03-01T10:00:0{index}.123456+00:00 web01 sshd[{entry['_PID']}]: {entry['MESSAGE']}\n"
            for index, entry in enumerate(entries)
        )
    )
    _, from_syslog, _ = read(syslog, forced="syslog")
    _, from_journal, _ = read(write_journal(tmp_path / "journal.json", entries))
    for line, entry in zip(from_syslog, from_journal, strict=True):
        assert line.fields.items() <= entry.fields.items()
        assert set(entry.fields) - set(line.fields) == {
            "systemd.unit",
            "log.syslog.facility.name",
            "log.syslog.severity.name",
        }
        assert entry.logsource == line.logsource
        assert entry.timestamp == line.timestamp


def test_detection_prefers_journald(tmp_path: Path) -> None:
    path = write_journal(tmp_path / "export.json", ENTRIES)
    (source,) = resolve_inputs([str(path)])
    assert isinstance(source, InputSource)
    sample = Sample(source.name, read_head(source))
    scores = {name: parser.sniff(sample) for name, parser in PARSERS.items()}
    assert max(scores, key=lambda name: scores[name]) == "journald"
    assert scores["journald"] > scores["json"] > 0


def test_entries_that_are_not_journal_records_are_counted(tmp_path: Path) -> None:
    path = write_journal(tmp_path / "journal.json", [ENTRIES[0], {"MESSAGE": "no timestamp"}, ENTRIES[2]])
    _, events, stats = read(path)
    assert len(events) == 2
    assert stats.skipped == {"not a journald record": 1}
