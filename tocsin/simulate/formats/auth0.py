"""Auth0 tenant logs as a log stream delivers them: the customer-facing app's sign-ins."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from random import Random
from typing import Any

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import HOUR, Day
from tocsin.simulate.records import Record, iso_ms
from tocsin.simulate.world import BROWSERS, HOME_CITIES, City, public_ip, token

STREAM = "auth0"
CLIENT = ("Northwind Web", "Xk2v9QpL7dR4tY8mB3nW6cZ1aF5gH0jE")
CONNECTION = ("Username-Password-Authentication", "con_7TnV2bQ9xRk4LpZs")
MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "gmx.de")
DESCRIPTIONS = {
    "s": "Successful login",
    "fp": "Wrong email or password.",
    "fu": "Wrong email or password.",
    "slo": "User successfully logged out",
    "limit_wc": "Blocked account: too many failed login attempts",
}
#: Customers per employee at scale 1.
CUSTOMERS_PER_USER = 6


@dataclass(frozen=True)
class Customer:
    email: str
    user_id: str
    ip: str
    city: City
    agent: str


def customer(seed: int, index: int) -> Customer:
    """The ``index``-th customer: the same seed always gives the same person."""
    rng = Random(f"{seed}/customer/{index}")
    city = rng.choice(HOME_CITIES)
    name = f"{token(rng, rng.randint(5, 9), 'abcdefghijklmnopqrstuvwxyz')}{rng.randint(1, 99)}"
    return Customer(
        f"{name}@{rng.choice(MAIL_DOMAINS)}",
        "auth0|" + token(rng, 24, "0123456789abcdef"),
        public_ip(rng, city),
        city,
        rng.choice(BROWSERS)[0],
    )


def log(
    rng: Random, time: float, code: str, email: str, ip: str, agent: str, user_id: str | None = None
) -> Record:
    log_id = f"900{iso_ms(time)[:10].replace('-', '')}{token(rng, 46, '0123456789')}"
    data: dict[str, Any] = {
        "date": iso_ms(time),
        "type": code,
        "description": DESCRIPTIONS[code],
        "connection": CONNECTION[0],
        "connection_id": CONNECTION[1],
        "client_id": CLIENT[1],
        "client_name": CLIENT[0],
        "ip": ip,
        "user_agent": agent,
        "details": {
            "prompts": [],
            "initiatedAt": int(time * 1000),
            "completedAt": int(time * 1000) + 412,
            "session_id": token(rng, 32),
        },
        "hostname": "login.northwind-app.com",
        "user_id": user_id or "",
        "user_name": email,
        "strategy": "auth0",
        "strategy_type": "database",
        "log_id": log_id,
    }
    return Record(time, STREAM, {"log_id": log_id, "data": data})


def visit(rng: Random, time: float, person: Customer) -> Iterator[Record]:
    """A customer signs in (now and then after a wrong password) and later signs out."""
    if rng.random() < 0.07:
        yield log(rng, time, "fp", person.email, person.ip, person.agent, person.user_id)
        time += rng.uniform(8, 40)
    yield log(rng, time, "s", person.email, person.ip, person.agent, person.user_id)
    if rng.random() < 0.4:
        yield log(
            rng, time + rng.uniform(120, 3600), "slo", person.email, person.ip, person.agent, person.user_id
        )


def auth0_background(context: Background, day: Day) -> Iterable[Activity]:
    """Customers visit through the day, mostly in their evenings; weekends are busier."""
    rng = context.rng
    customers = len(context.world.users) * CUSTOMERS_PER_USER
    for _ in range(round(customers * (0.45 if day.weekend else 0.3))):
        person = customer(context.world.seed, rng.randrange(customers))
        hour = rng.choice((rng.uniform(7, 23), rng.gauss(20, 1.5)))
        time = day.start + min(23.9, max(0.0, hour - person.city.utc_offset)) * HOUR
        yield time, partial(visit, rng, time, person)
