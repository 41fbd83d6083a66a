"""What Zeek logs and Suricata EVE share: events shaped exactly as tocsin's capture analysis shapes them.

A network sensor's log names the same things a capture shows (the connection, the DNS question,
the HTTP request, a login and its verdict); the helpers here give them the ECS fields the capture
analysis (``tocsin.sources.pcap``) gives, so one rule fires on a pcap, on a Zeek sensor's logs and
on Suricata's. Each log record keeps its own field names as the event's ``original``, so community
rules written against Zeek or EVE names match too.

Records reach the engine as ``JsonRecords`` (the JSON Lines fast path): each row is the record with
its ECS fields laid over it, and only rows that matched become ``Event`` objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from tocsin.batch import EventBatch, JsonRecords
from tocsin.credentials import mask, secret_fields
from tocsin.model.event import Event, LogSource, complete_ecs, iso_timestamp
from tocsin.sources.base import compact
from tocsin.sources.pcap.protocols.dns import is_ip
from tocsin.sources.pcap.protocols.http import authority

#: The categories of the capture analysis's events, by protocol (``tocsin.sources.pcap.protocols``).
CAPTURE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "conn": ("firewall",),
    "dns": ("dns",),
    "http": ("proxy", "webserver"),
}
#: Application protocol names as sensors write them → the capture analysis's ``network.protocol``.
PROTOCOLS = {
    "ssl": "tls",
    "krb": "kerberos",
    "krb_tcp": "kerberos",
    "krb5": "kerberos",
    "ftp-data": "ftp-data",
}
#: HTTP statuses that refuse the credentials of a request (as the capture analysis reads them).
AUTH_REFUSED = frozenset({401, 403, 407})
#: The IIS-style names the capture analysis also gives an HTTP request (SigmaHQ proxy/webserver rules).
HTTP_ALIASES: dict[str, str] = {
    "c-uri": "url.original",
    "cs-method": "http.request.method",
    "c-useragent": "user_agent.original",
    "cs-user-agent": "user_agent.original",
    "sc-status": "http.response.status_code",
    "cs-referrer": "http.request.referrer",
}


#: The fields a login event repeats from the record's own event (the connection and the reader).
LOGIN_BASE = (
    "source.ip",
    "source.port",
    "destination.ip",
    "destination.port",
    "network.community_id",
    "network.transport",
    "network.protocol",
    "event.kind",
    "event.module",
    "event.dataset",
)
_SCALARS = frozenset({str, int, float, bool})
#: FTP replies other than 2xx and 5xx that end a login (as the capture analysis reads FTP).
_FTP_ENDS_LOGIN = frozenset({421, 430})
#: The login events a record reports, each with its log source.
Logins = list[tuple[dict[str, Any], LogSource]]


@dataclass(slots=True)
class Row:
    """One event of a log record: ECS fields over the record's own (``original``)."""

    timestamp: float | None
    fields: dict[str, Any]
    original: dict[str, Any]
    raw: str
    offset: str
    logsource: LogSource


def take(fields: dict[str, Any], values: Iterator[tuple[str, Any]]) -> None:
    """Set each ``(ECS name, value)`` whose value is a scalar or a list of scalars (a hostile record's
    objects, where a sensor writes text or numbers, are left out); ports become integers."""
    for name, value in values:
        kind = type(value)
        if kind in _SCALARS or (kind is list and all(type(item) in _SCALARS for item in value)):
            fields[name] = value
    for name in ("source.port", "destination.port"):
        port = fields.get(name)
        if port is not None and type(port) is not int:
            fields[name] = integer(port)


def event_rows(timestamp: float | None, fields: dict[str, Any], logins: Logins,
               record: dict[str, Any], raw: str, offset: str, logsource: LogSource) -> list[Row]:  # fmt: skip
    """The record's event, and one per login it reports (offset ``N#login``, the convention for a second event of one line), with the connection's fields."""
    rows = [Row(timestamp, ecs_fields(fields), record, raw, offset, logsource)]
    if logins:
        base = {name: fields.get(name) for name in LOGIN_BASE}
        rows += [
            Row(timestamp, ecs_fields({**base, **more}), record, raw, f"{offset}#login", source)
            for more, source in logins
        ]
    return rows


def rows_to_batches(rows: Iterator[Row], size: int, name: str, format: str) -> Iterator[EventBatch]:
    """``rows`` in ``JsonRecords`` batches of at most ``size``."""
    while chunk := list(islice(rows, size)):
        yield _batch(chunk, name, format)


def _batch(chunk: list[Row], name: str, format: str) -> JsonRecords:
    merged = [{**row.original, **row.fields} for row in chunk]
    index: dict[int, int] = {}

    def materialize(record: dict[str, Any], raw: str, offset: str, logsource: LogSource) -> Event:
        if not index:
            index.update((id(item), position) for position, item in enumerate(merged))
        row = chunk[index[id(record)]]
        return Event(row.timestamp, dict(row.fields), row.original, raw, logsource, name, offset, format)

    return JsonRecords(
        merged,
        [row.raw for row in chunk],
        [row.offset for row in chunk],
        [row.logsource for row in chunk],
        materialize,
    )


def ecs_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """An event's ECS fields: unknown ones dropped, the derived ones (``source.address``…) set now, so the
    engine reads every field of a row with a plain lookup."""
    out = compact(fields)
    complete_ecs(out)
    return out


def auth_fields(protocol: str, user: str | None, outcome: str, method: str | None,
                secret: str | None, reveal: bool, extra: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The fields of a login attempt, as ``Analyzer.auth`` gives a capture's (without the flow's)."""
    fields: dict[str, Any] = {
        "event.category": "authentication",
        "event.type": "start",
        "event.outcome": outcome,
        "event.action": f"{protocol}-login",
        "user.name": user,
        "credential.method": method,
        **(extra or {}),
    }
    if secret:
        fields.update(secret_fields(secret, "password", reveal))
    return fields


def auth_logsource(product: str, protocol: str) -> LogSource:
    """The log source of a login attempt seen by a sensor (the capture analysis's, for its product)."""
    return LogSource.of(product, (protocol,), "authentication")


def ftp_outcome(code: int | None) -> str | None:
    """The outcome of an FTP login from the reply to USER or PASS; None while the login goes on (331)."""
    if code is None or not (200 <= code < 300 or code >= 500 or code in _FTP_ENDS_LOGIN):
        return None
    return "success" if code < 300 else "failure"


def http_outcome(status: int | None) -> str | None:
    """A Basic-auth request's outcome from its status; None when no response was seen."""
    if status is None:
        return None
    return "failure" if status in AUTH_REFUSED else "success" if status < 400 else "unknown"


def http_fields(method: Any, uri: Any, host: Any, port: Any = None) -> dict[str, Any]:
    """``url.*`` and the method fields of a request, split as the capture analysis splits them."""
    uri_text = uri if isinstance(uri, str) else ""
    method_text = method if isinstance(method, str) else ""
    domain, host_port = authority(host if isinstance(host, str) else None, uri_text)
    path, _, query = uri_text.partition("?") if uri_text.startswith("/") else ("", "", "")
    return {
        "event.category": "network",
        "event.type": "protocol",
        "event.action": method_text.lower() or None,
        "http.request.method": method_text or None,
        "url.original": uri_text or None,
        "url.domain": domain,
        "url.port": host_port if host_port is not None else port,
        "url.path": path or None,
        "url.query": query or None,
    }


def http_aliases(fields: dict[str, Any], host: Any) -> dict[str, Any]:
    """The IIS-style names of a request (``c-uri``, ``cs-method``…), as the capture analysis adds them."""
    aliases = {alias: fields.get(name) for alias, name in HTTP_ALIASES.items()}
    uri = fields.get("url.original") or ""
    aliases.update(
        {
            "cs-host": host,
            "cs-uri-stem": uri.split("?")[0] or None,
            "cs-uri-query": uri.partition("?")[2] or None,
        }
    )
    return compact(aliases)


def dns_fields(name: Any, answers: list[Any]) -> dict[str, Any]:
    """The question-name fields the capture analysis derives (registered domain, lengths) and resolved IPs."""
    text = name if isinstance(name, str) else ""
    labels = text.split(".") if text else []
    return {
        "event.category": "network",
        "event.type": "protocol",
        "dns.question.name": text,
        "dns.question.registered_domain": ".".join(labels[-2:]) or None,
        "dns.question.longest_label": max((len(label) for label in labels), default=0),
        "dns.question.name_length": len(text),
        "dns.resolved_ip": [value for value in answers if isinstance(value, str) and is_ip(value)] or None,
    }


def flow_fields(start: float | None, duration: float | None, packets: tuple[Any, Any],
                octets: tuple[Any, Any]) -> dict[str, Any]:  # fmt: skip
    """A connection's fields, as the capture analysis's flow event has them."""
    fields: dict[str, Any] = {"event.category": "network", "event.type": "connection"}
    if start is not None:
        fields["event.start"] = iso_timestamp(start)
        if duration is not None and duration >= 0:
            fields["event.end"] = iso_timestamp(start + duration)
            fields["event.duration"] = int(duration * 1e9)
    for prefix, (client, server) in (("packets", packets), ("bytes", octets)):
        if isinstance(client, int) and isinstance(server, int):
            fields[f"source.{prefix}"] = client
            fields[f"destination.{prefix}"] = server
            fields[f"network.{prefix}"] = client + server
    return fields


def protocol_name(value: Any) -> str | None:
    """``network.protocol`` from a sensor's service name (the first of a list, ``ssl`` as ``tls``)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str) or not value or value == "-":
        return None
    first = value.split(",")[0].strip().lower()
    return PROTOCOLS.get(first, first) or None


def masked_raw(raw: str, secret: str | None, reveal: bool) -> str:
    """The record's text with a captured secret masked, as capture events never show one."""
    if not secret or reveal:
        return raw
    return raw.replace(secret, mask(secret))


def integer(value: Any) -> int | None:
    """An integer field value (ports, counts), None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        return int(value)
    return None


def text(value: Any) -> str | None:
    """A text field value, None when the record holds anything else there."""
    return value if isinstance(value, str) and value else None


def lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (hostile records nest anything anywhere)."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []
