"""Impossible travel: two successful logins of one account too far apart for the time between them.

Each login is compared with the account's previous located login; a pair is reported when the
great-circle distance is at least ``min_distance_km`` (geo-IP is imprecise by hundreds of km) and
the implied speed exceeds ``max_speed_kmh``. Logins without a location are not compared, and
counted in the summary.
"""

from __future__ import annotations

from typing import Any

from tocsin.detectors.stateful.base import Detector, GroupState, Row, user_key, utc, window
from tocsin.detectors.stateful.geo import Place, distance_km, event_place, speed_kmh
from tocsin.model.alert import Alert, alert_id
from tocsin.model.event import Event


def login_data(event: Event, detector: Detector) -> dict[str, Any]:
    """What the travel check needs of a login: address, and location when known."""
    data: dict[str, Any] = {"ip": event.fields.get("source.ip")}
    place = event_place(event, detector.geoip)
    if place is None:
        detector.note("successful logins without a location, not checked for travel")
    else:
        data.update(lat=place.lat, lon=place.lon, place=place.name)
    return data


def place_of(data: dict[str, Any]) -> Place | None:
    return Place(data["lat"], data["lon"], data.get("place")) if "lat" in data else None


def impossible(earlier: Row, later: Row, max_speed: float, min_distance: float) -> tuple[float, float] | None:
    """(distance km, speed km/h) when going from ``earlier`` to ``later`` is impossible, else None."""
    start, end = place_of(earlier.data), place_of(later.data)
    if start is None or end is None:
        return None
    distance = distance_km(start, end)
    speed = speed_kmh(distance, later.ts - earlier.ts)
    return (distance, speed) if distance >= min_distance and speed > max_speed else None


def describe(row: Row) -> str:
    place = row.data.get("place") or f"{row.data['lat']:.2f},{row.data['lon']:.2f}"
    return f"{place} ({row.data.get('ip') or 'unknown address'})"


class ImpossibleTravel(Detector):
    kind = "impossible_travel"
    roles = ("login",)
    defaults = {"max_speed_kmh": 1000.0, "min_distance_km": 500.0}

    def extract(self, role: str, event: Event) -> tuple[str, dict[str, Any]] | None:
        key = user_key(event)
        return (key, login_data(event, self)) if key else None

    def start_group(self, key: str) -> GroupState:
        return _Track(self, key)

    def _alert(self, user: str, first: Row, second: Row, distance: float, speed: float) -> Alert:
        info = self.rule.info
        minutes = (second.ts - first.ts) / 60
        return Alert(
            id=alert_id(info.id, user, first.eid, second.eid),
            timestamp=utc(second.ts),
            rule=info,
            event_count=2,
            message=(
                f"{info.title}: {user} logged in from {describe(first)} and {minutes:.0f} min later from "
                f"{describe(second)}: {distance:,.0f} km at {speed:,.0f} km/h"
            ),
            user={"name": user},
            source={"ip": second.data["ip"]} if second.data.get("ip") else None,
            window=window(first.ts, second.ts),
            metric={"name": "speed_kmh", "value": round(speed)},
            evidence=[first.eid, second.eid],
            details={
                "distance_km": round(distance),
                "speed_kmh": round(speed),
                "from": _point(first),
                "to": _point(second),
            },
        )


class _Track(GroupState):
    """An account's previous located login."""

    def __init__(self, detector: ImpossibleTravel, user: str) -> None:
        self.detector, self.user = detector, user
        self.previous: Row | None = None

    def feed(self, row: Row) -> list[Alert]:
        if "lat" not in row.data:
            return []
        previous, self.previous = self.previous, row
        if previous is None:
            return []
        parameters = self.detector.parameters
        found = impossible(previous, row, parameters["max_speed_kmh"], parameters["min_distance_km"])
        return [self.detector._alert(self.user, previous, row, *found)] if found else []


def _point(row: Row) -> dict[str, Any]:
    data = row.data
    return {
        "time": utc(row.ts).isoformat().replace("+00:00", "Z"),
        "ip": data.get("ip"),
        "place": data.get("place"),
        "location": {"lat": data["lat"], "lon": data["lon"]},
    }
