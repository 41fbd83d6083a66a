"""A capture, and Zeek-style and EVE-style logs of the same traffic, raise the same alerts and fields.

The logs are written from tshark's dissection of each capture (``tests/network/sensor_logs.py``),
never from tocsin's, so the comparison checks tocsin's Zeek and EVE readers against its capture
analysis through an independent oracle. Compared are the rules that depend on fields all three
carry; one is left out, with its reason:

* Cleartext Credentials On The Wire needs the password itself, which only tocsin's own capture
  analysis keeps (masked): Zeek logs ``<hidden>`` by default, and the rule is for the wire.

Captures are chosen where tshark's field output can say what a sensor would log: not ones where its
``dns.a`` also lists additional- or update-section records (``long-connection``, ``dynamic-update``),
its ``dns.flags.rcode`` leaves out the EDNS extended code (``dns_extended_rcode``), or it does not
take a request for HTTP (``methods``, ``bro.org-filtered``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED
from tests.network.helpers import events_of, scan
from tests.network.sensor_logs import TSHARK, write_eve, write_zeek
from tocsin.model.alert import Alert
from tocsin.model.event import Event

PCAPS = SHARED / "pcaps"
#: Rules that need what only the capture analysis has (see the module doc).
CAPTURE_ONLY_RULES = {"7d4f2c1a-8e3b-4a6d-9c5f-1b2e3d4c5a61"}

pytestmark = [
    pytest.mark.skipif(TSHARK is None, reason="tshark is not installed: it writes the sensor logs"),
    pytest.mark.skipif(not PCAPS.is_dir(), reason="../shared/data/pcaps is not available"),
]


def logs_of(pcap: str, tmp_path: Path) -> tuple[Path, Path]:
    """(Zeek log folder, EVE file) of a shared capture."""
    zeek, eve = tmp_path / "zeek", tmp_path / "eve.json"
    write_zeek(PCAPS / pcap, zeek)
    write_eve(PCAPS / pcap, eve)
    return zeek, eve


def alert_keys(alerts: Iterable[Alert]) -> Counter[tuple[Any, ...]]:
    """What an alert is, wherever it was read: rule, group, entities and how many events it counted."""
    return Counter(
        (
            alert.rule.id,
            json.dumps(alert.group_by, sort_keys=True),
            alert.entity("user.name"),
            alert.entity("source.ip"),
            alert.event_count,
        )
        for alert in alerts
        if alert.rule.id not in CAPTURE_ONLY_RULES
    )


def project(events: Iterable[Event], keys: tuple[str, ...], **where: Any) -> Counter[tuple[Any, ...]]:
    """The values of ``keys`` in the events whose fields equal ``where``, as a multiset."""

    def value(event: Event, key: str) -> Any:
        found = event.fields.get(key)
        return tuple(sorted(found)) if isinstance(found, list) else found

    return Counter(
        tuple(value(event, key) for key in keys)
        for event in events
        if all(event.fields.get(name) == wanted for name, wanted in where.items())
    )


@pytest.mark.parametrize(
    ("pcap", "expected"),
    [
        ("ftp/bruteforce.pcap", {"Brute Force Against One Account", "Brute Force From One Source"}),
        ("krb/kinit.pcap", {"Brute Force Against One Account", "Brute Force From One Source"}),
    ],
)
def test_zeek_logs_raise_the_alerts_of_the_capture(pcap, expected, tmp_path):
    zeek, _ = logs_of(pcap, tmp_path)
    from_capture, _ = scan(PCAPS / pcap)
    from_zeek, summary = scan(zeek)
    assert not summary.read.skipped and not summary.read.failed_inputs
    assert {alert.rule.title for alert in from_zeek} == expected  # the comparison below is not vacuous
    assert alert_keys(from_zeek) == alert_keys(from_capture)


def test_eve_log_raises_the_alerts_of_the_capture(tmp_path):
    _, eve = logs_of("ftp/bruteforce.pcap", tmp_path)
    from_capture, _ = scan(PCAPS / "ftp/bruteforce.pcap")
    from_eve, _ = scan(eve)
    assert {alert.rule.title for alert in from_eve} == {
        "Brute Force Against One Account",
        "Brute Force From One Source",
    }
    assert alert_keys(from_eve) == alert_keys(from_capture)


LOGIN = ("event.action", "user.name", "event.outcome", "source.ip", "source.port", "destination.ip",
         "destination.port", "network.transport", "credential.method")  # fmt: skip


@pytest.mark.parametrize(
    "pcap",
    [
        "ftp/bruteforce.pcap",
        "ftp/ipv6.pcap",
        "http/basic-auth-with-colon.pcap",
        "http/basic-auth-with-extra-space.pcap",
    ],
)
def test_logins_have_the_capture_fields(pcap, tmp_path):
    zeek, eve = logs_of(pcap, tmp_path)
    captured = project(events_of(PCAPS / pcap)[0], LOGIN, **{"event.category": "authentication"})
    assert captured  # the capture has logins to compare
    assert project(events_of(zeek)[0], LOGIN, **{"event.category": "authentication"}) == captured
    assert project(events_of(eve)[0], LOGIN, **{"event.category": "authentication"}) == captured


HTTP = ("source.ip", "source.port", "destination.ip", "destination.port", "network.transport", "network.protocol",
        "event.action", "http.request.method", "url.original", "url.path", "url.query", "url.domain", "http.version",
        "user_agent.original", "http.response.status_code", "user.name")  # fmt: skip


@pytest.mark.parametrize(
    "pcap",
    [
        "http/get.pcap",
        "http/post.pcap",
        "http/get-gzip.pcap",
        "http/basic-auth-with-colon.pcap",
        "http/proxy.pcap",
    ],
)
def test_http_requests_have_the_capture_fields(pcap, tmp_path):
    zeek, eve = logs_of(pcap, tmp_path)
    captured = project(events_of(PCAPS / pcap)[0], HTTP, **{"event.dataset": "network.http"})
    assert captured
    assert (
        project(events_of(zeek)[0], HTTP, **{"event.dataset": "zeek.http", "event.category": "network"})
        == captured
    )
    assert (
        project(events_of(eve)[0], HTTP, **{"event.dataset": "suricata.eve", "event.category": "network"})
        == captured
    )


DNS_QUESTION = ("source.ip", "source.port", "destination.ip", "destination.port", "network.transport", "network.protocol",
                "event.action", "dns.id", "dns.question.name", "dns.question.registered_domain",
                "dns.question.longest_label", "dns.question.name_length")  # fmt: skip
DNS_ANSWER = (*DNS_QUESTION, "dns.type", "dns.response_code", "dns.resolved_ip")


@pytest.mark.parametrize(
    "pcap",
    [
        "dns/dns-binds.pcap",
        "dns/naptr.pcap",
        "dns/dns-wks.pcap",
        "dns/hinfo.pcap",
        "dns/tm1t.pcap",
        "dns/dns_notify2.pcap",
    ],
)
def test_dns_lookups_have_the_capture_fields(pcap, tmp_path):
    zeek, eve = logs_of(pcap, tmp_path)
    captured = events_of(PCAPS / pcap)[0]
    assert project(captured, DNS_ANSWER, **{"event.dataset": "network.dns"})
    assert project(events_of(zeek)[0], DNS_ANSWER, **{"event.dataset": "zeek.dns"}) == project(
        captured, DNS_ANSWER, **{"event.dataset": "network.dns"}
    )
    assert project(events_of(eve)[0], DNS_QUESTION, **{"event.action": "dns-query"}) == project(
        captured, DNS_QUESTION, **{"event.dataset": "network.dns"}
    )
