"""Done when: respond plans for the OpenSSH brute force, then --execute blocks the attackers in a real
nftables namespace, mails the security team through aiosmtpd, posts to a webhook, and the audit log verifies."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from tests.conftest import shared
from tests.response.conftest import Namespace, Recorder, SmtpServer, Tocsin, netns_or_skip

ATTACKERS = ["183.62.140.253", "187.141.143.180", "103.99.0.122"]
OTHERS = ["112.95.230.3", "185.190.58.151", "5.188.10.180"]
BYSTANDER = "198.51.100.7"  # never attacked: must stay reachable


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    yield from netns_or_skip([*ATTACKERS, *OTHERS, BYSTANDER])


def test_plan_then_execute_blocks_and_notifies(
    tocsin: Tocsin, namespace: Namespace, smtp: SmtpServer, http: Recorder
) -> None:
    log = shared("authlogs/OpenSSH_2k.log")
    tocsin.env.update(
        TOCSIN_FIREWALL_BACKEND="nftables",
        TOCSIN_FIREWALL_NETNS=namespace.name,
        TOCSIN_SMTP_PORT=str(smtp.port),
        TOCSIN_WEBHOOK_URL=f"{http.url}/hook/T000/B000/secret-path",
        TOCSIN_WEBHOOK_FORMAT="slack",
    )
    tocsin.run("scan", str(log), "--format", "jsonl", "-o", "alerts.jsonl", check=None)

    plan = tocsin.run("respond", "alerts.jsonl")
    for address in ATTACKERS:
        assert (
            f"block {address} for 86400 s with nftables set inet tocsin in network namespace {namespace.name}"
            in plan.stdout
        )
    assert "Plan only: nothing was changed" in plan.stderr
    assert "secret-path" not in plan.stdout + plan.stderr, "webhook URL paths carry secrets"
    assert not tocsin.db.exists() and namespace.probe(*ATTACKERS)[ATTACKERS[0]] == "open"

    done = tocsin.run("respond", "alerts.jsonl", "--execute")
    assert "8 new incident(s)" in done.stderr and "failed" not in done.stderr, done.stderr

    reach = namespace.probe(*ATTACKERS, *OTHERS, BYSTANDER)
    assert {address: reach[address] for address in ATTACKERS + OTHERS} == dict.fromkeys(
        ATTACKERS + OTHERS, "blocked"
    )
    assert reach[BYSTANDER] == "open"
    assert "timeout" in namespace.nft("list", "set", "inet", "tocsin", "blocked4")

    subjects = [message["Subject"] for message in smtp.mailbox.messages]
    assert (
        len(subjects) == 8
    )  # one per attacking source, one per account brute-forced from many (root, admin)
    for address in ATTACKERS:
        mail = next(m for m in smtp.mailbox.messages if address in m.get_payload())
        assert mail["To"] == "security@example.org" and "Brute Force From One Source" in mail["Subject"]
        assert "What was done so far" in mail.get_payload() and f"block {address}" in mail.get_payload()
    assert len(http.posts) == 8 and all("text" in post["json"] for post in http.posts)

    again = tocsin.run("respond", "alerts.jsonl", "--execute")
    assert "16 already handled" in again.stderr and "0 new incident(s)" in again.stderr
    assert len(smtp.mailbox.messages) == 8

    listed = tocsin.run("incidents", "list")
    assert listed.stdout.count("responded") == 8
    shown = tocsin.run("incidents", "show", "INC-1")
    assert "block-source" in shown.stdout and "done" in shown.stdout
    assert (tocsin.cwd / "incidents" / "INC-1" / "report.html").read_text().count("<svg") == 1
    assert "MANIFEST.sha256" in {p.name for p in (tocsin.cwd / "incidents" / "INC-1" / "evidence").iterdir()}

    verified = tocsin.run("audit", "verify")
    assert "chain intact" in verified.stderr

    with sqlite3.connect(tocsin.db) as connection:  # tamper around the append-only triggers
        connection.execute("DROP TRIGGER audit_no_update")
        connection.execute("UPDATE audit SET details = '{}' WHERE seq = 3")
    tampered = tocsin.run("audit", "verify", check=1)
    assert "entry 3: content does not match its hash" in tampered.stdout
