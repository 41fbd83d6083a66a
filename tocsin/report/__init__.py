"""The HTML scan report: one self-contained page an analyst reads and passes on.

No network fetches (a Content-Security-Policy forbids them), inline CSS, an inline SVG chart,
and every value from the logs goes through Jinja2's autoescape.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from tocsin.scan import ScanSummary
from tocsin.storage.cases import CaseStore
from tocsin.storage.sqlite import connect_read_only
from tocsin.tabular import alert_row, event_row, open_private

LEVELS = ["critical", "high", "medium", "low", "informational"]
LEVEL_COLOURS = {
    "critical": "#7b1fa2",
    "high": "#d32f2f",
    "medium": "#f57c00",
    "low": "#1976d2",
    "informational": "#9e9e9e",
}
#: Evidence rows per alert in the page; the case database keeps them all.
EVIDENCE_ROWS = 200
_CHART_WIDTH, _CHART_HEIGHT, _CHART_BARS = 900, 220, 48
_NICE_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 7 * 86400, 30 * 86400]


@dataclass
class Bar:
    """One stacked segment of the detections-over-time chart (numbers only, labels escaped)."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _step(span: float) -> int:
    return next((step for step in _NICE_STEPS if span / step <= _CHART_BARS), _NICE_STEPS[-1])


def detection_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Alerts per time bucket, stacked by level, laid out for an SVG of fixed size."""
    if not rows:
        return {"bars": [], "ticks": [], "width": _CHART_WIDTH, "height": _CHART_HEIGHT, "step": ""}
    times = [_time(row["first_seen"]) for row in rows]
    step = _step((max(times) - min(times)).total_seconds())
    origin = datetime.fromtimestamp(min(times).timestamp() // step * step, UTC)
    buckets: dict[int, Counter[str]] = {}
    for moment, row in zip(times, rows, strict=True):
        buckets.setdefault(int((moment - origin).total_seconds() // step), Counter())[row["level"]] += 1
    count = max(buckets) + 1
    tallest = max(sum(levels.values()) for levels in buckets.values())
    plot_height, left, bottom = _CHART_HEIGHT - 40, 40, _CHART_HEIGHT - 30
    slot = (_CHART_WIDTH - left - 10) / count
    bars = []
    for index, levels in sorted(buckets.items()):
        top = float(bottom)
        start = origin + timedelta(seconds=index * step)
        for level in reversed(LEVELS):
            if levels[level]:
                height = levels[level] / tallest * plot_height
                top -= height
                label = f"{start:%Y-%m-%d %H:%M} UTC: {levels[level]} {level}"
                bars.append(
                    Bar(left + index * slot + 1, top, max(slot - 2, 1), height, LEVEL_COLOURS[level], label)
                )
    ticks = [
        {"x": left + index * slot, "label": f"{origin + timedelta(seconds=index * step):%m-%d %H:%M}"}
        for index in range(0, count, max(1, count // 6))
        if left + index * slot < _CHART_WIDTH - 80  # a label must fit before the right edge
    ]
    return {
        "bars": bars, "ticks": ticks, "width": _CHART_WIDTH, "height": _CHART_HEIGHT, "tallest": tallest,
        "bottom": bottom, "left": left, "step": _step_text(step),
    }  # fmt: skip


def _step_text(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            amount = seconds // size
            return f"{amount} {unit}" + ("s" if amount > 1 else "")
    return f"{seconds} s"


def report_context(store: CaseStore, summary: ScanSummary | None, title: str) -> dict[str, Any]:
    """Everything the page shows, computed from the case database (and the run summary if any)."""
    documents = store.alerts()
    documents.sort(key=lambda doc: (LEVELS.index(doc["rule"]["level"]), alert_row(doc)["first_seen"]))
    rows = [alert_row(doc) for doc in documents]
    by_level = Counter(row["level"] for row in rows)
    rules: dict[tuple[str, str], list[dict[str, Any]]] = {}
    entities: Counter[str] = Counter()
    hosts: dict[str, Counter[str]] = {}
    for row, document in zip(rows, documents, strict=True):
        rules.setdefault((row["rule"], row["level"]), []).append(row)
        entities.update({f"user.name={row['user']}"} if row["user"] else set())
        entities.update({f"source={row['source']}"} if row["source"] else set())
        for key, value in (document.get("group_by") or {}).items():
            if key.startswith("user") and value != row["user"]:
                entities[f"{key}={value}"] += 1
        hosts.setdefault(row["host"] or "(no host)", Counter())[row["level"]] += 1
    ranked = sorted(rules.items(), key=lambda entry: (LEVELS.index(entry[0][1]), -len(entry[1]), entry[0][0]))
    top_rules = [
        {
            "rule": rule,
            "level": level,
            "alerts": len(items),
            "events": sum(i["event_count"] or 0 for i in items),
        }
        for (rule, level), items in ranked
    ]
    events_total, first, last = store.connection.execute(
        "SELECT COUNT(*), MIN(timestamp), MAX(timestamp) FROM events"
    ).fetchone()
    events_with_hits = store.connection.execute(
        "SELECT COUNT(DISTINCT evidence.value) FROM alerts, json_each(alerts.document, '$.evidence') AS evidence"
    ).fetchone()[0]
    alerts = []
    for row, document in zip(rows, documents, strict=True):
        evidence = [event_row(event) for event in store.evidence(document, EVIDENCE_ROWS)]
        alerts.append({"row": row, "document": document, "evidence": evidence,
                       "more": max(0, (row["event_count"] or 0) - len(evidence))})  # fmt: skip
    return {
        "title": title,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "summary": summary,
        "events_total": events_total,
        "events_with_hits": events_with_hits,
        "data_span": [_epoch(first), _epoch(last)],
        "levels": LEVELS,
        "colours": LEVEL_COLOURS,
        "by_level": by_level,
        "alerts_total": len(rows),
        "top_rules": top_rules[:15],
        "top_entities": entities.most_common(15),
        "hosts": sorted(hosts.items(), key=lambda item: (-sum(item[1].values()), item[0])),
        "chart": detection_chart(rows),
        "alerts": alerts,
        "evidence_rows": EVIDENCE_ROWS,
    }


def _epoch(value: float | None) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S") if value is not None else "–"


def render_report(context: dict[str, Any]) -> str:
    """The page's HTML; every value is autoescaped."""
    environment = Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    template = files("tocsin.report").joinpath("scan-report.html.j2").read_text(encoding="utf-8")
    return environment.from_string(template).render(**context)


def write_scan_report(path: Path, db: Path, summary: ScanSummary | None = None) -> int:
    """Write the report of the case database ``db`` to ``path`` (0600); returns the alerts shown."""
    connection = connect_read_only(db)
    try:
        context = report_context(CaseStore(connection), summary, f"tocsin scan report: {db.name}")
    finally:
        connection.close()
    with open_private(path) as stream:
        stream.write(render_report(context))
    return context["alerts_total"]
