"""GitHub organization and enterprise audit log (API, streaming, exports), plus webhook payloads.

Webhook deliveries sometimes share an export with the audit log; they are
kept as ``github.webhook`` events (the event name, which GitHub sends in a
header, is inferred from the payload's main object).
"""

from __future__ import annotations

from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.base import compact
from tocsin.sources.cloud.common import (
    as_email,
    as_ip,
    categorized,
    change_type,
    lower_keys,
    outcome,
    text,
    value_at,
)
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

AUDIT = LogSource.of("github", ("audit",))
AUDIT_AUTHENTICATION = AUDIT.with_category("authentication")
WEBHOOK = LogSource.of("github", ("webhook",))

#: Audit actions recording a sign-in or 2FA challenge, and whether it succeeded.
_SIGN_INS = {
    "user.login": True,
    "user.failed_login": False,
    "user.two_factor_challenge_success": True,
    "user.two_factor_challenge_failure": False,
}
_IAM_MARKERS = (
    "member",
    "team.",
    "invite",
    "user",
    "public_key",
    "access_token",
    "oauth",
    "integration_installation",
    "role",
)
_UNCATEGORIZED_PREFIXES = ("git.", "workflows.")
#: (payload key, webhook event name) in order of precedence.
_WEBHOOK_OBJECTS = (
    ("workflow_job", "workflow_job"),
    ("workflow_run", "workflow_run"),
    ("review", "pull_request_review"),
    ("pull_request", "pull_request"),
    ("issue", "issues"),
    ("pages", "gollum"),
    ("commits", "push"),
    ("pusher", "push"),
)


class GitHubParser(JsonParser):
    """GitHub audit log entries (``action`` + ``actor``), and webhook payloads found among them."""

    name = "github"
    description = "GitHub audit log (organization and enterprise) and webhook payloads"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        keys = lower_keys(record)
        if not {"action", "actor"} <= keys:
            return 0
        if keys & {"created_at", "@timestamp", "_document_id"}:
            return 85
        return 60 if "." in str(record.get("action")) else 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        action = text(record.get("action"))
        if "actor" in record or "." in (action or ""):
            return _audit(record, action)
        if "repository" in record or "pusher" in record:
            return _webhook(record, action)
        return None


def _audit(record: dict[str, Any], action: str | None) -> Normalized:
    user = text(record.get("actor"))
    target = text(record.get("user"))
    fields = {
        "event.provider": "github",
        "event.dataset": "github.audit",
        "event.action": action,
        "user.name": user,
        "user.id": str(record["actor_id"]) if record.get("actor_id") is not None else None,
        "user.email": as_email(user),
        "user.target.name": target if target != user else None,
        "source.ip": as_ip(record.get("actor_ip")),
        "user_agent.original": text(record.get("user_agent")),
        "source.geo.country_iso_code": text(value_at(record, "actor_location.country_code")),
    }
    if action in _SIGN_INS:
        fields.update(
            {
                "event.category": "authentication",
                "event.type": "start",
                "event.outcome": outcome(_SIGN_INS[action]),
            }
        )
        if "two_factor" in action:
            fields["tocsin.mfa.result"] = "approved" if _SIGN_INS[action] else "denied"
        logsource = AUDIT_AUTHENTICATION
    else:
        if action and not action.startswith(_UNCATEGORIZED_PREFIXES):
            iam = any(marker in action for marker in _IAM_MARKERS)
            fields["event.category"] = "iam" if iam else "configuration"
            fields["event.type"] = change_type(action)
        logsource = AUDIT
    timestamp = parse_time(record.get("@timestamp")) or parse_time(record.get("created_at"))
    return Normalized(timestamp, compact(fields), categorized(logsource, fields.get("event.category")))


def _webhook(record: dict[str, Any], action: str | None) -> Normalized:
    key, event = next(((key, event) for key, event in _WEBHOOK_OBJECTS if key in record), (None, None))
    if key == "pull_request" and "comment" in record:
        event = "pull_request_review_comment"
    elif key == "issue" and "comment" in record:
        event = "issue_comment"
    subject = record.get(key) if key else None
    user = text(value_at(record, "sender.login")) or text(value_at(record, "pusher.name"))
    fields = {
        "event.provider": "github",
        "event.dataset": "github.webhook",
        "event.action": f"{event}.{action}" if event and action else event or action,
        "user.name": user,
        "user.email": as_email(user) or as_email(value_at(record, "pusher.email")),
    }
    timestamp = None
    if isinstance(subject, dict):
        timestamp = parse_time(subject.get("updated_at")) or parse_time(subject.get("created_at"))
    timestamp = timestamp or parse_time(value_at(record, "head_commit.timestamp"))
    return Normalized(timestamp, compact(fields), WEBHOOK)
