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
from tocsin.detectors.sigma.correlation import CorrelationRule, Episode
from tocsin.detectors.sigma.engine import SigmaEngine
from tocsin.detectors.sigma.ruleset import RuleSet
from tocsin.detectors.stateful.engine import StatefulEngine
from tocsin.detectors.stateful.geo import GeoIP
from tocsin.detectors.yara.pipeline import ContentScan
from tocsin.event import Event
from tocsin.models import Alert
from tocsin.secrets import annotate_credential_alerts


@dataclass
class Coverage:
    """Which rules saw events of their log source: a rule that saw none could not look."""

    routed: Counter[str] = field(default_factory=Counter)
    #: Rules that saw no event, as (rule title, "product/service/category" of the rule).
    blind: list[tuple[str, str]] = field(default_factory=list)


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
        blind = [
            (rule.info.title, "/".join(part or "*" for part in (rule.product, rule.service, rule.category)))
            for rule in self.sigma.rules_routed_nothing()
            if rule.emits_alerts
        ]
        return Coverage(Counter(self.sigma.routed), blind)

    def close(self) -> None:
        self.stateful.close()
