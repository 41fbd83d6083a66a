"""Kibana exports: detection rules for Elastic Security, and a data view with a dashboard.

Rules come from pySigma's ``siem_rule_ndjson`` output (import under Security →
Rules → Import). A rule the pack uses only as a step of a correlation becomes a
Kibana *building block* rule, whose alerts Kibana hides by default, as tocsin does.
The saved objects (Stack Management → Saved Objects → Import) hold a data view
over the alerts data stream and a dashboard of aggregation-based panels.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tocsin.elastic import ALERTS_PATTERN
from tocsin.elastic.convert import Converted, convert

DATA_VIEW_ID = "tocsin-alerts"
DASHBOARD_ID = "tocsin-alerts-overview"


def detection_rules(
    paths: Iterable[Path], placeholders: dict[str, list[str]] | None = None
) -> tuple[list[dict[str, Any]], list[Converted]]:
    """One Kibana detection-rule object per rule, and the rules that could not be converted."""
    rules, failed = [], []
    for converted in convert(paths, "siem_rule_ndjson", placeholders=placeholders):
        if converted.error or not isinstance(converted.query, dict):
            failed.append(converted)
        else:
            rules.append(converted.query)
    return rules, failed


def _visualization(vis_id: str, title: str, vis_type: str, aggs: list[dict[str, Any]]) -> dict[str, Any]:
    state = {"title": title, "type": vis_type, "params": {"addLegend": True}, "aggs": aggs}
    search = {
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
        "query": {"query": "", "language": "kuery"},
    }
    return {
        "id": vis_id,
        "type": "visualization",
        "attributes": {
            "title": title,
            "visState": json.dumps(state),
            "uiStateJSON": "{}",
            "description": "",
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search)},
        },
        "references": [
            {
                "id": DATA_VIEW_ID,
                "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
                "type": "index-pattern",
            }
        ],
    }


def _terms(agg_id: str, field: str, schema: str, size: int = 10) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "terms",
        "schema": schema,
        "params": {"field": field, "size": size, "order": "desc", "orderBy": "1"},
    }


def _over_time(agg_id: str) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "date_histogram",
        "schema": "segment",
        "params": {"field": "@timestamp", "interval": "auto", "min_doc_count": 1},
    }


COUNT = {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}

PANELS = [
    _visualization(
        "tocsin-alerts-by-rule",
        "tocsin alerts by rule",
        "histogram",
        [COUNT, _terms("2", "rule.title", "segment", 20)],
    ),
    _visualization(
        "tocsin-alerts-by-level",
        "tocsin alerts by level",
        "pie",
        [COUNT, _terms("2", "rule.level", "segment", 5)],
    ),
    _visualization(
        "tocsin-alerts-by-user",
        "tocsin alerts by user over time",
        "histogram",
        [COUNT, _over_time("2"), _terms("3", "user.name", "group")],
    ),
    _visualization(
        "tocsin-alerts-by-source",
        "tocsin alerts by source over time",
        "histogram",
        [COUNT, _over_time("2"), _terms("3", "source.ip", "group")],
    ),
]


def saved_objects() -> list[dict[str, Any]]:
    """The data view, the panels and the dashboard, in import order."""
    data_view = {
        "id": DATA_VIEW_ID,
        "type": "index-pattern",
        "attributes": {"title": ALERTS_PATTERN, "name": "tocsin alerts", "timeFieldName": "@timestamp"},
        "references": [],
    }
    layout = [
        {
            "panelIndex": str(index),
            "gridData": {"x": 24 * (index % 2), "y": 15 * (index // 2), "w": 24, "h": 15, "i": str(index)},
            "panelRefName": f"panel_{index}",
            "embeddableConfig": {},
        }
        for index in range(len(PANELS))
    ]
    dashboard = {
        "id": DASHBOARD_ID,
        "type": "dashboard",
        "attributes": {
            "title": "tocsin alerts",
            "description": "Alerts by rule, by level, by user and by source over time",
            "panelsJSON": json.dumps(layout),
            "optionsJSON": json.dumps({"useMargins": True}),
            "timeRestore": False,
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}})
            },
        },
        "references": [
            {"id": panel["id"], "name": f"panel_{index}", "type": "visualization"}
            for index, panel in enumerate(PANELS)
        ],
    }
    return [data_view, *PANELS, dashboard]


def ndjson(objects: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(item, sort_keys=True, default=str) + "\n" for item in objects)
