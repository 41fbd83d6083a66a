"""Helpers shared by the cloud parsers: key-case-tolerant lookups and small ECS vocabularies."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from tocsin.memo import bounded_cache
from tocsin.model.event import LogSource, lookup_path

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_DELETION = {
    "delete",
    "deleted",
    "destroy",
    "remove",
    "removed",
    "revoke",
    "revoked",
    "trash",
    "purge",
    "uninstall",
    "unenroll",
    "terminate",
}
_CREATION = {
    "create",
    "created",
    "add",
    "added",
    "invite",
    "enroll",
    "register",
    "install",
    "upload",
    "insert",
}
_ACCESS = {
    "get",
    "list",
    "describe",
    "view",
    "download",
    "read",
    "show",
    "search",
    "lookup",
    "clone",
    "fetch",
    "reveal",
    "preview",
}
#: (substring of the vendor's factor name, tocsin.mfa.method), first match wins.
_MFA_METHODS = (
    ("bypass", "bypass"),
    ("backup", "backup_code"),
    ("push", "push"),
    ("notification", "push"),
    ("prompt", "push"),
    ("sms", "sms"),
    ("text message", "sms"),
    ("voice", "voice"),
    ("call", "voice"),
    ("webauthn", "webauthn"),
    ("fido", "webauthn"),
    ("u2f", "webauthn"),
    ("security_key", "webauthn"),
    ("security key", "webauthn"),
    ("passkey", "webauthn"),
    ("totp", "totp"),
    ("authenticator", "totp"),
    ("passcode", "totp"),
    ("verification code", "totp"),
    ("otp", "totp"),
    ("hardware", "hardware_token"),
    ("token", "hardware_token"),
    ("email", "email"),
)


#: ECS event categories that also become the Sigma logsource category, so that one rule covers every
#: vendor: ``authentication`` (sign-ins) and ``iam`` (changes to accounts, credentials, MFA factors, roles).
SHARED_CATEGORIES = frozenset({"authentication", "iam"})


@bounded_cache(entries=1024, longest=256)
def categorized(logsource: LogSource, category: str | None) -> LogSource:
    """``logsource`` with the event's ECS category as its Sigma category when rules share it across vendors."""
    return logsource.with_category(category) if category in SHARED_CATEGORIES else logsource


def value_at(record: Any, path: str) -> Any:
    """The value at a dotted path, matching keys case-insensitively (some exports lower-case every key)."""
    return lookup_path(record, path) if isinstance(record, dict) else None


def lower_keys(record: dict[str, Any]) -> set[str]:
    """The record's top-level keys, lower-cased, for recognising a vendor whatever the key case."""
    return {key.lower() for key in record}


def text(value: Any) -> str | None:
    """A non-empty string value, stripped; None for anything else."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def as_ip(value: Any) -> str | None:
    """``value`` if it is an IP address (CloudTrail puts service names in the same field)."""
    candidate = text(value)
    if candidate is None:
        return None
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return None
    return candidate


def as_email(value: Any) -> str | None:
    """``value`` if it looks like an e-mail address."""
    candidate = text(value)
    if candidate and "@" in candidate and "." in candidate.rsplit("@", 1)[-1]:
        return candidate
    return None


def as_int(value: Any) -> int | None:
    """An integer from an int or a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def geo_location(lat: Any, lon: Any) -> dict[str, float] | None:
    """ECS ``geo.location`` from a latitude and longitude, when both are numbers."""
    numbers = all(isinstance(value, int | float) and not isinstance(value, bool) for value in (lat, lon))
    return {"lat": lat, "lon": lon} if numbers else None


def change_type(action: str | None) -> str:
    """ECS ``event.type`` implied by the verb in a vendor action name (``CreateUser``, ``repo.destroy``).

    In dotted names only the last segment holds the verb (``ip_allow_list.disable``).
    """
    for word in _WORDS.findall((action or "").rsplit(".", 1)[-1]):
        word = word.lower()
        if word in _DELETION:
            return "deletion"
        if word in _CREATION:
            return "creation"
        if word in _ACCESS:
            return "access"
    return "change"


def mfa_method(factor: Any) -> str | None:
    """``tocsin.mfa.method`` (push, sms, voice, totp, webauthn...) from a vendor's factor name."""
    name = factor[0] if isinstance(factor, list) and factor else factor
    lowered = (text(name) or "").lower()
    if not lowered:
        return None
    return next((method for marker, method in _MFA_METHODS if marker in lowered), None)


def anonymizer(flag: Any) -> bool | None:
    """``tocsin.source.anonymizer``: True when the vendor says the source is an anonymising proxy, VPN
    or Tor exit (a JSON true, or the string ``true`` of exports that stringify booleans)."""
    return True if flag is True or (isinstance(flag, str) and flag.strip().lower() == "true") else None


def outcome(success: bool | None) -> str | None:
    """ECS ``event.outcome`` from a known result."""
    if success is None:
        return None
    return "success" if success else "failure"
