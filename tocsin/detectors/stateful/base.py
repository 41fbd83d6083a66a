"""What every stateful detector provides, and the alert-building helpers they share.

The engine keeps, per rule, one compact row per event that plays a role (``extract``), in SQLite.
A detector that judges each group on its own (an account's logins) gives a ``GroupState``
(``start_group``) fed that group's rows in time order; a scan streams one group at a time through
it, a long-running service keeps the states between batches and feeds them only the new rows.
Detectors that relate groups to each other (``cross_group``) read whole groups in
``evaluate_group`` and finish in ``end``. Memory is bounded by one group, or by the states of the
groups a service has seen, never by the input.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

from tocsin.detectors.stateful.geo import GeoIP
from tocsin.detectors.stateful.spec import StatefulRule
from tocsin.model.alert import EVIDENCE_CAP, Alert, Window
from tocsin.model.event import Event


class Row(NamedTuple):
    """One kept event of a group, as the detector's ``extract`` described it."""

    ts: float
    role: int
    eid: str
    data: dict[str, Any]


class GroupState:
    """One group's running state: rows are fed in time order (``feed``); ``open_alerts`` reports what
    is still open (it may grow with later rows) without closing it."""

    def feed(self, row: Row) -> list[Alert]:
        raise NotImplementedError

    def open_alerts(self) -> list[Alert]:
        return []


class Detector:
    """Base of the detector kinds; subclasses set ``kind``, ``roles`` and ``defaults``."""

    kind: ClassVar[str]
    #: Role names, in the order rows of equal time are evaluated.
    roles: ClassVar[tuple[str, ...]]
    #: Every parameter with its default; a rule's ``parameters`` override them.
    defaults: ClassVar[dict[str, Any]]
    #: True when ``end`` relates groups to each other: incremental evaluation then re-reads them all.
    cross_group: ClassVar[bool] = False
    #: True when a group alerts only on rows of every role (a login, then a change): a group, or a
    #: whole rule, lacking one is not evaluated.
    needs_every_role: ClassVar[bool] = False

    def __init__(self, rule: StatefulRule, diagnostics: Counter[str], geoip: GeoIP | None = None) -> None:
        self.rule = rule
        self.parameters = rule.parameters
        self.diagnostics = diagnostics
        self.geoip = geoip

    @classmethod
    def check(cls, parameters: dict[str, Any]) -> None:
        """Raise StatefulSpecError when parameters (already typed) make no sense together."""

    def extract(self, role: str, event: Event) -> tuple[str, dict[str, Any]] | None:
        """The group key and compact data to keep for an event playing ``role``; None to skip it."""
        raise NotImplementedError

    def begin(self, connection: sqlite3.Connection) -> None:
        """Called before the groups of one evaluation."""

    def start_group(self, key: str) -> GroupState:
        """A new state for one group (per-group detectors)."""
        raise NotImplementedError

    def evaluate_group(self, key: str, rows: Iterable[Row]) -> list[Alert]:
        """Every alert of one group's rows (time order)."""
        state = self.start_group(key)
        alerts = [alert for row in rows for alert in state.feed(row)]
        return alerts + state.open_alerts()

    def end(self) -> list[Alert]:
        """Called after the groups of one evaluation."""
        return []

    def note(self, reason: str, count: int = 1) -> None:
        """Count something the summary should say (``Impossible Travel: ...``)."""
        self.diagnostics[f"{self.rule.info.title}: {reason}"] += count


def user_key(event: Event) -> str | None:
    """The account an event belongs to (``user.name``, case-folded), or None."""
    name = event.fields.get("user.name")
    return str(name).lower() if name not in (None, "") else None


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def window(start: float, end: float) -> Window:
    return Window(start=utc(start), end=utc(end))


def capped(ids: list[str]) -> tuple[list[str], bool]:
    """Evidence ids within the cap, and whether some were left out."""
    return ids[:EVIDENCE_CAP], len(ids) > EVIDENCE_CAP
