"""Auth0 tenant logs: log streams (the entry under ``data``) and Management API log entries."""

from __future__ import annotations

from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.base import compact
from tocsin.sources.cloud.common import as_email, as_ip, categorized, lower_keys, outcome, text, value_at
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

AUTH0 = LogSource.of("auth0", ("auth0",))

#: Log type code -> (event.action, event.category, event.type, success).
_TYPES: dict[str, tuple[str, str, str, bool | None]] = {
    "s": ("success-login", "authentication", "start", True),
    "scoa": ("success-cross-origin-authentication", "authentication", "start", True),
    "sens": ("success-native-social-login", "authentication", "start", True),
    "f": ("failed-login", "authentication", "start", False),
    "fp": ("failed-login-incorrect-password", "authentication", "start", False),
    "fu": ("failed-login-invalid-email-or-username", "authentication", "start", False),
    "fc": ("failed-login-connector", "authentication", "start", False),
    "fco": ("failed-login-cors", "authentication", "start", False),
    "fcoa": ("failed-cross-origin-authentication", "authentication", "start", False),
    "fens": ("failed-native-social-login", "authentication", "start", False),
    "pwd_leak": ("breached-password", "authentication", "info", None),
    "limit_wc": ("blocked-account", "authentication", "info", False),
    "limit_mu": ("blocked-ip-address", "authentication", "info", False),
    "slo": ("success-logout", "session", "end", True),
    "flo": ("failed-logout", "session", "end", False),
    "ss": ("success-signup", "iam", "creation", True),
    "fs": ("failed-signup", "iam", "creation", False),
    "signup_pwd_leak": ("breached-password-on-signup", "iam", "creation", None),
    "du": ("deleted-user", "iam", "deletion", True),
    "scp": ("success-change-password", "iam", "change", True),
    "fcp": ("failed-change-password", "iam", "change", False),
    "sce": ("success-change-email", "iam", "change", True),
    "fce": ("failed-change-email", "iam", "change", False),
    "gd_enrollment_complete": ("mfa-enrollment-complete", "iam", "creation", True),
    "gd_unenroll": ("mfa-unenrolled", "iam", "deletion", True),
    "sapi": ("success-api-operation", "configuration", "change", True),
    "fapi": ("failed-api-operation", "configuration", "change", False),
    "seacft": ("success-exchange-authorization-code", "authentication", "info", True),
    "feacft": ("failed-exchange-authorization-code", "authentication", "info", False),
    "sertft": ("success-exchange-refresh-token", "authentication", "info", True),
    "fertft": ("failed-exchange-refresh-token", "authentication", "info", False),
    "ferrt": ("failed-exchange-rotating-refresh-token", "authentication", "info", False),
}
#: Guardian (MFA) log type code -> (event.action, tocsin.mfa.method, tocsin.mfa.result).
_MFA: dict[str, tuple[str, str | None, str]] = {
    "gd_send_pn": ("mfa-push-notification-sent", "push", "sent"),
    "gd_send_sms": ("mfa-sms-sent", "sms", "sent"),
    "gd_send_voice": ("mfa-voice-call-sent", "voice", "sent"),
    "gd_send_email": ("mfa-email-sent", "email", "sent"),
    "gd_auth_succeed": ("mfa-authentication-succeeded", None, "approved"),
    "gd_auth_failed": ("mfa-authentication-failed", None, "denied"),
    "gd_auth_rejected": ("mfa-push-rejected", "push", "denied"),
    "gd_otp_rate_limit_exceed": ("mfa-otp-rate-limit-exceeded", "totp", "denied"),
}


class Auth0Parser(JsonParser):
    """Auth0: the log ``type`` code is mapped to a readable action, kept as ``event.code``."""

    name = "auth0"
    description = "Auth0 tenant logs (log streams and Management API)"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        data = record.get("data")
        if isinstance(data, dict) and "type" in data and ("date" in data or "log_id" in record):
            return 90
        return 85 if {"type", "date", "log_id"} <= lower_keys(record) else 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        data = record.get("data")
        entry = data if isinstance(data, dict) else record
        if not lower_keys(entry) & {"type", "date", "log_id"}:
            return None
        code = text(entry.get("type"))
        action, category, kind, success, mfa = _describe(code)
        user = text(entry.get("user_name")) or text(entry.get("user_id"))
        email = as_email(user) or as_email(value_at(entry, "details.request.auth.user.email"))
        fields = {
            "event.provider": "auth0",
            "event.dataset": "auth0.logs",
            "event.action": action,
            "event.code": code,
            "event.category": category,
            "event.type": kind,
            "event.outcome": outcome(success),
            "message": text(entry.get("description")),
            "user.name": user,
            "user.id": text(entry.get("user_id")),
            "user.email": email,
            "source.ip": as_ip(entry.get("ip")),
            "user_agent.original": text(entry.get("user_agent")),
            **mfa,
        }
        return Normalized(parse_time(entry.get("date")), compact(fields), categorized(AUTH0, category))


def _describe(code: str | None) -> tuple[str | None, str | None, str | None, bool | None, dict[str, Any]]:
    """(action, category, type, success, MFA fields) of a log type code; unknown codes keep the code."""
    if code in _MFA:
        action, method, result = _MFA[code]
        sent = result == "sent"
        return (
            action,
            "authentication",
            "info" if sent else "start",
            sent or result == "approved",
            {"tocsin.mfa.method": method, "tocsin.mfa.result": result},
        )
    if code in _TYPES:
        action, category, kind, success = _TYPES[code]
        return action, category, kind, success, {}
    return code, None, None, None, {}
