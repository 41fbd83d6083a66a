"""The ``tocsin watch`` loop: follow, parse, detect in micro-batches, commit, deliver.

One iteration reads the new complete lines of every followed file (a bounded
number of bytes), parses them into events and keeps them pending. A batch is
committed when it holds ``batch_size`` events or its first event has waited
``batch_delay`` seconds, whichever comes first. The commit is one SQLite
transaction (see ``checkpoint``): a compact row per event, correlation
candidates, full documents of the candidates and alert evidence only, the
alerts raised (single-event rules at once, correlations over the groups the
batch touched), and the files' offsets. Alerts are then delivered from the outbox.

Memory is bounded: at most ``batch_size`` pending events and ``read_budget``
bytes per read; a slow sink slows the loop and the lag shows in the status,
while the unread lines wait in the files themselves and undelivered alerts in
the outbox on disk. Correlation candidates, episodes, events and delivered
alerts are pruned by age, so the database stays bounded too.

Signals: SIGTERM/SIGINT commit the pending batch, deliver and exit 0; SIGHUP
reloads the rules (windows are kept: the candidate table is persistent and
carried over to the new rule set) — playbooks are read afresh at each hand-over.

A full disk (the state database, the alerts file, the webhook spool) pauses the loop (see
``pause``): a failed commit is rolled back and the files are read again from their committed
offsets, with detection rebuilt from the database as a restart would; a failed delivery is
retried, each sink skipping the alerts it already wrote (see ``delivery``).
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tocsin.detectors.sigma.engine import FRESH_TABLE
from tocsin.detectors.sigma.ruleset import RuleSelection, RuleSet, builtin_rules_path, load_rules
from tocsin.detectors.stateful.geo import GeoIP
from tocsin.detectors.yara.pipeline import ContentScan
from tocsin.model.alert import Alert, Level
from tocsin.model.event import Event
from tocsin.pipeline import DetectionPipeline
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions, Parser, UnreadableInput
from tocsin.sources.detect import detect_format
from tocsin.storage.cases import CaseStore
from tocsin.storage.sqlite import is_disk_full
from tocsin.watch.checkpoint import StateStore
from tocsin.watch.follower import Chunk, Followed, Follower
from tocsin.watch.pause import DiskFullPause

if TYPE_CHECKING:
    from tocsin.watch.capture import LiveCapture

log = logging.getLogger("tocsin.watch")

#: The persistent correlation candidate table in the state database.
CANDIDATE_TABLE = "watch_candidates"
#: The prefix of the stateful rules' persistent tables.
STATEFUL_PREFIX = "watch_stateful"
STATUS_FILE = "status.json"


@dataclass
class WatchOptions:
    paths: list[str]
    state_dir: Path
    rule_paths: list[Path] = field(default_factory=list)
    builtin_rules: bool = True
    pack_paths: list[Path] = field(default_factory=list)  # installed rule packs (see ScanRequest)
    selection: RuleSelection | None = None
    placeholders: dict[str, list[str]] = field(default_factory=dict)
    format_in: str | None = None
    parse: ParseOptions = field(default_factory=ParseOptions)
    min_level: Level = Level.informational
    batch_size: int = 5000
    batch_delay: float = 0.25  # seconds the first pending event may wait for its batch
    poll_interval: float = 0.1  # seconds to sleep when nothing was read
    discover_interval: float = 1.0  # seconds between looks for new and rotated files
    lateness: float = 300.0  # seconds an event may arrive late and still join its window
    retention: float = 30 * 86400.0  # seconds events are kept in the case database
    read_budget: int = 4 << 20  # bytes read per iteration, at most
    health_path: Path | None = None
    interface: str | None = None  # live capture (scapy), through the pcap pipeline
    bpf: str | None = None
    #: The user's YARA rules: besides the built-in ones on capture payloads, run over appended data.
    yara_paths: list[Path] = field(default_factory=list)
    #: A MaxMind City database locating logins the sources did not locate (needs ``tocsin[geoip]``).
    geoip: Path | None = None


class WatchService:
    """See module doc. ``deliver`` gets each list of new alerts at or above ``min_level``;
    ``ship`` (optional) each committed batch's events and alerts, every level."""

    def __init__(
        self,
        options: WatchOptions,
        deliver: Callable[[list[Alert]], None],
        ship: Callable[[list[Event], list[Alert]], None] | None = None,
    ) -> None:
        self.options = options
        self.deliver = deliver
        self.ship = ship
        self.state = StateStore(options.state_dir)
        self.connection = self.state.connection
        self.case = CaseStore(self.connection)
        self.ruleset = self._load_rules()
        self.geoip = GeoIP(options.geoip) if options.geoip else None
        self.content = ContentScan.load(options.yara_paths, options.builtin_rules)
        #: What parsers and the live capture read with: capture payloads reach YARA.
        self.parse_options = replace(options.parse, payload_scanner=self.content.payload_scanner)
        self.pipeline = self._pipeline(self.ruleset)
        self.follower = self._follower()
        self.capture: LiveCapture | None = None
        if options.interface:
            from tocsin.watch.capture import LiveCapture

            self.capture = LiveCapture(options.interface, options.bpf, self.parse_options)
        self.pending: list[Event] = []
        self.dirty_since: float | None = None
        self.stopping = False
        self.reload_requested = False
        self.parsers: dict[str, Parser] = {}
        self.stats: dict[str, InputStats] = {}
        self.watermark = self._committed_watermark()
        self.pause = DiskFullPause(log)
        #: The pipeline's in-memory state is ahead of the database (a commit was rolled back).
        self.stale_pipeline = False
        #: Alerts delivered whose outbox rows are not marked yet (the marking hit a full disk).
        self.unmarked: list[str] = []
        self.counters = {"events": 0, "alerts": 0, "batches": 0, "delivered": 0}
        self.last_alert: dict[str, Any] | None = None
        self.started = time.time()
        self._rate = (time.monotonic(), 0)
        self._events_per_second = 0.0
        self._last_prune = 0.0
        self._last_status = 0.0
        self._last_discover = 0.0

    # -- rules -----------------------------------------------------------------------------

    def _load_rules(self) -> RuleSet:
        builtin = [builtin_rules_path()] if self.options.builtin_rules else []
        paths = builtin + self.options.pack_paths + self.options.rule_paths
        ruleset = load_rules(paths, self.options.placeholders, self.options.selection)
        for error in ruleset.errors:
            log.warning("rule rejected", extra={"fields": {"error": str(error)}})
        log.info("rules loaded", extra={"fields": {"rules": ruleset.loaded, "files": ruleset.files}})
        return ruleset

    def reload(self) -> None:
        """SIGHUP: new rules over the same persistent windows; on failure the old rules stay."""
        try:
            ruleset = self._load_rules()
        except Exception as exc:
            log.error("rule reload failed, keeping the current rules", extra={"fields": {"error": str(exc)}})
            return
        self.ruleset = ruleset
        self.stale_pipeline = True  # rebuilt before the next commit, where a full disk pauses the watch

    def _rebuild_pipeline(self) -> None:
        """A new pipeline of the current rules over the persistent windows, the batch tables dropped."""
        for (name,) in self.connection.execute(
            "SELECT name FROM batch.sqlite_master WHERE type = 'table'"
        ).fetchall():
            self.connection.execute(f'DROP TABLE batch."{name}"')
        self.pipeline.close()
        self.pipeline = self._pipeline(self.ruleset)
        self.stale_pipeline = False

    def _pipeline(self, ruleset: RuleSet) -> DetectionPipeline:
        """The same detection as a scan's, over the persistent windows of the state database."""
        return DetectionPipeline(
            ruleset,
            self.connection,
            correlation_table=CANDIDATE_TABLE,
            stateful_prefix=STATEFUL_PREFIX,
            geoip=self.geoip,
            content=self.content,
        )

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        self._install_signals()
        if self.capture is not None:
            self.capture.start()
        log.info(
            "watch started",
            extra={
                "fields": {
                    "paths": self.options.paths,
                    "interface": self.options.interface,
                    "state": str(self.options.state_dir),
                }
            },
        )
        self._flush()  # alerts committed by a previous run but not delivered before it stopped
        try:
            while True:
                if self.reload_requested:
                    self._flush()
                    self.reload_requested = False
                    self.reload()
                read = self.step()
                if self.stopping:
                    if self.capture is not None:
                        self.pending.extend(self.capture.stop())
                        self._mark_dirty(time.monotonic())
                    self._flush()
                    if self.pause.paused:
                        log.warning(
                            "stopped on a full disk: what was not committed is read again at the next start"
                        )
                    break
                if not read:
                    time.sleep(self.options.poll_interval)
        finally:
            if self.capture is not None and self.capture.sniffer is not None:
                self.capture.stop()  # an error ended the loop: stop the sniffer thread, events are lost
            self._write_status(force=True)
            self.follower.close()
            self.state.close()
            if self.geoip is not None:
                self.geoip.close()
        log.info("watch stopped", extra={"fields": self.counters})
        return 0

    def step(self) -> int:
        """One iteration: discover, read, parse, commit when the batch is due, deliver. Bytes read.
        Paused on a full disk, nothing is read until the next retry is due."""
        if not self.pause.due():
            self._write_status()
            return 0
        now = time.monotonic()
        if now - self._last_discover >= self.options.discover_interval:
            self._last_discover = now
            before = set(self.follower.files)
            self.follower.discover()
            if set(self.follower.files) != before:
                self._mark_dirty(now)
        chunks = self.follower.read(self.options.read_budget)
        size = 0
        for chunk in chunks:
            size += len(chunk.data)
            self.pending.extend(self._parse(chunk))
            self._mark_dirty(now)
        if self.follower.dropped:
            self._mark_dirty(now)
        if self.capture is not None:
            number = self.capture.number
            events = self.capture.read()
            size += self.capture.number - number
            if events:
                self.pending.extend(events)
                self._mark_dirty(now)
        due = self.dirty_since is not None and (
            len(self.pending) >= self.options.batch_size
            or time.monotonic() - self.dirty_since >= self.options.batch_delay
        )
        if due or self.pause.paused:
            self._flush()
        self._write_status()
        return size

    def _mark_dirty(self, now: float) -> None:
        if self.dirty_since is None:
            self.dirty_since = now

    # -- parsing -----------------------------------------------------------------------------

    def _parse(self, chunk: Chunk) -> list[Event]:
        followed = chunk.followed
        parser = self._parser(followed, chunk.data)
        if parser is None:
            return []
        stats = self.stats.setdefault(followed.key, InputStats(followed.path, followed.format))
        if self.content.scan_files:  # the user's YARA rules see appended data, as a scan sees files
            self.content.scan_file(InputSource(followed.path, partial(io.BytesIO, chunk.data)))
        events = list(parser.parse_lines(chunk.data, followed.path, stats, mtime=time.time()))
        starts = [0, *accumulate(len(line) + 1 for line in chunk.data.split(b"\n"))]
        for event in events:
            number, _, copy = event.offset.partition("#")
            offset = chunk.start + starts[int(number) - 1]
            event.offset = f"{offset}#{copy}" if copy else str(offset)
            event.identify(followed.key, event.offset)
        return events

    def _parser(self, followed: Followed, data: bytes) -> Parser | None:
        if followed.format is None:
            head = followed.head(64 * 1024)
            head = head if head.strip() else data  # blank lines first: detect from the lines read now
            try:
                cls = detect_format(
                    InputSource(followed.path, lambda: io.BytesIO(head)), self.options.format_in
                )
            except UnreadableInput as exc:
                followed.unsupported = str(exc)
                log.warning(
                    "file not followed", extra={"fields": {"path": followed.path, "reason": str(exc)}}
                )
                return None
            if cls is None:
                return None
            if not cls.line_oriented:
                followed.unsupported = f"format {cls.name} is not one record per line"
                log.warning(
                    "file not followed",
                    extra={"fields": {"path": followed.path, "reason": followed.unsupported}},
                )
                return None
            followed.format = cls.name
        parser = self.parsers.get(followed.format)
        if parser is None:
            parser = self.parsers[followed.format] = PARSERS[followed.format](self.parse_options)
        return parser

    # -- committing ----------------------------------------------------------------------------

    def _flush(self) -> None:
        """Commit the pending batch and deliver; on a full disk, pause instead (see module doc)."""
        try:
            committed = self._commit()
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self._rewind()
            self.pause.failed(exc, "state database")
            return
        try:
            delivered = self._deliver()
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.pause.failed(exc, "alerts")
            return
        if committed or delivered:  # something was written: there is room again
            self.pause.succeeded()

    def _rewind(self) -> None:
        """After a rolled-back commit, back to the last committed state, as a restart would: the
        files are read again from their committed offsets and detection is rebuilt from the database.
        Events of a live capture not committed yet are lost (packets cannot be read again)."""
        self.pending, self.dirty_since = [], None
        self.follower.close()
        self.follower = self._follower()
        self._last_discover = 0.0
        self.watermark = self._committed_watermark()
        self.content.take_alerts()  # those of files are found again as they are read again
        self.stale_pipeline = True  # rebuilt before the next commit: building it writes to the database

    def _follower(self) -> Follower:
        """A follower starting at the committed offsets."""
        return Follower(self.options.paths, self.state.checkpoints(), self.options.parse.max_record_bytes)

    def _committed_watermark(self) -> float:
        return float(self.state.get_meta("watermark", "0") or 0)

    def _commit(self) -> bool:
        """One transaction: events, candidates, alerts and offsets (see module doc). Whether there
        was anything to commit."""
        if self.dirty_since is None and not self.pending:
            return False
        if self.stale_pipeline:
            self._rebuild_pipeline()
        events, execute = self.pending, self.connection.execute
        execute("BEGIN IMMEDIATE")
        try:
            self.state.record_events(events)
            alerts = self.pipeline.process(events) if events else self.pipeline.take_content_alerts()
            keep = self._candidate_ids() | self.pipeline.stateful.kept_ids
            for rule, episode, alert in self.pipeline.correlate():
                if self.state.episode_is_new(
                    rule.info.id, episode.group, episode.window_start, episode.end, alert.id
                ):
                    alerts.append(alert)
                else:  # the episode goes on: keep the case copy of its alert up to date, raise nothing
                    first = self.state.episode_alert(
                        rule.info.id, episode.group, episode.window_start, episode.end
                    )
                    self.case.add_alerts([alert.model_copy(update={"id": first or alert.id})])
            alerts += self.pipeline.stateful.evaluate()
            for alert in alerts:
                keep.update(alert.evidence)
            self.case.add_events(event for event in events if event.id in keep)
            times = [event.timestamp for event in events if event.timestamp is not None]
            if times and max(times) > self.watermark:
                self.watermark = max(times)
                self.state.set_meta("watermark", self.watermark)
            self._prune()
            new = self.state.enqueue(alerts)
            self.case.add_alerts(new)
            self.state.save_checkpoints(
                [followed.checkpoint() for followed in self.follower.files.values()], self.follower.dropped
            )
            execute("COMMIT")
        except BaseException:
            if self.connection.in_transaction:  # SQLite may have rolled back already (a full disk)
                execute("ROLLBACK")
            raise
        self.follower.dropped.clear()
        self.pending, self.dirty_since = [], None
        self.counters["events"] += len(events)
        self.counters["batches"] += 1
        self.counters["alerts"] += len(new)
        if self.ship is not None and (events or new):
            self.ship(events, new)
        if events:
            log.debug("batch committed", extra={"fields": {"events": len(events), "alerts": len(new)}})
        return True

    def _candidate_ids(self) -> set[str]:
        """Ids of the events this batch kept as correlation candidates (before ``correlate``)."""
        try:
            return {row[0] for row in self.connection.execute(f"SELECT eid FROM {FRESH_TABLE}")}
        except sqlite3.OperationalError:  # no correlation rules: no candidate table
            return set()

    def _prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < 60 or not self.watermark:
            return
        self._last_prune = now
        sigma = self.pipeline.sigma
        horizon = self.watermark - sigma.longest_timespan - self.options.lateness
        removed = sigma.prune(horizon)
        self.pipeline.stateful.prune(self.watermark - self.options.retention)  # baselines need the history
        self.state.prune(
            episodes_before=horizon - sigma.longest_timespan,
            events_before=self.watermark - self.options.retention,
            outbox_before=time.time() - 7 * 86400,
        )
        if removed:
            log.info("correlation candidates pruned", extra={"fields": {"removed": removed}})

    # -- delivering ------------------------------------------------------------------------------

    def _deliver(self) -> bool:
        """Hand the outbox's alerts over, oldest first, and mark them delivered. Whether there were any."""
        marked = bool(self.unmarked)
        if self.unmarked:
            self.state.mark_delivered(self.unmarked)
            self.unmarked = []
        while pending := self.state.pending():
            alerts = [Alert.model_validate(document) for _, document in pending]
            visible = [alert for alert in alerts if alert.level >= self.options.min_level]
            if visible:
                self.deliver(visible)
                self.last_alert = {
                    "id": visible[-1].id,
                    "rule": visible[-1].rule.title,
                    "level": visible[-1].level.name,
                    "delivered": time.time(),
                }
                for alert in visible:
                    log.info(
                        "alert",
                        extra={
                            "fields": {"id": alert.id, "rule": alert.rule.title, "summary": alert.message}
                        },
                    )
            self.counters["delivered"] += len(visible)
            self.unmarked = [identifier for identifier, _ in pending]
            self.state.mark_delivered(self.unmarked)
            self.unmarked = []
            marked = True
        return marked

    # -- operations ------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            log.info("stop requested", extra={"fields": {"signal": signal.Signals(signum).name}})
            self.stopping = True

        def hup(_signum: int, _frame: Any) -> None:
            self.reload_requested = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hup)

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        since, counted = self._rate
        if now - since >= 5:
            self._events_per_second = (self.counters["events"] - counted) / (now - since)
            self._rate = (now, self.counters["events"])
        sources = []
        for followed in self.follower.files.values():
            stats = self.stats.get(followed.key)
            sources.append(
                {
                    "path": followed.path,
                    "format": followed.format,
                    "offset": followed.read_offset,
                    "size": followed.size,
                    "lag_bytes": max(0, followed.size - followed.read_offset),
                    "events": stats.events if stats else 0,
                    "skipped": stats.skipped_total if stats else 0,
                    "not_followed": followed.unsupported,
                }
            )
        if self.capture is not None:
            sources.append(self.capture.status())
        return {
            "pid": os.getpid(),
            "started": self.started,
            "updated": time.time(),
            "state": "stopping" if self.stopping else "running",
            "paused_disk_full": self.pause.paused,
            "rules": self.ruleset.loaded,
            "events_per_second": round(self._events_per_second, 1),
            **self.counters,
            "watermark": self.watermark,
            "last_alert": self.last_alert,
            "sources": sources,
        }

    def _write_status(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_status < 1.0:
            return
        self._last_status = now
        document = self.status()
        if force:
            document["state"] = "stopped"
        for path in {
            self.options.state_dir / STATUS_FILE,
            *([self.options.health_path] if self.options.health_path else []),
        }:
            temporary = path.with_name(path.name + ".tmp")
            try:
                temporary.write_text(json.dumps(document, indent=2), encoding="utf-8")
            except OSError as exc:
                if not is_disk_full(exc):
                    raise
                temporary.unlink(missing_ok=True)  # the last complete status stays; the pause is reported
                continue
            os.replace(temporary, path)


class JsonLogFormatter(logging.Formatter):
    """Structured logs: one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            document["error"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)
