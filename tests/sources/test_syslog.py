"""The syslog parser: real loghub samples against loghub's own ground truth, years, RFC 5424/3339, programs."""

from __future__ import annotations

import csv
import os
import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import shared
from tocsin.model.event import Event
from tocsin.sources import InputSource, InputStats, ParseOptions
from tocsin.sources.detect import detect_format
from tocsin.sources.inputs import resolve_inputs
from tocsin.sources.syslog import SyslogParser

_REPEATED = re.compile(rb"message repeated (\d+) times: \[ ?(.*?) ?\]$")


def parse_path(path: Path, options: ParseOptions | None = None) -> tuple[list[Event], InputStats]:
    (source,) = resolve_inputs([str(path)])
    assert isinstance(source, InputSource)
    stats = InputStats(source.name)
    events = list(SyslogParser(options or ParseOptions()).parse(source, stats))
    return events, stats


def parse_text(
    tmp_path: Path, text: str, mtime: datetime | None = None, **options
) -> tuple[list[Event], InputStats]:
    path = tmp_path / "auth.log"
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return parse_path(path, ParseOptions(**options))


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def by_line(events: list[Event]) -> dict[int, list[Event]]:
    lines: dict[int, list[Event]] = {}
    for event in events:
        lines.setdefault(int(event.offset.split("#")[0]), []).append(event)
    return lines


@pytest.fixture(scope="module")
def openssh() -> tuple[Path, list[Event], InputStats]:
    path = shared("authlogs/OpenSSH_2k.log")
    return (path, *parse_path(path))


@pytest.fixture(scope="module")
def linux() -> tuple[Path, list[Event], InputStats]:
    path = shared("authlogs/Linux_2k.log")
    return (path, *parse_path(path))


def ground_truth(path: Path) -> list[dict[str, str]]:
    with open(f"{path}_structured.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- OpenSSH_2k.log -------------------------------------------------------------------------------


def test_openssh_is_detected_as_syslog(openssh):
    path, _, _ = openssh
    (source,) = resolve_inputs([str(path)])
    assert detect_format(source).name == "syslog"


def test_openssh_event_count_expands_message_repeated(openssh):
    path, events, stats = openssh
    raw_lines = path.read_bytes().splitlines()
    repeats = [int(m[1]) for line in raw_lines if (m := _REPEATED.search(line))]
    # Verified from the file itself: two "message repeated 5 times" lines, each standing for 5 events.
    assert repeats == [5, 5]
    expected = len(raw_lines) - len(repeats) + sum(repeats)
    assert len(raw_lines) == 2000 and expected == 2008
    assert stats.records == 2000 and stats.events == 2008 and len(events) == 2008
    assert stats.skipped_total == 0 and not stats.warnings
    copies = by_line(events)[30]
    assert [e.offset for e in copies] == ["30", "30#1", "30#2", "30#3", "30#4"]
    assert len({e.id for e in copies}) == 5
    for event in copies:
        assert event.fields["message"] == "Failed password for root from 5.36.59.76 port 42393 ssh2"
        assert event.fields["event.outcome"] == "failure" and event.fields["event.type"] == "start"
        assert event.fields["source.ip"] == "5.36.59.76" and event.fields["source.port"] == 42393
        assert event.fields["process.pid"] == 24227


def test_openssh_agrees_with_loghub_ground_truth(openssh):
    path, events, _ = openssh
    rows = ground_truth(path)
    lines = by_line(events)
    assert len(rows) == 2000 and set(lines) == {int(row["LineId"]) for row in rows}
    for row in rows:
        line = int(row["LineId"])
        event = lines[line][0]
        content = row["Content"].strip()
        repeated = re.fullmatch(r"message repeated (\d+) times: \[ ?(.*?) ?\]", content)
        if repeated:
            assert len(lines[line]) == int(repeated[1]), line
            content = repeated[2]
        else:
            assert len(lines[line]) == 1, line
        # loghub names the host "Component" in this file; every line is from sshd.
        assert event.fields["host.name"] == row["Component"] == "LabSZ", line
        assert event.fields["process.name"] == "sshd", line
        assert event.fields["process.pid"] == int(row["Pid"]), line
        assert event.fields["message"].strip() == content, line
        stamp = time.gmtime(event.timestamp)
        assert (time.strftime("%b", stamp), stamp.tm_mday, time.strftime("%H:%M:%S", stamp)) == (
            row["Date"],
            int(row["Day"]),
            row["Time"],
        ), line
        assert event.logsource.accepts("linux", "sshd", None) and event.logsource.accepts(
            "linux", "auth", None
        )


def test_openssh_brute_force_source_is_normalized(openssh):
    _, events, _ = openssh
    attempts = [
        e
        for e in events
        if e.fields.get("source.ip") == "183.62.140.253" and e.fields.get("event.type") == "start"
    ]
    assert len(attempts) == 286
    assert {e.fields["event.action"] for e in attempts} == {"ssh-login"}
    assert {e.fields["event.outcome"] for e in attempts} == {"failure"}
    assert {e.fields["event.category"] for e in attempts} == {"authentication"}
    assert {e.fields["system.auth.ssh.method"] for e in attempts} == {"password"}
    assert all(e.logsource.accepts("linux", "auth", "authentication") for e in attempts)
    users = Counter(e.fields["user.name"] for e in attempts)
    assert users.most_common(1) == [("root", 276)]
    assert users["git"] == 1 and users["oracle"] == 2
    assert sum(1 for e in attempts if e.fields.get("user.invalid")) == 9
    first = next(e for e in attempts if e.fields["user.name"] == "123")
    assert first.fields["user.invalid"] is True
    # The same source's other lines are notices, not attempts.
    others = Counter(
        e.fields.get("event.action")
        for e in events
        if e.fields.get("source.ip") == "183.62.140.253" and e.fields.get("event.type") != "start"
    )
    assert others == {"pam-authentication-failure": 287, "ssh-invalid-user": 9, "ssh-disconnect": 285}


def test_openssh_received_disconnect_has_the_source_ip(openssh):
    _, events, _ = openssh
    received = [e for e in events if e.fields["message"].startswith("Received disconnect from ")]
    assert len(received) == 421
    assert all(not e.fields["source.address"].endswith(":") for e in received)
    assert sum(1 for e in received if e.fields.get("source.ip") == "183.62.140.253") == 285


def test_modern_sshd_disconnected_from_user(tmp_path):
    fields = one(
        tmp_path, "sshd[9]: Disconnected from authenticating user root 139.59.37.55 port 48966 [preauth]"
    )
    assert fields.get("event.action") == "ssh-disconnect"
    assert (fields.get("user.name"), fields.get("source.ip"), fields.get("source.port")) == (
        "root",
        "139.59.37.55",
        48966,
    )


def test_openssh_single_accepted_login(openssh):
    _, events, _ = openssh
    successes = [
        e
        for e in events
        if e.fields.get("event.outcome") == "success" and e.fields.get("event.category") == "authentication"
    ]
    assert len(successes) == 1
    (accepted,) = successes
    assert accepted.fields == {
        "event.category": "authentication",
        "event.type": "start",
        "event.action": "ssh-login",
        "event.outcome": "success",
        "user.name": "fztu",
        "system.auth.ssh.event": "Accepted",
        "system.auth.ssh.method": "password",
        "source.ip": "119.137.62.142",
        "source.address": "119.137.62.142",
        "source.port": 49116,
        "host.name": "LabSZ",
        "process.name": "sshd",
        "process.pid": 24680,
        "event.provider": "sshd",
        "message": "Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
    }
    assert accepted.timestamp is not None
    assert time.strftime("%m-%d %H:%M:%S", time.gmtime(accepted.timestamp)) == "12-10 09:32:20"


def test_openssh_pam_lines_inside_sshd_are_not_counted_twice(openssh):
    path, events, _ = openssh
    pam = [e for e in events if e.fields.get("event.action") == "pam-authentication-failure"]
    text = path.read_text()
    assert len(pam) == text.count("pam_unix(sshd:auth): authentication failure") == 494
    assert {e.fields["event.type"] for e in pam} == {"info"}
    assert {e.fields["system.auth.pam.service"] for e in pam} == {"sshd"}
    starts = Counter(
        (e.fields["event.action"], e.fields["event.outcome"])
        for e in events
        if e.fields.get("event.category") == "authentication" and e.fields.get("event.type") == "start"
    )
    # 522 "Failed ..." lines plus 2 x 5 repeated ones, and the accepted login: one start event per attempt.
    assert len(re.findall(r"sshd\[\d+\]: Failed ", text)) == 522
    assert starts == {("ssh-login", "failure"): 532, ("ssh-login", "success"): 1}
    host_with_domain = [e for e in pam if e.fields.get("source.domain")]
    assert host_with_domain and all("source.ip" not in e.fields for e in host_with_domain)
    invalid = [e for e in events if e.fields.get("event.action") == "ssh-invalid-user"]
    assert len(invalid) == text.count("Invalid user ") == 113
    assert {(e.fields["event.type"], e.fields["user.invalid"]) for e in invalid} == {("info", True)}


# --- Linux_2k.log ---------------------------------------------------------------------------------


def test_linux_agrees_with_loghub_ground_truth(linux):
    path, events, stats = linux
    assert stats.records == 2000 and len(events) == 2000 and stats.skipped_total == 0
    rows = ground_truth(path)
    lines = by_line(events)
    assert len(rows) == 2000
    tolerated = Counter()
    for row in rows:
        line = int(row["LineId"])
        (event,) = lines[line]
        component, pid, content = row["Component"], row["PID"], row["Content"].strip()
        assert event.fields["host.name"] == row["Level"] == "combo", line
        if component == "syslogd 1.4.1":
            # A tag cannot contain a space (RFC 3164): "syslogd 1.4.1:" stays in the message.
            assert "process.name" not in event.fields, line
            assert event.fields["message"] == f"syslogd 1.4.1: {content}", line
            tolerated[component] += 1
            continue
        if component == "-- root":
            # login(1) rewrote its own process title to "-- root" and logged under it, after two spaces.
            assert event.fields["message"].strip() == "-- root[2421]: ROOT LOGIN ON tty2", line
            tolerated[component] += 1
            continue
        assert event.fields["process.name"] == component.split("(")[0], line
        assert event.fields.get("process.pid") == (int(pid) if pid else None), line
        assert event.fields["message"].strip() == content, line
    assert tolerated == {"syslogd 1.4.1": 7, "-- root": 1}
    programs = Counter(e.fields.get("process.name") for e in events)
    assert programs["sshd"] == 677 and programs["ftpd"] == 916 and programs["su"] == 172


def test_linux_sshd_pam_failures_set_source_ip_or_domain(linux):
    path, events, _ = linux
    failures = [
        e
        for e in events
        if e.fields.get("process.name") == "sshd"
        and e.fields.get("event.action") == "pam-authentication-failure"
    ]
    expected = re.findall(r"sshd\(pam_unix\)\[\d+\]: authentication failure; .*rhost=(\S+)", path.read_text())
    assert len(failures) == len(expected) == 489
    # sshd(pam_unix) is the only record of these attempts here: they count (type start).
    assert {(e.fields["event.type"], e.fields["event.outcome"]) for e in failures} == {("start", "failure")}
    with_ip = [e for e in failures if "source.ip" in e.fields]
    with_domain = [e for e in failures if "source.domain" in e.fields]
    assert len(with_ip) == 300 and len(with_domain) == 189
    assert not any("source.domain" in e.fields for e in with_ip)
    assert not any("source.ip" in e.fields for e in with_domain)
    assert [e.fields["source.address"] for e in failures] == expected
    first, _, _, fourth = failures[:4]
    assert first.fields["source.ip"] == "218.188.2.4" and "user.name" not in first.fields
    assert fourth.fields["source.domain"] == "220-135-151-1.hinet-ip.hinet.net"
    assert fourth.fields["user.name"] == "root"
    assert fourth.fields["system.auth.pam.service"] == "sshd"
    assert Counter(e.fields["source.address"] for e in failures).most_common(1) == [("150.183.249.110", 80)]


def test_linux_su_klogind_and_ftpd_lines(linux):
    _, events, _ = linux
    actions = Counter(
        (e.fields.get("process.name"), e.fields.get("event.action"), e.fields.get("event.outcome"))
        for e in events
        if "event.action" in e.fields
    )
    assert actions[("su", "session-opened", "success")] == 86
    assert actions[("su", "session-closed", "success")] == 86
    assert actions[("klogind", "kerberos-login", "failure")] == 46
    assert actions[("ftpd", "ftp-connection", None)] == 909
    connection = next(e for e in events if e.fields.get("event.action") == "ftp-connection")
    assert connection.fields["source.ip"] == "24.54.76.216"
    assert connection.fields["source.domain"] == "24-54-76-216.bflony.adelphia.net"


def test_linux_anonymous_ftp_logins_are_classified(linux):
    _, events, _ = linux
    anonymous = [e for e in events if "ANONYMOUS FTP LOGIN" in e.fields["message"]]
    assert len(anonymous) == 2
    for event in anonymous:
        assert event.fields.get("event.action") == "ftp-login"
        assert event.fields.get("event.outcome") == "success"
        assert event.fields.get("user.name") == "anonymous"
        assert event.fields.get("source.ip") == "84.102.20.2"


# --- Year inference ------------------------------------------------------------------------------

NEW_YEAR = (
    "Dec 31 23:59:58 web01 sshd[10]: Failed password for root from 192.0.2.1 port 4000 ssh2\n"
    "Jan  1 00:00:03 web01 sshd[11]: Failed password for root from 192.0.2.1 port 4001 ssh2\n"
)


def test_year_inferred_from_mtime_across_new_year(tmp_path):
    events, stats = parse_text(tmp_path, NEW_YEAR, mtime=datetime(2024, 1, 5, 12, tzinfo=UTC))
    assert [e.timestamp for e in events] == [utc(2023, 12, 31, 23, 59, 58), utc(2024, 1, 1, 0, 0, 3)]
    assert stats.events == 2 and stats.skipped_total == 0


def test_year_inferred_from_mtime_within_one_year(tmp_path):
    text = "Mar  3 10:00:00 h sshd[1]: Connection closed by 192.0.2.9 port 22\n"
    events, _ = parse_text(tmp_path, text, mtime=datetime(2021, 6, 1, tzinfo=UTC))
    assert events[0].timestamp == utc(2021, 3, 3, 10)
    # Dated after the file's mtime (beyond a day of slack): it belongs to the year before.
    text = "Jun  9 10:00:00 h sshd[1]: Connection closed by 192.0.2.9 port 22\n"
    events, _ = parse_text(tmp_path, text, mtime=datetime(2021, 6, 1, tzinfo=UTC))
    assert events[0].timestamp == utc(2020, 6, 9, 10)
    # ...but one day later is slack for clocks and time zones.
    text = "Jun  2 10:00:00 h sshd[1]: Connection closed by 192.0.2.9 port 22\n"
    events, _ = parse_text(tmp_path, text, mtime=datetime(2021, 6, 1, tzinfo=UTC))
    assert events[0].timestamp == utc(2021, 6, 2, 10)


def test_year_slack_crosses_a_month_end(tmp_path):
    text = "Apr  1 00:30:00 h sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2\n"
    events, _ = parse_text(tmp_path, text, mtime=datetime(2024, 3, 31, 23, 0, tzinfo=UTC))
    assert events[0].timestamp == utc(2024, 4, 1, 0, 30)


def test_pinned_year_rolls_over_at_new_year(tmp_path):
    events, _ = parse_text(tmp_path, NEW_YEAR, mtime=datetime(2024, 1, 5, tzinfo=UTC), year=2019)
    assert [e.timestamp for e in events] == [utc(2019, 12, 31, 23, 59, 58), utc(2020, 1, 1, 0, 0, 3)]
    text = (
        "Jun 14 15:16:01 h su[1]: (to root) alice on pts/0\n"
        "Jul  2 08:00:00 h su[2]: (to root) alice on pts/0\n"
        "Jun 30 09:00:00 h su[3]: (to root) alice on pts/0\n"
    )
    events, _ = parse_text(tmp_path, text, year=2019)
    # Months going back by less than half a year are out-of-order lines, not a new year.
    assert [e.timestamp for e in events] == [
        utc(2019, 6, 14, 15, 16, 1),
        utc(2019, 7, 2, 8),
        utc(2019, 6, 30, 9),
    ]


def test_pinned_year_on_the_real_sample(openssh):
    path, _, _ = openssh
    events, _ = parse_path(path, ParseOptions(year=2019))
    assert events[0].timestamp == utc(2019, 12, 10, 6, 55, 46)
    assert all(datetime.fromtimestamp(e.timestamp, UTC).year in (2019, 2020) for e in events)
    assert max(e.timestamp for e in events) < utc(2020, 1, 31)


def test_invalid_date_is_skipped_and_counted(tmp_path):
    text = (
        "Feb 30 10:00:00 h sshd[1]: Connection closed by 192.0.2.9 port 22\n"
        "Feb 28 10:00:00 h sshd[1]: Connection closed by 192.0.2.9 port 22\n"
    )
    events, stats = parse_text(tmp_path, text, year=2023)
    assert [e.timestamp for e in events] == [utc(2023, 2, 28, 10)]
    assert stats.skipped == {"invalid timestamp": 1} and stats.records == 2


# --- RFC 5424 and RFC 3339 -------------------------------------------------------------------------


def test_rfc5424_line(tmp_path):
    text = (
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com sshd 4711 - - "
        "Failed password for root from 10.0.0.1 port 22 ssh2\n"
    )
    events, stats = parse_text(tmp_path, text)
    (event,) = events
    assert event.timestamp == pytest.approx(1065910455.003)
    assert event.timestamp == pytest.approx(utc(2003, 10, 11, 22, 14, 15) + 0.003)
    assert event.fields["host.name"] == "mymachine.example.com"
    assert event.fields["process.name"] == "sshd" and event.fields["process.pid"] == 4711
    assert event.fields["log.syslog.facility.name"] == "auth"
    assert event.fields["log.syslog.severity.name"] == "crit"
    assert event.fields["event.action"] == "ssh-login" and event.fields["event.outcome"] == "failure"
    assert event.fields["user.name"] == "root" and event.fields["source.ip"] == "10.0.0.1"
    assert event.fields["source.port"] == 22
    assert event.fields["message"] == "Failed password for root from 10.0.0.1 port 22 ssh2"
    assert stats.skipped_total == 0


def test_rfc5424_with_structured_data_and_bom(tmp_path):
    text = (
        '<86>1 2024-03-01T10:00:00.5+02:00 bastion sshd - ID47 [origin ip="10.1.1.1"][meta x="a\\]b"] '
        "\ufeffAccepted publickey for deploy from 2001:db8::7 port 50022 ssh2: ED25519 SHA256:abc\n"
    )
    (event,), _ = parse_text(tmp_path, text)
    assert event.timestamp == utc(2024, 3, 1, 8, 0, 0) + 0.5
    assert event.fields["log.syslog.facility.name"] == "authpriv"
    assert event.fields["log.syslog.severity.name"] == "info"
    assert "process.pid" not in event.fields
    assert event.fields["event.outcome"] == "success" and event.fields["user.name"] == "deploy"
    assert event.fields["source.ip"] == "2001:db8::7"
    assert event.fields["system.auth.ssh.signature"] == "ED25519 SHA256:abc"


def test_rfc3339_stamped_lines(tmp_path):
    text = (
        "2024-03-01T10:00:00.123456+01:00 host sshd[1]: Invalid user admin from 203.0.113.5 port 4242\n"
        "2024-03-01T09:00:01Z host sshd[2]: Failed password for invalid user admin from 203.0.113.5 port 4242 ssh2\n"
        "2024-03-01 09:00:02 host sudo:   alice : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/id\n"
    )
    events, stats = parse_text(tmp_path, text)
    assert [e.timestamp for e in events] == [
        pytest.approx(1709283600.123456),
        utc(2024, 3, 1, 9, 0, 1),
        utc(2024, 3, 1, 9, 0, 2),
    ]
    first, second, third = events
    assert first.fields["process.pid"] == 1 and first.fields["event.action"] == "ssh-invalid-user"
    assert second.fields["user.invalid"] is True and second.fields["event.type"] == "start"
    assert third.fields["process.name"] == "sudo" and "process.pid" not in third.fields
    assert third.fields["process.command_line"] == "/usr/bin/id"
    assert stats.skipped_total == 0


def test_non_syslog_lines_are_counted(tmp_path):
    text = (
        "not a syslog line\n"
        "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n"
        "\n"
        "2024-13-45T99:00:00Z host sshd[1]: bad stamp\n"
    )
    events, stats = parse_text(tmp_path, text)
    assert len(events) == 1
    assert stats.skipped == {"not a syslog line": 1, "invalid timestamp": 1}
    assert stats.records == 3


# --- Programs other than sshd ----------------------------------------------------------------------


def one(tmp_path: Path, line: str) -> dict:
    events, stats = parse_text(tmp_path, f"Mar  1 10:00:00 host {line}\n", year=2024)
    assert stats.skipped_total == 0
    (event,) = events
    return event.fields


def test_sudo_command(tmp_path):
    fields = one(
        tmp_path,
        "sudo[77]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/cat /etc/shadow",
    )
    assert fields["event.category"] == "process" and fields["event.type"] == "start"
    assert fields["event.action"] == "sudo-command" and fields["event.outcome"] == "success"
    assert fields["user.name"] == "alice" and fields["user.effective.name"] == "root"
    assert fields["process.command_line"] == "/bin/cat /etc/shadow"
    assert fields["process.working_directory"] == "/home/alice" and fields["process.tty.name"] == "pts/0"
    assert fields["process.name"] == "sudo" and fields["process.pid"] == 77


def test_sudo_password_failures_and_refusals(tmp_path):
    fields = one(
        tmp_path,
        "sudo: alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; "
        "USER=root ; COMMAND=/usr/bin/id",
    )
    assert fields["event.category"] == "authentication" and fields["event.type"] == "start"
    assert fields["event.action"] == "sudo-password-failure" and fields["event.outcome"] == "failure"
    assert fields["system.auth.sudo.failures"] == 3 and fields["process.command_line"] == "/usr/bin/id"
    fields = one(
        tmp_path, "sudo: mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash"
    )
    assert fields["event.action"] == "sudo-command" and fields["event.outcome"] == "failure"
    assert fields["event.category"] == "process" and fields["user.name"] == "mallory"
    # sudo's own PAM failure echoes the result sudo logs itself: a notice, not a second attempt.
    fields = one(
        tmp_path,
        "sudo: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 "
        "tty=/dev/pts/0 ruser=alice rhost=  user=alice",
    )
    assert fields["event.action"] == "pam-authentication-failure" and fields["event.type"] == "info"
    assert fields["system.auth.pam.service"] == "sudo" and "source.address" not in fields


def test_su(tmp_path):
    fields = one(tmp_path, "su[300]: FAILED SU (to root) alice on pts/0")
    assert (fields["event.action"], fields["event.outcome"], fields["event.type"]) == (
        "su",
        "failure",
        "start",
    )
    assert fields["user.name"] == "alice" and fields["user.effective.name"] == "root"
    assert fields["process.tty.name"] == "pts/0"
    fields = one(tmp_path, "su[301]: (to root) alice on pts/0")
    assert (fields["event.action"], fields["event.outcome"]) == ("su", "success")
    assert fields["user.effective.name"] == "root"
    fields = one(
        tmp_path,
        "su(pam_unix)[302]: authentication failure; logname=alice uid=1000 euid=0 tty=pts/0 "
        "ruser=alice rhost=  user=root",
    )
    assert (fields["event.action"], fields["event.type"]) == ("pam-authentication-failure", "start")
    assert fields["user.name"] == "root" and fields["process.name"] == "su"
    fields = one(tmp_path, "su(pam_unix)[303]: session opened for user root by alice(uid=1000)")
    assert (fields["event.category"], fields["event.type"], fields["user.name"]) == (
        "session",
        "start",
        "root",
    )


def test_su_shadow_utils_format(tmp_path):
    fields = one(tmp_path, "su[400]: FAILED su for root by alice")
    assert (fields.get("event.action"), fields.get("event.outcome")) == ("su", "failure")
    assert fields.get("user.name") == "alice" and fields.get("user.effective.name") == "root"
    fields = one(tmp_path, "su[401]: Successful su for root by alice")
    assert (fields.get("event.action"), fields.get("event.outcome")) == ("su", "success")


def test_vsftpd(tmp_path):
    fields = one(tmp_path, 'vsftpd[900]: [alice] FAIL LOGIN: Client "1.2.3.4"')
    assert fields["event.category"] == "authentication" and fields["event.type"] == "start"
    assert (fields["event.action"], fields["event.outcome"]) == ("ftp-login", "failure")
    assert fields["user.name"] == "alice" and fields["source.ip"] == "1.2.3.4"
    fields = one(tmp_path, 'vsftpd[901]: [bob] OK LOGIN: Client "::ffff:10.0.0.5", anon password "x"')
    assert (fields["event.outcome"], fields["user.name"], fields["source.ip"]) == (
        "success",
        "bob",
        "10.0.0.5",
    )


def test_login(tmp_path):
    fields = one(tmp_path, "login[500]: FAILED LOGIN 1 FROM tty1 FOR root, Authentication failure")
    assert fields["event.category"] == "authentication" and fields["event.type"] == "start"
    assert (fields["event.action"], fields["event.outcome"], fields["user.name"]) == (
        "login",
        "failure",
        "root",
    )
    assert "source.ip" not in fields
    fields = one(tmp_path, "login[501]: FAILED LOGIN 2 FROM 192.0.2.7 FOR admin, Authentication failure")
    assert (fields["user.name"], fields["source.ip"]) == ("admin", "192.0.2.7")
    fields = one(
        tmp_path,
        "login[502]: FAILED LOGIN (1) on '/dev/tty2' FROM 'host.example' FOR 'root', Authentication failure",
    )
    assert (fields["user.name"], fields["source.domain"]) == ("root", "host.example")
    fields = one(tmp_path, "login[503]: ROOT LOGIN ON pts/3 FROM 198.51.100.4")
    assert (fields["event.action"], fields["event.outcome"], fields["user.name"]) == (
        "login",
        "success",
        "root",
    )
    assert fields["process.tty.name"] == "pts/3" and fields["source.ip"] == "198.51.100.4"


def test_login_from_a_local_tty_has_no_source(tmp_path):
    fields = one(tmp_path, "login[500]: FAILED LOGIN 1 FROM tty1 FOR root, Authentication failure")
    assert "source.domain" not in fields and "source.address" not in fields
    assert fields.get("process.tty.name") == "tty1"
