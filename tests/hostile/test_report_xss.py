"""Finding 1: values from logs never become markup in the HTML incident report."""

from __future__ import annotations

from tests.hostile.conftest import Tocsin
from tests.response.conftest import alert, write_alerts
from tocsin.respond.plan import BUILTIN_PLAN

PAYLOAD = "<img src=x onerror=alert(1)>"

REPORT_PLAYBOOK = """
id: report-only
title: Report only
trigger: {tags: [tocsin.hostile-test]}
inputs: {user: "{{ alert.user.name }}"}
steps:
  - id: report
    action: report.incident
    with: {drafts: false}
"""


def test_user_name_markup_is_escaped_in_report_html(tocsin: Tocsin) -> None:
    playbooks = tocsin.cwd / "playbooks"
    playbooks.mkdir()
    (playbooks / "report.yml").write_text(REPORT_PLAYBOOK)
    plan = BUILTIN_PLAN.read_text().split("\nplaybooks:")[0] + "\nplaybooks: [report-only]\n"
    (tocsin.cwd / "plan.yml").write_text(plan)
    tocsin.env.update(
        TOCSIN_RESPONSE_PLAYBOOKS=str(playbooks), TOCSIN_RESPONSE_PLAN=str(tocsin.cwd / "plan.yml")
    )
    document = alert(
        user={"name": PAYLOAD},
        message=f"Brute force against {PAYLOAD}</li><script>alert(2)</script>",
        rule={
            "id": "x",
            "title": "<b>Rule</b>",
            "level": "high",
            "tags": ["tocsin.hostile-test"],
            "type": "sigma",
        },
    )
    write_alerts(tocsin.cwd / "alerts.jsonl", [document])
    tocsin.run("respond", "alerts.jsonl", "--execute")
    html = (tocsin.cwd / "incidents" / "INC-1" / "report.html").read_text()
    assert "<img" not in html and "<script" not in html and "<b>Rule" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<svg" in html  # tocsin's own markup (the timeline) is still there
