"""The incident report (Markdown and HTML with a timeline chart) and drafts of the communications the plan calls for."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from markupsafe import Markup

from tocsin.respond.actions.base import Params, Responder, StepContext

STATUS_UPDATE = "status-update"


class ReportParams(Params):
    drafts: bool = True  # also draft the affected-user, regulator and public notices


class IncidentReport(Responder):
    params = ReportParams

    def plan(self, params: ReportParams, ctx: StepContext) -> str:
        drafts = " and communication drafts" if params.drafts else ""
        return f"write report.md, report.html{drafts} in {ctx.incident_dir}"

    def execute(self, params: ReportParams, ctx: StepContext) -> dict[str, Any]:
        record = ctx.case.incident_record(ctx.incident_id)
        context = {**ctx.template_context, "record": record, "chart": Markup(timeline_svg(record))}
        outputs = {"report.md": ("incident-report", ".md.j2"), "report.html": ("incident-report", ".html.j2")}
        if params.drafts:
            for duty in record["duties"]:
                outputs[f"drafts/{duty['template']}.md"] = (duty["template"], ".md.j2")
            outputs[f"drafts/{STATUS_UPDATE}.md"] = (STATUS_UPDATE, ".md.j2")
        written = []
        incident_dir = ctx.claim_incident_dir()
        for relative, (name, suffix) in outputs.items():
            text = ctx.render_file(name, suffix, context)
            target = incident_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(relative)
        return {"files": written}


def timeline_svg(record: dict[str, Any], width: int = 760) -> str:
    """A horizontal timeline: alert windows as bars, actions and notes as ticks, in UTC."""
    items: list[tuple[datetime, datetime, str, str]] = []
    for alert in record["alerts"]:
        end = _time(alert["@timestamp"])
        start = _time(alert["window"]["start"]) if alert.get("window") else end
        items.append((start, end, "#c0392b", f"{alert['rule']['title']} ({alert['event_count']} events)"))
    for entry in record["timeline"]:
        at = _time(entry["at"])
        items.append((at, at, "#2471a3", entry["text"]))
    if not items:
        return ""
    first = min(item[0] for item in items)
    span = max((max(item[1] for item in items) - first).total_seconds(), 1)
    left, chart = 10, width - 20
    rows = []
    for number, (start, end, colour, label) in enumerate(sorted(items)):
        x = left + chart * (start - first).total_seconds() / span
        bar = max(chart * (end - start).total_seconds() / span, 3)
        y = 20 + number * 18
        text_x = min(x, width - 300)
        rows.append(
            f'<rect x="{x:.1f}" y="{y}" width="{bar:.1f}" height="12" fill="{colour}"><title>{escape(label)}</title></rect>'
            f'<text x="{text_x:.1f}" y="{y + 10}" font-size="10" dx="4" dy="0">{escape(start.strftime("%Y-%m-%d %H:%M:%S"))} {escape(label[:70])}</text>'
        )
    height = 30 + len(items) * 18
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="incident timeline">{"".join(rows)}</svg>'
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
