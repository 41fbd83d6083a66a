"""Sigma correlation rules, evaluated by streaming over time-sorted candidates.

pySigma parses the correlation rules; evaluation is ours. The SQLite
backend's correlation plan re-scans each window with a subquery per anchor
event, which on half a million sshd lines took over 13 minutes and 1.5 GB.
Here SQLite sorts the candidate events by group and time (an external sort
that spills to disk), and one pass keeps a sliding window for one group at a
time: O(n log n) time, and memory bounded by the largest window.

Semantics follow the Sigma specification. The condition is checked at every
event of a group over the window that ends at that event; windows that
qualify and overlap form one *episode*, which becomes one alert with the
union of their events as evidence. A correlation referred to by another one
contributes each qualifying window as an event at the window's end.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import operator
import sqlite3
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from tocsin.detectors.readahead import of_enough_kinds
from tocsin.detectors.sigma.columnar import EVENT_ID_COLUMN, TIMESTAMP_COLUMN
from tocsin.model.alert import RuleInfo
from tocsin.storage.sqlite import quote_name

#: Evidence ids a nested correlation passes up per qualifying window, at most.
CHILD_EVIDENCE_CAP = 50

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "neq": operator.ne,
}
KINDS = {
    "event_count",
    "value_count",
    "value_sum",
    "value_avg",
    "value_median",
    "value_percentile",
    "temporal",
    "temporal_ordered",
}


@dataclass(frozen=True)
class Condition:
    """A boolean condition of a temporal correlation: ``and``, ``or`` or ``not`` over conditions and
    the names of referenced rules (the leaves)."""

    op: Literal["and", "or", "not"]
    args: tuple[Condition | str, ...]


@dataclass
class Reference:
    """One rule a correlation refers to: a detection (by its flag) or another correlation."""

    slot: int
    name: str
    flag: int | None = None
    child: CorrelationRule | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def physical(self, logical: str) -> str:
        """The field this reference's events carry for a group-by alias or condition field."""
        return self.fields.get(logical, logical)


@dataclass
class CorrelationRule:
    """A parsed correlation rule, ready to evaluate."""

    info: RuleInfo
    kind: str
    group_by: list[str]
    timespan: int
    references: list[Reference]
    emits_alerts: bool
    index: int
    op: str | None = None
    threshold: float | None = None
    value_field: str | None = None
    percentile: float | None = None
    #: A temporal correlation's boolean condition over the names of the rules it refers to.
    expression: Condition | str | None = None
    #: Levels of correlations this one stands on, itself included (1: on detection rules only).
    depth: int = 1

    @property
    def candidate_fields(self) -> set[str]:
        """Fields the candidate table must hold for this rule's detection references."""
        return {name for ref in self.references if ref.child is None for name in self.fields_read(ref)}

    def fields_read(self, ref: Reference) -> list[str]:
        """The fields this rule groups by or counts, as ``ref``'s events carry them."""
        wanted = [*self.group_by, *([self.value_field] if self.value_field else [])]
        return [ref.physical(name) for name in wanted]

    @property
    def least_rows(self) -> int:
        """The fewest candidate rows a group must hold before a window of it can qualify: the threshold
        of a count held to at least (or exactly) N when the count cannot exceed the window's rows
        (``event_count``, ``value_count``); 1 for any other rule."""
        if self.kind not in ("event_count", "value_count"):
            return 1
        return self._least_metric()

    @property
    def least_slots(self) -> int:
        """The fewest referenced rules a group's rows must come from before a window of it can
        qualify: every one for a temporal correlation without a condition, the threshold of one held
        to at least (or exactly) N, as its metric counts referenced rules; 1 for any other rule (a
        boolean condition with ``not`` may hold with fewer)."""
        if self.kind not in ("temporal", "temporal_ordered") or self.expression is not None:
            return 1
        return len(self.references) if self.op is None else self._least_metric()

    def _least_metric(self) -> int:
        """The least whole metric the condition holds for, when it is held to at least (or exactly)
        a number; 1 otherwise."""
        threshold = self.threshold
        if threshold is None or not math.isfinite(threshold):
            return 1
        if self.op in ("gte", "eq"):
            return max(1, math.ceil(threshold))
        if self.op == "gt":
            return max(1, math.floor(threshold) + 1)
        return 1

    def holds(self, metric: float) -> bool:
        if self.op is None or self.threshold is None:
            return True
        return _OPERATORS[self.op](metric, self.threshold)


#: Correlations on correlations: rules nest two or three; evaluating a chain walks it recursively.
MAX_NESTING = 10


@dataclass
class Episode:
    """Overlapping qualifying windows of one group: what becomes one alert."""

    group: dict[str, Any]
    window_start: float
    start: float
    end: float
    metric: float
    event_count: int = 0
    evidence: list[str] = field(default_factory=list)
    children: int = 0


@dataclass(slots=True)
class _Item:
    index: int
    ts: float
    eid: str
    slot: int
    value: Any
    evidence: str | None  # a nested correlation's evidence ids as JSON, parsed only when needed


class CorrelationRunner:
    """Evaluates correlation rules over the candidate table of one connection."""

    def __init__(self, connection: sqlite3.Connection, table: str, evidence_cap: int) -> None:
        self.connection = connection
        self.table = table
        self.evidence_cap = evidence_cap
        self.diagnostics: Counter[str] = Counter()
        self._hit_tables: dict[int, str] = {}
        #: Per flag, the candidates it marks, when the caller counted them.
        self.flagged: list[int] = []

    def episodes(self, rule: CorrelationRule) -> list[Episode]:
        """All episodes of ``rule`` (evaluating the correlations it refers to first)."""
        for reference in rule.references:
            if reference.child is not None and reference.child.index not in self._hit_tables:
                self._store_hits(reference.child)
        return list(self._evaluate(rule, record_hits=None))

    def _store_hits(self, rule: CorrelationRule) -> None:
        for reference in rule.references:
            if reference.child is not None and reference.child.index not in self._hit_tables:
                self._store_hits(reference.child)
        table = f"temp.tocsin_hits{rule.index}"
        self.connection.execute(f"DROP TABLE IF EXISTS {table}")
        # A scan numbers its windows once each: no key to keep in order as they are written.
        self.connection.execute(f"CREATE TABLE {table} ({hit_columns(rule, keyed=False)})")
        width = 4 + len(rule.group_by)
        insert = f"INSERT INTO {table} VALUES ({', '.join('?' * width)})"
        hits: list[list[Any]] = []

        numbers = itertools.count()  # hits are flushed in chunks: number them across chunks

        def record(ts: float, group: dict[str, Any], evidence: list[str], _at: str, seq: int) -> None:
            hits.append(
                [
                    ts,
                    f"{rule.index}:{next(numbers)}",
                    _evidence_text(evidence),
                    seq,
                    *group.values(),
                ]
            )
            if len(hits) >= 10_000:
                self.connection.executemany(insert, hits)
                hits.clear()

        for _ in self._evaluate(rule, record_hits=record):
            pass
        self.connection.executemany(insert, hits)
        self._hit_tables[rule.index] = table

    def rows(self, rule: CorrelationRule, scope: RowScope | None = None) -> Iterator[tuple[Any, ...]]:
        """The rule's candidate rows ``(gkey, gvalues, ts, eid, slot, value, evidence, seq)``, all of
        them or those in ``scope`` (see ``RowScope``), sorted by group, time and arrival: ``seq``
        (the order events were read in, so the log's own order) breaks ties of equal times.
        Nothing when a rule every window needs has no row to read."""
        selects: list[str] = []
        parameters: list[Any] = []
        every_rule = rule.least_slots == len(rule.references) > 1
        hopeless = False
        for ref in rule.references:
            physical = [ref.physical(name) for name in rule.group_by]
            key = "json_array(" + ", ".join(f"lower({quote_name(f)})" for f in physical) + ")"
            values = "json_array(" + ", ".join(quote_name(f) for f in physical) + ")"
            value = quote_name(ref.physical(rule.value_field)) if rule.value_field else "NULL"
            present = " AND ".join(
                [f"{TIMESTAMP_COLUMN} IS NOT NULL", *(f"{quote_name(f)} IS NOT NULL" for f in physical)]
            )
            if ref.child is None:
                source, where, evidence, seq = self.table, f"tocsin_m{ref.flag} = 1", "NULL", "rowid"
                if rule.value_field and ref.physical(rule.value_field) not in self._columns(self.table):
                    value = "NULL"
            else:
                source, where, evidence = self._hit_tables[ref.child.index], "1", "tocsin_evidence"
                seq = "tocsin_seq"
                available = self._columns(source)
                if any(f not in available for f in physical):
                    self.diagnostics[f"{rule.info.title}: {ref.name} lacks a group-by field"] += 1
                    continue
                value = "NULL"
            if scope is None:
                usable, missing = self._count(source, where, present, ref)
                if missing:
                    self.diagnostics[
                        f"{rule.info.title}: events without a timestamp or group-by value, not correlated"
                    ] += missing
                if not usable:
                    hopeless = hopeless or every_rule  # a rule every window needs has no row
                    continue
            else:
                clause, arguments = scope.clause(ref, physical)
                where += f" AND {clause}"
                parameters += arguments
            selects.append(
                f"SELECT {key} AS gkey, {values} AS gvalues, {TIMESTAMP_COLUMN} AS ts, {EVENT_ID_COLUMN} AS eid, "
                f"{ref.slot} AS slot, {value} AS value, {evidence} AS evidence, {seq} AS seq "
                f"FROM {source} WHERE {where} AND {present}"
            )
        if not selects or hopeless:
            return iter(())
        return self.connection.execute(" UNION ALL ".join(selects) + " ORDER BY gkey, ts, seq", parameters)

    def _count(self, source: str, where: str, present: str, ref: Reference) -> tuple[int, int]:
        """The rows of ``source`` matching ``where`` that can be correlated, and those that cannot (a
        detection reference's rows: those its flag marks, when ``flagged`` counts them)."""
        flagged = (
            self.flagged[ref.flag] if ref.child is None and ref.flag is not None and self.flagged else None
        )
        if flagged == 0:
            return 0, 0
        if flagged is not None:
            query = f"SELECT COUNT(*) FROM {source} WHERE {where} AND NOT ({present})"
            missing = self.connection.execute(query).fetchone()[0]
            return flagged - missing, missing
        usable, missing = self.connection.execute(
            f"SELECT SUM({present}), SUM(NOT ({present})) FROM {source} WHERE {where}"
        ).fetchone()
        return usable or 0, missing or 0

    def _columns(self, table: str) -> set[str]:
        schema, _, name = table.rpartition(".")
        pragma = f"PRAGMA {schema + '.' if schema else ''}table_info({quote_name(name)})"
        return {row[1] for row in self.connection.execute(pragma)}

    def _evaluate(self, rule: CorrelationRule, record_hits: RecordHits | None) -> Iterator[Episode]:
        least, slots = rule.least_rows, rule.least_slots
        for _, group in itertools.groupby(self.rows(rule), key=operator.itemgetter(0)):
            rows = _worth_feeding(group, least, slots)
            if rows is None:
                continue
            first = next(rows)
            window = _GroupWindow(rule, json.loads(first[1]), self.evidence_cap, record_hits)
            for row in itertools.chain((first,), rows):
                completed = window.feed(row)
                if completed is not None:
                    yield completed
            yield from window.close()


def _worth_feeding(
    group: Iterator[tuple[Any, ...]], least: int, slots: int
) -> Iterator[tuple[Any, ...]] | None:
    """A group's rows when a window of it may qualify; None for a group too small (one source among
    thousands that failed once or twice), or whose rows come from too few of the rules a temporal
    correlation refers to (an account that logged in but never failed): feeding a row costs
    several times reading it."""
    head = list(itertools.islice(group, least))
    if len(head) < least:
        return None
    rows = itertools.chain(head, group)
    return rows if slots <= 1 else of_enough_kinds(rows, operator.itemgetter(4), slots)


#: Called when a window of a nested correlation qualifies: its end time, group, new evidence
#: ids, and the id and sequence number of the event that made it qualify.
RecordHits = Callable[[float, dict[str, Any], list[str], str, int], None]


def hit_columns(rule: CorrelationRule, keyed: bool = True) -> str:
    """Columns of a table holding a nested correlation's qualifying windows; ``keyed``, their id is
    the primary key (a service's table, where a window evaluated again must not be stored twice)."""
    columns = "".join(f", {quote_name(name)} TEXT COLLATE NOCASE" for name in rule.group_by)
    key = " PRIMARY KEY" if keyed else ""
    return f"{TIMESTAMP_COLUMN} REAL, {EVENT_ID_COLUMN} TEXT{key}, tocsin_evidence TEXT, tocsin_seq INTEGER{columns}"


@dataclass
class RowScope:
    """Which candidate rows an incremental evaluation reads: the fresh ones (ids listed in the
    ``fresh`` table for events, ``fresh_hits`` for nested windows), or one group's from ``since`` on."""

    fresh: str | None = None
    fresh_hits: str | None = None
    group: list[Any] | None = None
    since: float = 0.0

    def clause(self, ref: Reference, physical: list[str]) -> tuple[str, list[Any]]:
        if self.group is None:
            return (
                f"{EVENT_ID_COLUMN} IN (SELECT eid FROM {self.fresh_hits if ref.child else self.fresh})",
                [],
            )
        tests = [f"lower({quote_name(f)}) = lower(?)" for f in physical]
        return " AND ".join([*tests, f"{TIMESTAMP_COLUMN} >= ?"]), [*self.group, self.since]


class LiveCorrelations:
    """Correlation windows kept in memory between micro-batches (``tocsin watch``).

    Each call to ``evaluate`` reads only the candidates that arrived since the last call (their
    ids are in ``fresh``) and feeds them to the windows of their groups, so a batch costs what it
    brings, however large the windows. A group whose window is not in memory (first seen since
    the start or a reload, or forgotten after going quiet) is rebuilt from the candidate table
    through an index on its group-by fields, and so is a group that receives an event older than
    its newest one (arrival out of order). Nested correlations record their qualifying windows in
    persistent hit tables, keyed by the rule and the event that completed the window, so a rebuild
    records nothing twice.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        table: str,
        fresh: str,
        rules: list[CorrelationRule],
        evidence_cap: int,
    ) -> None:
        self.connection = connection
        self.fresh = fresh
        self.fresh_hits = f"{fresh}_hits"
        self.runner = CorrelationRunner(connection, table, evidence_cap)
        self.evidence_cap = evidence_cap
        self.rules = _children_first(rules)
        self.windows: dict[int, dict[str, _GroupWindow]] = {rule.index: {} for rule in self.rules}
        connection.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {self.fresh_hits.removeprefix('temp.')} (eid TEXT PRIMARY KEY)"
        )
        for rule in self.rules:
            if any(ref.child is rule for other in self.rules for ref in other.references):
                hits = f"{table}_hits_{_short_hash(rule.info.id + hit_columns(rule))}"
                connection.execute(f"CREATE TABLE IF NOT EXISTS {hits} ({hit_columns(rule)})")
                self.runner._hit_tables[rule.index] = hits
                self._index(hits, rule.group_by)
            for ref in rule.references:
                if ref.child is None:
                    self._index(table, [ref.physical(name) for name in rule.group_by])

    def _index(self, table: str, columns: list[str]) -> None:
        expressions = ", ".join([*(f"lower({quote_name(column)})" for column in columns), TIMESTAMP_COLUMN])
        name = f"{table}_g_{_short_hash(expressions)}"
        self.connection.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({expressions})")

    def evaluate(self) -> list[tuple[CorrelationRule, Episode]]:
        """The episodes of alerting rules that the fresh candidates started or extended."""
        found = []
        for rule in self.rules:
            episodes = self._advance(rule)
            if rule.emits_alerts:
                found += [(rule, episode) for episode in episodes]
        self.connection.execute(f"DELETE FROM {self.fresh}")
        self.connection.execute(f"DELETE FROM {self.fresh_hits}")
        return found

    def forget(self, before: float) -> None:
        """Drop the windows of groups whose newest event is older than ``before``."""
        for windows in self.windows.values():
            for key in [key for key, window in windows.items() if window.last_ts < before]:
                del windows[key]

    def _advance(self, rule: CorrelationRule) -> list[Episode]:
        windows = self.windows[rule.index]
        record = self._recorder(rule)
        episodes: list[Episode] = []
        fresh = RowScope(fresh=self.fresh, fresh_hits=self.fresh_hits)
        for key, rows in itertools.groupby(list(self.runner.rows(rule, fresh)), key=operator.itemgetter(0)):
            batch = list(rows)
            first = batch[0][2]
            window = windows.get(key)
            if window is None or first < window.last_ts:
                values = json.loads(batch[0][1])
                window = windows[key] = _GroupWindow(rule, values, self.evidence_cap, record)
                batch = list(self.runner.rows(rule, RowScope(group=values, since=first - rule.timespan)))
            for row in batch:
                completed = window.feed(row)
                if completed is not None and completed.end >= first:
                    episodes.append(completed)
            if window.episode is not None and window.episode.end >= first:
                episodes.append(window.episode)
        return episodes

    def _recorder(self, rule: CorrelationRule) -> RecordHits | None:
        table = self.runner._hit_tables.get(rule.index)
        if table is None:
            return None
        insert = f"INSERT OR IGNORE INTO {table} VALUES ({', '.join('?' * (4 + len(rule.group_by)))})"
        prefix = _short_hash(rule.info.id)

        def record(ts: float, group: dict[str, Any], evidence: list[str], at: str, seq: int) -> None:
            hit = f"{prefix}:{at}"
            row = [ts, hit, _evidence_text(evidence), seq, *group.values()]
            if self.connection.execute(insert, row).rowcount:
                self.connection.execute(f"INSERT OR IGNORE INTO {self.fresh_hits} VALUES (?)", (hit,))

        return record


def _children_first(rules: list[CorrelationRule]) -> list[CorrelationRule]:
    ordered: list[CorrelationRule] = []

    def visit(rule: CorrelationRule) -> None:
        for ref in rule.references:
            if ref.child is not None:
                visit(ref.child)
        if all(rule is not other for other in ordered):
            ordered.append(rule)

    for rule in rules:
        visit(rule)
    return ordered


def _short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=5).hexdigest()


class _GroupWindow:
    """The sliding window over the time-ordered events of one group, and its current episode."""

    def __init__(
        self,
        rule: CorrelationRule,
        group_values: list[Any],
        evidence_cap: int,
        record_hits: RecordHits | None,
    ) -> None:
        self.rule = rule
        self.group = dict(zip(rule.group_by, group_values, strict=True))
        self.cap = evidence_cap
        self.record_hits = record_hits
        self.window: deque[_Item] = deque()
        self.values: Counter[Any] = Counter()
        self.total = 0.0
        self.numbers = 0
        self.ordered: list[float] = []
        self.slots: Counter[int] = Counter()
        self.count = 0
        self.episode: Episode | None = None
        self.last_added = -1
        self.last_ts = float("-inf")
        self.seen_child_ids: set[str] = set()
        # temporal_ordered: the indexes of the window's entries per slot, from ``slot_heads`` on.
        self.slot_positions: list[list[int]] = [[] for _ in rule.references]
        self.slot_heads = [0] * len(rule.references)
        # When the whole sequence is required, only an event of its last rule can complete it.
        self.complete_sequence_only = rule.op is None or (
            rule.op in ("gte", "eq") and (rule.threshold or 0) >= len(rule.references)
        )

    def feed(self, row: tuple[Any, ...]) -> Episode | None:
        """Add the next event of the group; the episode it completes, if it does (a window that
        qualifies after the current episode's ended)."""
        _, _, ts, eid, slot, value, evidence, seq = row
        rule = self.rule
        item = _Item(
            self.count,
            ts,
            str(eid),
            slot,
            _normalize(value, rule.kind),
            evidence,
        )
        self.count += 1
        self.last_ts = ts
        self._add(item)
        while self.window[0].ts < ts - rule.timespan:
            self._remove(self.window.popleft())
        qualifies, metric = self._check(item)
        if not qualifies:
            return None
        episode, completed = self.episode, None
        if episode is not None and ts - rule.timespan <= episode.end:
            episode.end, episode.metric = ts, max(episode.metric, metric)
        else:
            completed = episode
            episode = self.episode = Episode(self.group, ts - rule.timespan, self.window[0].ts, ts, metric)
            self.last_added = self.window[0].index - 1
            self.seen_child_ids.clear()
        new = []
        for entry in reversed(self.window):
            if entry.index <= self.last_added:
                break
            new.append(entry)
        new.reverse()
        for entry in new:
            self._add_evidence(episode, entry)
        self.last_added = item.index
        if self.record_hits is not None:
            # A parent sees this window as one event. Its evidence is what is new to the episode
            # (the whole window for the episode's first), so consecutive windows do not repeat it.
            evidence = [i for entry in new for i in _ids(entry)][-CHILD_EVIDENCE_CAP:]
            self.record_hits(ts, self.group, evidence, item.eid, seq)
        return completed

    def close(self) -> Iterator[Episode]:
        if self.episode is not None:
            yield self.episode
            self.episode = None

    def _add_evidence(self, episode: Episode, entry: _Item) -> None:
        if entry.evidence is None:
            ids = [entry.eid]
        else:
            # Windows of a nested correlation overlap: count each underlying event once.
            episode.children += 1
            ids = [i for i in _ids(entry) if i not in self.seen_child_ids]
            self.seen_child_ids.update(ids)
        episode.event_count += len(ids)
        room = self.cap - len(episode.evidence)
        if room > 0:
            episode.evidence.extend(ids[:room])

    def _add(self, item: _Item) -> None:
        self.window.append(item)
        self.slots[item.slot] += 1
        if self.rule.kind == "temporal_ordered":
            self.slot_positions[item.slot].append(item.index)
        if item.value is None:
            return
        kind = self.rule.kind
        if kind == "value_count":
            self.values[item.value] += 1
        elif kind in ("value_sum", "value_avg"):
            self.total += item.value
            self.numbers += 1
        elif kind in ("value_median", "value_percentile"):
            bisect.insort(self.ordered, item.value)

    def _remove(self, item: _Item) -> None:
        self.slots[item.slot] -= 1
        if self.rule.kind == "temporal_ordered":
            # Entries leave in window order, so the oldest position of its slot is the one leaving.
            positions = self.slot_positions[item.slot]
            head = self.slot_heads[item.slot] = self.slot_heads[item.slot] + 1
            if head > 1024 and head * 2 > len(positions):
                del positions[:head]
                self.slot_heads[item.slot] = 0
        if item.value is None:
            return
        kind = self.rule.kind
        if kind == "value_count":
            self.values[item.value] -= 1
            if not self.values[item.value]:
                del self.values[item.value]
        elif kind in ("value_sum", "value_avg"):
            self.total -= item.value
            self.numbers -= 1
        elif kind in ("value_median", "value_percentile"):
            del self.ordered[bisect.bisect_left(self.ordered, item.value)]

    def _check(self, item: _Item) -> tuple[bool, float]:
        rule = self.rule
        kind = rule.kind
        if kind == "event_count":
            metric = float(len(self.window))
        elif kind == "value_count":
            metric = float(len(self.values))
        elif kind == "value_sum":
            metric = self.total
        elif kind == "value_avg":
            if not self.numbers:
                return False, 0.0
            metric = self.total / self.numbers
        elif kind in ("value_median", "value_percentile"):
            if not self.ordered:
                return False, 0.0
            metric = _percentile(self.ordered, 50 if kind == "value_median" else rule.percentile or 50)
        elif kind == "temporal":
            present = {slot for slot, count in self.slots.items() if count}
            if rule.expression is not None:
                return _evaluate_expression(rule.expression, present, rule), float(len(present))
            metric = float(len(present))
            if rule.op is None:
                return len(present) == len(rule.references), metric
        else:  # temporal_ordered
            if self.complete_sequence_only and item.slot != len(rule.references) - 1:
                return False, 0.0
            metric = float(self._ordered_matches())
            if rule.op is None:
                return metric == len(rule.references), metric
        return rule.holds(metric), metric

    def _ordered_matches(self) -> int:
        """How many referenced rules occur in the window in their declared order (greedy, earliest
        first): each one's first event after the previous one's, found by bisection."""
        position, wanted = -1, 0
        for positions, head in zip(self.slot_positions, self.slot_heads, strict=True):
            at = bisect.bisect_right(positions, position, head)
            if at == len(positions):
                break
            position, wanted = positions[at], wanted + 1
        return wanted


def _evidence_text(evidence: list[str]) -> str:
    """What a nested correlation's window passes up: its last evidence ids (event ids, our own hex
    digests) as a JSON array, written once per qualifying window, so by orjson."""
    return orjson.dumps(evidence[-CHILD_EVIDENCE_CAP:]).decode()


def _ids(item: _Item) -> list[str]:
    return orjson.loads(item.evidence) if item.evidence is not None else [item.eid]


def _normalize(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "value_count":
        return str(value).lower()
    if kind.startswith("value_"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return number if number == number and abs(number) != float("inf") else None
    return value


def _percentile(ordered: list[float], percentile: float) -> float:
    position = (len(ordered) - 1) * percentile / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _evaluate_expression(node: Condition | str, present: set[int], rule: CorrelationRule) -> bool:
    if isinstance(node, str):
        return any(ref.slot in present for ref in rule.references if ref.name == node)
    if node.op == "not":
        return not _evaluate_expression(node.args[0], present, rule)
    if node.op == "and":
        return all(_evaluate_expression(arg, present, rule) for arg in node.args)
    return any(_evaluate_expression(arg, present, rule) for arg in node.args)
