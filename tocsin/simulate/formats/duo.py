"""Cisco Duo authentication logs (Admin API v2): the second factor of VPN sign-ins."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from random import Random

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import Day, Login, logins
from tocsin.simulate.records import Record, iso_us
from tocsin.simulate.world import City, User, token

STREAM = "duo"
APPLICATION = {"key": "DIY5R0ODUGD2EF1ZNHCF", "name": "Corporate VPN"}
#: Duo's (result, reason) for a push the user approved, denied or did not answer.
RESULTS = {
    "approved": ("success", "user_approved"),
    "denied": ("denied", "user_mistake"),
    "timeout": ("denied", "no_response"),
    "fraud": ("fraud", "user_marked_fraud"),
}


def push(rng: Random, time: float, user: User, ip: str, city: City, outcome: str) -> Record:
    result, reason = RESULTS[outcome]
    record = {
        "access_device": {
            "browser": None,
            "hostname": None,
            "ip": ip,
            "location": {"city": city.name, "country": city.country, "state": city.region},
            "os": "Mac OS X" if "Mac" in user.user_agent else "Windows",
        },
        "alias": "",
        "application": APPLICATION,
        "auth_device": {
            "ip": None,
            "location": {"city": None, "country": None, "state": None},
            "name": "iPhone (" + user.login.split(".")[0].title() + ")",
        },
        "email": user.email,
        "event_type": "authentication",
        "factor": "duo_push",
        "isotimestamp": iso_us(time),
        "ood_software": None,
        "reason": reason,
        "result": result,
        "timestamp": int(time),
        "trusted_endpoint_status": "not trusted",
        "txid": f"{token(rng, 8, '0123456789abcdef')}-{token(rng, 4, '0123456789abcdef')}-{token(rng, 12, '0123456789abcdef')}",
        "user": {
            "groups": ["Employees"],
            "key": "DU" + token(rng, 18, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
            "name": user.email,
        },
    }
    return Record(time, STREAM, record)


def duo_background(context: Background, day: Day) -> Iterable[Activity]:
    """Remote workers approve a push when the VPN connects; a few miss one and approve the retry."""
    rng = context.rng
    for login in logins(context.world, rng, day, context.trips):
        if login.ip == login.user.office_ip:
            continue
        if rng.random() < 0.01:  # the phone was in another room
            retry = login.time + rng.uniform(90, 300)
            yield (
                login.time,
                partial(_timeout_then_approval, rng, login, retry),
            )
        else:
            yield login.time, partial(_approval, rng, login)


def _approval(rng: Random, login: Login) -> list[Record]:
    return [push(rng, login.time, login.user, login.ip, login.city, "approved")]


def _timeout_then_approval(rng: Random, login: Login, retry: float) -> list[Record]:
    return [
        push(rng, login.time, login.user, login.ip, login.city, "timeout"),
        push(rng, retry, login.user, login.ip, login.city, "approved"),
    ]
