"""Sequential object ids read by one client: an API walked record by record.

Sigma counts distinct values in a window but cannot see order, so a scraper that reads ids
``n, n+1, n+2…`` slowly enough stays under any distinct-count threshold. Per client (the first of
``by`` an event has: its API token, else its source address) and object type, a *run* grows
while each read's numeric ``tocsin.object.id`` is 1 to ``max_step`` above the previous one and
comes within ``window`` of it; re-reading the same id neither grows nor breaks it. A run of
``min_run`` reads or more is one alert, with its reads as evidence. People and integrations
read the records they work on, or every ``n``-th id of a feed: short runs or wide strides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tocsin.detectors.stateful.base import Detector, GroupState, Row, capped, utc, window
from tocsin.detectors.stateful.spec import StatefulSpecError
from tocsin.model.alert import Alert, alert_id
from tocsin.model.event import Event

#: Ids longer than this are not counted as numbers (no arbitrary-size integers from an input).
_MAX_DIGITS = 18


@dataclass
class _Run:
    rows: list[Row] = field(default_factory=list)
    last: int = 0


class SequentialObjectWalk(Detector):
    kind = "sequential_object_walk"
    roles = ("read",)
    defaults = {
        "window": 600,
        "min_run": 20,
        "max_step": 2,
        "by": ["tocsin.token.id", "source.address"],
    }

    @classmethod
    def check(cls, parameters: dict[str, Any]) -> None:
        if parameters["min_run"] < 3 or parameters["max_step"] < 1:
            raise StatefulSpecError("min_run must be at least 3 and max_step at least 1")
        if not parameters["by"] or not all(isinstance(name, str) for name in parameters["by"]):
            raise StatefulSpecError("by must list the fields that name a client")

    def extract(self, role: str, event: Event) -> tuple[str, dict[str, Any]] | None:
        identifier = event.fields.get("tocsin.object.id")
        text = (
            str(identifier) if isinstance(identifier, str | int) and not isinstance(identifier, bool) else ""
        )
        if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
            return None
        for name in self.parameters["by"]:
            client = event.fields.get(name)
            if client not in (None, ""):
                return f"{name}={client}", {
                    "id": int(text),
                    "type": str(event.fields.get("tocsin.object.type") or ""),
                    "user": event.fields.get("user.name"),
                    "ip": event.fields.get("source.ip"),
                }
        return None

    def start_group(self, key: str) -> GroupState:
        return _Walks(self, key)

    def alert(self, client: str, run: _Run) -> Alert | None:
        if len(run.rows) < self.parameters["min_run"]:
            return None
        info, first, last = self.rule.info, run.rows[0], run.rows[-1]
        kind = first.data.get("type") or "object"
        evidence, truncated = capped([row.eid for row in run.rows])
        field_name, _, value = client.partition("=")
        users = sorted({str(row.data["user"]) for row in run.rows if row.data.get("user")})
        addresses = sorted({str(row.data["ip"]) for row in run.rows if row.data.get("ip")})
        return Alert(
            id=alert_id(info.id, client, first.eid),
            timestamp=utc(last.ts),
            rule=info,
            event_count=len(run.rows),
            message=(
                f"{info.title}: {len(run.rows)} {kind} ids read in order, {first.data['id']} to "
                f"{last.data['id']}, by {client}"
            ),
            user={"name": users[0]} if len(users) == 1 else None,
            source={"ip": addresses[0]} if len(addresses) == 1 else None,
            group_by={field_name: value},
            window=window(first.ts, last.ts),
            metric={"name": "sequential_reads", "value": len(run.rows)},
            evidence=evidence,
            evidence_truncated=truncated,
            details={"object_type": kind, "first_id": first.data["id"], "last_id": last.data["id"]},
        )


class _Walks(GroupState):
    """One client's current run per object type."""

    def __init__(self, detector: SequentialObjectWalk, client: str) -> None:
        self.detector, self.client = detector, client
        self.runs: dict[str, _Run] = {}

    def feed(self, row: Row) -> list[Alert]:
        parameters = self.detector.parameters
        number, run = row.data["id"], self.runs.get(row.data["type"])
        if run is not None and row.ts - run.rows[-1].ts <= parameters["window"]:
            step = number - run.last
            if step == 0:
                return []
            if 1 <= step <= parameters["max_step"]:
                run.rows.append(row)
                run.last = number
                return []
        ended = self.detector.alert(self.client, run) if run is not None else None
        self.runs[row.data["type"]] = _Run([row], number)
        return [ended] if ended else []

    def open_alerts(self) -> list[Alert]:
        alerts = (self.detector.alert(self.client, run) for run in self.runs.values())
        return [alert for alert in alerts if alert is not None]
