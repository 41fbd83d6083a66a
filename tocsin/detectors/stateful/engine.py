"""The stateful engine: runs the stateful rules of a ``RuleSet`` over batches of events.

Interface (the same for a scan and for a long-running service)::

    engine = StatefulEngine(ruleset, connection, table_prefix=None, geoip=None)
    engine.process(events)      # per batch: keep a compact row per event that plays a role
    engine.finish()             # batch mode: evaluate every group, return the alerts
    engine.evaluate()           # incremental: only the groups that received rows since the last call
    engine.prune(before)        # forget rows older than ``before`` (epoch seconds), returns how many
    engine.close()

Which events play a role is decided by the Sigma building blocks a rule refers to; they are
matched here by a private ``SigmaEngine`` on an in-memory connection. Kept rows live in SQLite
(``connection``): a temporary table without ``table_prefix``, else the persistent tables
``<prefix>_rows`` and ``<prefix>_touched``. Evaluation sorts the rows by group and time and
streams one group at a time, so results do not depend on input order and memory does not grow
with the input. Alert ids are deterministic: an alert ``evaluate`` returns again (a window that
goes on) has the same id, and the caller drops the repeat. History older than what ``prune``
keeps is forgotten, so a service should prune no closer than the longest baseline it wants.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections import Counter, defaultdict
from itertools import groupby
from operator import itemgetter

from tocsin.detectors.sigma.database import connect
from tocsin.detectors.sigma.engine import SigmaEngine
from tocsin.detectors.sigma.ruleset import DetectionRule, RuleSet
from tocsin.detectors.stateful.base import Detector, Row
from tocsin.detectors.stateful.geo import GeoIP
from tocsin.detectors.stateful.registry import detector_class
from tocsin.detectors.stateful.spec import StatefulRule
from tocsin.event import Event, LogSource
from tocsin.models import Alert

#: The temporary row table of a batch run.
TEMP_ROWS = "temp.tocsin_stateful_rows"
_COLUMNS = "rule TEXT, gkey TEXT, ts REAL, role INTEGER, eid TEXT, data TEXT, PRIMARY KEY (rule, role, eid)"


class StatefulEngine:
    """Keeps, per stateful rule, the rows its detector needs, and evaluates them (see module doc)."""

    def __init__(
        self,
        ruleset: RuleSet,
        connection: sqlite3.Connection,
        table_prefix: str | None = None,
        geoip: GeoIP | None = None,
    ) -> None:
        self.connection = connection
        self.diagnostics: Counter[str] = Counter()
        self.rules: list[tuple[StatefulRule, Detector]] = []
        blocks: dict[str, DetectionRule] = {}
        by_id = {rule.info.id: rule for rule in ruleset.detections}
        self._players: dict[str, list[tuple[str, str, int, Detector]]] = defaultdict(list)
        for rule in ruleset.stateful:
            kind = detector_class(rule.kind)
            if kind is None:
                continue
            detector = kind(rule, self.diagnostics, geoip)
            self.rules.append((rule, detector))
            for index, role in enumerate(kind.roles):
                block = by_id[rule.references[role]]
                blocks[block.info.id] = dataclasses.replace(block, emits_alerts=True, flag=None)
                self._players[block.info.id].append((rule.info.id, role, index, detector))
        self._blocks = list(blocks.values())
        self._relevant: dict[LogSource, bool] = {}
        self._matcher_connection = connect(":memory:") if self.rules else None
        self._matcher = (
            SigmaEngine(RuleSet(detections=self._blocks), self._matcher_connection) if self._matcher_connection else None
        )
        self.persistent = table_prefix is not None
        #: Ids of the events the last ``process`` kept (a service stores their documents as evidence).
        self.kept_ids: set[str] = set()
        self.rows = f"{table_prefix}_rows" if table_prefix else TEMP_ROWS
        self.touched = f"{table_prefix}_touched" if table_prefix else None
        if self.rules:
            self._create_tables()

    def _create_tables(self) -> None:
        execute = self.connection.execute
        execute(f"CREATE TABLE IF NOT EXISTS {self.rows} ({_COLUMNS})")
        if self.touched:
            execute(f"CREATE INDEX IF NOT EXISTS {self.rows}_ts ON {self.rows.rpartition('.')[2]} (ts)")
            execute(f"CREATE TABLE IF NOT EXISTS {self.touched} (rule TEXT, gkey TEXT, PRIMARY KEY (rule, gkey))")

    def process(self, events: list[Event]) -> None:
        """Keep the rows of the events that play a role in a stateful rule."""
        self.kept_ids = set()
        if self._matcher is None:
            return
        relevant = [event for event in events if self._is_relevant(event.logsource)]
        if not relevant:
            return
        by_id = {event.id: event for event in relevant}
        rows = []
        for match in self._matcher.process(relevant):
            event = by_id[match.evidence[0]]
            if event.timestamp is None:
                self.diagnostics["stateful rules: events without a timestamp, not kept"] += 1
                continue
            for rule_id, role, index, detector in self._players[match.rule.id]:
                kept = detector.extract(role, event)
                if kept is not None:
                    key, data = kept
                    rows.append((rule_id, key, event.timestamp, index, event.id, json.dumps(data, default=str)))
        self.connection.executemany(f"INSERT OR IGNORE INTO {self.rows} VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.kept_ids = {row[4] for row in rows}
        if self.touched:
            self.connection.executemany(
                f"INSERT OR IGNORE INTO {self.touched} VALUES (?, ?)", {(row[0], row[1]) for row in rows}
            )

    def _is_relevant(self, logsource: LogSource) -> bool:
        relevant = self._relevant.get(logsource)
        if relevant is None:
            relevant = self._relevant[logsource] = any(block.applies_to(logsource) for block in self._blocks)
        return relevant

    def finish(self) -> list[Alert]:
        """Evaluate every group of every rule (batch mode)."""
        return self._evaluate(incremental=False)

    def evaluate(self) -> list[Alert]:
        """Evaluate the groups that received rows since the last call (persistent tables only);
        a rule that relates groups to each other re-reads all of its groups."""
        if not self.touched or not self.rules:
            return []
        alerts = self._evaluate(incremental=True)
        self.connection.execute(f"DELETE FROM {self.touched}")
        return alerts

    def prune(self, before: float) -> int:
        """Forget kept rows older than ``before`` (epoch seconds); returns how many."""
        if not self.rules:
            return 0
        return self.connection.execute(f"DELETE FROM {self.rows} WHERE ts < ?", (before,)).rowcount

    def close(self) -> None:
        if self._matcher_connection is not None:
            self._matcher_connection.close()

    def _evaluate(self, incremental: bool) -> list[Alert]:
        alerts: list[Alert] = []
        for rule, detector in self.rules:
            where, parameters = "rule = ?", [rule.info.id]
            if incremental:
                touched = f"SELECT gkey FROM {self.touched} WHERE rule = ?"
                if detector.cross_group:
                    if not self.connection.execute(touched + " LIMIT 1", parameters).fetchone():
                        continue
                else:
                    where += f" AND gkey IN ({touched})"
                    parameters.append(rule.info.id)
            cursor = self.connection.execute(
                f"SELECT gkey, ts, role, eid, data FROM {self.rows} WHERE {where} ORDER BY gkey, ts, role, eid",
                parameters,
            )
            detector.begin(self.connection)
            for key, group in groupby(cursor, key=itemgetter(0)):
                rows = (Row(ts, role, eid, json.loads(data)) for _, ts, role, eid, data in group)
                alerts.extend(detector.evaluate_group(key, rows))
            alerts.extend(detector.end())
        return alerts
