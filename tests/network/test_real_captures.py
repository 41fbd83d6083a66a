"""The issue's Done-when checks on the shared real captures, and a walk over every one of them."""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SHARED, shared
from tests.network.helpers import dataset, events_of, scan
from tocsin.scan import ScanRequest, load_ruleset, run_scan

CLEARTEXT = "Cleartext Credentials On The Wire"
#: A capture taking longer than this to scan counts as a hang.
PER_FILE_TIMEOUT = 30


@pytest.mark.parametrize(
    ("capture", "user"),
    [
        ("pcaps/http/basic-auth-with-colon.pcap", "test"),
        ("pcaps/ftp/ipv4.pcap", "anonymous"),
        ("pcaps/pop3/pop3.pcap", "digitalinvestigator@networksims.com"),
        ("pcaps/smtp.pcap", "gurpartap@patriots.in"),
        ("pcaps/socks-auth.pcap", "bob"),
    ],
)
def test_cleartext_credential_alert_names_the_user_with_the_password_masked(capture, user):
    alerts, _ = scan(shared(capture))
    found = [a for a in alerts if a.rule.title == CLEARTEXT]
    assert found, [a.rule.title for a in alerts]
    assert all(a.user == {"name": user} for a in found)
    for alert in found:
        credential = alert.details["credential"]
        assert "****" in credential["masked"] and credential["hash"].startswith("hmac-sha256:")
        assert credential["masked"] in alert.message
        assert "value" not in credential


def test_no_clear_password_in_any_output():
    alerts, _ = scan(shared("pcaps/smtp.pcap"))
    assert "punjab@123" not in json.dumps([a.document() for a in alerts])


def test_ftp_bruteforce_raises_the_builtin_brute_force_correlation():
    alerts, _ = scan(shared("pcaps/ftp/bruteforce.pcap"))
    brute = [a for a in alerts if a.rule.title == "Brute Force From One Source"]
    assert len(brute) == 1
    assert brute[0].group_by == {"source.address": "192.168.56.1"} and brute[0].event_count >= 10


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


@pytest.mark.slow
def test_every_shared_capture_scans_without_crash_or_hang():
    root = SHARED / "pcaps"
    if not root.exists():
        pytest.skip("shared captures not found")
    ruleset = load_ruleset(ScanRequest(paths=[]))
    captures = sorted(p for p in root.rglob("*") if p.is_file() and ".pcap" in p.name)
    assert len(captures) > 200
    slow: list[str] = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for capture in captures:
            signal.alarm(PER_FILE_TIMEOUT)
            try:
                summary = run_scan(ScanRequest(paths=[str(capture)]), lambda alert: None, ruleset=ruleset)
            except _Timeout:
                slow.append(str(capture.relative_to(root)))
                continue
            finally:
                signal.alarm(0)
            stats = summary.read.inputs[0]
            assert stats.format == "pcap" and stats.error is None, (capture, stats)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not slow, f"captures over {PER_FILE_TIMEOUT} s: {slow}"


def test_directory_of_captures(tmp_path):
    directory = shared("pcaps/socks-auth.pcap").parent
    alerts, summary = scan(Path(directory) / "socks-auth.pcap")
    assert summary.read.inputs[0].format == "pcap" and alerts


def test_method_zoo_gives_one_event_per_request_with_its_method_and_uri():
    events, _ = events_of(shared("pcaps/http/methods.pcap"))
    requests = [e for e in dataset(events, "http") if e.fields.get("http.request.method")]
    # tshark dissects 27 requests here; the other lines (``GET/``, non-token methods) are no requests
    assert len(requests) == 27
    methods = Counter(e.fields["http.request.method"] for e in requests)
    assert methods["CCM_POST"] == 3 and methods["OPTIONS"] == 3 and methods["HEAD"] == 3
    assert sum(1 for e in requests if e.fields.get("url.original") == "/") == 16
    assert all(e.fields["url.domain"] == "www.google.com" for e in requests)


def test_host_with_port_gives_domain_and_port():
    events, _ = events_of(shared("pcaps/http/basic-auth-with-colon.pcap"))
    (http,) = dataset(events, "http")
    assert (http.fields["url.domain"], http.fields["url.port"]) == ("172.24.133.205", 8000)
    assert http.fields["url.path"] == "/" and http.fields["user.name"] == "test"
