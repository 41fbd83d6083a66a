"""A scan: inputs → parsers → batches → the detection pipeline → alerts, and the summary of what happened."""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain
from pathlib import Path

from tocsin.batch import EVENT_LIST_ROWS, EventBatch, EventList
from tocsin.detectors.sigma.ruleset import (
    RuleLoadError,
    RuleSelection,
    RuleSet,
    builtin_rules_path,
    load_rules,
)
from tocsin.detectors.stateful.geo import GeoIP
from tocsin.detectors.yara.compiler import YaraLoadError
from tocsin.detectors.yara.pipeline import ContentScan
from tocsin.model.alert import Alert, Level
from tocsin.model.event import Event
from tocsin.pipeline import BlindRule, Coverage, DetectionPipeline, FinishPart, ShareTallies
from tocsin.shares import SharedCount, Unit, Worker, add_stats, plan_shares, split_finish
from tocsin.sources import InputSource, InputStats, ParseOptions, UnreadableInput
from tocsin.sources.base import BatchParser, SkippedInput
from tocsin.sources.detect import detect_format
from tocsin.sources.inputs import ReadMeter, not_a_log, read_head, resolve_inputs
from tocsin.storage.cases import CaseStore
from tocsin.storage.sqlite import connect
from tocsin.tabular import entity_pairs


@dataclass
class ReadSummary:
    """What was read: per-input counts and the inputs that could not be read at all."""

    inputs: list[InputStats] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    #: Folder entries deliberately not read (FIFOs, devices, sockets), with their kind.
    passed_over: list[str] = field(default_factory=list)
    #: Files of a folder known not to be logs (licences, readmes, keytabs), with the reason: not read,
    #: not a failure.
    not_logs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(stats.events for stats in self.inputs)

    @property
    def skipped(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for stats in self.inputs:
            total.update(stats.skipped)
        return total

    @property
    def failed_inputs(self) -> list[str]:
        """Inputs that produced nothing because they could not be read or recognised."""
        return self.unreadable + self.passed_over + [f"{s.name}: {s.error}" for s in self.inputs if s.error]


@dataclass
class ScanSummary:
    """Everything a run reports at its end: a run that found nothing looks different from one that could not look."""

    read: ReadSummary
    rule_files: int
    rules_loaded: int
    rule_errors: list[RuleLoadError]
    #: Rules the rule-pack filters left out and ids loaded twice, one line each (``RuleSet.notes``).
    rule_notes: list[str] = field(default_factory=list)
    #: The installed packs' rule folders: like the built-in pack's, their idle rules are only counted.
    pack_paths: list[Path] = field(default_factory=list)
    alerts_by_level: Counter[str] = field(default_factory=Counter)
    alerts_hidden: int = 0
    #: Alerts per rule title and per entity (``user.name=root``), every level counted.
    alerts_by_rule: Counter[str] = field(default_factory=Counter)
    alerts_by_entity: Counter[str] = field(default_factory=Counter)
    #: The most severe alert (the first raised of its level), hidden or not: what ``--fail-on`` names.
    most_severe: Alert | None = None
    diagnostics: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    yara_files: int = 0
    yara_errors: list[YaraLoadError] = field(default_factory=list)
    content_scan: Counter[str] = field(default_factory=Counter)
    coverage: Coverage = field(default_factory=Coverage)

    @property
    def alerts(self) -> int:
        return sum(self.alerts_by_level.values())

    def count(self, alerts: list[Alert]) -> None:
        """Count ``alerts`` by level, rule and entity; keep the most severe so far (the first raised
        of its level). Counted a batch at a time: thousands of alerts, a few calls."""
        if not alerts:
            return
        levels = [alert.rule.level for alert in alerts]
        self.alerts_by_level.update(level.name for level in levels)
        self.alerts_by_rule.update(alert.rule.title for alert in alerts)
        self.alerts_by_entity.update(
            chain.from_iterable(entity_pairs(alert.entity, alert.group_by) for alert in alerts)
        )
        top = max(levels)
        if self.most_severe is None or top > self.most_severe.level:
            self.most_severe = alerts[levels.index(top)]

    def tripped(self, fail_on: Level) -> Alert | None:
        """The alert that makes ``--fail-on`` fail the run, if one does: the most severe."""
        most_severe = self.most_severe
        return most_severe if most_severe is not None and most_severe.level >= fail_on else None

    @property
    def looked(self) -> bool:
        """False when the scan could not really look: no events read, no rule loaded, or no rule
        saw an event of its log source."""
        files_scanned = self.content_scan.get("files scanned", 0) > 0
        rules_that_saw = self.rules_loaded - len(self.coverage.blind)
        return (self.read.events > 0 and rules_that_saw > 0) or files_scanned

    @property
    def every_rule_ran(self) -> bool:
        """True when every loaded rule saw events of its log source and ran over all of them."""
        return self.looked and not self.coverage.blind and not self.coverage.stopped

    @property
    def blind_user_rules(self) -> list[BlindRule]:
        """Rules the user asked for (not the built-in pack nor an installed pack, which cover every
        vendor) that saw no event of their log source."""
        packs = (str(builtin_rules_path()), *(str(path) for path in self.pack_paths))
        return [rule for rule in self.coverage.blind if not (rule.source or "").startswith(packs)]

    def strict_failures(self) -> list[str]:
        """Why ``--strict`` fails this run, if it does: anything skipped, rejected or not looked at."""
        reasons = []
        if self.read.skipped or self.read.failed_inputs:
            reasons.append("records or inputs were skipped")
        if self.rule_errors:
            reasons.append(f"{len(self.rule_errors)} rule(s) rejected")
        if self.blind_user_rules:
            reasons.append(f"{len(self.blind_user_rules)} rule(s) saw no event of their log source")
        if self.coverage.stopped:
            reasons.append(f"{len(self.coverage.stopped)} rule(s) stopped after an engine error")
        if not self.looked:
            reasons.append("nothing was checked")
        return reasons


@dataclass
class ScanRequest:
    """What to scan, with which rules, and how."""

    paths: list[str]
    rule_paths: list[Path] = field(default_factory=list)
    builtin_rules: bool = True
    #: Installed rule packs, loaded between the built-in pack and ``rule_paths``, and what of them loads.
    pack_paths: list[Path] = field(default_factory=list)
    selection: RuleSelection | None = None
    format_in: str | None = None
    parse: ParseOptions = field(default_factory=ParseOptions)
    db: Path | None = None
    min_level: Level = Level.informational
    batch_size: int = 50_000
    placeholders: dict[str, list[str]] = field(default_factory=dict)
    yara_paths: list[Path] = field(default_factory=list)
    #: A MaxMind City database locating logins the sources did not locate (needs ``tocsin[geoip]``).
    geoip: Path | None = None
    #: Processes reading the inputs (``tocsin.shares``); not with ``db`` nor a document store.
    workers: int = 1


def read_events(
    paths: list[str],
    format_in: str | None,
    options: ParseOptions,
    summary: ReadSummary,
    scan_file: Callable[[InputSource], None] | None = None,
) -> Iterator[Event]:
    """Every event of every input, one at a time; problems are recorded in ``summary``."""
    for unit in _parsed_inputs(paths, format_in, options, summary, scan_file):
        try:
            yield from unit.parser.parse(unit.source, unit.stats)
        except OSError as exc:
            unit.stats.error = f"read error after {unit.stats.records} records: {exc.strerror or exc}"


def read_batches(
    paths: list[str],
    format_in: str | None,
    options: ParseOptions,
    summary: ReadSummary,
    batch_size: int,
    scan_file: Callable[[InputSource], None] | None = None,
    meter: ReadMeter | None = None,
) -> Iterator[EventBatch]:
    """Every event of every input in batches of at most ``batch_size`` (``EVENT_LIST_ROWS`` for whole
    events); ``meter`` follows the bytes read (see ``batches_of``)."""
    return batches_of(_parsed_inputs(paths, format_in, options, summary, scan_file, meter), batch_size)


def batches_of(units: Iterable[Unit], batch_size: int) -> Iterator[EventBatch]:
    """The events of ``units`` in batches of at most ``batch_size``.

    Formats with a batch reader (``BatchParser``) hand in their records undecoded into events;
    the others' events are gathered across inputs.
    """
    pending: list[Event] = []
    for unit in units:
        item, parser, stats = unit.source, unit.parser, unit.stats
        try:
            if isinstance(parser, BatchParser):
                if pending:
                    yield EventList(pending)
                    pending = []
                yield from parser.batches(item, stats, batch_size)
                continue
            for event in parser.parse(item, stats):
                pending.append(event)
                if len(pending) >= min(batch_size, EVENT_LIST_ROWS):
                    yield EventList(pending)
                    pending = []
        except OSError as exc:
            stats.error = f"read error after {stats.records} records: {exc.strerror or exc}"
    if pending:
        yield EventList(pending)


def _parsed_inputs(
    paths: list[str],
    format_in: str | None,
    options: ParseOptions,
    summary: ReadSummary,
    scan_file: Callable[[InputSource], None] | None,
    meter: ReadMeter | None = None,
) -> Iterator[Unit]:
    """Each readable input with its parser; problems are recorded in ``summary``, progress in ``meter``.

    ``scan_file`` (content rules) also sees every input that is not a capture, including the
    ones no parser recognises, which then count as scanned files rather than failures.
    """
    items: Iterable[InputSource | UnreadableInput] = resolve_inputs(paths, meter)
    if meter is not None:  # a percentage needs the total size before the first byte is read
        items = list(items)
        meter.expect([item for item in items if isinstance(item, InputSource)])
    for item in items:
        if isinstance(item, UnreadableInput):
            (summary.passed_over if isinstance(item, SkippedInput) else summary.unreadable).append(str(item))
            continue
        if meter is not None:
            meter.start(item)
        try:
            yield from _parsed_input(item, format_in, options, summary, scan_file)
        finally:
            if meter is not None:
                meter.finish(item)
    if meter is not None:
        meter.end()


def _not_a_log(item: InputSource) -> str | None:
    """Why ``item`` (which no parser recognised) is not a log, when a folder walk found it and it is known."""
    try:
        return not_a_log(item, read_head(item)) if item.walked else None
    except OSError:
        return None


def _parsed_input(
    item: InputSource,
    format_in: str | None,
    options: ParseOptions,
    summary: ReadSummary,
    scan_file: Callable[[InputSource], None] | None,
) -> Iterator[Unit]:
    """``item`` with its parser, if it has one (see ``_parsed_inputs``)."""
    stats = InputStats(item.name)
    summary.inputs.append(stats)
    try:
        parser = detect_format(item, format_in)
    except UnreadableInput as exc:
        if scan_file is not None and format_in is None:
            stats.format = "file"
            scan_file(item)
        elif format_in is None and (reason := _not_a_log(item)) is not None:
            summary.inputs.remove(stats)
            summary.not_logs.append((item.name, reason))
        else:
            stats.error = str(exc).removeprefix(f"{item.name}: ")
        return
    except OSError as exc:
        stats.error = f"cannot read: {exc.strerror or exc}"
        return
    if parser is None:
        stats.format = "empty"
        return
    stats.format = parser.name
    if scan_file is not None and parser.name != "pcap":
        scan_file(item)
    yield Unit(item, parser(options), stats)


@dataclass
class ShareOutcome:
    """What a worker read of its share (``_read_share``), for the first process to take over."""

    #: The counts of each unit of the share, in its order.
    stats: list[InputStats]
    tallies: ShareTallies
    content_stats: Counter[str]
    #: The share's alerts, a pickled list per batch (written and read by this run only).
    alert_file: Path
    #: The rows kept for ``finish`` (``DetectionPipeline.hand_over``).
    kept: Path

    def alerts(self) -> Iterator[list[Alert]]:
        with open(self.alert_file, "rb") as stream:
            while True:
                try:
                    yield pickle.load(stream)  # this run's own file, in its private directory
                except EOFError:
                    return


def _read_share(
    share: list[Unit],
    ruleset: RuleSet,
    geoip: GeoIP | None,
    content: ContentScan,
    batch_size: int,
    workdir: Path,
    index: int,
    events_read: SharedCount,
) -> ShareOutcome:
    """A worker's job: one share of a scan through a pipeline of its own (see ``tocsin.shares``);
    the events it reads are added to ``events_read`` batch by batch."""
    content.take_alerts()  # alerts and counts of files scanned before the fork are the first process's
    if content.scanner is not None:
        content.scanner.stats.clear()
    alert_file, kept = workdir / f"share-{index}.alerts", workdir / f"share-{index}.kept.db"
    connection = connect(str(workdir / f"share-{index}.db"))
    try:
        pipeline = DetectionPipeline(ruleset, connection, geoip=geoip, content=content)
        with open(os.open(alert_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as stream:
            for batch in batches_of(share, batch_size):
                connection.execute("BEGIN")
                alerts = pipeline.process(batch)
                connection.execute("COMMIT")
                events_read.add(len(batch))
                if alerts:
                    pickle.dump(alerts, stream, pickle.HIGHEST_PROTOCOL)
        pipeline.hand_over(kept)
        tallies = pipeline.tallies()
        pipeline.close()
    finally:
        connection.close()
    content_stats = Counter(content.scanner.stats) if content.scanner is not None else Counter()
    return ShareOutcome([unit.stats for unit in share], tallies, content_stats, alert_file, kept)


class _SharedScan:
    """A scan read by several processes (``tocsin.shares``): the workers forked for every share but
    the first, which this process reads; then their shares taken over and the end spread."""

    def __init__(
        self,
        units: list[Unit],
        request: ScanRequest,
        ruleset: RuleSet,
        geoip: GeoIP | None,
        content: ContentScan,
        workdir: Path,
    ) -> None:
        self.first, *others = plan_shares(units, request.workers) or [[]]
        self.count = request.workers
        self.workdir = workdir
        #: Events the workers read, for the progress.
        self.events_read = SharedCount()
        self.workers = [
            (
                share,
                Worker(
                    partial(
                        _read_share,
                        share,
                        ruleset,
                        geoip,
                        content,
                        request.batch_size,
                        workdir,
                        index,
                        self.events_read,
                    )
                ),
            )
            for index, share in enumerate(others, 1)
        ]
        self.kept: list[Path] = []

    def take_over(
        self, pipeline: DetectionPipeline, emit: Callable[[list[Alert]], None], waiting: Callable[[], None]
    ) -> None:
        """Once this process read the first share: each worker's counts, alerts and kept rows, in
        reading order (``waiting`` is called while a worker is still reading)."""
        self.kept.append(self.workdir / "share-0.kept.db")  # for the processes sharing the end
        pipeline.hand_over(self.kept[0])
        for share, worker in self.workers:
            outcome = worker.result(waiting)
            for unit, stats in zip(share, outcome.stats, strict=True):
                add_stats(unit.stats, stats)
            for alerts in outcome.alerts():
                emit(alerts)
            pipeline.take_over(outcome.kept, outcome.tallies)
            self.kept.append(outcome.kept)
            if pipeline.content is not None and pipeline.content.scanner is not None:
                pipeline.content.scanner.stats.update(outcome.content_stats)
        waiting()

    def finish(self, pipeline: DetectionPipeline) -> list[Alert]:
        """``pipeline.finish()`` with its rules spread over the processes (``split_finish``): the
        same alerts in the same order. This process evaluates the first part; each forked one its
        own, over the rows every share kept."""
        first, *others = split_finish(pipeline.finish_costs(), self.count) or [FinishPart()]
        if not others:
            return pipeline.finish()
        pipeline.sigma.close()  # no DuckDB across a fork
        finishers = [
            Worker(partial(_finish_part, pipeline.ruleset, pipeline.geoip, self.kept, part))
            for part in others
        ]
        alerts = pipeline.take_content_alerts() + pipeline.finish(first)
        for finisher in finishers:
            found, sigma_diagnostics, stateful_diagnostics = finisher.result()
            alerts += found
            pipeline.add_diagnostics(sigma_diagnostics, stateful_diagnostics)
        rules = [rule.info.id for rule in pipeline.ruleset.correlations]
        rules += [rule.info.id for rule, _ in pipeline.stateful.rules]
        order = {rule: position for position, rule in enumerate(rules)}
        return sorted(
            alerts, key=lambda alert: order.get(alert.rule.id, -1)
        )  # stable: a rule's own order kept

    def stop(self) -> None:
        """End the workers still running (the scan stopped early)."""
        for _, worker in self.workers:
            worker.stop()


def _finish_part(
    ruleset: RuleSet, geoip: GeoIP | None, kept: list[Path], part: FinishPart
) -> tuple[list[Alert], Counter[str], Counter[str]]:
    """A forked process's part of a scan's end (``_SharedScan.finish``): its alerts and the notes
    its rules made."""
    connection = connect(":memory:")
    try:
        pipeline = DetectionPipeline(ruleset, connection, geoip=geoip)
        for share in kept:
            pipeline.take_over(share, ShareTallies())
        alerts = pipeline.finish(part)
        pipeline.close()
        return alerts, Counter(pipeline.sigma.diagnostics), Counter(pipeline.stateful.diagnostics)
    finally:
        connection.close()


def load_ruleset(request: ScanRequest) -> RuleSet:
    paths = (
        ([builtin_rules_path()] if request.builtin_rules else []) + request.pack_paths + request.rule_paths
    )
    return load_rules(paths, request.placeholders, request.selection)


def run_scan(
    request: ScanRequest,
    on_alert: Callable[[Alert], None],
    on_batch: Callable[[int], None] | None = None,
    ruleset: RuleSet | None = None,
    on_documents: Callable[[list[Event], list[Alert]], None] | None = None,
    meter: ReadMeter | None = None,
) -> ScanSummary:
    """Scan ``request.paths``; every alert at or above ``min_level`` goes to ``on_alert``.

    ``on_documents`` (a store such as Elasticsearch) gets each batch's events with the
    alerts they raised, every level included, and at the end the correlation alerts;
    ``meter`` (a progress display) follows the bytes read.
    """
    if request.workers > 1 and (request.db or on_documents):
        raise ValueError("a scan that keeps its events (a case database, a cluster) reads with one process")
    started = time.monotonic()
    ruleset = ruleset or load_ruleset(request)
    read = ReadSummary()
    summary = ScanSummary(
        read, ruleset.files, ruleset.loaded, ruleset.errors, ruleset.notes(), request.pack_paths
    )
    geoip = GeoIP(request.geoip) if request.geoip else None
    content = ContentScan.load(request.yara_paths, request.builtin_rules)
    summary.yara_files, summary.yara_errors = content.compiled.files, content.compiled.errors
    parse = replace(request.parse, payload_scanner=content.payload_scanner)
    scan_file = content.scan_file if content.scan_files else None
    shared: _SharedScan | None = None

    def batch_read(events: int) -> None:
        if on_batch:
            on_batch(events + (shared.events_read.take() if shared else 0))

    with tempfile.TemporaryDirectory(prefix="tocsin-") as workdir:
        if request.workers > 1:  # forked before this process opens an engine
            units = list(_parsed_inputs(request.paths, request.format_in, parse, read, scan_file))
            shared = _SharedScan(units, request, ruleset, geoip, content, Path(workdir))
            batches = batches_of(shared.first, request.batch_size)
        else:
            batches = read_batches(
                request.paths, request.format_in, parse, read, request.batch_size, scan_file, meter
            )
        connection = connect(str(request.db or Path(workdir) / "engine.db"))
        try:
            pipeline = DetectionPipeline(ruleset, connection, geoip=geoip, content=content)
            store = CaseStore(connection) if request.db else None

            def emit(alerts: list[Alert]) -> None:
                if store:
                    store.add_alerts(alerts)
                summary.count(alerts)
                for alert in alerts:
                    if alert.level >= request.min_level:
                        on_alert(alert)
                    else:
                        summary.alerts_hidden += 1

            for batch in batches:
                connection.execute("BEGIN")
                if store:
                    store.add_events(batch.events)
                alerts = pipeline.process(batch)
                connection.execute("COMMIT")
                emit(alerts)
                if on_documents:
                    on_documents(batch.events, alerts)
                batch_read(len(batch))
            if shared:
                shared.take_over(pipeline, emit, lambda: batch_read(0))
                if meter is not None:  # shares are read without a byte meter
                    meter.end()
            final_alerts = shared.finish(pipeline) if shared else pipeline.finish()
            pipeline.close()
            emit(final_alerts)
            if on_documents:
                on_documents([], final_alerts)
            summary.diagnostics = pipeline.diagnostics
            summary.coverage = pipeline.coverage()
            if content.scanner is not None:
                summary.content_scan = content.scanner.stats
        finally:
            connection.close()
            if shared:
                shared.stop()
            if geoip is not None:
                geoip.close()
    summary.elapsed = time.monotonic() - started
    return summary
