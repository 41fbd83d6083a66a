"""Done when: impossible steps are skipped with their reason and the playbook still notifies and
reports; a human can skip a step; every state change rewrites the report; incident keys hold no
missing value; no placeholder reaches a mail or report; help and exit codes match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import shared
from tests.response.conftest import SmtpServer, Tocsin, alert, write_alerts

EXAMPLE = Path(__file__).resolve().parents[2] / "tocsin" / "examples" / "auth.log"

GATED_PLAYBOOK = """
id: gated-note
title: A step a human must approve, then a report
trigger: {tags: [attack.t1110.001]}
steps:
  - id: note
    action: case.timeline
    with: {text: "{{ alert.message }}"}
  - id: ask-first
    action: case.timeline
    requires_approval: true
    with: {text: "approved work"}
  - id: report
    action: report.incident
    with: {drafts: false}
"""


def test_impossible_steps_are_skipped_and_the_team_is_still_told(tocsin: Tocsin, smtp: SmtpServer) -> None:
    tocsin.env["TOCSIN_SMTP_PORT"] = str(smtp.port)
    tocsin.run("scan", str(EXAMPLE), "-o", "alerts.jsonl")
    done = tocsin.run("respond", "alerts.jsonl", "--execute")
    assert "failed" not in done.stderr, done.stderr
    incidents = {row.split()[0]: row for row in tocsin.run("incidents", "list").stdout.splitlines()}
    ato = next(name for name, row in incidents.items() if "ato-containment" in row)
    record = json.loads(tocsin.run("incidents", "show", ato, "--json").stdout)
    steps = {step["step_id"]: step for step in record["steps"]}
    for name in ("revoke-sessions", "force-password-reset", "require-mfa", "lock-account"):
        assert steps[name]["status"] == "skipped" and "no local account 'erin'" in steps[name]["plan"]
    assert steps["notify-security"]["status"] == "done" and steps["report"]["status"] == "done"
    assert record["status"] == "responded"

    mail = next(m for m in smtp.mailbox.messages if f"[{ato}]" in m["Subject"])
    body = mail.get_payload()
    assert "(new)" not in body and f"incidents/{ato}/evidence" in body
    seen = re.search(r"Seen: (\S+) to (\S+),", body)
    assert seen and seen[1] < seen[2]  # a correlation's window start, then its end
    report = tocsin.cwd / "incidents" / ato / "report.md"
    assert "(new)" not in report.read_text() and f"incidents/{ato}" in report.read_text()


def test_skip_a_step_and_reports_follow_every_state_change(tocsin: Tocsin) -> None:
    (tocsin.cwd / "playbooks").mkdir()
    (tocsin.cwd / "playbooks" / "gated.yml").write_text(GATED_PLAYBOOK)
    tocsin.env["TOCSIN_RESPONSE_PLAYBOOKS"] = str(tocsin.cwd / "playbooks")
    document = alert()
    write_alerts(tocsin.cwd / "alerts.jsonl", [document])
    tocsin.run(
        "playbooks",
        "run",
        "gated-note",
        "--alert-id",
        document["id"],
        "--alerts",
        "alerts.jsonl",
        "--execute",
    )
    record = json.loads(tocsin.run("incidents", "show", "INC-1", "--json").stdout)
    assert record["status"] == "waiting-approval"
    report = tocsin.cwd / "incidents" / "INC-1" / "report.md"
    assert "| Status | waiting-approval" in report.read_text()

    missing_reason = tocsin.run("incidents", "skip", "INC-1", "ask-first", check=2)
    assert "--reason" in missing_reason.stderr
    skipped = tocsin.run("incidents", "skip", "inc-1", "ask-first", "--reason", "nothing to approve here")
    assert "INC-1: responded" in skipped.stderr
    record = json.loads(tocsin.run("incidents", "show", "INC-1", "--json").stdout)
    steps = {s["step_id"]: s for s in record["steps"]}
    assert (
        steps["ask-first"]["status"] == "skipped" and "nothing to approve here" in steps["ask-first"]["error"]
    )
    assert steps["report"]["status"] == "done"
    assert any("ask-first skipped" in entry["text"] for entry in record["timeline"])
    assert "| Status | responded" in report.read_text()
    again = tocsin.run("incidents", "skip", "INC-1", "note", "--reason", "too late", check=2)
    assert "only a step not yet run can be skipped" in again.stderr

    closed = tocsin.run("incidents", "close", "INC-1")
    assert "report regenerated" in closed.stderr
    text = report.read_text()
    assert "| Status | closed (phase: post-incident)" in text


def test_incident_keys_never_hold_missing_values(tocsin: Tocsin) -> None:
    tocsin.run("scan", str(shared("authlogs/OpenSSH_2k.log")), "-o", "alerts.jsonl")
    plan = tocsin.run("respond", "alerts.jsonl").stdout
    per_account = [
        line
        for line in plan.splitlines()
        if line.startswith("new incident") and "Against One Account" in line
    ]
    assert len(per_account) == 2  # root and admin: two incidents, not one keyed source.address=None
    assert any("user.name=root" in line for line in per_account) and any(
        "user.name=admin" in line for line in per_account
    )
    tocsin.run("respond", "alerts.jsonl", "--execute", check=None)
    import sqlite3

    with sqlite3.connect(tocsin.db) as connection:
        keys = [row[0] for row in connection.execute("SELECT dedup_key FROM incidents")]
    assert len(keys) == 8 and not any("None" in key for key in keys)


def test_help_and_exit_codes_match_the_code(tocsin: Tocsin) -> None:
    assert "tocsin-cases.db" in tocsin.run("respond", "--help").stdout
    listed = tocsin.run("playbooks", "list").stdout
    assert "<Level" not in listed and "min_level=medium" in listed
    bogus = tocsin.run("incidents", "list", "--status", "bogus", check=2)
    assert "'bogus' is not one of" in bogus.stderr
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "run ato-containment --alert-id ID --alerts alerts.jsonl" in readme
