"""Cisco Duo Admin API logs: authentication logs and administrator logs."""

from __future__ import annotations

import json
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.base import compact
from tocsin.sources.cloud.common import (
    as_email,
    as_ip,
    categorized,
    change_type,
    lower_keys,
    mfa_method,
    outcome,
    text,
    value_at,
)
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

DUO = LogSource.of("cisco", ("duo",))
DUO_AUTHENTICATION = DUO.with_category("authentication")

#: Authentication log ``result`` -> tocsin.mfa.result.
_RESULTS = {"success": "approved", "denied": "denied", "fraud": "fraud", "failure": "denied"}
_TIMEOUT_REASONS = ("timeout", "timed_out", "no_response", "no_keys_pressed")
_ADMIN_SIGN_INS = {"admin_login": True, "admin_login_error": False, "admin_2fa_error": False}
_IAM_PREFIXES = ("user_", "admin_", "bypass_", "group_", "phone_", "token_")


class DuoParser(JsonParser):
    """Duo: authentication log entries (MFA verifications) and administrator log entries."""

    name = "duo"
    description = "Cisco Duo authentication and administrator logs"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        keys = lower_keys(record)
        if "isotimestamp" in keys and keys & {"action", "event_type"}:
            return 90
        if {"event_type", "factor", "result"} <= keys:
            return 85
        return 70 if {"timestamp", "action", "username"} <= keys else 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        if "event_type" in record or "factor" in record:
            fields, logsource = _authentication(record), DUO_AUTHENTICATION
        elif "action" in record:
            fields, logsource = _administrator(record)
        else:
            return None
        fields["event.provider"] = "duo"
        timestamp = parse_time(record.get("isotimestamp")) or parse_time(record.get("timestamp"))
        return Normalized(timestamp, compact(fields), categorized(logsource, fields.get("event.category")))


def _authentication(record: dict[str, Any]) -> dict[str, Any]:
    """An authentication log entry: one MFA verification and its result."""
    result = (text(record.get("result")) or "").lower()
    reason = text(record.get("reason"))
    verdict = _RESULTS.get(result)
    if verdict == "denied" and reason and any(marker in reason for marker in _TIMEOUT_REASONS):
        verdict = "timeout"
    user = text(value_at(record, "user.name")) or text(record.get("username"))
    return {
        "event.dataset": "duo.authentication",
        "event.action": text(record.get("event_type")) or "authentication",
        "event.category": "authentication",
        "event.type": "start",
        "event.outcome": outcome(result == "success") if result else None,
        "event.reason": reason,
        "user.name": user,
        "user.email": as_email(user),
        "source.ip": as_ip(value_at(record, "access_device.ip")),
        "tocsin.mfa.method": mfa_method(record.get("factor")),
        "tocsin.mfa.result": verdict,
    }


def _administrator(record: dict[str, Any]) -> tuple[dict[str, Any], LogSource]:
    """An administrator log entry: an admin's sign-in to the Admin Panel or a change it made."""
    action = text(record.get("action")) or ""
    details = _description(record.get("description"))
    user = text(record.get("username"))
    fields: dict[str, Any] = {
        "event.dataset": "duo.administrator",
        "event.action": action,
        "user.name": user,
        "user.email": as_email(user) or as_email(details.get("email")),
        "source.ip": as_ip(details.get("ip_address")),
    }
    if action in _ADMIN_SIGN_INS:
        error = (text(details.get("error")) or "").lower()
        fields.update(
            {
                "event.category": "authentication",
                "event.type": "start",
                "event.outcome": outcome(_ADMIN_SIGN_INS[action]),
                "event.reason": text(details.get("error")),
                "tocsin.mfa.method": mfa_method(details.get("factor")),
            }
        )
        if fields["tocsin.mfa.method"]:
            fields["tocsin.mfa.result"] = (
                "fraud" if "fraud" in error else "approved" if _ADMIN_SIGN_INS[action] else "denied"
            )
        return fields, DUO_AUTHENTICATION
    iam = action.startswith(_IAM_PREFIXES)
    fields["event.category"] = "iam" if iam else "configuration"
    fields["event.type"] = change_type(action)
    if iam and text(record.get("object")) != user:
        fields["user.target.name"] = text(record.get("object"))
    return fields, DUO


def _description(value: Any) -> dict[str, Any]:
    """The administrator log's ``description``: a JSON object serialized as a string."""
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except (ValueError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}
