"""Done when: alert fields holding Jinja syntax, shell metacharacters and ../ paths are never interpreted."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.response.conftest import SmtpServer, Tocsin, alert, write_alerts

JINJA = "{{ 7*7 }}{% for x in range(3) %}x{% endfor %}{{ ''.__class__.__mro__ }}"


def _hostile(tmp: Path) -> dict[str, object]:
    return alert(
        rule={
            "id": "ato",
            "title": f"Login {JINJA}",
            "level": "critical",
            "tags": ["attack.t1078"],
            "type": "sigma",
        },
        message=f"success after failures {JINJA} \x1b[2J\x1b[31mred",
        user={
            "name": f"$(touch {tmp}/pwned);`touch {tmp}/pwned2`",
            "email": f"a@example.org\r\nBcc: all@example.org {JINJA}",
        },
        source={"ip": f"1.2.3.4; nft flush ruleset; touch {tmp}/pwned3"},
        host={"name": "../../../../etc/passwd"},
    )


HOSTILE_PLAYBOOK = """
id: hostile-paths
title: Values from alerts used as paths and names
trigger: {tags: [attack.t1078]}
steps:
  - id: copy-evidence
    action: case.attach_evidence
    on_failure: continue
    with: {paths: ["{{ settings.evidence_root }}/{{ alert.host.name }}"], alerts: false}
  - id: templated-template
    action: notify.email
    on_failure: continue
    with: {to: "soc@example.org", template: "{{ alert.host.name }}"}
  - id: templated-recipient
    action: notify.email
    on_failure: continue
    with: {to: "{{ alert.user.email }}", template: security-team-alert}
  - id: note
    action: case.timeline
    with: {text: "{{ alert.message }}"}
"""


def test_hostile_fields_stay_data(tocsin: Tocsin, smtp: SmtpServer) -> None:
    evidence = tocsin.cwd / "evidence"
    evidence.mkdir()
    (tocsin.cwd / "playbooks").mkdir()
    (tocsin.cwd / "playbooks" / "hostile.yml").write_text(
        HOSTILE_PLAYBOOK.replace("{{ settings.evidence_root }}", str(evidence))
    )
    document, second = _hostile(tocsin.cwd), _hostile(tocsin.cwd)
    write_alerts(tocsin.cwd / "alerts.jsonl", [document])
    write_alerts(tocsin.cwd / "second.jsonl", [second])
    tocsin.env.update(
        TOCSIN_SMTP_PORT=str(smtp.port),
        TOCSIN_RESPONSE_EVIDENCE_DIRS=str(evidence),
        TOCSIN_RESPONSE_PLAYBOOKS=str(tocsin.cwd / "playbooks"),
    )

    plan = tocsin.run("respond", "alerts.jsonl")
    assert "ato-containment" in plan.stdout
    # {{ 7*7 }} rendered would print 49 on its own (ports such as 127.0.0.1:49681 do not count, nor
    # the test's own folder, which pytest numbers: /tmp/pytest-of-root/pytest-49/...).
    assert not re.search(r"(?<![\d.:])49(?!\d)", plan.stdout.replace(str(tocsin.cwd), "<cwd>"))
    assert "xxx" not in plan.stdout and "\x1b" not in plan.stdout
    assert "\\x1b[2J" in plan.stdout  # escape sequences are shown, not sent to the terminal
    assert "cannot run: not an IP address: '1.2.3.4; nft flush ruleset" in plan.stdout
    assert "cannot run: not a valid local account name" in plan.stdout

    done = tocsin.run("respond", "alerts.jsonl", "--execute")
    assert "Traceback" not in done.stderr
    record = json.loads(tocsin.run("incidents", "show", "INC-1", "--json").stdout)
    steps = {step["step_id"]: step for step in record["steps"]}
    # Steps the plan found impossible are skipped with the reason; the rest of the playbook went on.
    assert (
        steps["block-source"]["status"] == "skipped" and "not an IP address" in steps["block-source"]["plan"]
    )
    assert steps["revoke-sessions"]["status"] == "skipped"
    assert "not a valid local account name" in steps["revoke-sessions"]["plan"]
    assert steps["force-password-reset"]["status"] == "skipped"
    assert steps["report"]["status"] == "done" and record["status"] == "responded"
    assert record["inputs"]["user"] == document["user"]["name"]  # kept verbatim, never rendered again

    ran = tocsin.run(
        "playbooks",
        "run",
        "hostile-paths",
        "--alert-id",
        second["id"],
        "--alerts",
        "second.jsonl",
        "--execute",
        check=1,
    )
    assert "Traceback" not in ran.stderr
    record = json.loads(tocsin.run("incidents", "show", "INC-2", "--json").stdout)
    steps = {step["step_id"]: step for step in record["steps"]}
    assert "outside response.evidence_dirs" in (
        steps["copy-evidence"]["error"] or steps["copy-evidence"]["plan"]
    )
    assert "use lower-case letters, digits and dashes" in (
        steps["templated-template"]["error"] or steps["templated-template"]["plan"]
    )
    assert "not an e-mail address" in (
        steps["templated-recipient"]["error"] or steps["templated-recipient"]["plan"]
    )
    assert steps["note"]["status"] == "done"
    note = next(entry["text"] for entry in record["timeline"] if entry["kind"] == "note")
    assert note == document["message"]  # the Jinja in the alert is text in the timeline

    # Only the plan's security team was mailed (the playbook went on past the impossible steps), and
    # never an address an alert chose.
    recipients = {
        address.strip() for message in smtp.mailbox.messages for address in message["To"].split(",")
    }
    assert recipients <= {"security@example.org", "oncall@example.org"} and smtp.mailbox.messages
    assert not list(tocsin.cwd.glob("pwned*"))
    assert not (tocsin.cwd / "blocklist.txt").exists()
    assert not list((tocsin.cwd / "incidents").glob("INC-2/evidence/*passwd*"))
    assert "chain intact" in tocsin.run("audit", "verify").stderr
