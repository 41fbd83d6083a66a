"""A platform's own security events: logins, sessions, MFA, account changes and API use, as JSON Lines.

An application knows what no proxy or identity provider sees: that a login failed because the
user does not exist, which session and API token a request used, which object it read, how much
it exported. This schema (``tocsin.platform/1``, documented with examples in
``docs/platform-events.md``) is what an application writes so that tocsin's account-takeover,
credential-abuse and data-exposure rules read it. Keys are matched case-insensitively.

Schema::

    {
      "schema": "tocsin.platform/1",              # marks the record; optional with --format-in platform
      "timestamp": "2026-03-02T09:00:00Z",        # ISO 8601 or epoch seconds
      "event": "login",                           # the closed vocabulary in EVENTS
      "outcome": "failure",                       # success | failure (ok, failed, denied... accepted)
      "reason": "bad_password",                   # why, for failures: unknown_user, bad_password, ...
      "app": "northwind-shop",                    # optional: which application (event.provider)
      "id": "evt-81f2",                           # optional: the event's unique id
      "user": {"id": "u-1029", "name": "alice@example.com"},   # or a plain string (the name)
      "source": {"ip": "203.0.113.7",
                 "geo": {"country_iso_code": "DE", "city_name": "Berlin"}},   # geo if known
      "user_agent": "Mozilla/5.0 ...",
      "tls": {"ja3": "769,47-53,0-10,23-24,0", "ja4": "t13d1516h2_8daaf6152771_02713d6af862"},
      "session_id": "s-77", "token_id": "tok-5", "device_id": "dev-9",
      "request": {"method": "POST", "path": "/login", "query": "next=/", "status": 401, "bytes": 312},
      "object": {"type": "invoice", "id": "18842"},   # api_access: what was read
      "bytes": 52428800,                           # data_export: how much left
      "mfa": {"method": "push"}                    # mfa_*: the factor
    }

ECS mapping: ``event.category``/``event.type``/``event.action`` from ``event`` (``EVENTS``);
``event.outcome``; ``event.reason``; ``event.provider``
(``app``, else ``platform``); ``event.dataset`` ``platform.auth``; ``user.id``/``user.name``;
``source.ip`` and ``source.geo.*``; ``user_agent.original``; ``tls.client.ja3``/``ja4``;
``tocsin.session.id``, ``tocsin.token.id``, ``tocsin.device.id``; ``http.request.method``,
``url.path``, ``url.query``, ``url.original``, ``http.response.status_code``,
``http.response.body.bytes`` (the request's, else the export's ``bytes``);
``tocsin.object.type``/``tocsin.object.id``; ``tocsin.mfa.method``/``tocsin.mfa.result`` for MFA
challenges. Logsource: ``product: platform``, ``service: auth``, categories ``authentication``
and ``iam`` as the event's, and ``webserver`` when it carries a request.

``--map SCHEMA_FIELD=SOURCE_FIELD`` (dotted paths) reads another application's log as this schema:
``--format-in platform --map event=action --map user.name=account.email --map timestamp=ts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tocsin.model.event import LogSource, lookup_path
from tocsin.sources.base import ParseOptions, compact
from tocsin.sources.cloud.common import as_int, as_ip, text, value_at
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

SCHEMA = "tocsin.platform/1"
DATASET = "platform.auth"

#: Event type → (ECS event.category, event.type, event.action). One category per event: the
#: engine compares a field's value, and rules shared with other sources select on this one.
EVENTS: dict[str, tuple[str, str, str]] = {
    "login": ("authentication", "start", "login"),
    "logout": ("session", "end", "logout"),
    "session_refresh": ("authentication", "info", "session-refresh"),
    "mfa_challenge": ("authentication", "start", "mfa-challenge"),
    "mfa_enrol": ("iam", "creation", "mfa-enrol"),
    "mfa_remove": ("iam", "deletion", "mfa-remove"),
    "password_reset_request": ("iam", "info", "password-reset-request"),
    "password_reset_complete": ("iam", "change", "password-reset-complete"),
    "email_change": ("iam", "change", "email-change"),
    "phone_change": ("iam", "change", "phone-change"),
    "oauth_grant": ("iam", "creation", "oauth-grant"),
    "data_export": ("web", "access", "data-export"),
    "api_token_use": ("authentication", "info", "api-token-use"),
    "api_access": ("web", "access", "api-access"),
}
#: Accepted spellings of an outcome.
OUTCOMES = {
    "success": "success",
    "succeeded": "success",
    "ok": "success",
    "true": "success",
    "allowed": "success",
    "failure": "failure",
    "failed": "failure",
    "fail": "failure",
    "false": "failure",
    "denied": "failure",
    "error": "failure",
}
#: The MFA result an MFA challenge's outcome means (``tocsin.mfa.result``).
_MFA_RESULTS = {"success": "approved", "failure": "denied"}
#: Categories other rules route on (Sigma ``category``), besides ``webserver`` for requests.
_ROUTED = frozenset({"authentication", "iam"})


class PlatformParser(JsonParser):
    """An application's own auth, account and API events in the ``tocsin.platform/1`` schema."""

    name = "platform"
    description = "A platform's own auth, account and API events (tocsin.platform/1 JSON Lines)"

    def __init__(self, options: ParseOptions) -> None:
        super().__init__(options)
        mapping = {key.lower(): path for key, path in options.field_map.items()}
        if "@timestamp" in mapping:
            mapping.setdefault("timestamp", mapping.pop("@timestamp"))
        self.mapping = mapping

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        return 100 if text(value_at(record, "schema")) == SCHEMA else 0

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        get = self._getter(record)
        kind = text(get("event"))
        described = EVENTS.get(kind.lower()) if kind else None
        if described is None:
            return None
        category, event_type, action = described
        request = _request(get)
        result = OUTCOMES.get(str(get("outcome")).strip().lower()) if get("outcome") is not None else None
        user_id, user_name = _user(get)
        mfa = text(get("mfa.method"))
        fields: dict[str, Any] = {
            "event.id": _identifier(get("id")),
            "event.kind": "event",
            "event.category": category,
            "event.type": event_type,
            "event.action": action,
            "event.outcome": result,
            "event.reason": text(get("reason")),
            "event.provider": text(get("app")) or "platform",
            "event.dataset": DATASET,
            "user.id": user_id,
            "user.name": user_name,
            "source.ip": as_ip(get("source.ip")),
            "source.geo.country_iso_code": text(get("source.geo.country_iso_code")),
            "source.geo.city_name": text(get("source.geo.city_name")),
            "user_agent.original": text(get("user_agent")),
            "tls.client.ja3": text(get("tls.ja3")),
            "tls.client.ja4": text(get("tls.ja4")),
            "tocsin.session.id": _identifier(get("session_id")),
            "tocsin.token.id": _identifier(get("token_id")),
            "tocsin.device.id": _identifier(get("device_id")),
            "tocsin.object.type": text(get("object.type")),
            "tocsin.object.id": _identifier(get("object.id")),
            **request,
        }
        if "http.response.body.bytes" not in request:
            fields["http.response.body.bytes"] = as_int(get("bytes"))
        if kind and kind.lower().startswith("mfa_"):
            fields["tocsin.mfa.method"] = mfa.lower() if mfa else None
            if kind.lower() == "mfa_challenge" and result is not None:
                fields["tocsin.mfa.result"] = _MFA_RESULTS[result]
        logsource = LogSource(
            frozenset({"platform"}),
            frozenset({"auth"}),
            frozenset(({category} & _ROUTED) | ({"webserver"} if request else set())),
        )
        return Normalized(parse_time(get("timestamp")), compact(fields), logsource)

    def _getter(self, record: dict[str, Any]) -> Callable[[str], Any]:
        """A schema field's value: from ``--map``'s source path when it or its object is mapped
        (``user=actor`` reads ``user.name`` from ``actor.name``), else the schema's own."""
        mapping = self.mapping

        def get(name: str) -> Any:
            head, dot, rest = name.partition(".")
            path = mapping.get(name) or (f"{mapping[head]}.{rest}" if dot and head in mapping else None)
            value = lookup_path(record, path or name)
            return None if isinstance(value, dict) and "." in name else value

        return get


def _identifier(value: Any) -> str | None:
    """An id given as a string or a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value)


def _user(get: Callable[[str], Any]) -> tuple[str | None, str | None]:
    """(id, name) of the acting user; ``user`` may be a plain name, the name falls back to the id."""
    identifier, name = _identifier(get("user.id")), text(get("user.name"))
    user = get("user")
    if name is None and isinstance(user, str):
        name = text(user)
    return identifier, name or identifier


def _request(get: Callable[[str], Any]) -> dict[str, Any]:
    """ECS http/url fields of the record's request; empty when it has none."""
    path = text(get("request.path"))
    query = text(get("request.query"))
    fields = compact(
        {
            "http.request.method": (text(get("request.method")) or "").upper() or None,
            "url.path": path,
            "url.query": query,
            "url.original": f"{path}?{query}" if path and query else path,
            "http.response.status_code": as_int(get("request.status")),
            "http.response.body.bytes": as_int(get("request.bytes")),
        }
    )
    return fields
