"""The stateful engine: runs the stateful rules of a ``RuleSet`` over batches of events.

Interface (the same for a scan and for a long-running service)::

    engine = StatefulEngine(ruleset, connection, table_prefix=None, geoip=None)
    engine.process(batch, matches)  # per batch: keep a compact row per event that plays a role
    engine.finish()             # batch mode: evaluate every group, return the alerts
    engine.evaluate()           # incremental: only the groups that received rows since the last call
    engine.prune(before)        # forget rows older than ``before`` (epoch seconds), returns how many
    engine.close()

Which events play a role is decided by the Sigma building blocks a rule refers to: the pipeline
hands ``process`` the matches the main Sigma engine found in the batch (without them, as when the
engine is used alone, a private ``SigmaEngine`` matches the building blocks). Kept rows live in SQLite
(``connection``): a temporary table without ``table_prefix``, else the persistent tables
``<prefix>_rows``. ``finish`` sorts the rows by group and time and
streams one group at a time, so results do not depend on input order and memory does not grow
with the input. ``evaluate`` keeps each group's state in memory and feeds it only the rows kept
since the last call, so a batch costs what it brings however long an account's history; a group
without a state, or given a row older than its last, is rebuilt from the table (cross-group
detectors re-read their groups whenever one was touched). Alert ids are deterministic: an alert ``evaluate`` returns again (a window that
goes on) has the same id, and the caller drops the repeat. History older than what ``prune``
keeps is forgotten, so a service should prune no closer than the longest baseline it wants.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson

from tocsin.batch import EventBatch, EventList
from tocsin.detectors.readahead import of_enough_kinds
from tocsin.detectors.sigma.engine import SigmaEngine
from tocsin.detectors.sigma.ruleset import DetectionRule, RuleSet
from tocsin.detectors.stateful.base import Detector, GroupState, Row
from tocsin.detectors.stateful.geo import GeoIP
from tocsin.detectors.stateful.registry import detector_class
from tocsin.detectors.stateful.spec import StatefulRule
from tocsin.model.alert import Alert
from tocsin.model.event import Event
from tocsin.storage.sqlite import connect

#: The temporary row table of a batch run.
TEMP_ROWS = "temp.tocsin_stateful_rows"
_COLUMNS = "rule TEXT, gkey TEXT, ts REAL, role INTEGER, eid TEXT, data TEXT"
#: What makes a kept row unique: an event given twice plays each of its roles once.
_KEY = "rule, role, eid"


def _once(rows: Iterable[tuple[str, float, int, str, str]]) -> Iterator[tuple[str, float, int, str, str]]:
    """Rows ``(gkey, ts, role, eid, data)`` of one rule in that order, each event's role once (a
    batch run keeps every row read: an input given twice is kept twice). Copies of a row share its
    group, time and role, so only the events of the current (group, time, role) are remembered."""
    run: tuple[str, float, int] | None = None
    seen: set[str] = set()
    for row in rows:
        if row[:3] != run:
            run, seen = row[:3], set()
        if row[3] not in seen:
            seen.add(row[3])
            yield row


#: Writes what orjson cannot (``_text``); values of other types as their text.
_JSON = json.JSONEncoder(default=str)
#: Values orjson writes exactly when it writes them at all (it refuses integers beyond 64 bits and
#: lone surrogates); floats only when finite.
_EXACT_TYPES = frozenset({str, int, bool, type(None)})


def _text(data: Any) -> str:
    """A kept row's data as JSON: orjson's (ten times faster) when it reads back as ``data``, else
    the ``json`` module's (NaN and infinities, which orjson writes as null; integers beyond 64 bits,
    lone surrogates, other types, which it refuses). The usual data, one level of plain values, is
    known to read back without reading it."""
    try:
        text = orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError
        return _JSON.encode(data)
    if type(data) is dict and all(
        type(value) in _EXACT_TYPES or (type(value) is float and math.isfinite(value))
        for value in data.values()
    ):
        return text.decode()
    return text.decode() if orjson.loads(text) == data else _JSON.encode(data)


def _data(text: str) -> Any:
    """A kept row's data as ``_text`` wrote it: orjson reads it, save what only ``json`` reads
    (NaN, infinities, integers beyond 64 bits, lone surrogates)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


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
                blocks[block.info.id] = block
                self._players[block.info.id].append((rule.info.id, role, index, detector))
        self._blocks = list(blocks.values())
        #: Matches the building blocks when a caller gives no matches (made on first use).
        self._matcher: SigmaEngine | None = None
        self._matcher_connection: sqlite3.Connection | None = None
        self.persistent = table_prefix is not None
        #: Ids of the events the last ``process`` kept (a service stores their documents as evidence).
        self.kept_ids: set[str] = set()
        #: Incremental mode: per rule, the running state of each group seen, and the rows kept
        #: since the last ``evaluate`` by group.
        self._states: dict[str, dict[str, tuple[GroupState, tuple[float, int]]]] = defaultdict(dict)
        self._fresh: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
        self.rows = f"{table_prefix}_rows" if table_prefix else TEMP_ROWS
        if self.rules:
            self._create_tables()

    def _create_tables(self) -> None:
        """The kept rows. A batch run's table is only appended to (a key would be updated at a random
        place for every row); its duplicates are passed over as it is read (``_once``)."""
        execute = self.connection.execute
        key = f", PRIMARY KEY ({_KEY})" if self.persistent else ""
        execute(f"CREATE TABLE IF NOT EXISTS {self.rows} ({_COLUMNS}{key})")
        self._insert = (
            f"INSERT {'OR IGNORE ' if self.persistent else ''}INTO {self.rows} VALUES (?, ?, ?, ?, ?, ?)"
        )
        if self.persistent:
            name = self.rows.rpartition(".")[2]
            execute(f"CREATE INDEX IF NOT EXISTS {self.rows}_ts ON {name} (ts)")
            execute(f"CREATE INDEX IF NOT EXISTS {self.rows}_group ON {name} (rule, gkey, ts)")

    def process(
        self, events: EventBatch | list[Event], matches: list[tuple[DetectionRule, int]] | None = None
    ) -> None:
        """Keep the rows of the events that play a role in a stateful rule; ``matches`` are the
        batch's Sigma matches when the caller already has them."""
        self.kept_ids = set()
        if not self.rules:
            return
        batch = events if isinstance(events, EventBatch) else EventList(events)
        if matches is None:
            matches = list(self._own_matcher().matches(batch))
        kept: list[tuple[int, str, str, Row]] = []
        played = [
            (self._players[block.info.id], number)
            for block, number in matches
            if block.info.id in self._players
        ]
        made = batch.events_at([number for _, number in played])
        for (players, number), event in zip(played, made, strict=True):
            if event.timestamp is None:
                self.diagnostics["stateful rules: events without a timestamp, not kept"] += 1
                continue
            for rule_id, role, index, detector in players:
                extracted = detector.extract(role, event)
                if extracted is not None:
                    key, data = extracted
                    kept.append((number, rule_id, key, Row(event.timestamp, index, event.id, data)))
        kept.sort(key=itemgetter(0))  # reading order: the rowid breaks ties of equal time
        self.connection.executemany(
            self._insert,
            ((rule_id, key, row.ts, row.role, row.eid, _text(row.data)) for _, rule_id, key, row in kept),
        )
        self.kept_ids = {row.eid for _, _, _, row in kept}
        if self.persistent:
            for _, rule_id, key, row in kept:
                self._fresh[rule_id][key].append(row)

    def finish(self, only: Collection[str] | None = None) -> list[Alert]:
        """Evaluate every group of every rule (or of the rules whose id is in ``only``; batch mode)."""
        return self._evaluate(incremental=False, only=only)

    def row_counts(self) -> Counter[str]:
        """Kept rows per rule id: what each rule's ``finish`` has to read."""
        if not self.rules:
            return Counter()
        return Counter(dict(self.connection.execute(f"SELECT rule, COUNT(*) FROM {self.rows} GROUP BY rule")))

    def evaluate(self) -> list[Alert]:
        """Evaluate the groups that received rows since the last call (persistent tables only);
        a rule that relates groups to each other re-reads all of its groups."""
        if not self.persistent or not self.rules:
            return []
        return self._evaluate(incremental=True)

    def prune(self, before: float) -> int:
        """Forget kept rows older than ``before`` (epoch seconds); returns how many."""
        if not self.rules:
            return 0
        for states in self._states.values():  # rebuilt from the table should the group come back
            for key in [key for key, (_, last) in states.items() if last[0] < before]:
                del states[key]
        return self.connection.execute(f"DELETE FROM {self.rows} WHERE ts < ?", (before,)).rowcount

    def _own_matcher(self) -> SigmaEngine:
        if self._matcher is None:
            self._matcher_connection = connect(":memory:")
            self._matcher = SigmaEngine(RuleSet(detections=self._blocks), self._matcher_connection)
        return self._matcher

    def close(self) -> None:
        if self._matcher_connection is not None:
            self._matcher_connection.close()

    def _evaluate(self, incremental: bool, only: Collection[str] | None = None) -> list[Alert]:
        alerts: list[Alert] = []
        for rule, detector in self.rules:
            if only is not None and rule.info.id not in only:
                continue
            if incremental and not detector.cross_group:
                alerts.extend(self._advance(rule, detector))
                continue
            if not self._fresh.pop(rule.info.id, None) and incremental:
                continue  # nothing new for this rule since the last call
            every_role = len(detector.roles) if detector.needs_every_role else 0
            if every_role and not incremental and self._roles_kept(rule.info.id) < every_role:
                continue  # no group can alert without rows of every role
            cursor = self.connection.execute(
                f"SELECT gkey, ts, role, eid, data FROM {self.rows} WHERE rule = ? ORDER BY gkey, ts, role, rowid",
                (rule.info.id,),
            )
            detector.begin(self.connection)
            for key, group in groupby(cursor, key=itemgetter(0)):
                once = _once(group)
                kept = of_enough_kinds(once, itemgetter(2), every_role) if every_role else once
                if kept is None:
                    continue  # read, not fed: decoding and feeding a row costs more
                rows = (Row(ts, role, eid, _data(data)) for _, ts, role, eid, data in kept)
                alerts.extend(detector.evaluate_group(key, rows))
            alerts.extend(detector.end())
        return alerts

    def _roles_kept(self, rule_id: str) -> int:
        """How many of a rule's roles some kept row plays."""
        query = f"SELECT COUNT(DISTINCT role) FROM {self.rows} WHERE rule = ?"
        return int(self.connection.execute(query, (rule_id,)).fetchone()[0])

    def _advance(self, rule: StatefulRule, detector: Detector) -> list[Alert]:
        """Feed each touched group's state its new rows. A group without a state in memory (first
        seen since the start, or forgotten) or given a row older than its last is rebuilt from the
        table; a rebuild reports only alerts from the new rows' time on (the rest were reported)."""
        alerts: list[Alert] = []
        states = self._states[rule.info.id]
        for key, fresh in self._fresh.pop(rule.info.id, {}).items():
            fresh.sort(key=_order)  # stable: rows of equal time and role keep their reading order
            known = states.get(key)
            if known is None or _order(fresh[0]) < known[1]:
                state, since = detector.start_group(key), fresh[0].ts
                cursor = self.connection.execute(
                    f"SELECT ts, role, eid, data FROM {self.rows} WHERE rule = ? AND gkey = ? ORDER BY ts, role, rowid",
                    (rule.info.id, key),
                )
                rows = [Row(ts, role, eid, _data(data)) for ts, role, eid, data in cursor]
                found = [alert for row in rows for alert in state.feed(row)]
                alerts.extend(alert for alert in found if alert.timestamp.timestamp() >= since)
                last = rows[-1] if rows else fresh[-1]
            else:
                state, last = known[0], fresh[-1]
                alerts.extend(alert for row in fresh for alert in state.feed(row))
            alerts.extend(state.open_alerts())
            states[key] = (state, _order(last))
        return alerts


def _order(row: Row) -> tuple[float, int]:
    """Rows are evaluated by time, then role; ties keep the order they were read in (rowid)."""
    return row.ts, row.role
