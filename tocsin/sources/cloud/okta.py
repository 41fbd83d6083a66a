"""Okta System Log events (``/api/v1/logs``, event hooks and their exports)."""

from __future__ import annotations

from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.base import compact
from tocsin.sources.cloud.common import (
    anonymizer,
    as_email,
    as_int,
    as_ip,
    categorized,
    change_type,
    geo_location,
    lower_keys,
    mfa_method,
    text,
    value_at,
)
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

OKTA = LogSource.of("okta", ("okta",))

_OUTCOMES = {"SUCCESS": "success", "ALLOW": "success", "FAILURE": "failure", "DENY": "failure"}
#: Okta Verify events that are one step of an MFA challenge, with what they say about it.
_MFA_RESULTS = {
    "system.push.send_factor_verify_push": "sent",
    "user.mfa.okta_verify.deny_push": "denied",
    "user.mfa.okta_verify.deny_push_upgrade_needed": "denied",
    "user.account.report_suspicious_activity_by_enduser": "fraud",
}
_IAM_PREFIXES = (
    "user.account.",
    "user.lifecycle.",
    "user.mfa.factor.",
    "group.",
    "system.api_token.",
    "application.user_membership.",
    "system.mfa.factor.",
    "app.oauth2.as.consent.",
)
_CONFIGURATION_PREFIXES = ("system.", "policy.", "application.")
#: Granting or starting an impersonation (Okta support access, an administrator acting as a user)
#: changes who may act as an account: an ``iam`` event like a role grant.
_IMPERSONATION_PREFIX = "user.session.impersonation."


class OktaParser(JsonParser):
    """Okta System Log: ``eventType`` is the action, ``actor.alternateId`` the user."""

    name = "okta"
    description = "Okta System Log events (API, event hooks, exports)"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        keys = lower_keys(record)
        if "eventtype" not in keys:
            return 0
        if "actor" in keys and ("published" in keys or "uuid" in keys):
            return 95
        if keys & {"actor", "published", "uuid", "displaymessage", "legacyeventtype"}:
            return 70
        return 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        event_type = text(value_at(record, "eventType"))
        if event_type is None:
            return None
        category, kind = _classify(event_type)
        result = text(value_at(record, "outcome.result"))
        user = text(value_at(record, "actor.alternateId"))
        fields = {
            "event.provider": "okta",
            "event.dataset": "okta.system",
            "event.action": event_type,
            "event.category": category,
            "event.type": kind,
            "event.outcome": _OUTCOMES.get(result.upper(), "unknown") if result else None,
            "event.reason": text(value_at(record, "outcome.reason")),
            "message": text(value_at(record, "displayMessage")),
            "user.name": user,
            "user.id": text(value_at(record, "actor.id")),
            "user.email": as_email(user),
            "user.full_name": text(value_at(record, "actor.displayName")),
            "user.target.name": _target_user(record, user),
            "source.ip": as_ip(value_at(record, "client.ipAddress")),
            "user_agent.original": text(value_at(record, "client.userAgent.rawUserAgent")),
            "source.as.number": as_int(value_at(record, "securityContext.asNumber")),
            "source.as.organization.name": text(value_at(record, "securityContext.asOrg")),
            "tocsin.session.id": text(value_at(record, "authenticationContext.externalSessionId")),
            "tocsin.source.anonymizer": anonymizer(value_at(record, "securityContext.isProxy")),
            **_geo(value_at(record, "client.geographicalContext")),
            **_mfa(record, event_type, result),
        }
        return Normalized(_published(record), compact(fields), categorized(OKTA, category))


def _published(record: dict[str, Any]) -> float | None:
    """When Okta published the event; Panther's exports also carry it as ``p_event_time``."""
    published = parse_time(value_at(record, "published"))
    return published if published is not None else parse_time(value_at(record, "p_event_time"))


def _classify(event_type: str) -> tuple[str | None, str | None]:
    """ECS (event.category, event.type) of an Okta event type."""
    if event_type.startswith(_IMPERSONATION_PREFIX):
        return "iam", "change"
    if event_type == "user.session.start" or event_type.startswith("user.authentication."):
        return "authentication", "start"
    if event_type in _MFA_RESULTS or event_type == "policy.evaluate_sign_on":
        return "authentication", "info"
    if event_type == "user.session.end":
        return "session", "end"
    if event_type.startswith("user.session."):
        return "session", "info"
    if event_type.startswith("security."):
        return "intrusion_detection", "info"
    if event_type.startswith(_IAM_PREFIXES):
        return "iam", change_type(event_type)
    if event_type.startswith(_CONFIGURATION_PREFIXES):
        return "configuration", change_type(event_type)
    return None, None


def _target_user(record: dict[str, Any], actor: str | None) -> str | None:
    """The first target of type User, when it is not the actor."""
    targets = value_at(record, "target")
    for target in targets if isinstance(targets, list) else []:
        if isinstance(target, dict) and target.get("type") == "User":
            name = text(target.get("alternateId"))
            return name if name != actor else None
    return None


def _geo(context: Any) -> dict[str, Any]:
    """ECS source.geo fields from Okta's geographicalContext (which names countries, not ISO codes)."""
    if not isinstance(context, dict):
        return {}
    location = context.get("geolocation")
    location = location if isinstance(location, dict) else {}
    return {
        "source.geo.country_name": text(context.get("country")),
        "source.geo.region_name": text(context.get("state")),
        "source.geo.city_name": text(context.get("city")),
        "source.geo.postal_code": text(context.get("postalCode")),
        "source.geo.location": geo_location(location.get("lat"), location.get("lon")),
    }


def _mfa(record: dict[str, Any], event_type: str, result: str | None) -> dict[str, Any]:
    """tocsin.mfa.* for Okta Verify challenges and MFA verifications."""
    if event_type == "user.authentication.auth_via_mfa":
        verdict = {"success": "approved", "failure": "denied"}.get(_OUTCOMES.get((result or "").upper(), ""))
    else:
        verdict = _MFA_RESULTS.get(event_type)
        if verdict is None:
            return {}
    factor = value_at(record, "debugContext.debugData.factor")
    method = mfa_method(factor) or ("push" if "push" in event_type else None)
    return {"tocsin.mfa.method": method, "tocsin.mfa.result": verdict}
