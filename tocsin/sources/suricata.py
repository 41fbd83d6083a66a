"""Suricata EVE JSON: one object per line, its ``event_type`` saying what it records.

Each event type's ECS fields are declared below as data (``EVENT_TYPES``: ECS name ← EVE path,
plus constants), with a small function where a table is not enough (a DNS record's name, an HTTP
Basic login, an FTP login's verdict, flow durations). The values are the ones tocsin's capture
analysis gives the same traffic; the EVE record stays whole as the event's original fields
(``alert.signature``, ``http.hostname``…). Event types without a table (``stats``, ``netflow``…)
are read with the connection fields only.

A DNS answer record repeats its query's name: it is routed outside ``category: dns``, so DNS rules
count each lookup once, as they do on a capture and on Zeek's one-row-per-lookup log.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tocsin.batch import EventBatch
from tocsin.model.event import Event, LogSource, lookup_path
from tocsin.sources.base import BatchParser, InputSource, InputStats, Sample, compact
from tocsin.sources.jsonstream import first_json_record, iter_json_lines
from tocsin.sources.netlog import (
    CAPTURE_CATEGORIES,
    Logins,
    Row,
    auth_fields,
    auth_logsource,
    dns_fields,
    event_rows,
    flow_fields,
    ftp_outcome,
    http_aliases,
    http_fields,
    http_outcome,
    integer,
    items,
    lower,
    mapping,
    masked_raw,
    protocol_name,
    rows_to_batches,
    take,
    text,
)
from tocsin.sources.pcap.protocols.http import basic_auth
from tocsin.sources.timeparse import parse_time

FORMAT = "suricata"
DATASET = "suricata.eve"
COMMON: dict[str, str] = {
    "source.ip": "src_ip",
    "source.port": "src_port",
    "destination.ip": "dest_ip",
    "destination.port": "dest_port",
    "network.community_id": "community_id",
}
_PROTOCOL_EVENT = {"event.category": "network", "event.type": "protocol"}
#: EVE's TLS version names → the capture analysis's ``tls.version``.
TLS_VERSIONS = {"SSLv3": "3", "TLS 1.0": "1.0", "TLS 1.1": "1.1", "TLS 1.2": "1.2", "TLS 1.3": "1.3"}
#: DNS record types of a question and of an answer, across EVE's v1/v2 (query/answer) and v3 (request/response).
DNS_QUERY_TYPES = frozenset({"query", "request"})
#: FTP logins waiting for their PASS verdict are remembered for at most this many flows.
MAX_FTP_FLOWS = 10_000

_TRUNCATED_RECORD = re.compile(rb'\s*\{.*"(timestamp|event_type)"\s*:.*"(event_type|timestamp)"\s*:')

Derive = Callable[[dict[str, Any], dict[str, Any], "EveReader"], Logins]


@dataclass(frozen=True)
class EveType:
    """How one EVE event type maps to ECS: fields (ECS ← dotted EVE path), constants, derivation."""

    fields: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    derive: Derive | None = None


def _alert(record: dict[str, Any], fields: dict[str, Any], reader: EveReader) -> Logins:
    action = lookup_path(record, "alert.action")
    fields["event.type"] = (
        {"allowed": "allowed", "blocked": "denied"}.get(action, "info") if isinstance(action, str) else "info"
    )
    return []


def _http(record: dict[str, Any], fields: dict[str, Any], reader: EveReader) -> Logins:
    http = mapping(record.get("http"))
    fields.update(
        http_fields(
            http.get("http_method"), http.get("url"), http.get("hostname"), integer(http.get("http_port"))
        )
    )
    if isinstance(http.get("protocol"), str):
        fields["http.version"] = http["protocol"].removeprefix("HTTP/") or None
    headers = {lower(item.get("name")): item.get("value")
               for item in http.get("request_headers") or [] if isinstance(item, dict)}  # fmt: skip
    found = http.get("authorization") or headers.get("authorization") or headers.get("proxy-authorization")
    header = found if isinstance(found, str) else None
    fields["http.request.mime_type"] = headers.get("content-type")
    record.update(http_aliases(fields, headers.get("host") or http.get("hostname")))
    user, password = basic_auth(header)
    fields["user.name"] = user
    outcome = http_outcome(integer(http.get("status")))
    if user is None or outcome is None:
        return []
    if header is not None and password and not reader.reveal:
        reader.secrets.append(header)
        masked = masked_raw(header, header, False)
        for item in http.get("request_headers") or []:
            if isinstance(item, dict) and item.get("value") == header:
                item["value"] = masked
        if http.get("authorization") == header:
            http["authorization"] = masked
    return [
        (
            auth_fields("http", user, outcome, "http-basic", password, reader.reveal),
            auth_logsource("suricata", "http"),
        )
    ]


def _dns(record: dict[str, Any], fields: dict[str, Any], reader: EveReader) -> Logins:
    dns = mapping(record.get("dns"))
    queries = items(dns.get("queries"))
    question = queries[0] if queries and isinstance(queries[0], dict) else dns
    answers = [item for item in dns.get("answers") or [] if isinstance(item, dict)]
    fields.update(dns_fields(question.get("rrname"), [item.get("rdata") for item in answers]))
    kind = dns.get("type")
    answer = kind not in DNS_QUERY_TYPES
    fields.update(
        {
            "event.action": "dns-query" if not answer else "dns-answer",
            "dns.type": "answer" if answer else "query",
            "dns.id": integer(dns.get("id")),
            "dns.question.type": text(question.get("rrtype")),
            "dns.response_code": text(dns.get("rcode")),
            "dns.answers": [
                compact(
                    {
                        "name": item.get("rrname"),
                        "type": item.get("rrtype"),
                        "ttl": item.get("ttl"),
                        "data": item.get("rdata"),
                    }
                )
                for item in answers
            ]
            or None,
        }
    )
    return []


def _tls(record: dict[str, Any], fields: dict[str, Any], reader: EveReader) -> Logins:
    version = lookup_path(record, "tls.version")
    fields["tls.version"] = TLS_VERSIONS.get(version) if isinstance(version, str) else None
    fields["tls.version_protocol"] = "ssl" if version == "SSLv3" else "tls"
    return []


def _ssh(record: dict[str, Any], fields: dict[str, Any], reader: EveReader) -> Logins:
    for side in ("client", "server"):
        proto, software = (
            lookup_path(record, f"ssh.{side}.proto_version"),
            lookup_path(record, f"ssh.{side}.software_version"),
        )
        if isinstance(proto, str) and isinstance(software, str):
            fields[f"ssh.{side}.banner"] = f"SSH-{proto}-{software}"
    return []


def _flow(record: dict[str, Any], fields: dict[str, Any], reader: EveReader) -> Logins:
    flow = mapping(record.get("flow"))
    start, end = parse_time(flow.get("start")), parse_time(flow.get("end"))
    duration = end - start if start is not None and end is not None else None
    packets = (integer(flow.get("pkts_toserver")), integer(flow.get("pkts_toclient")))
    octets = (integer(flow.get("bytes_toserver")), integer(flow.get("bytes_toclient")))
    fields.update(flow_fields(start, duration, packets, octets))
    return []


def _ftp(record: dict[str, Any], fields: dict[str, Any], reader: EveReader) -> Logins:
    """EVE logs each FTP command with its reply codes; the USER before a PASS names the account."""
    ftp = mapping(record.get("ftp"))
    command = ftp.get("command")
    verb = command.upper() if isinstance(command, str) else ""
    argument = ftp.get("command_data") if isinstance(ftp.get("command_data"), str) else None
    fields["event.action"] = verb.lower() or None
    flow = record.get("flow_id")
    users = reader.ftp_users
    if verb == "USER" and flow is not None:
        users[flow] = argument
        users.move_to_end(flow)
        while len(users) > MAX_FTP_FLOWS:
            users.popitem(last=False)
    user = users.get(flow) if flow is not None else None
    fields["user.name"] = user
    secret = argument if verb == "PASS" else None
    if secret:
        reader.secrets.append(secret)
        if not reader.reveal:
            ftp["command_data"] = masked_raw(secret, secret, False)
    verdicts = [ftp_outcome(integer(code)) for code in items(ftp.get("completion_code"))]
    outcome = next((verdict for verdict in reversed(verdicts) if verdict is not None), None)
    if verb not in ("USER", "PASS") or outcome is None:
        return []
    return [
        (
            auth_fields("ftp", user, outcome, "password", secret, reader.reveal),
            auth_logsource("suricata", "ftp"),
        )
    ]


#: Each EVE event type tocsin maps.
EVENT_TYPES: dict[str, EveType] = {
    "alert": EveType(
        {
            "rule.id": "alert.signature_id",
            "rule.name": "alert.signature",
            "rule.category": "alert.category",
            "event.severity": "alert.severity",
            "message": "alert.signature",
            "event.action": "alert.action",
        },
        {"event.kind": "alert", "event.category": "intrusion_detection"},
        derive=_alert,
    ),
    "http": EveType(
        {
            "user_agent.original": "http.http_user_agent",
            "http.request.referrer": "http.http_refer",
            "http.response.status_code": "http.status",
            "http.response.body.bytes": "http.length",
            "http.response.mime_type": "http.http_content_type",
        },
        {"network.protocol": "http"},
        categories=CAPTURE_CATEGORIES["http"],
        derive=_http,
    ),
    "dns": EveType(constants={**_PROTOCOL_EVENT, "network.protocol": "dns"}, derive=_dns),
    "tls": EveType(
        {
            "tls.client.server_name": "tls.sni",
            "tls.client.ja3": "tls.ja3.hash",
            "tls.client.ja4": "tls.ja4",
            "tls.server.subject": "tls.subject",
            "tls.server.issuer": "tls.issuerdn",
        },
        {**_PROTOCOL_EVENT, "network.protocol": "tls", "event.action": "tls-handshake"},
        derive=_tls,
    ),
    "ssh": EveType(
        constants={**_PROTOCOL_EVENT, "network.protocol": "ssh", "event.action": "ssh-banner"}, derive=_ssh
    ),
    "flow": EveType(categories=CAPTURE_CATEGORIES["conn"], derive=_flow),
    "fileinfo": EveType(
        {
            "file.name": "fileinfo.filename",
            "file.size": "fileinfo.size",
            "file.mime_type": "fileinfo.mimetype",
            "file.hash.md5": "fileinfo.md5",
            "file.hash.sha1": "fileinfo.sha1",
            "file.hash.sha256": "fileinfo.sha256",
        },
        {"event.category": "file", "event.type": "info"},
    ),
    "anomaly": EveType(
        {"event.action": "anomaly.event", "message": "anomaly.event", "event.reason": "anomaly.type"},
        {"event.category": "network", "event.type": "info"},
    ),
    "smtp": EveType(
        {
            "email.from.address": "email.from",
            "email.to.address": "email.to",
            "email.subject": "email.subject",
            "email.message_id": "email.message_id",
        },
        {**_PROTOCOL_EVENT, "network.protocol": "smtp", "event.action": "smtp-message"},
    ),
    "ftp": EveType(constants={**_PROTOCOL_EVENT, "network.protocol": "ftp"}, derive=_ftp),
}


def _value(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in a record (EVE nests each protocol's fields under its name)."""
    value: Any = record
    for key in path:
        if type(value) is not dict:
            return None
        value = value.get(key)
    return value


class EveReader:
    """Turns one input's EVE records into rows (per-input state: FTP users by flow, secrets to mask)."""

    def __init__(self, stats: InputStats, reveal: bool) -> None:
        self.stats = stats
        self.reveal = reveal
        self.ftp_users: OrderedDict[Any, str | None] = OrderedDict()
        self.secrets: list[str] = []
        self._logsources: dict[tuple[str, bool], LogSource] = {}
        self._paths: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}

    def rows(self, records: Iterator[tuple[str, str, Any]]) -> Iterator[Row]:
        stats = self.stats
        for offset, raw, record in records:
            stats.records += 1
            if not isinstance(record, dict):
                stats.skip("JSON value is not an object")
                continue
            kind = record.get("event_type")
            if not isinstance(kind, str) or not kind:
                stats.skip("not a Suricata EVE record (no event_type)")
                continue
            try:
                rows = self._rows(kind.lower(), record, raw, offset)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                stats.skip(f"suricata {kind[:40]} record of unexpected shape ({type(exc).__name__})")
                continue
            stats.events += len(rows)
            yield from rows

    def _rows(self, kind: str, record: dict[str, Any], raw: str, offset: str) -> list[Row]:
        spec = EVENT_TYPES.get(kind)
        fields: dict[str, Any] = {"event.kind": "event", "event.module": "suricata", "event.dataset": DATASET}
        take(fields, ((ecs, _value(record, path)) for ecs, path in self._pairs(kind, spec)))
        fields["network.transport"] = lower(record.get("proto"))
        fields["network.protocol"] = protocol_name(record.get("app_proto"))
        logins: Logins = []
        if spec is not None:
            fields.update(spec.constants)
            if spec.derive is not None:
                logins = spec.derive(record, fields, self)
        secrets, self.secrets = self.secrets, []
        for secret in secrets:
            raw = masked_raw(raw, secret, self.reveal)
        logsource = self._logsource(kind, spec, fields.get("event.action") != "dns-answer")
        return event_rows(parse_time(record.get("timestamp")), fields, logins, record, raw, offset, logsource)

    def _pairs(self, kind: str, spec: EveType | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(ECS name, EVE path split at its dots) of an event type, computed once per input."""
        pairs = self._paths.get(kind)
        if pairs is None:
            table = {**COMMON, **(spec.fields if spec else {})}
            pairs = self._paths[kind] = tuple((ecs, tuple(path.split("."))) for ecs, path in table.items())
        return pairs

    def _logsource(self, kind: str, spec: EveType | None, question: bool) -> LogSource:
        key = (kind, question)
        logsource = self._logsources.get(key)
        if logsource is None:
            categories = spec.categories if spec else ()
            if kind == "dns" and question:
                categories = CAPTURE_CATEGORIES["dns"]
            logsource = self._logsources[key] = LogSource(
                frozenset({"suricata"}), frozenset({kind}), frozenset((*categories, "network"))
            )
        return logsource


class EveParser(BatchParser):
    name = "suricata"
    description = "Suricata EVE JSON: alert, http, dns, tls, ssh, flow, fileinfo, anomaly, smtp, ftp; other event types generically"
    line_oriented = True

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        record = first_json_record(sample.head)
        if record is None:  # a first record longer than the sample: its opening keys tell
            line = sample.head.split(b"\n", 1)[0]
            return 70 if _TRUNCATED_RECORD.match(line) else 0
        if isinstance(record, dict) and {"event_type", "timestamp"} <= record.keys():
            return (
                85 if "src_ip" in record or "flow_id" in record or record.get("event_type") == "stats" else 0
            )
        return 0

    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]:
        for batch in self.batches(source, stats, 4096):
            yield from batch.events

    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[EventBatch]:
        reader = EveReader(stats, self.options.reveal_secrets)
        with source.open() as stream:
            records = iter_json_lines(stream, stats, self.options.max_record_bytes)
            yield from rows_to_batches(reader.rows(records), size, source.name, FORMAT)
