"""An unusual login of an account followed, within a window, by a sensitive action of that account
(and a recovery change followed by an unusual login: ``ChangeThenUnusualLogin``).

"Unusual" is judged against the account's own history: a network (AS, else IPv4 /24 or IPv6 /48)
or a user-agent family never seen in its earlier successful logins — only once the account has at
least ``baseline_logins`` of them, so a first login never counts — and, when ``travel`` is on, a
login implying impossible travel from the previous one. The sensitive action (a password, e-mail
or MFA change, a new token, an admin role...) is whatever the rule's ``change`` building block
matches, so the same detector serves every such scenario. Each change is attributed to the latest
unusual login before it; one alert per unusual login, with all its changes as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tocsin.detectors.sigma.engine import human_duration
from tocsin.detectors.stateful.base import Detector, GroupState, Row, capped, user_key, utc, window
from tocsin.detectors.stateful.novelty import event_agent, source_key
from tocsin.detectors.stateful.spec import StatefulSpecError
from tocsin.detectors.stateful.travel import describe, impossible, login_data
from tocsin.model.alert import Alert, alert_id
from tocsin.model.event import Event

LOGIN, CHANGE = 0, 1
#: The change role of ChangeThenUnusualLogin (its roles are change, then login).
RECOVERY_CHANGE = 0
NOVELTIES = {"source", "user_agent"}


@dataclass
class _Unusual:
    login: Row
    reasons: list[str]
    history: int
    changes: list[Row] = field(default_factory=list)


class UnusualLoginThenChange(Detector):
    kind = "unusual_login_then_change"
    roles = ("login", "change")
    needs_every_role = True
    defaults = {
        "window": 3600,
        "baseline_logins": 5,
        "novelty": ["source", "user_agent"],
        "travel": False,
        "max_speed_kmh": 1000.0,
        "min_distance_km": 500.0,
    }

    @classmethod
    def check(cls, parameters: dict[str, Any]) -> None:
        unknown = set(parameters["novelty"]) - NOVELTIES
        if unknown:
            raise StatefulSpecError(
                f"novelty can be {', '.join(sorted(NOVELTIES))}, not {', '.join(sorted(unknown))}"
            )
        if not parameters["novelty"] and not parameters["travel"]:
            raise StatefulSpecError("nothing makes a login unusual: give novelty or travel")

    def extract(self, role: str, event: Event) -> tuple[str, dict[str, Any]] | None:
        key = user_key(event)
        if key is None:
            return None
        if role == "change":
            return key, {
                "action": event.fields.get("event.action"),
                "ip": event.fields.get("source.ip"),
                "target": event.fields.get("user.target.name"),
            }
        data = login_data(event, self) if self.parameters["travel"] else {"ip": event.fields.get("source.ip")}
        data.update(net=source_key(event), agent=event_agent(event))
        return key, data

    def start_group(self, key: str) -> GroupState:
        return _History(self, key)

    def _alerts(self, user: str, unusual: _Unusual) -> list[Alert]:
        if not unusual.changes:
            return []
        info, login, changes = self.rule.info, unusual.login, unusual.changes
        actions = sorted({str(change.data.get("action")) for change in changes})
        evidence, truncated = capped([login.eid, *(change.eid for change in changes)])
        return [
            Alert(
                id=alert_id(info.id, user, login.eid),
                timestamp=utc(changes[-1].ts),
                rule=info,
                event_count=1 + len(changes),
                message=(
                    f"{info.title}: {user} logged in from {login.data.get('ip') or 'an unknown address'} "
                    f"({'; '.join(unusual.reasons)}; {unusual.history} earlier logins), then within "
                    f"{human_duration(changes[-1].ts - login.ts)}: {', '.join(actions)}"
                ),
                user={"name": user},
                source={"ip": login.data["ip"]} if login.data.get("ip") else None,
                window=window(login.ts, changes[-1].ts),
                metric={"name": "changes", "value": len(changes)},
                evidence=evidence,
                evidence_truncated=truncated,
                details={
                    "reasons": unusual.reasons,
                    "earlier_logins": unusual.history,
                    "login": {key: value for key, value in login.data.items() if value is not None},
                    "actions": actions,
                    "targets": sorted({str(c.data["target"]) for c in changes if c.data.get("target")}),
                },
            )
        ]


class _History(GroupState):
    """An account's networks and clients seen so far, and its unusual logins still in their window."""

    def __init__(self, detector: UnusualLoginThenChange, user: str) -> None:
        self.detector, self.user = detector, user
        self.networks: set[str] = set()
        self.agents: set[str] = set()
        self.logins = 0
        self.located: Row | None = None
        self.pending: list[_Unusual] = []

    def feed(self, row: Row) -> list[Alert]:
        detector, parameters = self.detector, self.detector.parameters
        alerts: list[Alert] = []
        while self.pending and row.ts > self.pending[0].login.ts + parameters["window"]:
            alerts.extend(detector._alerts(self.user, self.pending.pop(0)))
        if row.role == CHANGE:
            if self.pending:
                self.pending[-1].changes.append(row)
            return alerts
        net, agent, novelty = row.data.get("net"), row.data.get("agent"), parameters["novelty"]
        reasons = []
        if self.logins >= parameters["baseline_logins"]:
            if "source" in novelty and net and net not in self.networks:
                reasons.append(f"new network {net}")
            if "user_agent" in novelty and agent and agent not in self.agents:
                reasons.append(f"new client {agent}")
        if parameters["travel"] and "lat" in row.data:
            if self.located is not None:
                found = impossible(
                    self.located, row, parameters["max_speed_kmh"], parameters["min_distance_km"]
                )
                if found:
                    reasons.append(
                        f"impossible travel from {describe(self.located)}: {found[0]:,.0f} km at {found[1]:,.0f} km/h"
                    )
            self.located = row
        if reasons:
            self.pending.append(_Unusual(row, reasons, self.logins))
        self.logins += 1
        self.networks.update([net] if net else [])
        self.agents.update([agent] if agent else [])
        return alerts

    def open_alerts(self) -> list[Alert]:
        return [alert for unusual in self.pending for alert in self.detector._alerts(self.user, unusual)]


class ChangeThenUnusualLogin(Detector):
    """A recovery change (password reset, e-mail change) followed, within a window, by a login of the
    account from a network or client family its earlier successful logins never used."""

    kind = "change_then_unusual_login"
    roles = ("change", "login")
    needs_every_role = True
    defaults = {"window": 3600, "baseline_logins": 2, "novelty": ["source", "user_agent"]}

    @classmethod
    def check(cls, parameters: dict[str, Any]) -> None:
        novelty = set(parameters["novelty"])
        if not novelty or novelty - NOVELTIES:
            raise StatefulSpecError(f"novelty must name some of {', '.join(sorted(NOVELTIES))}")

    def extract(self, role: str, event: Event) -> tuple[str, dict[str, Any]] | None:
        key = user_key(event)
        if key is None:
            return None
        data = {"action": event.fields.get("event.action"), "ip": event.fields.get("source.ip")}
        if role == "login":
            data.update(net=source_key(event), agent=event_agent(event))
        return key, data

    def start_group(self, key: str) -> GroupState:
        return _Recovery(self, key)

    def alert(self, user: str, change: Row, login: Row, reasons: list[str], history: int) -> Alert:
        info = self.rule.info
        return Alert(
            id=alert_id(info.id, user, change.eid, login.eid),
            timestamp=utc(login.ts),
            rule=info,
            event_count=2,
            message=(
                f"{info.title}: {user}: {change.data.get('action') or 'a recovery change'}, then within "
                f"{human_duration(login.ts - change.ts)} a login from "
                f"{login.data.get('ip') or 'an unknown address'} ({'; '.join(reasons)}; {history} earlier logins)"
            ),
            user={"name": user},
            source={"ip": login.data["ip"]} if login.data.get("ip") else None,
            window=window(change.ts, login.ts),
            evidence=[change.eid, login.eid],
            details={"reasons": reasons, "earlier_logins": history, "change": change.data.get("action")},
        )


class _Recovery(GroupState):
    """An account's login networks and clients so far, and its latest recovery change in its window."""

    def __init__(self, detector: ChangeThenUnusualLogin, user: str) -> None:
        self.detector, self.user = detector, user
        self.networks: set[str] = set()
        self.agents: set[str] = set()
        self.logins = 0
        self.change: Row | None = None

    def feed(self, row: Row) -> list[Alert]:
        parameters = self.detector.parameters
        if row.role == RECOVERY_CHANGE:
            self.change = row
            return []
        alerts = []
        change, novelty = self.change, parameters["novelty"]
        net, agent = row.data.get("net"), row.data.get("agent")
        if (
            change is not None
            and row.ts - change.ts <= parameters["window"]
            and self.logins >= parameters["baseline_logins"]
        ):
            reasons = []
            if "source" in novelty and net and net not in self.networks:
                reasons.append(f"new network {net}")
            if "user_agent" in novelty and agent and agent not in self.agents:
                reasons.append(f"new client {agent}")
            if reasons:
                alerts.append(self.detector.alert(self.user, change, row, reasons, self.logins))
                self.change = None
        self.logins += 1
        self.networks.update([net] if net else [])
        self.agents.update([agent] if agent else [])
        return alerts
