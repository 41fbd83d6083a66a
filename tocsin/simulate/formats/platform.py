"""The customer platform's own security events (tocsin's ``tocsin.platform/1`` schema).

The platform's customers are the Auth0 stream's people (``auth0.customer``): the same seed gives
the same person, address and browser. Besides visits (login, session refreshes, reading their own
records, a logout) the background has the look-alikes rules must not raise: customers behind one
busy NAT address, customers who forget a password and reset it from home, a wrong e-mail typed
once, an administrator's large bulk exports and a partner integration reading records all day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from random import Random
from typing import Any

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import HOUR, Day
from tocsin.simulate.formats.auth0 import CUSTOMERS_PER_USER, Customer, customer
from tocsin.simulate.records import Record, iso_ms
from tocsin.simulate.world import token

STREAM = "platform"
APP = "northwind-app"
SCHEMA = "tocsin.platform/1"
#: A university's NAT address: every ``NAT_EVERY``-th customer visits from it.
NAT_IP = "145.90.12.1"
NAT_EVERY = 6
OFFICE_IP = "193.175.44.10"
#: TLS client fingerprints (JA3) by client: browsers share theirs across millions of users.
JA3 = {
    "Chrome": "cd08e31494f9531f560d64c695473da9",
    "Firefox": "579ccef312d18482fc42e2b822ca2430",
    "Safari": "773906b0efdefa24a7f2b8eb6985bf37",
    "python-requests": "3b5074b1b5d032e5620f69f9f700ff0e",
    "Go-http-client": "b32309a26951912be7dba376398abc3b",
}
ADMIN = ("ops-admin@northwind-app.com", "u-admin-1")
PARTNER = ("billing-sync@partner.example", "u-partner-7", "tok-partner-billing", "34.120.88.17")


def ja3(agent: str) -> str:
    """The JA3 of a client, from its User-Agent."""
    for name in ("Firefox", "python-requests", "Go-http-client", "Chrome"):
        if name in agent:
            return JA3[name]
    return JA3["Safari"]


def event(
    time: float,
    kind: str,
    user: tuple[str, str | None] | None,
    ip: str,
    agent: str,
    outcome: str = "success",
    **extra: Any,
) -> Record:
    """One platform event; ``user`` is (name, id), id None for a name the platform does not know."""
    record: dict[str, Any] = {"schema": SCHEMA, "timestamp": iso_ms(time), "event": kind, "app": APP}
    record["outcome"] = outcome
    if user is not None:
        record["user"] = {"name": user[0], **({"id": user[1]} if user[1] else {})}
    record["source"] = {"ip": ip}
    record["user_agent"] = agent
    record["tls"] = {"ja3": ja3(agent)}
    record.update({key: value for key, value in extra.items() if value is not None})
    return Record(time, STREAM, record)


def request(method: str, path: str, status: int, size: int | None = None) -> dict[str, Any]:
    return {"method": method, "path": path, "status": status, **({"bytes": size} if size is not None else {})}


def login(
    time: float,
    user: tuple[str, str | None],
    ip: str,
    agent: str,
    session: str | None,
    reason: str | None = None,
) -> Record:
    """A login through the API: 200 with a new session, or 401 with the reason."""
    ok = reason is None
    return event(
        time,
        "login",
        user,
        ip,
        agent,
        "success" if ok else "failure",
        reason=reason,
        session_id=session if ok else None,
        request=request("POST", "/api/v1/auth/login", 200 if ok else 401, 412 if ok else 96),
    )


def refresh(time: float, user: tuple[str, str | None], ip: str, agent: str, session: str) -> Record:
    return event(
        time,
        "session_refresh",
        user,
        ip,
        agent,
        session_id=session,
        request=request("POST", "/api/v1/auth/refresh", 200, 388),
    )


def read(
    time: float, user: tuple[str, str | None], ip: str, agent: str, token_id: str, kind: str, number: int
) -> Record:
    """An API read of one object."""
    return event(
        time,
        "api_access",
        user,
        ip,
        agent,
        token_id=token_id,
        object={"type": kind, "id": str(number)},
        request=request("GET", f"/api/v1/{kind}s/{number}", 200, 1800 + number % 700),
    )


def export(time: float, user: tuple[str, str | None], ip: str, agent: str, size: int) -> Record:
    return event(
        time,
        "data_export",
        user,
        ip,
        agent,
        bytes=size,
        request=request("POST", "/api/v1/exports", 200, size),
    )


def new_session(rng: Random) -> str:
    return "s-" + token(rng, 20)


def identity(person: Customer) -> tuple[str, str]:
    return person.email, person.user_id


def customer_visits(context: Background, day: Day) -> Iterator[tuple[float, Customer, str]]:
    """The day's customer visits (evenings, busier at weekends): when, who, and from which address."""
    rng = context.rng
    customers = len(context.world.users) * CUSTOMERS_PER_USER
    for _ in range(round(customers * (0.45 if day.weekend else 0.35))):
        index = rng.randrange(customers)
        person = customer(context.world.seed, index)
        hour = rng.choice((rng.uniform(7, 23), rng.gauss(20, 1.5)))
        time = day.start + min(23.5, max(0.0, hour - person.city.utc_offset)) * HOUR
        yield time, person, origin(person, index)


def origin(person: Customer, index: int) -> str:
    """Where a customer connects from: the university NAT for some, else their own address."""
    return NAT_IP if index % NAT_EVERY == 0 else person.ip


def visit(rng: Random, time: float, person: Customer, ip: str) -> Iterator[Record]:
    """A customer logs in (now and then after a typo), refreshes the session, reads some records."""
    user = identity(person)
    if rng.random() < 0.05:
        yield login(time, user, ip, person.agent, None, "bad_password")
        time += rng.uniform(8, 40)
    elif rng.random() < 0.02:
        typo = ("x" + person.email, None)
        yield login(time, typo, ip, person.agent, None, "unknown_user")
        time += rng.uniform(8, 40)
    session = new_session(rng)
    yield login(time, user, ip, person.agent, session)
    api_token = "tok-" + token(rng, 12)
    base = int(person.user_id[-6:], 16) % 1_000_000 * 10
    for _ in range(rng.randint(0, 8)):
        time += rng.uniform(5, 120)
        yield read(time, user, ip, person.agent, api_token, "order", base + rng.randrange(10))
    for _ in range(rng.randint(0, 3)):
        time += rng.uniform(600, 1500)
        yield refresh(time, user, ip, person.agent, session)
    if rng.random() < 0.03:
        yield export(time + rng.uniform(10, 60), user, ip, person.agent, rng.randint(20_000, 900_000))
    if rng.random() < 0.4:
        yield event(time + rng.uniform(60, 600), "logout", user, ip, person.agent, session_id=session)


def forgotten_password(rng: Random, time: float, person: Customer, ip: str) -> Iterator[Record]:
    """Two or three wrong passwords, a reset (asked once or twice), then a login from the same place."""
    user = identity(person)
    for _ in range(rng.randint(2, 3)):
        yield login(time, user, ip, person.agent, None, "bad_password")
        time += rng.uniform(10, 40)
    for _ in range(rng.randint(1, 2)):
        yield event(
            time,
            "password_reset_request",
            user,
            ip,
            person.agent,
            request=request("POST", "/api/v1/password/forgot", 200),
        )
        time += rng.uniform(60, 240)
    yield event(time, "password_reset_complete", user, ip, person.agent)
    time += rng.uniform(20, 90)
    yield login(time, user, ip, person.agent, new_session(rng))


def bulk_export(rng: Random, time: float) -> Iterator[Record]:
    """The administrator's nightly bulk export: one to three large jobs."""
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36"
    yield login(time, ADMIN, OFFICE_IP, agent, new_session(rng))
    for _ in range(rng.randint(1, 3)):
        time += rng.uniform(60, 900)
        yield export(time, ADMIN, OFFICE_IP, agent, rng.randint(800_000_000, 3_000_000_000))


def partner_sync(rng: Random, time: float) -> Iterator[Record]:
    """A partner integration reads the invoices changed since its last run."""
    name, user_id, token_id, ip = PARTNER
    start = rng.randrange(200_000)
    for offset in range(rng.randint(20, 60)):
        time += rng.uniform(2, 10)
        yield read(time, (name, user_id), ip, "Go-http-client/2.0", token_id, "invoice", start + offset * 7)


def platform_background(context: Background, day: Day) -> Iterable[Activity]:
    """Customer visits (evenings, busier at weekends), a few forgotten passwords, the admin's export
    on working days and the partner's sync every hour."""
    rng = context.rng
    customers = len(context.world.users) * CUSTOMERS_PER_USER
    for time, person, address in customer_visits(context, day):
        yield time, partial(visit, rng, time, person, address)
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(customers)
        person = customer(context.world.seed, index)
        time = day.start + rng.uniform(8, 22) * HOUR
        yield time, partial(forgotten_password, rng, time, person, origin(person, index))
    if not day.weekend:
        time = day.start + rng.uniform(1, 3) * HOUR
        yield time, partial(bulk_export, rng, time)
    for hour in range(24):
        time = day.start + (hour + rng.uniform(0, 0.5)) * HOUR
        yield time, partial(partner_sync, rng, time)
