"""AWS CloudTrail events (trail files, CloudTrail Lake and EventBridge exports, one event per record)."""

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
    mfa_method,
    outcome,
    text,
    value_at,
)
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

CLOUDTRAIL = LogSource.of("aws", ("cloudtrail",))
CLOUDTRAIL_AUTHENTICATION = CLOUDTRAIL.with_category("authentication")

#: Sign-in events whose responseElements, keyed by the event name, say Success or Failure.
_SIGN_INS = {
    "ConsoleLogin",
    "CheckMfa",
    "ExternalIdPDirectoryLogin",
    "UserAuthentication",
    "CredentialVerification",
}
_IAM_SERVICES = {"iam", "sts", "sso", "identitystore", "signin", "access-analyzer"}


class CloudTrailParser(JsonParser):
    """CloudTrail: ``eventName`` is the action, ``userIdentity`` the principal, ``errorCode`` a failure."""

    name = "cloudtrail"
    description = "AWS CloudTrail events"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        keys = lower_keys(record)
        if not {"eventsource", "eventname"} <= keys:
            return 50 if {"eventname", "useridentity"} <= keys else 0
        return 95 if keys & {"eventversion", "awsregion"} else 60

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        event_name = text(value_at(record, "eventName"))
        event_source = text(value_at(record, "eventSource"))
        if event_name is None and event_source is None:
            return None
        identity = value_at(record, "userIdentity")
        identity = identity if isinstance(identity, dict) else {}
        error_code = text(value_at(record, "errorCode"))
        user = _principal(identity)
        account = text(value_at(record, "recipientAccountId")) or text(value_at(identity, "accountId"))
        fields = {
            "event.provider": "aws",
            "event.dataset": "aws.cloudtrail",
            "event.action": event_name,
            "event.outcome": outcome(error_code is None),
            "error.code": error_code,
            "error.message": text(value_at(record, "errorMessage")),
            "user.name": user,
            "user.id": text(value_at(identity, "principalId")),
            "user.email": as_email(user),
            "source.ip": as_ip(value_at(record, "sourceIPAddress")),
            "user_agent.original": text(value_at(record, "userAgent")),
            "cloud.provider": "aws",
            "cloud.region": text(value_at(record, "awsRegion")),
            "cloud.account.id": account,
        }
        logsource = CLOUDTRAIL
        if event_name in _SIGN_INS:
            fields.update(_sign_in(record, event_name, error_code))
            logsource = CLOUDTRAIL_AUTHENTICATION
        else:
            service = (event_source or "").split(".", 1)[0]
            fields["event.category"] = "iam" if service in _IAM_SERVICES else "api"
            fields["event.type"] = change_type(event_name)
        return Normalized(
            parse_time(value_at(record, "eventTime")),
            compact(fields),
            categorized(logsource, fields.get("event.category")),
        )


def _principal(identity: dict[str, Any]) -> str | None:
    """Who acted: the IAM user name, else the last part of the ARN (role session, ``root``), else the
    principal id's session part, else the role of the session, else the AWS service that acted."""
    name = text(value_at(identity, "userName"))
    if name:
        return name
    arn = text(value_at(identity, "arn"))
    if arn:
        return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]
    principal = text(value_at(identity, "principalId"))
    if principal:
        return principal.rsplit(":", 1)[-1]
    role = text(value_at(identity, "sessionContext.sessionIssuer.userName"))
    return role or text(value_at(identity, "invokedBy"))


def _sign_in(record: dict[str, Any], event_name: str, error_code: str | None) -> dict[str, Any]:
    """Authentication fields of a console / Identity Center sign-in."""
    result = text(value_at(record, f"responseElements.{event_name}"))
    failed = error_code is not None or bool(value_at(record, "errorMessage"))
    success = result.lower() == "success" if result else (False if failed else None)
    fields: dict[str, Any] = {
        "event.category": "authentication",
        "event.type": "start",
        "event.outcome": outcome(success),
    }
    if event_name == "CheckMfa" and success is not None:
        fields["tocsin.mfa.method"] = mfa_method(value_at(record, "additionalEventData.MfaType"))
        fields["tocsin.mfa.result"] = "approved" if success else "denied"
    return fields
