"""Microsoft Entra ID sign-in logs as Azure Monitor diagnostic settings export them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from random import Random
from typing import Any

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import Day, Login, logins, password_typos
from tocsin.simulate.records import Record, iso_7
from tocsin.simulate.world import City, User, guid

STREAM = "entra"
TENANT = "7f3c1d52-8a4e-4b7f-9c21-5d0e6a9b3f11"
APPS = (
    ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
    ("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000"),
)
#: errorCode → failureReason, as Entra reports them.
FAILURES = {
    50126: "Error validating credentials due to invalid username or password.",
    500121: "Authentication failed during strong authentication request.",
    50053: "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
}
PUSH = "Mobile app notification"


def sign_in(
    rng: Random,
    time: float,
    user: User,
    ip: str,
    city: City,
    agent: str,
    session: str,
    code: int = 0,
    mfa: str | None = "approved",
    interactive: bool = True,
) -> Record:
    """One sign-in; ``mfa`` is the push's result (approved, denied, timeout) or None without an MFA step."""
    app, app_id = rng.choice(APPS)
    details: list[dict[str, Any]] = [
        {
            "authenticationStepDateTime": iso_7(time),
            "authenticationMethod": "Password",
            "succeeded": code != 50126,
            "authenticationStepResultDetail": "Correct password"
            if code != 50126
            else "Invalid username or password or Invalid on-premise username or password.",
            "authenticationStepRequirement": "Primary authentication",
        }
    ]
    if mfa and code != 50126:
        detail = {
            "approved": "MFA successfully completed",
            "denied": "MFA denied; user declined the authentication",
            "timeout": "MFA denied; user did not respond to mobile app notification",
        }[mfa]
        details.append(
            {
                "authenticationStepDateTime": iso_7(time),
                "authenticationMethod": PUSH,
                "succeeded": mfa == "approved",
                "authenticationStepResultDetail": detail,
                "authenticationStepRequirement": "Multifactor authentication",
            }
        )
    correlation = guid(rng)
    properties: dict[str, Any] = {
        "id": guid(rng),
        "createdDateTime": iso_7(time),
        "userDisplayName": user.full_name,
        "userPrincipalName": user.email,
        "userId": user.guid,
        "appId": app_id,
        "appDisplayName": app,
        "ipAddress": ip,
        "clientAppUsed": "Browser",
        "userAgent": agent,
        "correlationId": correlation,
        "sessionId": session,
        "conditionalAccessStatus": "success" if code == 0 else "notApplied",
        "isInteractive": interactive,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "resourceDisplayName": app,
        "status": {
            "errorCode": code,
            "failureReason": FAILURES.get(code, "Other."),
            "additionalDetails": "MFA completed in Azure AD" if code == 0 and mfa else None,
        },
        "deviceDetail": {
            "deviceId": "",
            "displayName": "",
            "operatingSystem": "Windows 10" if "Windows" in agent else "MacOs",
            "browser": "Edge 121.0.0" if "Edg/" in agent else "Chrome 121.0.0",
            "isCompliant": False,
            "isManaged": False,
            "trustType": "",
        },
        "location": {
            "city": city.name,
            "state": city.region,
            "countryOrRegion": city.iso,
            "geoCoordinates": {"altitude": None, "latitude": city.lat, "longitude": city.lon},
        },
        "authenticationDetails": details,
        "authenticationRequirement": "multiFactorAuthentication" if mfa else "singleFactorAuthentication",
        "tokenIssuerType": "AzureAD",
    }
    if code == 0:
        properties["status"] = {
            "errorCode": 0,
            "additionalDetails": properties["status"]["additionalDetails"],
        }
    record = {
        "time": iso_7(time),
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": "SignInLogs" if interactive else "NonInteractiveUserSignInLogs",
        "tenantId": TENANT,
        "resultType": str(code),
        "resultSignature": "None",
        "resultDescription": FAILURES.get(code),
        "durationMs": 0,
        "callerIpAddress": ip,
        "correlationId": correlation,
        "identity": user.full_name,
        "Level": 4,
        "location": city.iso,
        "properties": properties,
    }
    if code == 0:
        del record["resultDescription"]
    return Record(time, STREAM, record)


def user_sign_in(
    rng: Random, time: float, user: User, ip: str, city: City, session: str, typos: int
) -> Iterator[Record]:
    """Typos (wrong password), then a sign-in with an approved push."""
    for _ in range(typos):
        yield sign_in(rng, time, user, ip, city, user.user_agent, session, 50126, None)
        time += rng.uniform(5, 20)
    yield sign_in(rng, time, user, ip, city, user.user_agent, session)


def entra_background(context: Background, day: Day) -> Iterable[Activity]:
    """Interactive sign-ins to Microsoft 365, then token refreshes (non-interactive) in the same session."""
    rng = context.rng
    for login in logins(context.world, rng, day, context.trips):
        session = guid(rng)
        typos = password_typos(rng, 0.06)
        yield (
            login.time,
            partial(user_sign_in, rng, login.time, login.user, login.ip, login.city, session, typos),
        )
        for _ in range(rng.randint(1, 4)):
            refresh = login.time + rng.uniform(600, 4 * 3600)
            yield (
                refresh,
                partial(_token_refresh, rng, refresh, login, session),
            )


def _token_refresh(rng: Random, time: float, login: Login, session: str) -> list[Record]:
    """A non-interactive sign-in: the session's token refreshed."""
    return [
        sign_in(
            rng,
            time,
            login.user,
            login.ip,
            login.city,
            login.user.user_agent,
            session,
            mfa=None,
            interactive=False,
        )
    ]
