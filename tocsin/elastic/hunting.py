"""Hunting on the cluster, and reading alerts back.

The cluster does the searching: every single-event rule becomes a Lucene query
(pySigma's Elasticsearch backend, ECS pipeline), and their union is run over
the time range with a point in time and ``search_after`` (Elasticsearch) or a scroll
(OpenSearch). The events found are
turned back into ``Event`` objects (same ids, same fields, exact times from
``tocsin.epoch``) and evaluated by the same ``SigmaEngine`` as a local scan, so
the same rule gives the same alerts — same ids, windows, counts and evidence —
on the cluster as on the machine. pySigma's ES|QL correlation queries bucket
time into fixed windows (``date_trunc``) and would both miss bursts that span
a bucket boundary and split episodes; they are exported for Kibana instead.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sigma.rule import SigmaRule

from tocsin.detectors.sigma.engine import SigmaEngine
from tocsin.detectors.sigma.ruleset import RuleSet
from tocsin.elastic import ALERTS_PATTERN, EVENTS_PATTERN
from tocsin.elastic.cluster import Cluster
from tocsin.elastic.convert import convert
from tocsin.model.alert import Alert, Level
from tocsin.model.event import Event, LogSource
from tocsin.storage.sqlite import connect

DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: Document parts ``Event.to_document`` derives rather than copies from ``Event.fields``.
DERIVED = {
    "@timestamp", "original", "tocsin.format", "tocsin.logsource", "tocsin.epoch",
    "event.id", "event.original", "log.file.path", "log.offset",
}  # fmt: skip


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``24h``, ``30m``, ``7d``... before ``now``, or an ISO 8601 time."""
    now = now or datetime.now(UTC)
    match = DURATION.match(text)
    if match:
        return now - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r}: expected a duration such as 24h or 30m, or an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class HuntResult:
    alerts: list[Alert] = field(default_factory=list)
    events: int = 0
    rules_hunted: int = 0
    not_hunted: list[str] = field(default_factory=list)


def candidate_query(
    rule_paths: Iterable[Path], placeholders: dict[str, list[str]]
) -> tuple[str, int, list[str]]:
    """The Lucene union of every single-event rule, how many rules it holds, and those left out."""
    queries: list[str] = []
    problems: list[str] = []
    for converted in convert(rule_paths, "default", placeholders=placeholders):
        if not isinstance(converted.rule, SigmaRule):
            continue
        if converted.error:
            problems.append(f"{converted.rule.title}: {converted.error}")
        else:
            parts = converted.query if isinstance(converted.query, list) else [converted.query]
            queries.extend(f"({part})" for part in parts)
    return " OR ".join(queries), len(queries), problems


def hunt(
    cluster: Cluster,
    ruleset: RuleSet,
    rule_paths: list[Path],
    since: datetime,
    until: datetime,
    placeholders: dict[str, list[str]] | None = None,
    page_size: int = 2000,
) -> HuntResult:
    """Run the rules over the events the cluster holds between ``since`` and ``until``."""
    query, rules, problems = candidate_query(rule_paths, placeholders or {})
    result = HuntResult(rules_hunted=rules, not_hunted=problems)
    if not query:
        return result
    with tempfile.TemporaryDirectory(prefix="tocsin-hunt-") as workdir:
        connection = connect(str(Path(workdir) / "engine.db"))
        try:
            engine = SigmaEngine(ruleset, connection)
            pages = cluster.search_pages(EVENTS_PATTERN, _time_filtered(query, since, until), page_size)
            for page in in_reading_order(pages):
                batch = [event_from_hit(hit) for hit in page]
                result.events += len(batch)
                result.alerts.extend(engine.process(batch))
            result.alerts.extend(engine.finish())
        finally:
            connection.close()
    return result


def _time_filtered(query: str, since: datetime, until: datetime) -> dict[str, Any]:
    return {
        "bool": {
            "filter": [
                {"range": {"@timestamp": {"gte": since.isoformat(), "lte": until.isoformat()}}},
                {"query_string": {"query": query, "analyze_wildcard": True}},
            ]
        }
    }


def in_reading_order(pages: Iterable[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """Pages in the order a local scan reads the same events: by exact time, then file and
    record. The engine breaks ties of equal times by arrival, so this order is what makes the
    evidence lists equal; the cluster sorts by millisecond ``@timestamp`` only, so each run of
    equal timestamps is held back until it is complete, then sorted."""
    held: list[dict[str, Any]] = []
    for page in pages:
        if not page:
            continue
        last = page[-1]["sort"][0]
        complete = [hit for hit in held + page if hit["sort"][0] != last]
        held = [hit for hit in held + page if hit["sort"][0] == last]
        if complete:
            yield sorted(complete, key=_reading_key)
    if held:
        yield sorted(held, key=_reading_key)


def _reading_key(hit: dict[str, Any]) -> tuple[Any, ...]:
    source = hit["_source"]
    log = source.get("log", {})
    record = [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in str(log.get("offset", "")).split("#")
    ]
    return (
        hit["sort"][0],
        source.get("tocsin", {}).get("epoch") or 0.0,
        log.get("file", {}).get("path", ""),
        record,
    )


def event_from_hit(hit: dict[str, Any]) -> Event:
    """The ``Event`` a shipped document came from (the inverse of ``event_action``)."""
    source = hit["_source"]
    tocsin = source.get("tocsin", {})
    logsource = tocsin.get("logsource", {})
    log = source.get("log", {})
    timestamp = tocsin.get("epoch")
    if timestamp is None and source.get("@timestamp"):
        timestamp = datetime.fromisoformat(source["@timestamp"].replace("Z", "+00:00")).timestamp()
    return Event(
        timestamp=timestamp,
        fields=dict(_flatten(source)),
        original=source.get("original", {}),
        raw=source.get("event", {}).get("original", ""),
        logsource=LogSource(
            frozenset(logsource.get("product", [])),
            frozenset(logsource.get("service", [])),
            frozenset(logsource.get("category", [])),
        ),
        input=log.get("file", {}).get("path", ""),
        offset=str(log.get("offset", "")),
        format=tocsin.get("format", ""),
        _id=hit["_id"],
    )


def _flatten(document: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in document.items():
        name = f"{prefix}{key}"
        if name in DERIVED:
            continue
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def read_alerts(
    cluster: Cluster, since: datetime, min_level: Level, limit: int, page_size: int = 500
) -> list[Alert]:
    """Alerts at or above ``min_level`` since ``since``, newest first, at most ``limit``."""
    levels = [level.name for level in Level if level >= min_level]
    query = {
        "bool": {
            "filter": [
                {"range": {"@timestamp": {"gte": since.isoformat()}}},
                {"terms": {"rule.level": levels}},
            ]
        }
    }
    alerts: list[Alert] = []
    for page in cluster.search_pages(ALERTS_PATTERN, query, min(page_size, limit), newest_first=True):
        alerts.extend(Alert.model_validate(hit["_source"]) for hit in page)
        if len(alerts) >= limit:
            return alerts[:limit]
    return alerts
