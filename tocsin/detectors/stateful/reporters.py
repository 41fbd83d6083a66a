"""Reporters acting together again: the same accounts in report campaigns against different targets.

Reports against one target form a campaign while they come no more than ``window`` apart; a
campaign counts when at least ``min_shared_reporters`` distinct accounts took part. Two campaigns
against different targets are linked when they share at least ``min_shared_reporters`` reporters
and that is at least ``min_overlap`` of the smaller campaign. Linked campaigns form one group (one
alert) once they cover ``min_targets`` targets. Campaigns are kept in SQLite, so memory is bounded
by one target's reports.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from tocsin.detectors.stateful.base import Detector, Row, capped, utc, window
from tocsin.detectors.stateful.spec import StatefulSpecError
from tocsin.model.alert import Alert, alert_id
from tocsin.model.event import Event


class CoordinatedReporters(Detector):
    kind = "coordinated_reporters"
    roles = ("report",)
    defaults = {"window": 3600, "min_shared_reporters": 5, "min_overlap": 0.5, "min_targets": 2}
    cross_group = True

    @classmethod
    def check(cls, parameters: dict[str, Any]) -> None:
        if not 0 < parameters["min_overlap"] <= 1:
            raise StatefulSpecError("min_overlap must be in (0, 1]")
        if parameters["min_targets"] < 2 or parameters["min_shared_reporters"] < 2:
            raise StatefulSpecError("min_targets and min_shared_reporters must be at least 2")

    def extract(self, role: str, event: Event) -> tuple[str, dict[str, Any]] | None:
        target, reporter = event.fields.get("user.target.name"), event.fields.get("user.name")
        if not target or not reporter:
            return None
        return str(target).lower(), {"reporter": str(reporter).lower()}

    def begin(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        suffix = alert_id(self.rule.info.id)[:8]
        self.campaigns, self.members = f"temp.tocsin_campaigns_{suffix}", f"temp.tocsin_members_{suffix}"
        connection.execute(f"DROP TABLE IF EXISTS {self.campaigns}")
        connection.execute(f"DROP TABLE IF EXISTS {self.members}")
        connection.execute(
            f"CREATE TABLE {self.campaigns} (cid INTEGER PRIMARY KEY, target TEXT, start REAL, "
            "end REAL, size INTEGER)"
        )
        connection.execute(f"CREATE TABLE {self.members} (cid INTEGER, reporter TEXT, eids TEXT)")
        connection.execute(
            f"CREATE INDEX {self.members}_reporter ON {self.members.removeprefix('temp.')} (reporter)"
        )

    def evaluate_group(self, key: str, rows: Iterable[Row]) -> list[Alert]:
        burst: list[Row] = []
        for row in rows:
            if burst and row.ts - burst[-1].ts > self.parameters["window"]:
                self._keep(key, burst)
                burst = []
            burst.append(row)
        self._keep(key, burst)
        return []

    def _keep(self, target: str, burst: list[Row]) -> None:
        reporters: dict[str, list[str]] = {}
        for row in burst:
            reporters.setdefault(row.data["reporter"], []).append(row.eid)
        if len(reporters) < self.parameters["min_shared_reporters"]:
            return
        cursor = self.connection.execute(
            f"INSERT INTO {self.campaigns} (target, start, end, size) VALUES (?, ?, ?, ?)",
            (target, burst[0].ts, burst[-1].ts, len(reporters)),
        )
        self.connection.executemany(
            f"INSERT INTO {self.members} VALUES (?, ?, ?)",
            ((cursor.lastrowid, reporter, json.dumps(eids)) for reporter, eids in reporters.items()),
        )

    def end(self) -> list[Alert]:
        parameters = self.parameters
        pairs = self.connection.execute(
            f"SELECT a.cid, b.cid, COUNT(*), MIN(ca.size, cb.size) FROM {self.members} a "
            f"JOIN {self.members} b ON a.reporter = b.reporter AND a.cid < b.cid "
            f"JOIN {self.campaigns} ca ON ca.cid = a.cid JOIN {self.campaigns} cb ON cb.cid = b.cid "
            "WHERE ca.target <> cb.target GROUP BY a.cid, b.cid HAVING COUNT(*) >= ?",
            (parameters["min_shared_reporters"],),
        ).fetchall()
        parent: dict[int, int] = {}

        def root(cid: int) -> int:
            while parent.setdefault(cid, cid) != cid:
                parent[cid] = parent[parent[cid]]
                cid = parent[cid]
            return cid

        for first, second, shared, smaller in pairs:
            if shared / smaller >= parameters["min_overlap"]:
                parent[root(second)] = root(first)
        groups: dict[int, list[int]] = {}
        for cid in list(parent):
            groups.setdefault(root(cid), []).append(cid)
        alerts = [alert for cids in groups.values() if (alert := self._alert(sorted(cids)))]
        self.connection.execute(f"DROP TABLE {self.members}")
        self.connection.execute(f"DROP TABLE {self.campaigns}")
        return alerts

    def _alert(self, cids: list[int]) -> Alert | None:
        marks = ",".join("?" * len(cids))
        campaigns = self.connection.execute(
            f"SELECT cid, target, start, end, size FROM {self.campaigns} WHERE cid IN ({marks}) ORDER BY start, target",
            cids,
        ).fetchall()
        targets = sorted({target for _, target, *_ in campaigns})
        if len(targets) < self.parameters["min_targets"]:
            return None
        shared = self.connection.execute(
            f"SELECT m.reporter, json_group_array(m.eids) FROM {self.members} m JOIN {self.campaigns} c USING (cid) "
            f"WHERE cid IN ({marks}) GROUP BY m.reporter HAVING COUNT(DISTINCT c.target) >= 2 ORDER BY m.reporter",
            cids,
        ).fetchall()
        reporters = [reporter for reporter, _ in shared]
        ids = sorted({eid for _, lists in shared for eids in json.loads(lists) for eid in json.loads(eids)})
        evidence, truncated = capped(ids)
        info = self.rule.info
        start, end = min(c[2] for c in campaigns), max(c[3] for c in campaigns)
        named = ", ".join(reporters[:10]) + (
            f" and {len(reporters) - 10} more" if len(reporters) > 10 else ""
        )
        return Alert(
            id=alert_id(info.id, *(f"{target}@{begin}" for _, target, begin, _, _ in campaigns)),
            timestamp=utc(end),
            rule=info,
            event_count=len(ids),
            message=(
                f"{info.title}: {len(reporters)} accounts reported {len(targets)} targets together "
                f"({', '.join(targets)}) in {len(campaigns)} campaigns: {named}"
            ),
            group_by={"user.target.name": ",".join(targets)},
            window=window(start, end),
            metric={"name": "shared_reporters", "value": len(reporters)},
            evidence=evidence,
            evidence_truncated=truncated,
            details={
                "reporters": reporters,
                "targets": targets,
                "campaigns": [
                    {
                        "target": target,
                        "start": utc(begin).isoformat().replace("+00:00", "Z"),
                        "end": utc(finish).isoformat().replace("+00:00", "Z"),
                        "reporters": size,
                    }
                    for _, target, begin, finish, size in campaigns
                ],
            },
        )
