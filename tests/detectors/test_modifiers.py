"""Every Sigma value modifier, with an event that must match and one that must not."""

from __future__ import annotations

import pytest

from tests.engine_helpers import make_event, ruleset_from, run

RULE = """
title: modifier test
id: 6f1e7c10-0000-4000-8000-000000000001
logsource:
    category: authentication
detection:
    selection:
{selection}
    condition: selection
level: high
"""

# (selection body, fields of an event that matches, fields of one that does not)
CASES = {
    "plain equality is case-insensitive": (
        "user.name: Admin",
        {"user.name": "ADMIN"},
        {"user.name": "admins"},
    ),
    "wildcards": ("user.name: 'ad?in*'", {"user.name": "admin01"}, {"user.name": "xadmin"}),
    "list means any": ("user.name: [alice, bob]", {"user.name": "bob"}, {"user.name": "carol"}),
    "contains": (
        "process.command_line|contains: mimikatz",
        {"process.command_line": "c:\\MIMIKATZ.exe x"},
        {"process.command_line": "notepad"},
    ),
    "startswith": ("url.path|startswith: /admin", {"url.path": "/admin/users"}, {"url.path": "/x/admin"}),
    "endswith": ("file.name|endswith: .ps1", {"file.name": "Run.PS1"}, {"file.name": "run.ps1.txt"}),
    "contains all": (
        "message|contains|all: [alpha, beta]",
        {"message": "beta then alpha"},
        {"message": "alpha only"},
    ),
    "re": ("user.name|re: '^adm[0-9]+$'", {"user.name": "adm42"}, {"user.name": "ADM42"}),
    "re with i flag": ("user.name|re|i: '^adm[0-9]+$'", {"user.name": "ADM42"}, {"user.name": "xadm42"}),
    "re with m flag": ("message|re|m: '^second$'", {"message": "first\nsecond"}, {"message": "first second"}),
    "re with s flag": ("message|re|s: 'a.b'", {"message": "a\nb"}, {"message": "ab"}),
    "cidr ipv4": ("source.ip|cidr: 10.0.0.0/8", {"source.ip": "10.20.30.40"}, {"source.ip": "11.0.0.1"}),
    "cidr ipv6 compressed": (
        "source.ip|cidr: '2001:db8::/32'",
        {"source.ip": "2001:db8::1"},
        {"source.ip": "2001:db9::1"},
    ),
    "cidr ipv6 zero groups": (
        "source.ip|cidr: '2001:0:0:1::/64'",
        {"source.ip": "2001::1:0:0:0:5"},
        {"source.ip": "2001::2:0:0:0:5"},
    ),
    "base64": ("payload|base64: secret", {"payload": "c2VjcmV0"}, {"payload": "secret"}),
    "base64offset contains": (
        "payload|base64offset|contains: hello",
        {"payload": "xxYWhlbGxvIHdvcmxkyy"},
        {"payload": "hello"},
    ),
    "windash": (
        "process.command_line|windash|contains: ' -enc '",
        {"process.command_line": "powershell /enc AAA"},
        {"process.command_line": "powershell enc"},
    ),
    "wide base64offset": (
        "payload|wide|base64offset|contains: ping",
        {"payload": "cABpAG4AZwA="},
        {"payload": "cGluZw=="},
    ),
    "exists true": ("user.email|exists: true", {"user.email": "a@b.c"}, {"user.name": "a"}),
    "exists false": ("user.email|exists: false", {"user.name": "a"}, {"user.email": "a@b.c"}),
    "cased": ("user.name|cased: Admin", {"user.name": "Admin"}, {"user.name": "admin"}),
    "fieldref": (
        "user.name|fieldref: user.target.name",
        {"user.name": "bob", "user.target.name": "BOB"},
        {"user.name": "bob", "user.target.name": "alice"},
    ),
    "gt": ("event.count|gt: 5", {"event.count": 6}, {"event.count": 5}),
    "gte": ("event.count|gte: 5", {"event.count": "5"}, {"event.count": 4}),
    "lt": ("event.count|lt: 5", {"event.count": 4}, {"event.count": "not a number"}),
    "lte": ("event.count|lte: 5", {"event.count": 5.0}, {"event.count": 10}),
    "null": ("user.domain: null", {"user.name": "a"}, {"user.domain": "CORP"}),
    "expand with configured values": (
        "user.name|expand: '%admins%'",
        {"user.name": "root"},
        {"user.name": "alice"},
    ),
    "boolean": ("user.invalid: true", {"user.invalid": True}, {"user.invalid": False}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_modifier(tmp_path, name):
    selection, positive, negative = CASES[name]
    body = "\n".join("        " + line for line in selection.splitlines())
    ruleset = ruleset_from(tmp_path, RULE.format(selection=body), placeholders={"admins": ["root", "toor"]})
    assert not ruleset.errors, ruleset.errors
    events = [make_event(offset="positive", **_kw(positive)), make_event(offset="negative", **_kw(negative))]
    alerts = run(ruleset, events)
    assert [alert.evidence for alert in alerts] == [[events[0].id]], name


def _kw(fields):
    return {key.replace(".", "__"): value for key, value in fields.items()}


def test_keywords_search_the_raw_record(tmp_path):
    rule = """
title: keyword test
logsource:
    category: authentication
detection:
    keywords:
        - 'POSSIBLE BREAK-IN'
        - 'corrupted mac*input'
    condition: keywords
level: medium
"""
    ruleset = ruleset_from(tmp_path, rule)
    events = [
        make_event(raw="sshd: reverse mapping ... failed - possible break-in attempt!", offset="1"),
        make_event(raw="sshd: Corrupted MAC on input.", offset="2"),
        make_event(raw="sshd: Accepted publickey for bob", offset="3"),
    ]
    assert sorted(a.evidence[0] for a in run(ruleset, events)) == sorted([events[0].id, events[1].id])


def test_undefined_placeholder_matches_any_value(tmp_path):
    body = "        user.name|expand: '%undefined_group%'"
    ruleset = ruleset_from(tmp_path, RULE.format(selection=body))
    events = [make_event(user__name="anyone", offset="1"), make_event(offset="2")]
    assert [a.evidence for a in run(ruleset, events)] == [[events[0].id]]


def test_native_field_names_resolve_case_insensitively_in_the_original_record(tmp_path):
    body = "        eventtype: user.session.start\n        outcome.result: FAILURE"
    ruleset = ruleset_from(tmp_path, RULE.format(selection=body))
    matching = make_event(original={"eventType": "user.session.start", "outcome": {"result": "FAILURE"}})
    other = make_event(
        original={"eventType": "user.session.start", "outcome": {"result": "SUCCESS"}}, offset="2"
    )
    assert [a.evidence for a in run(ruleset, [matching, other])] == [[matching.id]]


def test_logsource_routing_keeps_rules_to_their_events(tmp_path):
    from tocsin.model.event import LogSource

    rule = RULE.replace("category: authentication", "product: okta").format(
        selection="        user.name: bob"
    )
    ruleset = ruleset_from(tmp_path, rule)
    okta = make_event(user__name="bob", logsource=LogSource.of("okta", ("okta",)), offset="1")
    linux = make_event(user__name="bob", logsource=LogSource.of("linux", ("sshd",)), offset="2")
    assert [a.evidence for a in run(ruleset, [okta, linux])] == [[okta.id]]


@pytest.mark.parametrize(
    ("networks", "inside", "outside"),
    [
        pytest.param(
            ["2001:db8::/32", "::ffff:0:0/96"],
            [
                "2001:DB8:0:0::1",
                "2001:db8::1%eth0",
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                "::ffff:10.1.2.3",
            ],
            [
                "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
                "2001:db9::",
                "10.1.2.3",
                "2001:db8::1 x",
                "a:b:c",
                ":::",
            ],
            id="ipv6, every spelling",
        ),
        pytest.param(
            ["10.0.0.0/8"],
            ["10.0.0.0", "10.20.30.40", "10.255.255.255"],
            [
                "9.255.255.255",
                "11.0.0.0",
                "010.0.0.1",
                "10.0.0.256",
                " 10.0.0.1",
                "10.0.0",
                "10.0.0.1.5",
                "x",
            ],
            id="ipv4, dotted quads only",
        ),
    ],
)
def test_networks_match_their_addresses_and_nothing_else(tmp_path, networks, inside, outside):
    listed = "".join(f"\n            - '{network}'" for network in networks)
    ruleset = ruleset_from(tmp_path, RULE.format(selection=f"        source.ip|cidr:{listed}"))
    events = [make_event(source__ip=address, offset=address) for address in inside + outside]
    alerts = run(ruleset, events)
    assert sorted(alert.source["ip"] for alert in alerts) == sorted(inside)
