"""Google Workspace Admin SDK Reports activities (login, admin, drive, token... applications).

Both shapes are read: the API's activity resource (``kind:
admin#reports#activity`` with an ``events`` list whose parameters are
``{name, value}`` pairs; its first event is mapped) and the flattened form
with one event per record and ``parameters`` as an object.
"""

from __future__ import annotations

from typing import Any

from tocsin.memo import bounded_cache
from tocsin.model.event import LogSource
from tocsin.sources.base import compact
from tocsin.sources.cloud.common import (
    as_email,
    as_ip,
    categorized,
    change_type,
    mfa_method,
    outcome,
    text,
    value_at,
)
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

_LOGIN_RESULTS = {"login_success": True, "login_failure": False}
_CHALLENGES = {"login_challenge", "login_verification"}
_APP_CATEGORIES = {
    "admin": "configuration",
    "drive": "file",
    "user_accounts": "iam",
    "groups": "iam",
    "groups_enterprise": "iam",
    "token": "iam",
    "calendar": "configuration",
    "mobile": "host",
    "rules": "intrusion_detection",
}
_ADMIN_IAM_TYPES = {"USER_SETTINGS", "DELEGATED_ADMIN_SETTINGS", "GROUP_SETTINGS"}
_INFO_CATEGORIES = {"host", "intrusion_detection"}
_PARAMETER_VALUES = ("value", "multiValue", "boolValue", "intValue", "multiIntValue", "messageValue")
_TARGET_PARAMETERS = ("target_user", "USER_EMAIL", "affected_email_address")


@bounded_cache(entries=256, longest=256)
def logsource(application: str, authentication: bool) -> LogSource:
    """SigmaHQ logsource of an application's events: ``gcp`` / ``google_workspace.<application>``."""
    source = LogSource.of("gcp", (f"google_workspace.{application}",))
    return source.with_category("authentication") if authentication else source


class GoogleWorkspaceParser(JsonParser):
    """Google Workspace: ``id.applicationName`` picks the logsource, the event ``name`` is the action."""

    name = "google_workspace"
    description = "Google Workspace Admin SDK Reports activities (login, admin, drive, token...)"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        if record.get("kind") == "admin#reports#activity":
            return 95
        if isinstance(record.get("id"), dict) and "applicationName" in record["id"]:
            return 85 if "actor" in record else 60
        return 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        application = text(value_at(record, "id.applicationName"))
        if application is None:
            return None
        event = _first_event(record)
        name, kind = text(event.get("name")), text(event.get("type"))
        parameters = _parameters(event.get("parameters"))
        user = text(value_at(record, "actor.email"))
        if user is None and application == "login":
            user = text(parameters.get("affected_email_address"))
        target = next(filter(None, (text(parameters.get(key)) for key in _TARGET_PARAMETERS)), None)
        fields = {
            "event.provider": "google_workspace",
            "event.dataset": f"google_workspace.{application}",
            "event.action": name,
            "user.name": user,
            "user.id": text(value_at(record, "actor.profileId")),
            "user.email": as_email(user),
            "user.target.name": target if target != user else None,
            "source.ip": as_ip(record.get("ipAddress")),
        }
        authentication = application in ("login", "saml") and (name in _LOGIN_RESULTS or name in _CHALLENGES)
        if authentication and name is not None:
            fields.update(_authentication(name, parameters))
        else:
            fields["event.category"], fields["event.type"] = _classify(application, name, kind)
        return Normalized(
            parse_time(value_at(record, "id.time")),
            compact(fields),
            categorized(logsource(application, authentication), fields.get("event.category")),
        )


def _first_event(record: dict[str, Any]) -> dict[str, Any]:
    """The event of a flattened record, or the first of an API activity's ``events``."""
    events = record.get("events")
    if isinstance(events, list) and events and isinstance(events[0], dict):
        return events[0]
    return record


def _parameters(raw: Any) -> dict[str, Any]:
    """Event parameters as a dict, from either an object or the API's list of ``{name, value}``."""
    if isinstance(raw, dict):
        return raw
    parameters: dict[str, Any] = {}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and "name" in item:
            parameters[item["name"]] = next((item[key] for key in _PARAMETER_VALUES if key in item), None)
    return parameters


def _authentication(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Authentication fields of a login/SAML sign-in or a login challenge (2-step verification)."""
    if name in _LOGIN_RESULTS:
        success: bool | None = _LOGIN_RESULTS[name]
    else:
        status = (text(parameters.get("login_challenge_status")) or "").lower()
        success = True if "pass" in status else False if "fail" in status else None
    fields: dict[str, Any] = {
        "event.category": "authentication",
        "event.type": "start",
        "event.outcome": outcome(success),
        "event.reason": text(parameters.get("login_failure_type")),
    }
    if name in _CHALLENGES:
        fields["tocsin.mfa.method"] = mfa_method(parameters.get("login_challenge_method"))
        fields["tocsin.mfa.result"] = None if success is None else "approved" if success else "denied"
    return fields


def _classify(application: str, name: str | None, kind: str | None) -> tuple[str | None, str | None]:
    """ECS (event.category, event.type) of a non-authentication activity."""
    if application == "login":
        return ("session", "end") if name == "logout" else ("authentication", "info")
    if application == "admin" and kind in _ADMIN_IAM_TYPES:
        return "iam", change_type(name)
    category = _APP_CATEGORIES.get(application)
    if category is None:
        return None, None
    return category, "info" if category in _INFO_CATEGORIES else change_type(name)
