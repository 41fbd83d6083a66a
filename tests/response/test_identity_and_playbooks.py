"""Identity containment on a throwaway Linux user and on a SCIM 2.0 endpoint; approvals, rollback; validation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.response.conftest import Recorder, SmtpServer, Tocsin, alert, write_alerts

LIBRARY = Path(__file__).resolve().parents[2] / "tocsin" / "respond" / "playbooks" / "library"


@pytest.fixture
def linux_user() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("creating a throwaway account needs root and useradd")
    name = f"tct{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True)
    subprocess.run(["chpasswd"], input=f"{name}:Initial-Passw0rd\n", text=True, check=True)
    try:
        yield name
    finally:
        subprocess.run(["pkill", "--signal", "KILL", "--uid", name], check=False)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)


def _passwd_status(name: str) -> str:
    return subprocess.run(
        ["passwd", "--status", name], capture_output=True, text=True, check=True
    ).stdout.split()[1]


def test_account_takeover_on_a_local_user(tocsin: Tocsin, smtp: SmtpServer, linux_user: str) -> None:
    home = Path(f"/home/{linux_user}")
    (home / ".google_authenticator").write_text("SECRET\n")
    session = subprocess.Popen(["runuser", "-u", linux_user, "--", "sleep", "300"])
    document = alert(
        rule={
            "id": "ato",
            "title": "Successful Authentication After Repeated Failures",
            "level": "high",
            "tags": ["attack.initial-access", "attack.t1078"],
            "type": "correlation",
        },
        user={"name": linux_user},
        source={"ip": "203.0.113.50"},
    )
    write_alerts(tocsin.cwd / "alerts.jsonl", [document])
    tocsin.env.update(TOCSIN_SMTP_PORT=str(smtp.port), TOCSIN_RESPONSE_USER_EMAIL_DOMAIN="example.org")

    done = tocsin.run("respond", "alerts.jsonl", "--execute")
    assert "1 waiting" in done.stderr
    assert session.wait(10) in (-9, 137), "the user's session was ended"
    assert not (home / ".google_authenticator").exists()
    chage = subprocess.run(["chage", "--list", linux_user], capture_output=True, text=True, check=True).stdout
    assert "password must be changed" in chage
    assert _passwd_status(linux_user) == "P", "locking waits for approval"
    assert {message["To"] for message in smtp.mailbox.messages} == {
        f"{linux_user}@example.org",
        "security@example.org",
    }
    user_mail = next(m for m in smtp.mailbox.messages if m["To"].startswith(linux_user)).get_payload()
    assert "What you should do" in user_mail and "force password reset" in user_mail
    assert "waiting-approval" in tocsin.run("incidents", "list").stdout

    tocsin.run("incidents", "approve", "INC-1", "lock-account")
    assert _passwd_status(linux_user) == "L"
    assert "responded" in tocsin.run("incidents", "list").stdout
    assert (tocsin.cwd / "incidents" / "INC-1" / "report.md").exists()

    tocsin.run("incidents", "close", "INC-1", "--rollback")
    assert _passwd_status(linux_user) == "P"
    assert "closed" in tocsin.run("incidents", "list").stdout
    assert "chain intact" in tocsin.run("audit", "verify").stderr


SCIM_PLAYBOOK = """
id: scim-disable
title: Disable at the identity provider
trigger: {tags: [attack.t1078]}
dedup: [user.name]
steps:
  - id: disable
    action: identity.disable_account
    with: {user: "{{ alert.user.name }}", backend: scim}
  - id: reset
    action: identity.force_password_reset
    with: {user: "{{ alert.user.name }}", backend: scim}
"""


def test_scim_disable_and_reset_with_token_from_a_private_file(tocsin: Tocsin, http: Recorder) -> None:
    user = http.add_user("alice@example.org")
    (tocsin.cwd / "playbooks").mkdir()
    (tocsin.cwd / "playbooks" / "scim.yml").write_text(SCIM_PLAYBOOK)
    config = tocsin.cwd / "tocsin.toml"
    config.write_text(f'[scim]\nurl = "{http.url}/scim/v2"\ntoken = "s3cr3t-scim-token"\n')
    config.chmod(0o644)
    document = alert(
        user={"name": "alice@example.org"},
        rule={"id": "x", "title": "ATO", "level": "high", "tags": ["attack.t1078"]},
    )
    write_alerts(tocsin.cwd / "alerts.jsonl", [document])
    tocsin.env.update(TOCSIN_RESPONSE_PLAYBOOKS=str(tocsin.cwd / "playbooks"))
    args = (
        "playbooks",
        "run",
        "scim-disable",
        "--alert-id",
        document["id"],
        "--alerts",
        "alerts.jsonl",
        "--execute",
    )

    refused = tocsin.run(*args, check=2)
    assert "chmod 600" in refused.stderr and "s3cr3t" not in refused.stderr
    config.chmod(0o600)
    done = tocsin.run(*args)
    assert user["active"] is False and user["password"] not in ("", None)
    assert set(http.authorizations) == {"Bearer s3cr3t-scim-token"}
    shown = tocsin.run("incidents", "show", "INC-1", "--json").stdout + tocsin.run("config", "show").stdout
    assert "s3cr3t" not in done.stdout + done.stderr + shown and user["password"] not in shown


def test_shipped_playbooks_validate_and_broken_ones_are_explained(tocsin: Tocsin, tmp_path: Path) -> None:
    ok = tocsin.run("playbooks", "validate", str(LIBRARY))
    assert "5 valid, 0 invalid" in ok.stderr
    listed = tocsin.run("playbooks", "list")
    for name in (
        "ato-containment",
        "credential-attack-response",
        "data-exposure",
        "coordinated-report-abuse",
        "cleartext-credential-exposure",
    ):
        assert name in listed.stdout
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "id: broken\ntitle: b\ntrigger: {tags: [x]}\nsteps:\n"
        "  - {id: one, action: firewall.nuke}\n"
        "  - {id: two, action: notify.email, with: {to: '{{ oops', template: x, cc: y}}\n"
    )
    bad = tocsin.run("playbooks", "validate", str(broken), check=1)
    assert "unknown action 'firewall.nuke'" in bad.stdout
    assert "has no parameter 'cc'" in bad.stdout and "with.to:" in bad.stdout
    (tmp_path / "evil.yml").write_text("!!python/object/apply:os.system ['touch pwned']\n")
    evil = tocsin.run("playbooks", "validate", str(tmp_path / "evil.yml"), check=1)
    assert "could not determine a constructor" in evil.stdout and not (tocsin.cwd / "pwned").exists()


def test_data_exposure_starts_the_72_hour_clock_and_drafts_notices(tocsin: Tocsin, smtp: SmtpServer) -> None:
    document = alert(
        rule={
            "id": "exfil",
            "title": "Bulk Download Of Customer Records",
            "level": "critical",
            "tags": ["attack.exfiltration"],
        },
        user={"name": "bob"},
        host={"name": "crm1"},
    )
    write_alerts(tocsin.cwd / "alerts.jsonl", [document])
    tocsin.env.update(TOCSIN_SMTP_PORT=str(smtp.port))
    tocsin.run("respond", "alerts.jsonl", "--execute")
    record = json.loads(tocsin.run("incidents", "show", "INC-1", "--json").stdout)
    regulator = next(d for d in record["duties"] if d["template"] == "notice-regulator")
    from datetime import datetime, timedelta

    opened = datetime.fromisoformat(record["opened_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(regulator["due"].replace("Z", "+00:00")) - opened == timedelta(hours=72)
    drafts = tocsin.cwd / "incidents" / "INC-1" / "drafts"
    assert sorted(p.name for p in drafts.iterdir()) == [
        "notice-affected-users.md",
        "notice-regulator.md",
        "status-update.md",
    ]
    assert regulator["due"] in (drafts / "notice-regulator.md").read_text()
    assert {m["To"] for m in smtp.mailbox.messages} == {"security@example.org, oncall@example.org"}
