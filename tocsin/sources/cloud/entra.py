"""Microsoft Entra ID (Azure AD) logs: sign-ins, directory audits, risk detections and Azure activity.

Both shapes are read: Azure Monitor diagnostic exports (the entry under
``properties``, with ``category``/``operationName``/``time`` around it) and
Microsoft Graph API resources (the entry itself, e.g. a sign-in with
``userPrincipalName``, ``status`` and ``createdDateTime``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.base import compact
from tocsin.sources.cloud.common import (
    as_email,
    as_int,
    as_ip,
    categorized,
    change_type,
    geo_location,
    lower_keys,
    mfa_method,
    outcome,
    text,
    value_at,
)
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

SIGNIN = LogSource.of("azure", ("signinlogs",), "authentication")
AUDIT = LogSource.of("azure", ("auditlogs",))
ACTIVITY = LogSource.of("azure", ("activitylogs",))
RISK = LogSource.of("azure", ("riskdetection",))

#: The Identity Protection detection of a sign-in from an anonymising proxy, VPN or Tor exit.
_ANONYMIZED_IP = "anonymizedIPAddress"
_IAM_WORDS = ("user", "member", "role", "group", "principal", "credential", "password", "owner")
_OPERATION_TYPES = {
    "add": "creation",
    "delete": "deletion",
    "update": "change",
    "assign": "change",
    "unassign": "change",
}
#: Sign-in error code: strong authentication (MFA) failed.
_MFA_FAILED = 500121


class EntraParser(JsonParser):
    """Entra ID: the record's ``category`` (or its shape) says which log it is; each maps differently."""

    name = "entra"
    description = "Microsoft Entra ID sign-in, audit and risk logs and Azure activity logs"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        keys = lower_keys(record)
        if isinstance(value_at(record, "properties"), dict) and keys & {"category", "operationname"}:
            return 85 if keys & {"time", "tenantid", "resourceid"} else 60
        if {"userprincipalname", "status", "createddatetime"} <= keys:
            return 85
        if {"activitydisplayname", "initiatedby"} <= keys or {"riskeventtype", "detecteddatetime"} <= keys:
            return 80
        return 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        properties = value_at(record, "properties")
        entry = properties if isinstance(properties, dict) else record
        builder, logsource = _KINDS[_kind(record, entry)]
        fields = builder(record, entry)
        fields["event.provider"] = "entra"
        if not fields.get("source.ip"):
            fields["source.ip"] = as_ip(value_at(record, "callerIpAddress"))
        return Normalized(
            _timestamp(record, entry), compact(fields), categorized(logsource, fields.get("event.category"))
        )


def _kind(record: dict[str, Any], entry: dict[str, Any]) -> str:
    """Which Entra log a record belongs to: signin, risk, audit or activity."""
    category = (text(value_at(record, "category")) or "").lower()
    keys = lower_keys(entry)
    if category.endswith("signinlogs") or (not category and "status" in keys and "initiatedby" not in keys):
        return "signin"
    if "risk" in category or (not category and "riskeventtype" in keys):
        return "risk"
    if category == "auditlogs" or keys & {"initiatedby", "activitydisplayname"}:
        return "audit"
    return "activity"


def _timestamp(record: dict[str, Any], entry: dict[str, Any]) -> float | None:
    """The export's ``time``, else the entry's own creation/activity/detection time."""
    for source, key in (
        (record, "time"),
        (entry, "createdDateTime"),
        (entry, "activityDateTime"),
        (entry, "detectedDateTime"),
    ):
        timestamp = parse_time(value_at(source, key))
        if timestamp is not None:
            return timestamp
    return None


def _sign_in(record: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """A user or service-principal sign-in; error code 0 is success."""
    code = value_at(entry, "status.errorCode")
    if code is None:
        code = value_at(record, "resultType")
    succeeded = None if code is None else str(code).lower() in ("0", "success")
    user = text(value_at(entry, "userPrincipalName")) or text(value_at(entry, "servicePrincipalName"))
    session = (
        text(value_at(entry, "sessionId"))
        or text(value_at(entry, "correlationId"))
        or text(value_at(record, "correlationId"))
    )
    return {
        "event.dataset": "azure.signinlogs",
        "event.action": text(value_at(record, "operationName")) or "Sign-in activity",
        "event.category": "authentication",
        "event.type": "start",
        "event.outcome": outcome(succeeded),
        "event.reason": text(value_at(entry, "status.failureReason")),
        "error.code": str(code) if succeeded is False else None,
        "user.name": user,
        "user.id": text(value_at(entry, "userId")) or text(value_at(entry, "servicePrincipalId")),
        "user.email": as_email(user),
        "source.ip": as_ip(value_at(entry, "ipAddress")),
        "user_agent.original": text(value_at(entry, "userAgent")),
        "source.as.number": as_int(value_at(entry, "autonomousSystemNumber")),
        "tocsin.session.id": session,
        "tocsin.source.anonymizer": True if _ANONYMIZED_IP in _risk_events(entry) else None,
        **_geo(value_at(entry, "location")),
        **_mfa(entry, as_int(code)),
    }


def _risk_events(entry: dict[str, Any]) -> set[str]:
    """The risk detections Identity Protection attached to a sign-in (``riskEventTypes`` and ``_v2``)."""
    events: set[str] = set()
    for key in ("riskEventTypes", "riskEventTypes_v2"):
        values = value_at(entry, key)
        if isinstance(values, list):
            events.update(value for value in values if isinstance(value, str))
    return events


def _audit(record: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """A directory audit entry: who (initiatedBy) did what (operation) to whom (targetResources)."""
    action = (
        text(value_at(record, "operationName"))
        or text(value_at(entry, "activityDisplayName"))
        or text(value_at(entry, "operationName"))
    )
    user = text(value_at(entry, "initiatedBy.user.userPrincipalName")) or text(
        value_at(entry, "initiatedBy.app.displayName")
    )
    operation = (text(value_at(entry, "operationType")) or "").lower()
    iam = any(word in (action or "").lower() for word in _IAM_WORDS)
    session = text(value_at(record, "correlationId")) or text(value_at(entry, "correlationId"))
    result = text(value_at(entry, "result"))
    return {
        "event.dataset": "azure.auditlogs",
        "event.action": action,
        "event.category": "iam" if iam else "configuration",
        "event.type": _OPERATION_TYPES.get(operation) or change_type(action),
        "event.outcome": outcome(result.lower() == "success") if result else None,
        "user.name": user,
        "user.id": text(value_at(entry, "initiatedBy.user.id")),
        "user.email": as_email(user),
        "user.target.name": _target_user(entry),
        "source.ip": as_ip(value_at(entry, "initiatedBy.user.ipAddress")),
        "tocsin.session.id": session,
    }


def _risk(record: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """An Identity Protection risk detection."""
    user = text(value_at(entry, "userPrincipalName"))
    return {
        "event.dataset": "azure.identity_protection",
        "event.action": text(value_at(entry, "riskEventType")),
        "event.category": "intrusion_detection",
        "event.type": "info",
        "user.name": user,
        "user.id": text(value_at(entry, "userId")),
        "user.email": as_email(user),
        "source.ip": as_ip(value_at(entry, "ipAddress")),
        **_geo(value_at(entry, "location")),
    }


def _activity(record: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """An Azure activity (control-plane) log entry."""
    action = text(value_at(record, "operationName"))
    result = (text(value_at(record, "resultType")) or "").lower()
    user = text(value_at(record, "caller"))
    return {
        "event.dataset": "azure.activitylogs",
        "event.action": action,
        "event.category": "configuration",
        "event.type": change_type(action),
        "event.outcome": {"success": "success", "failure": "failure", "failed": "failure"}.get(result),
        "user.name": user,
        "user.email": as_email(user),
        "tocsin.session.id": text(value_at(record, "correlationId")),
    }


def _target_user(entry: dict[str, Any]) -> str | None:
    """The first target resource of type User."""
    targets = value_at(entry, "targetResources")
    for target in targets if isinstance(targets, list) else []:
        if isinstance(target, dict) and str(target.get("type")).lower() == "user":
            return text(target.get("userPrincipalName")) or text(target.get("displayName"))
    return None


def _geo(location: Any) -> dict[str, Any]:
    """ECS source.geo fields from an Entra ``location`` (country as an ISO code)."""
    if not isinstance(location, dict):
        return {}
    return {
        "source.geo.country_iso_code": text(location.get("countryOrRegion")),
        "source.geo.region_name": text(location.get("state")),
        "source.geo.city_name": text(location.get("city")),
        "source.geo.location": geo_location(
            value_at(location, "geoCoordinates.latitude"), value_at(location, "geoCoordinates.longitude")
        ),
    }


def _mfa(entry: dict[str, Any], code: int | None) -> dict[str, Any]:
    """tocsin.mfa.* from the MFA step of a sign-in's authenticationDetails (or its mfaDetail)."""
    steps = value_at(entry, "authenticationDetails")
    mfa_steps = [
        step
        for step in (steps if isinstance(steps, list) else [])
        if isinstance(step, dict) and mfa_method(step.get("authenticationMethod"))
    ]
    step = mfa_steps[-1] if mfa_steps else {}
    method = mfa_method(step.get("authenticationMethod") or value_at(entry, "mfaDetail.authMethod"))
    if not (step or method or code == _MFA_FAILED):
        return {}
    detail = " ".join(
        filter(
            None,
            (
                text(step.get("authenticationStepResultDetail")),
                text(value_at(entry, "status.additionalDetails")),
                text(value_at(entry, "status.failureReason")),
            ),
        )
    ).lower()
    result: str | None
    if "fraud" in detail:
        result = "fraud"
    elif "did not respond" in detail or "timed out" in detail or "timeout" in detail:
        result = "timeout"
    elif isinstance(step.get("succeeded"), bool):
        result = "approved" if step["succeeded"] else "denied"
    else:
        result = None if code is None else {0: "approved", _MFA_FAILED: "denied"}.get(code)
    return {"tocsin.mfa.method": method, "tocsin.mfa.result": result}


_KINDS: dict[str, tuple[Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]], LogSource]] = {
    "signin": (_sign_in, SIGNIN),
    "audit": (_audit, AUDIT),
    "risk": (_risk, RISK),
    "activity": (_activity, ACTIVITY),
}
