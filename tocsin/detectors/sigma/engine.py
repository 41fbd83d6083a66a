"""The embedded Sigma engine: batches of events in, alerts out.

How a batch flows:

1. Rows are grouped by logsource. For each logsource, the batch gives the
   columns its routed rules read (and no other), as Arrow arrays, and DuckDB
   evaluates every routed rule's predicate over them in one vectorized query,
   so no rule sees events outside its logsource.
2. A match of a rule that emits alerts becomes an alert at once; a match of
   a rule a correlation refers to sets that rule's flag; the matches of
   building blocks go to the stateful engine (``BatchResult.matches``).
3. Events with at least one flag are written, with only the columns the
   correlation plans read, to an on-disk table. That table is all a scan
   keeps, so memory does not grow with the input; since correlations are
   evaluated over it once the input is read (``finish``), their result does
   not depend on the order of files or of lines.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from operator import is_not
from typing import Any

import duckdb
import pyarrow as pa

from tocsin.batch import EventBatch, EventList
from tocsin.detectors.sigma.columnar import (
    EVENT_ID_COLUMN,
    IPV4_NUMBER,
    IPV4_SUFFIX,
    IPV6_SUFFIX,
    POSITION_COLUMN,
    RAW_COLUMN,
    TIMESTAMP_COLUMN,
    connect_columnar,
    elements_column,
    ipv6_hexes,
    quote_identifier,
    unique_columns,
)
from tocsin.detectors.sigma.correlation import CorrelationRule, CorrelationRunner, Episode, LiveCorrelations
from tocsin.detectors.sigma.ruleset import DetectionRule, RuleSet
from tocsin.model.alert import EVIDENCE_CAP, Alert, Window, alert_id
from tocsin.model.event import Event, LogSource, sql_text
from tocsin.storage.sqlite import quote_name

#: The on-disk table holding the events correlation rules need.
CORRELATION_TABLE = "corr_events"
#: Ids of the candidates kept since the last incremental evaluation (``correlate``).
FRESH_TABLE = "temp.tocsin_fresh"
#: Entity fields copied onto alerts when known.
ENTITY_FIELDS = ("user.name", "source.ip", "source.address", "host.name")


#: Queries a stream keeps for batches holding lists in some of its fields (``_Stream.query_over``).
MAX_LISTED_QUERIES = 64


@dataclass
class _Stream:
    """The rules routed to one logsource, the columns they read, and their query."""

    rules: list[DetectionRule]
    columns: list[str]
    query: str
    #: The fields (lower case) a rule compares with a value, which a list's values may match.
    element_fields: frozenset[str]
    #: Per set of fields holding lists in a batch, the query comparing their values one by one.
    listed_queries: dict[frozenset[str], str] = field(default_factory=dict)

    def query_over(self, listed: frozenset[str]) -> str:
        """The query for a batch whose fields ``listed`` hold lists in some rows."""
        if not listed:
            return self.query
        query = self.listed_queries.get(listed)
        if query is None:
            query = _stream_query(self.rules, self.columns, listed)
            if len(self.listed_queries) < MAX_LISTED_QUERIES:
                self.listed_queries[listed] = query
        return query


@dataclass
class BatchResult:
    """What one batch raised: alerts at once, and every rule match (building blocks included)."""

    alerts: list[Alert] = field(default_factory=list)
    #: The event behind each of ``alerts``, in the same order.
    alert_events: list[Event] = field(default_factory=list)
    matches: list[tuple[DetectionRule, int]] = field(default_factory=list)


class SigmaEngine:
    """Runs a ``RuleSet`` over batches of events (see module doc)."""

    def __init__(
        self, ruleset: RuleSet, connection: sqlite3.Connection, correlation_table: str | None = None
    ) -> None:
        """``connection`` holds the correlation candidates. ``correlation_table`` names a persistent
        candidate table (``tocsin watch``): windows then survive the process, and ``correlate``/``prune``
        evaluate and bound them incrementally. Without it candidates live in a temporary table of
        this run, evaluated by ``finish``."""
        self.ruleset = ruleset
        self.connection = connection
        self.columnar = connect_columnar()
        self.table = correlation_table or CORRELATION_TABLE
        self.persistent = correlation_table is not None
        self.diagnostics: dict[str, int] = defaultdict(int)
        #: Per rule id, the events routed to it (its logsource's rows) over every batch.
        self.routed: Counter[str] = Counter()
        #: Ids of the rules the engine refused on data and stopped running (``_run_one_by_one``).
        self.stopped: set[str] = set()
        self._streams: dict[LogSource, _Stream] = {}
        self._position_column = pa.array([], pa.int32())
        self._correlation_columns = unique_columns(
            (ruleset.correlation_fields | set(ENTITY_FIELDS)) - {TIMESTAMP_COLUMN, EVENT_ID_COLUMN}
        )
        self._readers = _column_readers(ruleset.correlations, self._correlation_columns)
        flags = sorted({rule.flag for rule in ruleset.detections if rule.flag is not None})
        self._flag_count = len(flags)
        self._live: LiveCorrelations | None = None
        if ruleset.correlations:
            self._create_correlation_table()
            if self.persistent:
                self._live = LiveCorrelations(
                    connection, self.table, FRESH_TABLE, ruleset.correlations, EVIDENCE_CAP
                )

    # -- per batch -----------------------------------------------------------------

    def process(self, events: EventBatch | list[Event]) -> list[Alert]:
        """Run the single-event rules over ``events``; keep what correlations need; the alerts."""
        return self.evaluate(events).alerts

    def evaluate(self, events: EventBatch | list[Event]) -> BatchResult:
        """Like ``process``, also returning every match (for the stateful engine)."""
        batch = events if isinstance(events, EventBatch) else EventList(events)
        result = BatchResult()
        flags: dict[int, set[int]] = defaultdict(set)
        for rule, index in self.matches(batch):
            result.matches.append((rule, index))
            if rule.flag is not None:
                flags[index].add(rule.flag)
        alerting = [(rule, index) for rule, index in result.matches if rule.emits_alerts]
        for (rule, _), event in zip(alerting, batch.events_at([index for _, index in alerting]), strict=True):
            result.alerts.append(event_alert(rule, event))
            result.alert_events.append(event)
        if flags and self.ruleset.correlations:  # none when every correlation was refused at load
            self._keep_for_correlation(batch, flags)
        return result

    def matches(self, batch: EventBatch | list[Event]) -> Iterator[tuple[DetectionRule, int]]:
        """Each routed rule that matches a row of ``batch``, with the row's position."""
        if not isinstance(batch, EventBatch):
            batch = EventList(batch)
        for logsource, rows in batch.logsource_groups().items():
            stream = self._stream(logsource)
            if not stream.rules:
                continue
            for rule in stream.rules:
                self.routed[rule.info.id] += len(rows)
            table, listed = _table(batch, stream, rows, self._positions(len(rows)))
            yield from self._run(stream, table, listed, rows)

    def _positions(self, count: int) -> pa.Array:
        """Positions 0 to ``count`` as an Arrow column: a slice of one grown as batches need."""
        if len(self._position_column) < count:
            self._position_column = pa.array(range(max(count, 2 * len(self._position_column))), pa.int32())
        return self._position_column.slice(0, count)

    def _run(
        self, stream: _Stream, table: pa.Table, listed: frozenset[str], rows: list[int]
    ) -> Iterator[tuple[DetectionRule, int]]:
        try:
            hits = self._query(stream.query_over(listed), table)
        except duckdb.Error:
            yield from self._run_one_by_one(stream, table, listed, rows)
            return
        for rule, rule_hits in zip(stream.rules, hits, strict=True):
            for hit in rule_hits or ():
                yield rule, rows[hit]

    def _query(self, query: str, table: pa.Table) -> tuple[list[int] | None, ...]:
        """The one row of a batch query: per rule, the positions in ``table`` it matched (None for none)."""
        self.columnar.register("tocsin_batch", table)
        try:
            (row,) = self.columnar.execute(query).fetchall()  # an aggregate: one row
        finally:
            self.columnar.unregister("tocsin_batch")
        return row

    def _run_one_by_one(
        self, stream: _Stream, table: pa.Table, listed: frozenset[str], rows: list[int]
    ) -> Iterator[tuple[DetectionRule, int]]:
        """After the stream's query failed on data: each rule alone, dropping the ones that fail."""
        for rule in list(stream.rules):
            try:
                (hits,) = self._query(_stream_query([rule], stream.columns, listed), table)
            except duckdb.Error as exc:
                # Rules are validated at load time; should the engine still refuse one on real data,
                # drop that rule and say so rather than stop the scan.
                stream.rules.remove(rule)
                stream.query = _stream_query(stream.rules, stream.columns)
                stream.listed_queries.clear()
                self.stopped.add(rule.info.id)
                self.diagnostics[f"{rule.info.title}: stopped after an engine error ({_one_line(exc)})"] += 1
                continue
            for hit in hits or ():
                yield rule, rows[hit]

    def _stream(self, logsource: LogSource) -> _Stream:
        stream = self._streams.get(logsource)
        if stream is None:
            rules = [rule for rule in self.ruleset.detections if rule.applies_to(logsource)]
            fields = set().union(*(rule.fields for rule in rules)) if rules else set()
            columns = unique_columns(fields - {RAW_COLUMN})
            if any(RAW_COLUMN in rule.predicate for rule in rules):
                columns.append(RAW_COLUMN)
            compared = frozenset(test.field.lower() for rule in rules for test in rule.element_tests)
            stream = _Stream(rules, columns, _stream_query(rules, columns), compared)
            self._streams[logsource] = stream
        return stream

    # -- correlations -----------------------------------------------------------------

    def _create_correlation_table(self) -> None:
        """The candidate table; an event given twice is kept once.

        A scan's table is a temporary one of this run (on disk: temp_store is FILE) that rows are
        only appended to: a key on the event id would be updated at a random place for every row,
        reading and writing pages all over a table larger than the page cache. Its duplicates are
        dropped and its id index built once, sorted, when the input is read (``_settle``).
        """
        columns = [f"{EVENT_ID_COLUMN} TEXT", f"{TIMESTAMP_COLUMN} REAL"]
        columns += [f"tocsin_m{flag} INTEGER" for flag in range(self._flag_count)]
        columns += [f"{quote_name(column)} TEXT COLLATE NOCASE" for column in self._correlation_columns]
        if self.persistent:
            self._create_persistent_table([f"{columns[0]} PRIMARY KEY", *columns[1:]])
        else:
            self.connection.execute(f"CREATE TEMP TABLE {self.table} ({', '.join(columns)})")
        self._staging = f"temp.{self.table.rpartition('.')[2]}_staging"
        self.connection.execute(f"DROP TABLE IF EXISTS {self._staging}")  # of rules loaded before
        self.connection.execute(f"CREATE TABLE {self._staging} ({', '.join(columns)})")
        #: The columns ``_keep_for_correlation`` fills from values: the time, then the candidate fields.
        self._value_columns = [TIMESTAMP_COLUMN, *map(quote_name, self._correlation_columns)]
        verb = "INSERT OR IGNORE" if self.persistent else "INSERT"
        self._append_staged = f"{verb} INTO {self.table} SELECT * FROM {self._staging} ORDER BY rowid"

    def _settle(self) -> None:
        """A scan's candidate table once every row is in: each event once (its first row, as
        ``INSERT OR IGNORE`` would keep), and an index on the id for the evidence look-ups."""
        index = f"CREATE UNIQUE INDEX IF NOT EXISTS temp.{self.table}_eid ON {self.table} ({EVENT_ID_COLUMN})"
        try:
            self.connection.execute(index)
        except sqlite3.IntegrityError:  # an input read twice (an id names the input, the line and the record)
            self.connection.execute(
                f"DELETE FROM {self.table} WHERE rowid NOT IN "
                f"(SELECT MIN(rowid) FROM {self.table} GROUP BY {EVENT_ID_COLUMN})"
            )
            self.connection.execute(index)

    def _layout(self) -> list[tuple[str, str]]:
        """Each candidate column's name and meaning; a flag's meaning is its rule's id, not its number."""
        by_flag = {rule.flag: rule.info.id for rule in self.ruleset.detections if rule.flag is not None}
        return (
            [(EVENT_ID_COLUMN, EVENT_ID_COLUMN), (TIMESTAMP_COLUMN, TIMESTAMP_COLUMN)]
            + [(f"tocsin_m{flag}", f"flag:{by_flag[flag]}") for flag in range(self._flag_count)]
            + [(quote_name(column), column) for column in self._correlation_columns]
        )

    def _create_persistent_table(self, columns: list[str]) -> None:
        """Create or reuse the persistent candidate table. After a rule change its rows are carried
        over column by column (a flag follows its rule), so open windows survive a reload."""
        execute, table = self.connection.execute, self.table
        execute(
            f"CREATE TABLE IF NOT EXISTS {table}_layout (position INTEGER PRIMARY KEY, name TEXT, meaning TEXT)"
        )
        layout = self._layout()
        previous = {meaning: name for _, name, meaning in execute(f"SELECT * FROM {table}_layout")}
        exists = execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        if exists and previous and list(previous.items()) != [(m, n) for n, m in layout]:
            execute(f"ALTER TABLE {table} RENAME TO {table}_previous")
            execute(f"CREATE TABLE {table} ({', '.join(columns)})")
            sources = [previous.get(meaning, "NULL") for _, meaning in layout]
            execute(
                f"INSERT INTO {table} ({', '.join(name for name, _ in layout)}) "
                f"SELECT {', '.join(sources)} FROM {table}_previous"
            )
            execute(f"DROP TABLE {table}_previous")
        execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})")
        execute(f"CREATE INDEX IF NOT EXISTS {table}_ts ON {table} ({TIMESTAMP_COLUMN})")
        execute(f"DELETE FROM {table}_layout")
        self.connection.executemany(
            f"INSERT INTO {table}_layout VALUES (?, ?, ?)",
            ((position, name, meaning) for position, (name, meaning) in enumerate(layout)),
        )
        execute(f"CREATE TEMP TABLE IF NOT EXISTS {FRESH_TABLE.removeprefix('temp.')} (eid TEXT PRIMARY KEY)")

    def _keep_for_correlation(self, batch: EventBatch, flags: dict[int, set[int]]) -> None:
        """Append the flagged rows to the candidate table, in reading order (the rowid is the
        tie-break of equal times).

        Python's sqlite3 binds a None twenty times slower than a text (it looks for an adapter), and
        most of a candidate row is None: the flags it lacks, the fields its event does not have. So
        each row is written naming only its flags (as literal 1s) and the columns it holds, the rows
        of one such layout in one ``executemany``, into a staging table at rowids that say their
        reading order; one statement then appends them in that order (rows written out of order into
        the candidate table itself would scatter its pages, and ``finish`` reads it all).
        """
        rows_kept = sorted(flags)
        alike: dict[frozenset[int], list[int]] = defaultdict(list)  # positions by the flags they hold
        for position, index in enumerate(rows_kept):
            alike[frozenset(flags[index])].append(position)
        eids, timestamps = (list(column) for column in zip(*batch.identities(rows_kept), strict=True))
        values = [timestamps] + [
            self._column(batch, column, rows_kept, alike) for column in self._correlation_columns
        ]
        held = list(zip(*(bytes(map(is_not, column, repeat(None))) for column in values), strict=True))
        layouts: dict[tuple[frozenset[int], tuple[int, ...]], list[int]] = defaultdict(list)
        for flag_set, positions in alike.items():
            for position in positions:
                layouts[flag_set, held[position]].append(position)
        for (flag_set, holds), positions in layouts.items():
            present = [index for index, holds_it in enumerate(holds) if holds_it]
            columns = ["rowid", EVENT_ID_COLUMN, *(f"tocsin_m{flag}" for flag in sorted(flag_set))]
            columns += [self._value_columns[index] for index in present]
            placeholders = ["?", "?", *("1" for _ in flag_set), *("?" for _ in present)]
            self.connection.executemany(
                f"INSERT INTO {self._staging} ({', '.join(columns)}) VALUES ({', '.join(placeholders)})",
                zip(
                    [1 + position for position in positions],
                    map(eids.__getitem__, positions),
                    *(map(values[index].__getitem__, positions) for index in present),
                    strict=True,
                ),
            )
        self.connection.execute(self._append_staged)
        self.connection.execute(f"DELETE FROM {self._staging}")
        if self.persistent:
            self.connection.executemany(
                f"INSERT OR IGNORE INTO {FRESH_TABLE} VALUES (?)", ((eid,) for eid in eids)
            )

    def _column(
        self, batch: EventBatch, column: str, rows_kept: list[int], alike: dict[frozenset[int], list[int]]
    ) -> list[Any]:
        """A candidate column's values for the kept rows that a correlation reads it of (see
        ``_column_readers``), None for the others: an event's field is looked up only when read."""
        readers = self._readers[column]
        if readers is None or all(not readers.isdisjoint(flag_set) for flag_set in alike):
            return batch.values(column, rows_kept)
        read = sorted(
            position
            for flag_set, positions in alike.items()
            if not readers.isdisjoint(flag_set)
            for position in positions
        )
        values: list[Any] = [None] * len(rows_kept)
        if read:
            for position, value in zip(read, batch.values(column, [rows_kept[p] for p in read]), strict=True):
                values[position] = value
        return values

    def correlate(self) -> list[tuple[CorrelationRule, Episode, Alert]]:
        """Incremental evaluation (persistent table only): the episodes, and their alerts, that
        the candidates kept since the last call started or extended (see ``LiveCorrelations``).
        An episode that goes on is returned again with the same start, hence the same alert id;
        the caller dedupes."""
        if self._live is None:
            return []
        found = [
            (rule, episode, self._correlation_alert(rule, episode)) for rule, episode in self._live.evaluate()
        ]
        self.diagnostics.update(self._live.runner.diagnostics)
        self._live.runner.diagnostics.clear()
        return found

    @property
    def longest_timespan(self) -> int:
        """The longest correlation window, in seconds (0 without correlations)."""
        return max((rule.timespan for rule in self.ruleset.correlations), default=0)

    def prune(self, before: float) -> int:
        """Forget candidates (and windows) older than ``before`` (epoch seconds); returns how many."""
        if not self.ruleset.correlations:
            return 0
        execute = self.connection.execute
        removed = execute(f"DELETE FROM {self.table} WHERE {TIMESTAMP_COLUMN} < ?", (before,)).rowcount
        if self._live is not None:
            for hits in self._live.runner._hit_tables.values():
                execute(f"DELETE FROM {hits} WHERE {TIMESTAMP_COLUMN} < ?", (before,))
            self._live.forget(before)
        return removed

    def finish(self, only: Collection[int] | None = None) -> list[Alert]:
        """Evaluate every correlation rule (or those whose ``index`` is in ``only``) over the kept events."""
        if not self.ruleset.correlations:
            return []
        if not self.persistent:
            self._settle()
        runner = CorrelationRunner(self.connection, self.table, EVIDENCE_CAP)
        runner.flagged = self._flagged()
        reads = self.correlation_reads(runner.flagged)
        alerts = [
            self._correlation_alert(rule, episode)
            for rule in self.ruleset.correlations
            if (only is None or rule.index in only) and _may_fire(rule, reads[rule.index])
            for episode in runner.episodes(rule)
        ]
        self.diagnostics.update(runner.diagnostics)
        return alerts

    def correlation_reads(self, flagged: list[int] | None = None) -> dict[int, int]:
        """Per correlation (by index), the rows ``finish`` reads for it: the kept candidates its
        building blocks matched, and for a nested correlation twice its own (its candidates, then
        its qualifying windows, at most one per candidate, which the parent reads). ``flagged``:
        ``_flagged()``, when the caller has it."""
        flags = self._flagged() if flagged is None else flagged

        def reads(rule: CorrelationRule) -> int:
            return sum(
                2 * reads(ref.child)
                if ref.child is not None
                else flags[ref.flag]
                if ref.flag is not None
                else 0
                for ref in rule.references
            )

        return {rule.index: reads(rule) for rule in self.ruleset.correlations}

    def _flagged(self) -> list[int]:
        """Per building-block flag, the kept candidates it marks."""
        if not (self.ruleset.correlations and self._flag_count):
            return [0] * self._flag_count
        counts = ", ".join(f"COUNT(tocsin_m{flag})" for flag in range(self._flag_count))
        return list(self.connection.execute(f"SELECT {counts} FROM {self.table}").fetchone())

    def close(self) -> None:
        """Close the columnar connection: no batch is processed after this (``finish`` still runs)."""
        self.columnar.close()

    def _correlation_alert(self, rule: CorrelationRule, episode: Episode) -> Alert:
        _, _, entities = self._evidence_summary(episode.evidence)
        for name, value in episode.group.items():
            if name in ENTITY_FIELDS and value is not None:
                entities[name] = value
        return Alert(
            id=alert_id(
                rule.info.id, json.dumps(episode.group, sort_keys=True, default=str), str(episode.start)
            ),
            timestamp=_utc(episode.end),
            rule=rule.info,
            event_count=episode.event_count,
            message=correlation_message(rule, episode),
            group_by=episode.group or None,
            window=Window(start=_utc(episode.start), end=_utc(episode.end)),
            metric={"name": rule.kind, "value": episode.metric},
            evidence=episode.evidence,
            evidence_truncated=episode.event_count > len(episode.evidence),
            **_nest(entities),
        )

    def _evidence_summary(self, event_ids: list[str]) -> tuple[float | None, float | None, dict[str, Any]]:
        """First and last evidence time, and the entity values all evidence shares."""
        quoted = [quote_name(column) for column in ENTITY_FIELDS]
        entity_sql = ", ".join(f"COUNT(DISTINCT {column}), MAX({column})" for column in quoted)
        row = self.connection.execute(
            f"SELECT MIN({TIMESTAMP_COLUMN}), MAX({TIMESTAMP_COLUMN}), {entity_sql} FROM {self.table} "
            f"WHERE {EVENT_ID_COLUMN} IN (SELECT value FROM json_each(?))",
            (json.dumps(event_ids),),
        ).fetchone()
        entities = {
            name: row[3 + 2 * position]
            for position, name in enumerate(ENTITY_FIELDS)
            if row[2 + 2 * position] == 1
        }
        return row[0], row[1], entities


def _column_readers(
    correlations: list[CorrelationRule], columns: list[str]
) -> dict[str, frozenset[int] | None]:
    """Per candidate column, the flags of the building blocks whose correlations group by or count
    it (nested ones included): only those rows are read for it. None for the entity columns, which
    every row holds (an alert names the entities of its evidence rows)."""
    by_name = {column.lower(): column for column in columns}  # the columns ignore case, like SQLite
    readers: dict[str, set[int]] = {column: set() for column in columns}
    pending = list(correlations)
    seen: set[int] = set()
    while pending:
        rule = pending.pop()
        if id(rule) in seen:
            continue
        seen.add(id(rule))
        for ref in rule.references:
            if ref.child is not None:
                pending.append(ref.child)
            elif ref.flag is not None:
                for name in rule.fields_read(ref):
                    column = by_name.get(name.lower())
                    if column is not None:
                        readers[column].add(ref.flag)
    entities = {name.lower() for name in ENTITY_FIELDS}
    return {
        column: None if column.lower() in entities else frozenset(flags) for column, flags in readers.items()
    }


def _may_fire(rule: CorrelationRule, reads: int) -> bool:
    """False for a correlation of building blocks only (no nested correlation, whose evaluation
    has notes of its own) none of which matched: it has nothing to read, nothing to count."""
    return reads > 0 or any(ref.child is not None for ref in rule.references)


def _table(
    batch: EventBatch, stream: _Stream, rows: list[int], positions: pa.Array
) -> tuple[pa.Table, frozenset[str]]:
    """The batch's columns of ``stream`` as the predicates read them: text, the records as read
    (``RAW_COLUMN``), or an IPv6 address derived from its text column (``IPV6_SUFFIX``; the query
    derives the IPv4 ones, ``_stream_query``); the values of the fields holding lists in some rows
    that a rule compares one by one (``elements_column``); and ``positions``, 0 to the number of
    ``rows``, as ``POSITION_COLUMN``. With the table, those fields (lower case)."""
    columns = stream.columns
    stored = [column for column in columns if not column.endswith(IPV4_SUFFIX)]
    held = {column.lower() for column in stored}
    stored += sorted(  # the fields IPv4 columns are derived from that no rule reads itself
        {_base_field(column) for column in columns if _base_field(column).lower() not in held}
    )
    fields = sorted({_base_field(column) for column in stored} - {RAW_COLUMN})
    read = batch.text_columns(fields, rows)
    texts = dict(zip(fields, read.texts, strict=True))
    arrays = [
        pa.array(batch.raw(rows), pa.string())
        if column == RAW_COLUMN
        else ipv6_hexes(texts[_base_field(column)])
        if column.endswith(IPV6_SUFFIX)
        else texts[column]
        for column in stored
    ]
    compared = stream.element_fields
    listed = {name.lower(): values for name, values in read.elements.items() if name.lower() in compared}
    names = [*stored, *map(elements_column, listed), POSITION_COLUMN]
    return pa.table([*arrays, *listed.values(), positions], names=names), frozenset(listed)


def _base_field(column: str) -> str:
    """The field a column holds or is derived from."""
    return column.removesuffix(IPV4_SUFFIX).removesuffix(IPV6_SUFFIX)


def _stream_query(
    rules: list[DetectionRule], columns: list[str], listed: frozenset[str] = frozenset()
) -> str:
    """One pass over a batch table of ``columns`` (``_table``): per rule, in the order of ``rules``,
    the positions of the rows it matches (``POSITION_COLUMN``) in reading order, as a list; a NULL
    predicate is no match. The fields ``listed`` hold lists in some rows: their comparisons read each
    value (``DetectionRule.predicate_over``). The IPv4 addresses of cidr rules are derived here, once
    a row."""
    lists = ", ".join(
        f"list({POSITION_COLUMN} ORDER BY {POSITION_COLUMN}) FILTER (WHERE "
        f"{rule.predicate_over(listed) if listed else rule.predicate}) AS m{index}"
        for index, rule in enumerate(rules)
    )
    derived = [
        f"{IPV4_NUMBER}({quote_identifier(_base_field(column))}) AS {quote_identifier(column)}"
        for column in columns
        if column.endswith(IPV4_SUFFIX)
    ]
    source = f"(SELECT *, {', '.join(derived)} FROM tocsin_batch)" if derived else "tocsin_batch"
    return f"SELECT {lists} FROM {source}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def event_alert(rule: DetectionRule, event: Event) -> Alert:
    """The alert for one event matching a single-event rule."""
    fields = event.fields
    # Entities as text, as the engine compared them (a list of one its item, any other list or
    # object compact JSON): what reads alerts (reports, responders, summaries) gets one kind of value.
    entities = {
        name: value if type(value) is str else sql_text(value)
        for name in ENTITY_FIELDS
        if (value := fields.get(name)) is not None
    }
    return Alert(
        id=alert_id(rule.info.id, event.id),
        timestamp=_utc(event.timestamp),
        rule=rule.info,
        event_count=1,
        message=single_message(rule, entities),
        evidence=[event.id],
        **_nest(entities),
    )


def single_message(rule: DetectionRule, entities: dict[str, Any]) -> str:
    return rule.info.title + _entity_phrase(entities)


def correlation_message(rule: CorrelationRule, episode: Episode) -> str:
    grouped = ", ".join(f"{name}={value}" for name, value in episode.group.items())
    measure = (
        f"{rule.value_field} {rule.kind.removeprefix('value_')} {episode.metric:g}, "
        if rule.value_field
        else ""
    )
    return (
        f"{rule.info.title}: {measure}{episode.event_count} events in {human_duration(episode.end - episode.start)}"
        + (f" ({grouped})" if grouped else "")
    )


def _entity_phrase(entities: dict[str, Any]) -> str:
    parts = []
    if "user.name" in entities:
        parts.append(f"user {entities['user.name']}")
    if "source.ip" in entities:
        parts.append(f"from {entities['source.ip']}")
    if "host.name" in entities:
        parts.append(f"on {entities['host.name']}")
    return (": " + " ".join(parts)) if parts else ""


def human_duration(seconds: float) -> str:
    """'40 min', '3 h 5 min', '12 s'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _utc(timestamp: float | None) -> datetime:
    """An epoch time in UTC; an event without a time is reported at the time it is detected."""
    return datetime.now(UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


#: Each entity field's object and key in an alert (``user.name``: ``user``, ``name``).
_ENTITY_PATHS = {name: tuple(name.split(".", 1)) for name in ENTITY_FIELDS}


def _nest(entities: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {}
    for name, value in entities.items():
        group, key = _ENTITY_PATHS[name]
        if group in nested:
            nested[group][key] = value
        else:
            nested[group] = {key: value}
    return nested
