"""Daily cycles: when each user signs in on a given day, from where.

Working days start around each user's usual hour (local time), with a second sign-in after lunch
for some; weekends are quiet with a few people working from home. Now and then a user travels
(``plan_trips``): a morning sign-in at home, the next one at the destination a flight's time
later, a few days from the hotel, and the same way back.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import acos, cos, radians, sin
from random import Random

from tocsin.simulate.world import HOME_CITIES, City, User, World, public_ip

DAY = 86400.0
HOUR = 3600.0
#: Hours a morning sign-in's session keeps being used (SSO hops, token refreshes).
SESSION_TAIL = 4.0
#: Average speed of a flight, gate to gate.
FLIGHT_KMH = 800.0


@dataclass(frozen=True)
class Day:
    """One simulated UTC day."""

    index: int
    start: float

    @property
    def weekday(self) -> int:
        return int((self.start // DAY + 3) % 7)  # 1970-01-01 was a Thursday

    @property
    def weekend(self) -> bool:
        return self.weekday >= 5


@dataclass(frozen=True)
class Login:
    """A user signing in: when, from which address and where that address is."""

    user: User
    time: float
    ip: str
    city: City


def local_time(day: Day, city: City, hour: float) -> float:
    """Epoch seconds of ``hour`` (local) on ``day`` in ``city``."""
    return day.start + (hour - city.utc_offset) * HOUR


def distance_km(a: City, b: City) -> float:
    """Great-circle distance between two cities."""
    lat1, lat2, dlon = radians(a.lat), radians(b.lat), radians(b.lon - a.lon)
    cosine = sin(lat1) * sin(lat2) + cos(lat1) * cos(lat2) * cos(dlon)
    return 6371.0 * acos(max(-1.0, min(1.0, cosine)))


@dataclass(frozen=True)
class Trip:
    """A business trip: the user flies out on day ``depart`` and back on day ``back``."""

    user: User
    destination: City
    hotel_ip: str
    depart: int
    back: int


def plan_trips(world: World, days: int) -> dict[str, Trip]:
    """Who travels when: the same plan for every source, so that all of them see the user move."""
    rng = Random(f"{world.seed}/trips")
    trips: dict[str, Trip] = {}
    for depart in range(days):
        if rng.random() < 0.3:
            user = rng.choice(world.users)
            if user.login not in trips:
                destination = rng.choice([city for city in HOME_CITIES if city != user.city])
                trips[user.login] = Trip(
                    user, destination, public_ip(rng, destination), depart, depart + rng.randint(2, 4)
                )
    return trips


def travelling(trips: dict[str, Trip], user: User, day: int) -> bool:
    trip = trips.get(user.login)
    return trip is not None and trip.depart <= day <= trip.back


def logins(world: World, rng: Random, day: Day, trips: dict[str, Trip]) -> list[Login]:
    """The sign-ins of every user on ``day``, in time order."""
    found: list[Login] = []
    for user in world.users:
        trip = trips.get(user.login)
        if trip and trip.depart < day.index < trip.back:  # away: working from the hotel
            hour = max(6.5, rng.gauss(user.start_hour, 0.5))
            found.append(
                Login(user, local_time(day, trip.destination, hour), trip.hotel_ip, trip.destination)
            )
            continue
        if trip and day.index in (
            trip.depart,
            trip.back,
        ):  # a morning's work, then the airport and the flight
            here, there = (
                (user.city, trip.destination) if day.index == trip.depart else (trip.destination, user.city)
            )
            ip = user.home_ip if day.index == trip.depart else trip.hotel_ip
            morning = local_time(day, here, max(6.5, rng.gauss(user.start_hour, 0.35)))
            flight = distance_km(here, there) / FLIGHT_KMH + rng.uniform(2.5, 4)
            arrival = morning + (SESSION_TAIL + flight) * HOUR
            found.append(Login(user, morning, ip, here))
            found.append(
                Login(user, arrival, trip.hotel_ip if there is trip.destination else user.home_ip, there)
            )
            continue
        if day.weekend:
            if rng.random() < 0.08:
                found.append(
                    Login(user, local_time(day, user.city, rng.uniform(10, 18)), user.home_ip, user.city)
                )
            continue
        if rng.random() < 0.05:  # leave, sick day
            continue
        office = user.office_ip
        ip = user.home_ip if office is None or rng.random() < 0.2 else office  # remote: home
        start = max(6.5, rng.gauss(user.start_hour, 0.35))
        found.append(Login(user, local_time(day, user.city, start), ip, user.city))
        if rng.random() < 0.45:
            found.append(Login(user, local_time(day, user.city, rng.uniform(13.0, 14.5)), ip, user.city))
    found.sort(key=lambda login: login.time)
    return found


def password_typos(rng: Random, rate: float) -> int:
    """How many wrong passwords a user types before signing in: one or two at ``rate``, else none."""
    return rng.choice((1, 2)) if rng.random() < rate else 0
