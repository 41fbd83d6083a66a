"""The detection pipeline every command runs: a batch in, its alerts out.

    pipeline = DetectionPipeline(ruleset, connection, content=..., geoip=...)
    pipeline.process(batch)   # Sigma (once per batch), stateful rules fed from the same matches,
                              # credential annotation, YARA alerts of payloads met meanwhile
    pipeline.finish()         # batch mode: correlations and stateful rules over the whole input
    pipeline.correlate()      # service mode (watch): what the last batches started or extended

``scan``, ``watch``, ``es hunt`` and ``rules test`` build one, so a detection that runs in one
runs in all; building blocks are matched once, by the Sigma engine, and handed to the stateful
engine with the batch.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field

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


def coverage(ruleset: RuleSet, routed: Counter[str]) -> Coverage:
    """Which alerting rules saw nothing: a detection routed no event, a correlation or stateful
    rule whose building blocks were all routed none."""
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
    return Coverage(Counter(routed), blind)


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

    def finish(self) -> list[Alert]:
        """Batch mode, once the input is read: correlations and stateful rules over all of it."""
        return self.take_content_alerts() + self.sigma.finish() + self.stateful.finish()

    def correlate(self) -> list[tuple[CorrelationRule, Episode, Alert]]:
        """Service mode: the correlation episodes the batches since the last call started or extended."""
        return self.sigma.correlate()

    @property
    def diagnostics(self) -> dict[str, int]:
        return {**self.sigma.diagnostics, **self.stateful.diagnostics}

    def coverage(self) -> Coverage:
        """Per rule, the events routed to it; the alerting rules that saw none."""
        return coverage(self.ruleset, self.sigma.routed)

    def close(self) -> None:
        self.stateful.close()
