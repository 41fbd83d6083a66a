"""Finding 14: evidence folders per case database; newlines in names never forge a heading or a mail
header; a comma in a value never adds a recipient; Slack payloads escape ``& < >``."""

from __future__ import annotations

import json

from tests.hostile.conftest import Recorder, SmtpServer, Tocsin
from tests.response.conftest import alert, write_alerts
from tocsin.respond.plan import BUILTIN_PLAN

FORGED = "alice\n# Forged heading\nBcc: everyone@example.org\r\n<!channel> <http://evil.example|click> & more"

PLAYBOOK = """
id: hostile-outputs
title: Hostile outputs
trigger: {tags: [tocsin.hostile-test]}
inputs: {user: "{{ alert.user.name }}"}
steps:
  - id: keep
    action: case.attach_evidence
    with: {alerts: true}
  - id: mail-user
    action: notify.email
    on_failure: continue
    with: {to: ["{{ alert.user.email }}"], template: security-team-alert}
  - id: mail-team
    action: notify.email
    with: {to: "soc@example.org", template: security-team-alert}
  - id: chat
    action: notify.webhook
    with: {title: "{{ alert.rule.title }}", text: "{{ alert.message }}"}
  - id: report
    action: report.incident
    with: {drafts: false}
"""


def _configure(tocsin: Tocsin, smtp: SmtpServer, http: Recorder) -> None:
    (tocsin.cwd / "playbooks").mkdir(exist_ok=True)
    (tocsin.cwd / "playbooks" / "hostile.yml").write_text(PLAYBOOK)
    (tocsin.cwd / "plan.yml").write_text(
        BUILTIN_PLAN.read_text().split("\nplaybooks:")[0] + "\nplaybooks: [hostile-outputs]\n"
    )
    tocsin.env.update(
        TOCSIN_RESPONSE_PLAYBOOKS=str(tocsin.cwd / "playbooks"), TOCSIN_RESPONSE_PLAN=str(tocsin.cwd / "plan.yml"),
        TOCSIN_SMTP_PORT=str(smtp.port), TOCSIN_WEBHOOK_URL=f"{http.url}/hook", TOCSIN_WEBHOOK_FORMAT="slack",
    )  # fmt: skip


def _hostile_alert() -> dict:
    return alert(
        user={"name": FORGED, "email": "eve@evil.example,alice@example.org"},
        message=f"Login by {FORGED}",
        rule={
            "id": "x",
            "title": f"Rule {FORGED}",
            "level": "high",
            "tags": ["tocsin.hostile-test"],
            "type": "sigma",
        },
    )


def test_names_never_forge_headings_headers_recipients_or_slack_markup(
    tocsin: Tocsin, smtp: SmtpServer, http: Recorder
) -> None:
    _configure(tocsin, smtp, http)
    write_alerts(tocsin.cwd / "alerts.jsonl", [_hostile_alert()])
    tocsin.run("respond", "alerts.jsonl", "--execute", check=None)
    record = json.loads(tocsin.run("incidents", "show", "INC-1", "--json").stdout)
    steps = {step["step_id"]: step for step in record["steps"]}
    # an address with a comma is refused when planned: the step is skipped with the reason, the rest goes on
    assert steps["mail-user"]["status"] == "skipped" and "not an e-mail address" in steps["mail-user"]["plan"]
    assert [message["To"] for message in smtp.mailbox.messages] == ["soc@example.org"]
    mail = smtp.mailbox.messages[0]
    subject = " ".join(mail["Subject"].split())  # unfolded
    assert mail["Bcc"] is None and "alice\\n# Forged heading\\nBcc: everyone@example.org" in subject
    body = mail.get_payload()
    assert not any(line.startswith(("# Forged", "Bcc:")) for line in body.splitlines())
    assert "alice\\n# Forged heading\\nBcc: everyone@example.org\\r\\n" in body
    report = (tocsin.cwd / "incidents" / "INC-1" / "report.md").read_text()
    assert not any(line.lstrip().startswith("# Forged") for line in report.splitlines())
    text = http.posts[0]["json"]["text"]
    assert "<!channel>" not in text and "<http://evil.example|click>" not in text
    assert "&lt;!channel&gt; &lt;http://evil.example|click&gt; &amp; more" in text


def test_two_case_databases_keep_their_own_evidence(tocsin: Tocsin, smtp: SmtpServer, http: Recorder) -> None:
    _configure(tocsin, smtp, http)
    write_alerts(tocsin.cwd / "first.jsonl", [alert(message="first case", rule={
        "id": "a", "title": "First", "level": "high", "tags": ["tocsin.hostile-test"], "type": "sigma"})])  # fmt: skip
    write_alerts(tocsin.cwd / "second.jsonl", [alert(message="second case", rule={
        "id": "b", "title": "Second", "level": "high", "tags": ["tocsin.hostile-test"], "type": "sigma"})])  # fmt: skip
    tocsin.run("respond", "first.jsonl", "--execute", "--db", "first.db", check=None)  # mail-user: no address
    tocsin.run("respond", "second.jsonl", "--execute", "--db", "second.db", check=None)
    incidents = tocsin.cwd / "incidents"
    assert "first case" in (incidents / "INC-1" / "evidence" / "alerts.jsonl").read_text()
    [second] = list(incidents.glob("second-*/INC-1/evidence/alerts.jsonl"))
    assert "second case" in second.read_text()
