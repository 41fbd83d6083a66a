"""Where a login came from: the event's ``source.geo`` fields, else an optional MaxMind database.

``geoip2`` is an optional dependency (``pip install 'tocsin[geoip]'``); without it, or without a
database, only the locations the sources themselves record (Okta, Entra ID) are known.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from tocsin.memo import bounded_cache
from tocsin.model.event import Event

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    """A located login: coordinates and, when known, a readable name."""

    lat: float
    lon: float
    name: str | None = None


def distance_km(a: Place, b: Place) -> float:
    """Great-circle (haversine) distance between two places, in kilometres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def speed_kmh(distance: float, seconds: float) -> float:
    """Travel speed; logins less than a second apart count as one second apart."""
    return distance / (max(seconds, 1.0) / 3600)


class GeoIP:
    """A MaxMind City (or GeoLite2-City) database, looked up with a small cache."""

    def __init__(self, path: Path) -> None:
        try:
            import geoip2.database
        except ImportError:
            raise GeoIPUnavailable("--geoip needs the geoip2 package: pip install 'tocsin[geoip]'") from None
        try:
            self._reader = geoip2.database.Reader(str(path))
        except (OSError, ValueError) as exc:
            raise GeoIPUnavailable(f"cannot open GeoIP database {path}: {exc}") from None
        self.lookup = bounded_cache(entries=65536, longest=128)(self._lookup)

    def _lookup(self, ip: str) -> Place | None:
        import geoip2.errors

        try:
            city = self._reader.city(ip)
        except (geoip2.errors.AddressNotFoundError, ValueError):
            return None
        lat, lon = city.location.latitude, city.location.longitude
        if lat is None or lon is None:
            return None
        return Place(lat, lon, _name(city.city.name, None, city.country.iso_code or city.country.name))

    def close(self) -> None:
        self._reader.close()


class GeoIPUnavailable(RuntimeError):
    """The GeoIP database was asked for but cannot be used."""


def event_place(event: Event, geoip: GeoIP | None) -> Place | None:
    """The login's location: the event's ``source.geo.location``, else GeoIP on a public ``source.ip``."""
    get = event.get
    location = get("source.geo.location")
    if isinstance(location, dict):
        lat, lon = location.get("lat"), location.get("lon")
    else:
        lat, lon = get("source.geo.location.lat"), get("source.geo.location.lon")
    if _number(lat) and _number(lon) and -90 <= lat <= 90 and -180 <= lon <= 180:
        name = _name(
            get("source.geo.city_name"),
            get("source.geo.region_name"),
            get("source.geo.country_iso_code") or get("source.geo.country_name"),
        )
        return Place(float(lat), float(lon), name)
    ip = event.fields.get("source.ip")
    if geoip is None or not ip or not _public(str(ip)):
        return None
    return geoip.lookup(str(ip))


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _public(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def _name(city: Any, region: Any, country: Any) -> str | None:
    parts = [str(part) for part in (city, region, country) if part]
    return ", ".join(parts) or None
