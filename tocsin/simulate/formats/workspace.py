"""Google Workspace Admin SDK Reports activities (login and Drive applications)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from random import Random
from typing import Any

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import Day, logins, password_typos
from tocsin.simulate.records import Record, iso_ms
from tocsin.simulate.world import User, token

STREAM = "workspace"
CUSTOMER = "C03az79cb"
DOC_TYPES = ("document", "spreadsheet", "presentation", "pdf", "msword", "msexcel")
TOPICS = (
    "Q1 roadmap",
    "Customer list",
    "Pricing 2026",
    "Board deck",
    "Hiring plan",
    "Incident review",
    "Sales pipeline",
    "Payroll export",
    "Contract draft",
    "Architecture notes",
    "OKRs",
    "Vendor invoices",
)


def _parameter(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"name": name, "boolValue": value}
    if isinstance(value, list):
        return {"name": name, "multiValue": value}
    return {"name": name, "value": value}


def activity(
    rng: Random,
    time: float,
    application: str,
    name: str,
    kind: str,
    user: User,
    ip: str,
    parameters: dict[str, Any],
) -> Record:
    record = {
        "kind": "admin#reports#activity",
        "id": {
            "time": iso_ms(time),
            "uniqueQualifier": str(rng.randint(-(2**62), 2**62)),
            "applicationName": application,
            "customerId": CUSTOMER,
        },
        "etag": f'"{token(rng, 27)}/{token(rng, 27)}"',
        "actor": {
            "callerType": "USER",
            "email": user.email,
            "profileId": str(100000000000000000000 + int(user.okta_id[3:11], 36) % 10**20),
        },
        "ipAddress": ip,
        "events": [
            {"type": kind, "name": name, "parameters": [_parameter(k, v) for k, v in parameters.items()]}
        ],
    }
    return Record(time, STREAM, record)


def login(rng: Random, time: float, user: User, ip: str, success: bool = True) -> Record:
    parameters: dict[str, Any] = {
        "login_type": "google_password",
        "login_challenge_method": ["password"],
        "is_suspicious": False,
    }
    if not success:
        parameters["login_failure_type"] = "login_failure_invalid_password"
    return activity(
        rng, time, "login", "login_success" if success else "login_failure", "login", user, ip, parameters
    )


def drive(rng: Random, time: float, user: User, ip: str, name: str, owner: str | None = None) -> Record:
    """A Drive access (view, edit, download) of a document."""
    doc_type = rng.choice(DOC_TYPES)
    parameters = {
        "primary_event": True,
        "billable": True,
        "doc_id": token(rng, 44),
        "doc_type": doc_type,
        "doc_title": f"{rng.choice(TOPICS)} {rng.randint(1, 60)}",
        "visibility": "shared_internally",
        "owner": owner or user.email,
        "owner_is_shared_drive": False,
        "actor_is_collaborator_account": False,
    }
    return activity(rng, time, "drive", name, "access", user, ip, parameters)


def working_session(rng: Random, time: float, user: User, ip: str, typos: int) -> Iterator[Record]:
    """A sign-in (after typos) and the documents opened, edited and now and then downloaded."""
    for _ in range(typos):
        yield login(rng, time, user, ip, success=False)
        time += rng.uniform(5, 20)
    yield login(rng, time, user, ip)
    for _ in range(rng.randint(2, 12)):
        time += rng.expovariate(1 / 600)
        yield drive(rng, time, user, ip, rng.choices(("view", "edit", "download"), (70, 25, 5))[0])


def admin_exports(rng: Random, time: float, user: User, ip: str) -> Iterator[Record]:
    """An admin downloading a folder's worth of documents for an audit: tens, not hundreds."""
    for _ in range(rng.randint(10, 35)):
        time += rng.uniform(5, 90)
        yield drive(rng, time, user, ip, "download", owner=f"finance@{user.email.split('@')[1]}")


def workspace_background(context: Background, day: Day) -> Iterable[Activity]:
    rng = context.rng
    for entry in logins(context.world, rng, day, context.trips):
        typos = password_typos(rng, 0.05)
        yield entry.time, partial(working_session, rng, entry.time, entry.user, entry.ip, typos)
        if entry.user.admin and rng.random() < 0.25:
            start = entry.time + rng.uniform(1800, 4 * 3600)
            yield start, partial(admin_exports, rng, start, entry.user, entry.ip)
