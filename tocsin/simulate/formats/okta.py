"""Okta System Log events (``/api/v1/logs``), the workforce identity provider's view of sign-ins."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from random import Random
from typing import Any, Literal

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import Day, Login, logins, password_typos
from tocsin.simulate.records import Record, iso_ms
from tocsin.simulate.world import ISPS, City, User, guid, token

STREAM = "okta"
APPS = ("Slack", "Salesforce.com", "GitHub Enterprise Cloud", "Atlassian Cloud", "Zoom", "Workday")
_MESSAGES = {
    "user.session.start": ("User login to Okta", "core.user_auth.login_success"),
    "user.authentication.auth_via_mfa": (
        "Authentication of user via MFA",
        "core.user.factor.attempt_success",
    ),
    "system.push.send_factor_verify_push": ("Push notification sent for verification", None),
    "user.mfa.okta_verify.deny_push": ("User rejected Okta push verify", None),
    "user.authentication.sso": ("User single sign on to app", "app.auth.sso"),
}
PushStep = Literal["sent", "approved", "denied"]
#: Event type, result and reason of each step of an Okta Verify push.
_PUSH_STEPS: dict[PushStep, tuple[str, str, str | None]] = {
    "sent": ("system.push.send_factor_verify_push", "SUCCESS", None),
    "approved": ("user.authentication.auth_via_mfa", "SUCCESS", None),
    "denied": ("user.mfa.okta_verify.deny_push", "FAILURE", "User rejected Okta push verify"),
}


def event(
    rng: Random,
    time: float,
    event_type: str,
    user: User | str,
    ip: str,
    city: City,
    agent: str,
    result: str = "SUCCESS",
    reason: str | None = None,
    session: str | None = None,
    factor: str | None = None,
    app: str | None = None,
) -> Record:
    """One System Log event; ``user`` is a User, or the login name an unknown person typed."""
    message, legacy = _MESSAGES[event_type]
    if isinstance(user, str):
        actor = {
            "id": "unknown",
            "type": "User",
            "alternateId": user,
            "displayName": "unknown",
            "detailEntry": None,
        }
    else:
        actor = {
            "id": user.okta_id,
            "type": "User",
            "alternateId": user.email,
            "displayName": user.full_name,
            "detailEntry": None,
        }
    asn, org, domain = ISPS[city.name]
    geo = {
        "city": city.name,
        "state": city.region,
        "country": city.country,
        "postalCode": city.postal_code or None,
        "geolocation": {"lat": city.lat, "lon": city.lon},
    }
    debug: dict[str, Any] = {
        "requestId": token(rng, 27),
        "requestUri": "/idp/idx/identify",
        "url": "/idp/idx/identify?",
    }
    if factor:
        debug["factor"] = factor
    if event_type == "user.mfa.okta_verify.deny_push":
        legacy = None
    elif result == "FAILURE" and legacy:
        legacy = legacy.replace("success", "failure").replace("attempt_failure", "attempt_fail")
    record = {
        "actor": actor,
        "client": {
            "userAgent": {"rawUserAgent": agent, "os": _os(agent), "browser": _browser(agent)},
            "zone": "null",
            "device": "Computer",
            "id": None,
            "ipAddress": ip,
            "geographicalContext": geo,
        },
        "device": None,
        "authenticationContext": {
            "authenticationProvider": None,
            "credentialProvider": None,
            "credentialType": None,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "externalSessionId": session or "unknown",
        },
        "displayMessage": message,
        "eventType": event_type,
        "outcome": {"result": result, "reason": reason},
        "published": iso_ms(time),
        "securityContext": {
            "asNumber": asn,
            "asOrg": org.lower(),
            "isp": org.lower(),
            "domain": domain,
            "isProxy": False,
        },
        "severity": "INFO" if result == "SUCCESS" else "WARN",
        "debugContext": {"debugData": debug},
        "legacyEventType": legacy,
        "transaction": {"type": "WEB", "id": token(rng, 27), "detail": {}},
        "uuid": guid(rng),
        "version": "0",
        "request": {"ipChain": [{"ip": ip, "geographicalContext": geo, "version": "V4", "source": None}]},
        "target": [
            {
                "id": "0oa" + token(rng, 17),
                "type": "AppInstance",
                "alternateId": app,
                "displayName": app,
                "detailEntry": None,
            }
        ]
        if app
        else None,
    }
    return Record(time, STREAM, record)


def _browser(agent: str) -> str:
    for marker, name in (
        ("Edg/", "EDGE"),
        ("Firefox", "FIREFOX"),
        ("Chrome", "CHROME"),
        ("Safari", "SAFARI"),
    ):
        if marker in agent:
            return name
    return "UNKNOWN"


def _os(agent: str) -> str:
    for marker, name in (("Mac OS X", "Mac OS X"), ("Windows", "Windows 10"), ("Linux", "Linux")):
        if marker in agent:
            return name
    return "Unknown"


def new_session(rng: Random) -> str:
    """A fresh Okta session id."""
    return "102" + token(rng, 22)


def push(
    rng: Random, time: float, step: PushStep, user: User, ip: str, city: City, agent: str, session: str
) -> Record:
    """One step of an Okta Verify push in ``session``: sent, approved or denied."""
    event_type, result, reason = _PUSH_STEPS[step]
    return event(
        rng, time, event_type, user, ip, city, agent, result, reason, session, factor="OKTA_VERIFY_PUSH"
    )


def sign_in(
    rng: Random, time: float, user: User, ip: str, city: City, agent: str, session: str, typos: int = 0
) -> Iterator[Record]:
    """A user's interactive sign-in: password (after ``typos`` mistakes), then an approved Okta Verify push."""
    for _ in range(typos):
        yield event(
            rng, time, "user.session.start", user, ip, city, agent, "FAILURE", "INVALID_CREDENTIALS", session
        )
        time += rng.uniform(4, 15)
    yield event(rng, time, "user.session.start", user, ip, city, agent, session=session)
    time += rng.uniform(0.5, 2)
    yield push(rng, time, "sent", user, ip, city, agent, session)
    time += rng.uniform(3, 20)
    yield push(rng, time, "approved", user, ip, city, agent, session)


def okta_background(context: Background, day: Day) -> Iterable[Activity]:
    """Each sign-in, its MFA and the SSO hops to apps that follow; a few typos and stray denied pushes."""
    rng = context.rng
    for login in logins(context.world, rng, day, context.trips):
        session = new_session(rng)
        typos = password_typos(rng, 0.06)
        agent = login.user.user_agent
        yield (
            login.time,
            partial(sign_in, rng, login.time, login.user, login.ip, login.city, agent, session, typos),
        )
        for _ in range(rng.randint(1, 5)):
            hop = login.time + rng.uniform(120, 3 * 3600)
            yield (
                hop,
                partial(_sso, rng, hop, login, agent, session),
            )
        if rng.random() < 0.02:  # a push the user did not expect (a stale session on another device): denied
            stray = login.time + rng.uniform(3600, 6 * 3600)
            yield stray, partial(_stray_push, rng, stray, login.user, login.ip, login.city, agent)


def _stray_push(rng: Random, time: float, user: User, ip: str, city: City, agent: str) -> list[Record]:
    session = new_session(rng)
    return [
        push(rng, time, "sent", user, ip, city, agent, session),
        push(rng, time + rng.uniform(5, 30), "denied", user, ip, city, agent, session),
    ]


def _sso(rng: Random, time: float, login: Login, agent: str, session: str) -> list[Record]:
    """A single sign-on into an app (chosen when the record is written)."""
    return [
        event(
            rng,
            time,
            "user.authentication.sso",
            login.user,
            login.ip,
            login.city,
            agent,
            session=session,
            app=rng.choice(APPS),
        )
    ]
