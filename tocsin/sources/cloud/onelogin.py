"""OneLogin events (Events API, EventBridge and webhook exports), keyed by ``event_type_id``."""

from __future__ import annotations

from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.base import compact
from tocsin.sources.cloud.common import as_email, as_ip, categorized, lower_keys, outcome, text
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

ONELOGIN = LogSource.of("onelogin", ("onelogin.events",))

#: event_type_id -> (event.action, event.category, event.type, success).
_EVENT_TYPES: dict[str, tuple[str, str, str, bool | None]] = {
    "1": ("app-added-to-role", "iam", "change", True),
    "2": ("app-removed-from-role", "iam", "change", True),
    "3": ("user-assumed-user", "iam", "change", True),  # an administrator acting as the user
    "4": ("role-assigned-to-user", "iam", "change", True),
    "5": ("user-logged-in", "authentication", "start", True),
    "6": ("user-failed-authentication", "authentication", "start", False),
    "11": ("user-password-changed", "iam", "change", True),
    "12": ("user-unlocked", "iam", "change", True),
    "13": ("user-created", "iam", "creation", True),
    "15": ("user-deactivated", "iam", "change", True),
    "17": ("user-deleted", "iam", "deletion", True),
    "19": ("user-locked", "iam", "change", True),
    "24": ("otp-device-removed", "iam", "deletion", True),
    "72": ("privilege-assigned-to-user", "iam", "change", True),
    "90": ("app-access-denied", "authentication", "info", False),
    "172": ("authentication-factor-removed", "iam", "deletion", True),
    "211": ("user-password-changed-by-admin", "iam", "change", True),
    "240": ("app-password-revealed", "iam", "access", True),
    "531": ("user-locked-via-api", "iam", "change", True),
    "551": ("user-suspended-via-api", "iam", "change", True),
    "553": ("user-locked-via-api", "iam", "change", True),
}


class OneLoginParser(JsonParser):
    """OneLogin: ``event_type_id`` is mapped to a readable action, kept as ``event.code``."""

    name = "onelogin"
    description = "OneLogin events"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        keys = lower_keys(record)
        if "event_type_id" not in keys:
            return 0
        return 85 if keys & {"user_name", "actor_user_name", "created_at", "account_id"} else 60

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        event_type = record.get("event_type_id")
        if event_type is None:
            return None
        code = str(event_type)
        action, category, kind, success = _EVENT_TYPES.get(code, (code, None, None, None))
        user, actor = text(record.get("user_name")), text(record.get("actor_user_name"))
        principal: str | None
        if actor is not None and record.get("actor_user_id") != record.get("user_id"):
            principal, principal_id, target = actor, record.get("actor_user_id"), user
        else:
            principal, principal_id, target = user, record.get("user_id"), None
        fields = {
            "event.provider": "onelogin",
            "event.dataset": "onelogin.events",
            "event.action": action,
            "event.code": code,
            "event.category": category,
            "event.type": kind,
            "event.outcome": outcome(success),
            "event.risk_score": record.get("risk_score"),
            "user.name": principal,
            "user.id": None if principal_id is None else str(principal_id),
            "user.email": as_email(principal),
            "user.target.name": target,
            "source.ip": as_ip(record.get("ipaddr")),
            "user_agent.original": text(record.get("user_agent")),
        }
        return Normalized(
            parse_time(record.get("created_at")), compact(fields), categorized(ONELOGIN, category)
        )
