"""The detection pipeline every command runs: a batch in, its alerts out.

    pipeline = DetectionPipeline(ruleset, connection, content=..., geoip=...)
    pipeline.process(batch)   # Sigma (once per batch), stateful rules fed from the same matches,
                              # credential annotation, YARA alerts of payloads met meanwhile
    pipeline.finish()         # batch mode: correlations and stateful rules over the whole input
    pipeline.correlate()      # service mode (watch): what the last batches started or extended

A scan read by several processes (``tocsin.shares``) runs one pipeline per process; each worker
hands over what it kept for ``finish`` (``hand_over``), and the first process takes the shares over
in reading order (``take_over``) before it finishes.

``scan``, ``watch``, ``es hunt`` and ``rules test`` build one, so a detection that runs in one
runs in all; building blocks are matched once, by the Sigma engine, and handed to the stateful
engine with the batch.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tocsin.batch import EventBatch, EventList
from tocsin.credentials import annotate_credential_alerts
from tocsin.detectors.sigma.correlation import CorrelationRule, Episode
from tocsin.detectors.sigma.engine import SigmaEngine
from tocsin.detectors.sigma.ruleset import DetectionRule, RuleSet
from tocsin.detectors.stateful.engine import StatefulEngine
from tocsin.detectors.stateful.geo import GeoIP
from tocsin.detectors.yara.pipeline import ContentScan
from tocsin.model.alert import Alert
from tocsin.model.event import Event


@dataclass
class BlindRule:
    """A rule that saw no event of its log source: it could not look."""

    title: str
    logsource: str
    source: str | None


@dataclass
class Coverage:
    """Which rules saw events of their log source: a rule that saw none could not look."""

    #: Events routed to each single-event rule, by rule id.
    routed: Counter[str] = field(default_factory=Counter)
    #: Alerting rules (single-event, correlation, stateful) none of whose inputs saw an event.
    blind: list[BlindRule] = field(default_factory=list)
    #: Titles of the single-event rules the engine stopped running after an error on data: they did
    #: not see every event routed to them.
    stopped: list[str] = field(default_factory=list)


def coverage(ruleset: RuleSet, routed: Counter[str], stopped: set[str]) -> Coverage:
    """Which alerting rules saw nothing: a detection routed no event, a correlation or stateful
    rule whose building blocks were all routed none; which were stopped (rule ids ``stopped``)."""
    by_flag = {rule.flag: rule for rule in ruleset.detections if rule.flag is not None}
    by_id = {rule.info.id: rule for rule in ruleset.detections}

    def saw(rule: DetectionRule) -> bool:
        return routed[rule.info.id] > 0

    def correlation_saw(rule: CorrelationRule) -> bool:
        return any(
            correlation_saw(ref.child)
            if ref.child is not None
            else ref.flag in by_flag and saw(by_flag[ref.flag])
            for ref in rule.references
        )

    def blocks(references: list[DetectionRule]) -> str:
        return ", ".join(sorted({_logsource_name(rule) for rule in references}))

    blind = [
        BlindRule(rule.info.title, _logsource_name(rule), rule.info.source)
        for rule in ruleset.detections
        if rule.emits_alerts and not saw(rule)
    ]
    for correlation in ruleset.correlations:
        if not correlation_saw(correlation):
            referenced = [by_flag[ref.flag] for ref in correlation.references if ref.flag in by_flag]
            blind.append(BlindRule(correlation.info.title, blocks(referenced), correlation.info.source))
    for stateful in ruleset.stateful:
        referenced = [by_id[rule_id] for rule_id in stateful.references.values() if rule_id in by_id]
        if not any(saw(rule) for rule in referenced):
            blind.append(BlindRule(stateful.info.title, blocks(referenced), stateful.info.source))
    titles = sorted(rule.info.title for rule in ruleset.detections if rule.info.id in stopped)
    return Coverage(Counter(routed), blind, titles)


def _logsource_name(rule: DetectionRule) -> str:
    return "/".join(part for part in (rule.product, rule.service, rule.category) if part) or "any"


class DetectionPipeline:
    """Sigma, stateful and YARA detection over batches (see module doc)."""

    def __init__(
        self,
        ruleset: RuleSet,
        connection: sqlite3.Connection,
        *,
        correlation_table: str | None = None,
        stateful_prefix: str | None = None,
        geoip: GeoIP | None = None,
        content: ContentScan | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.connection = connection
        self.geoip = geoip
        self.sigma = SigmaEngine(ruleset, connection, correlation_table)
        self.stateful = StatefulEngine(ruleset, connection, stateful_prefix, geoip=geoip)
        self.content = content

    def process(self, batch: EventBatch | list[Event]) -> list[Alert]:
        """The alerts of one batch (see module doc)."""
        if not isinstance(batch, EventBatch):
            batch = EventList(batch)
        result = self.sigma.evaluate(batch)
        self.stateful.process(batch, result.matches)
        annotate_credential_alerts(result.alerts, result.alert_events)
        return result.alerts + self.take_content_alerts()

    def take_content_alerts(self) -> list[Alert]:
        """YARA alerts of the payloads and files scanned since the last call."""
        return self.content.take_alerts() if self.content is not None else []

    def finish(self, part: FinishPart | None = None) -> list[Alert]:
        """Batch mode, once the input is read: correlations and stateful rules over all of it, or
        only ``part`` of those rules (a scan finished by several processes)."""
        if part is None:
            return self.take_content_alerts() + self.sigma.finish() + self.stateful.finish()
        return self.sigma.finish(part.correlations) + self.stateful.finish(part.stateful)

    def finish_costs(self) -> dict[FinishTask, int]:
        """What each rule ``finish`` evaluates has to read, in kept rows: a correlation its
        building blocks' candidates (and its nested correlations'), a stateful rule its rows."""
        reads = self.sigma.correlation_reads()
        costs = {FinishTask("correlation", index): count for index, count in reads.items()}
        rows = self.stateful.row_counts()
        return costs | {
            FinishTask("stateful", rule.info.id): rows[rule.info.id] for rule, _ in self.stateful.rules
        }

    def correlate(self) -> list[tuple[CorrelationRule, Episode, Alert]]:
        """Service mode: the correlation episodes the batches since the last call started or extended."""
        return self.sigma.correlate()

    @property
    def diagnostics(self) -> dict[str, int]:
        return {**self.sigma.diagnostics, **self.stateful.diagnostics}

    def coverage(self) -> Coverage:
        """Per rule, the events routed to it; the alerting rules that saw none; those stopped."""
        return coverage(self.ruleset, self.sigma.routed, self.sigma.stopped)

    def close(self) -> None:
        self.sigma.close()
        self.stateful.close()

    # -- a scan read by several processes ---------------------------------------------

    def _kept_tables(self) -> list[tuple[str, str]]:
        """The tables of rows kept for ``finish``: (name in a share's database, table here)."""
        tables = [("candidates", self.sigma.table)] if self.ruleset.correlations else []
        return tables + ([("stateful_rows", self.stateful.rows)] if self.stateful.rules else [])

    def _copy_kept(self, path: Path, statement: str) -> None:
        """Run ``statement`` for each kept table (``{name}`` in the database at ``path``, attached as
        ``share``; ``{table}`` here)."""
        execute = self.connection.execute
        execute("ATTACH DATABASE ? AS share", (str(path),))
        try:
            for name, table in self._kept_tables():
                execute(statement.format(name=name, table=table))
        finally:
            execute("DETACH DATABASE share")

    def hand_over(self, path: Path) -> None:
        """Copy the rows kept so far for ``finish`` into a new database at ``path``, in the order
        they were kept (a worker's end of a batch run)."""
        self._copy_kept(path, "CREATE TABLE share.{name} AS SELECT * FROM {table} ORDER BY rowid")

    def tallies(self) -> ShareTallies:
        """The counts the run's summary adds up (a worker's share of them)."""
        return ShareTallies(
            Counter(self.sigma.routed),
            Counter(self.sigma.diagnostics),
            Counter(self.stateful.diagnostics),
            set(self.sigma.stopped),
        )

    def take_over(self, path: Path, tallies: ShareTallies) -> None:
        """Append what a worker handed over (``hand_over``) after the rows kept so far: shares taken
        in reading order keep their rows in reading order, the tie-break of equal times."""
        self._copy_kept(path, "INSERT INTO {table} SELECT * FROM share.{name} ORDER BY rowid")
        self.sigma.routed.update(tallies.routed)
        self.sigma.stopped |= tallies.stopped
        self.add_diagnostics(tallies.sigma_diagnostics, tallies.stateful_diagnostics)

    def add_diagnostics(self, sigma: Counter[str], stateful: Counter[str]) -> None:
        """Count notes another process's engines made (a share, a part of the end)."""
        for reason, count in sigma.items():
            self.sigma.diagnostics[reason] += count
        self.stateful.diagnostics.update(stateful)


@dataclass(frozen=True)
class FinishTask:
    """One rule ``finish`` evaluates: a correlation (by its index) or a stateful rule (by its id)."""

    kind: Literal["correlation", "stateful"]
    key: int | str


@dataclass
class FinishPart:
    """The rules one process of a scan evaluates at its end."""

    correlations: set[int] = field(default_factory=set)
    stateful: set[str] = field(default_factory=set)

    def add(self, task: FinishTask) -> None:
        if task.kind == "correlation":
            self.correlations.add(int(task.key))
        else:
            self.stateful.add(str(task.key))


@dataclass
class ShareTallies:
    """The counts of a worker's share of a scan that the run's summary adds up."""

    routed: Counter[str] = field(default_factory=Counter)
    sigma_diagnostics: Counter[str] = field(default_factory=Counter)
    stateful_diagnostics: Counter[str] = field(default_factory=Counter)
    stopped: set[str] = field(default_factory=set)
