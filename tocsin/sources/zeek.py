"""Zeek logs: TSV with ``#fields``/``#types`` headers, or JSON (one object per line), in one reader.

Each log type's ECS fields are declared below as data (``LOGS``: ECS name ← Zeek name, plus
constants), with a small function for what a table cannot say (a login's verdict, a URI split, a
duration). The values are the ones tocsin's capture analysis gives the same traffic, so one rule fires
on both; the Zeek record stays whole as the event's original fields, so SigmaHQ's ``product: zeek``
rules, written against Zeek's own names (``id.orig_h``, ``query``, ``uri``), match as they are.

TSV: a ``#separator`` line starts a header block; ``#fields`` and ``#types`` name and type the
columns until the next block (logs rotated or appended mid-file switch columns); ``#close`` ends it.
Unset (``-``) values are absent, ``(empty)`` sets are empty, sets and vectors are lists, ``\\xNN``
escapes are undone. JSON: the log type is the record's ``_path``, else the file name (``conn.log``,
``dns.04:00:00-05:00:00.log.gz``), else guessed from its keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO, Any

from tocsin.batch import EventBatch
from tocsin.model.event import Event, LogSource
from tocsin.sources.base import BatchParser, InputSource, InputStats, Sample, compact
from tocsin.sources.inputs import decode_lines
from tocsin.sources.jsonstream import TOO_DEEP, TooDeep, first_json_record, loads
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
    masked_raw,
    protocol_name,
    rows_to_batches,
    take,
)
from tocsin.sources.pcap.protocols.kerberos import ERRORS, NOT_FAILURES
from tocsin.sources.timeparse import parse_time

FORMAT = "zeek"
#: Every log's connection fields (ECS ← Zeek).
COMMON: dict[str, str] = {
    "source.ip": "id.orig_h",
    "source.port": "id.orig_p",
    "destination.ip": "id.resp_h",
    "destination.port": "id.resp_p",
    "network.community_id": "community_id",
}
_PROTOCOL_EVENT = {"event.category": "network", "event.type": "protocol"}
_TCP = {"network.transport": "tcp"}

Derive = Callable[[dict[str, Any], dict[str, Any], "ZeekReader"], Logins]


@dataclass(frozen=True)
class ZeekLog:
    """How one Zeek log type maps to ECS: fields (ECS ← Zeek), constants, and what code derives."""

    fields: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    #: Extra events (logins) and fields computed from the record: ``derive(record, fields, reader)``.
    derive: Derive | None = None


#: Zeek's TLS version names → the capture analysis's ``tls.version``.
TLS_VERSIONS = {"SSLv3": "3", "TLSv10": "1.0", "TLSv11": "1.1", "TLSv12": "1.2", "TLSv13": "1.3"}
#: DNS header flags as Zeek logs them (booleans) → the capture analysis's ``dns.header_flags``.
DNS_FLAGS = ("AA", "TC", "RD", "RA")
_KERBEROS_CODES = {name: code for code, name in ERRORS.items()}
_HIDDEN = "<hidden>"
#: A log type (``#path``, ``_path``) is cut to this length: it becomes a dataset and a Sigma service.
MAX_LOG_NAME = 64


def _conn(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    fields.update(
        flow_fields(
            parse_time(record.get("ts")),
            _number(record.get("duration")),
            (integer(record.get("orig_pkts")), integer(record.get("resp_pkts"))),
            (integer(record.get("orig_ip_bytes")), integer(record.get("resp_ip_bytes"))),
        )
    )
    fields["network.protocol"] = protocol_name(record.get("service"))
    return []


def _dns(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    answers, ttls = items(record.get("answers")), items(record.get("TTLs"))
    fields.update(dns_fields(record.get("query"), answers))
    answered = record.get("rcode") is not None or record.get("rcode_name") is not None
    fields["dns.type"] = "answer" if answered else "query"
    if answered:
        fields["dns.header_flags"] = [flag for flag in DNS_FLAGS if record.get(flag) is True] or None
    fields["dns.answers"] = [
        compact({"data": answer, "ttl": ttls[position] if position < len(ttls) else None})
        for position, answer in enumerate(answers)
    ] or None
    return []


def _http(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    fields.update(http_fields(record.get("method"), record.get("uri"), record.get("host")))
    record.update(http_aliases(fields, record.get("host")))
    status = integer(record.get("status_code"))
    user, outcome = fields.get("user.name"), http_outcome(status)
    if not isinstance(user, str) or outcome is None:
        return []
    secret = reader.secret(record, "password")
    return [
        (
            auth_fields("http", user, outcome, "http-basic", secret, reader.reveal),
            auth_logsource("zeek", "http"),
        )
    ]


def _ssl(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    version = record.get("version")
    fields["tls.version"] = TLS_VERSIONS.get(version) if isinstance(version, str) else None
    fields["tls.version_protocol"] = "ssl" if version == "SSLv3" else "tls"
    return []


def _ssh(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    verdict = record.get("auth_success")
    if not isinstance(verdict, bool):
        return []
    outcome = "success" if verdict else "failure"
    return [(auth_fields("ssh", None, outcome, None, None, reader.reveal), auth_logsource("zeek", "ssh"))]


def _ftp(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    command = record.get("command")
    verb = command.upper() if isinstance(command, str) else ""
    fields["event.action"] = verb.lower() or None
    secret = reader.secret(record, "password")
    if verb == "PASS":
        secret = reader.secret(record, "arg") or secret
    outcome = ftp_outcome(integer(record.get("reply_code")))
    if verb not in ("USER", "PASS") or outcome is None:
        return []
    user = record.get("user") if isinstance(record.get("user"), str) else None
    return [
        (auth_fields("ftp", user, outcome, "password", secret, reader.reveal), auth_logsource("zeek", "ftp"))
    ]


def _kerberos(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    client = record.get("client")
    user, _, realm = client.rpartition("/") if isinstance(client, str) and "/" in client else (client, "", "")
    request_type = record.get("request_type") if isinstance(record.get("request_type"), str) else None
    success = record.get("success") if isinstance(record.get("success"), bool) else None
    error = fields.get("kerberos.error")
    code = _KERBEROS_CODES.get(error) if isinstance(error, str) else None
    fields.update(
        {
            "event.action": f"kerberos-{(request_type or 'krb').lower()}",
            "event.outcome": {True: "success", False: "failure", None: "unknown"}[success],
            "user.name": user if isinstance(user, str) else None,
            "user.domain": realm or None,
            "kerberos.error_code": code,
        }
    )
    if request_type != "AS" or success is None or code in NOT_FAILURES:
        return []
    extra = {"user.domain": realm or None, "kerberos.service": fields.get("kerberos.service"),
             "kerberos.error_code": code, "kerberos.error": error}  # fmt: skip
    outcome = "success" if success else "failure"
    return [(auth_fields("kerberos", fields["user.name"], outcome, "kerberos", None, reader.reveal, extra),
             auth_logsource("zeek", "kerberos"))]  # fmt: skip


def _ntlm(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    verdict = record.get("success")
    if not isinstance(verdict, bool):
        return []
    outcome = "success" if verdict else "failure"
    extra = {"user.domain": fields.get("user.domain")}
    return [(auth_fields("ntlm", fields.get("user.name"), outcome, "ntlm", None, reader.reveal, extra),
             auth_logsource("zeek", "ntlm"))]  # fmt: skip


def _hosts(record: dict[str, Any], fields: dict[str, Any], reader: ZeekReader) -> Logins:
    """files and notice logs name their hosts outside ``id.*`` (``tx_hosts``/``rx_hosts``, ``src``/``dst``)."""
    for ecs, names in (("source.ip", ("src", "tx_hosts")), ("destination.ip", ("dst", "rx_hosts"))):
        for name in names:
            value = record.get(name)
            value = value[0] if isinstance(value, list) and value else value
            if fields.get(ecs) is None and isinstance(value, str):
                fields[ecs] = value
    if fields.get("destination.port") is None:
        fields["destination.port"] = integer(record.get("p"))
    source = record.get("source")
    if isinstance(source, str):
        fields["network.protocol"] = protocol_name(source)
    return []


#: Each Zeek log type tocsin maps (others keep the connection fields and their own names).
LOGS: dict[str, ZeekLog] = {
    "conn": ZeekLog({"network.transport": "proto", "network.tcp_flags_history": "history"}, derive=_conn),
    "dns": ZeekLog(
        {
            "network.transport": "proto",
            "dns.id": "trans_id",
            "dns.question.type": "qtype_name",
            "dns.question.class": "qclass_name",
            "dns.response_code": "rcode_name",
        },
        {"event.action": "dns-query", "network.protocol": "dns"},
        _dns,
    ),
    "http": ZeekLog(
        {
            "http.version": "version",
            "user_agent.original": "user_agent",
            "http.request.referrer": "referrer",
            "http.request.body.bytes": "request_body_len",
            "http.response.status_code": "status_code",
            "http.response.body.bytes": "response_body_len",
            "user.name": "username",
        },
        {**_TCP, "network.protocol": "http"},
        _http,
    ),
    "ssl": ZeekLog(
        {
            "tls.client.server_name": "server_name",
            "tls.client.ja3": "ja3",
            "tls.client.ja4": "ja4",
            "tls.next_protocol": "next_protocol",
            "tls.server.subject": "subject",
            "tls.server.issuer": "issuer",
        },
        {**_TCP, **_PROTOCOL_EVENT, "network.protocol": "tls", "event.action": "tls-handshake"},
        _ssl,
    ),
    "ssh": ZeekLog(
        {"ssh.client.banner": "client", "ssh.server.banner": "server"},
        {**_TCP, **_PROTOCOL_EVENT, "network.protocol": "ssh", "event.action": "ssh-banner"},
        _ssh,
    ),
    "ftp": ZeekLog({"user.name": "user"}, {**_TCP, **_PROTOCOL_EVENT, "network.protocol": "ftp"}, _ftp),
    "smtp": ZeekLog(
        {
            "email.from.address": "mailfrom",
            "email.to.address": "rcptto",
            "email.subject": "subject",
            "email.message_id": "msg_id",
            "user_agent.original": "user_agent",
        },
        {**_TCP, **_PROTOCOL_EVENT, "network.protocol": "smtp", "event.action": "smtp-message"},
    ),
    "files": ZeekLog(
        {
            "file.name": "filename",
            "file.mime_type": "mime_type",
            "file.size": "total_bytes",
            "file.hash.md5": "md5",
            "file.hash.sha1": "sha1",
            "file.hash.sha256": "sha256",
        },
        {"event.category": "file", "event.type": "info"},
        _hosts,
    ),
    "notice": ZeekLog(
        {"rule.name": "note", "message": "msg", "event.reason": "sub"},
        {"event.kind": "alert", "event.category": "intrusion_detection", "event.type": "info"},
        _hosts,
    ),
    "kerberos": ZeekLog(
        {
            "kerberos.request_type": "request_type",
            "kerberos.service": "service",
            "kerberos.error": "error_msg",
            "kerberos.cipher": "cipher",
        },
        {**_PROTOCOL_EVENT, "network.protocol": "kerberos"},
        _kerberos,
    ),
    "ntlm": ZeekLog(
        {"user.name": "username", "user.domain": "domainname", "source.domain": "hostname"},
        {**_TCP, **_PROTOCOL_EVENT, "network.protocol": "ntlm", "event.action": "ntlm-auth"},
        _ntlm,
    ),
    "rdp": ZeekLog(
        {"user.name": "cookie", "event.reason": "result"},
        {**_TCP, **_PROTOCOL_EVENT, "network.protocol": "rdp", "event.action": "rdp-connection"},
    ),
    "weird": ZeekLog(
        {"event.action": "name", "message": "addl"},
        {"event.category": "network", "event.type": "info"},
    ),
}
#: Keys that give a JSON record's log type away when neither ``_path`` nor the file name does.
KEY_HINTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("conn", frozenset({"conn_state"})),
    ("dns", frozenset({"qtype_name"})),
    ("dns", frozenset({"query", "trans_id"})),
    ("http", frozenset({"trans_depth", "method"})),
    ("http", frozenset({"trans_depth", "status_code"})),
    ("ssl", frozenset({"server_name", "established"})),
    ("ssl", frozenset({"cipher", "established"})),
    ("ssh", frozenset({"auth_attempts"})),
    ("ftp", frozenset({"command", "reply_code"})),
    ("smtp", frozenset({"mailfrom"})),
    ("smtp", frozenset({"helo", "trans_depth"})),
    ("files", frozenset({"fuid", "seen_bytes"})),
    ("notice", frozenset({"note"})),
    ("kerberos", frozenset({"request_type", "client"})),
    ("ntlm", frozenset({"domainname"})),
    ("ntlm", frozenset({"server_nb_computer_name"})),
    ("rdp", frozenset({"cookie"})),
    ("rdp", frozenset({"security_protocol"})),
    ("weird", frozenset({"name", "peer"})),
)
#: Zeek's other logs: read with the connection fields and their own names (SigmaHQ routes by the name).
OTHER_LOGS = frozenset(
    {
        "analyzer", "capture_loss", "conn_long", "dce_rpc", "dhcp", "dnp3", "dpd", "http2", "intel", "irc",
        "known_certs", "known_hosts", "known_services", "ldap", "ldap_search", "modbus", "mysql", "ntp",
        "ocsp", "pe", "quic", "radius", "reporter", "sip", "smb_files", "smb_mapping", "snmp", "socks",
        "software", "ssl_certs", "stats", "syslog", "tunnel", "websocket", "x509",
    }
)  # fmt: skip
_TRUNCATED_RECORD = re.compile(rb'\s*\{.*("_path"\s*:\s*"|"uid"\s*:.*"id\.orig_h"\s*:)')
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text) if "\\x" in text else text


def log_type_of(name: str) -> str | None:
    """The log type a file name gives (``conn`` of ``conn.00:00:00-01:00:00.log.gz``), if it names one."""
    stem = PurePath(name.replace("\\", "/")).name.partition(".")[0].lower()
    return stem if stem in LOGS or stem in OTHER_LOGS else None


def guess_log_type(record: dict[str, Any]) -> str | None:
    """The log type of a JSON record without ``_path``, from the keys only that log has."""
    keys = record.keys()
    for log_type, needed in KEY_HINTS:
        if needed <= keys:
            return log_type
    return None


@dataclass
class _Header:
    """The current TSV header block."""

    separator: str = "\t"
    set_separator: str = ","
    empty: str = "(empty)"
    unset: str = "-"
    path: str | None = None
    fields: list[str] | None = None
    types: list[str] | None = None


class ZeekReader:
    """Turns one input's Zeek records into rows (the parser's per-input state)."""

    def __init__(self, name: str, stats: InputStats, reveal: bool) -> None:
        self.name = name
        self.stats = stats
        self.reveal = reveal
        self.from_name = log_type_of(name)
        self.header = _Header()
        self._plans: dict[str, tuple[tuple[tuple[str, str], ...], ZeekLog | None, LogSource]] = {}
        self._secrets: list[str] = []

    # -- lines ------------------------------------------------------------------------

    def rows(self, stream: IO[bytes], max_bytes: int) -> Iterator[Row]:
        stats = self.stats
        for number, text in decode_lines(stream, stats, max_bytes):
            line = text.removeprefix("\ufeff") if number == 1 else text
            if line.startswith("#"):
                self._directive(line)
                continue
            stats.records += 1
            if line.lstrip().startswith("{"):
                record, log_type = self._json(line)
            else:
                record, log_type = self._tsv(line)
            if record is None or log_type is None:
                continue
            try:
                rows = self._rows(log_type, record, line, str(number))
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                stats.skip(f"zeek {log_type} record of unexpected shape ({type(exc).__name__})")
                continue
            stats.events += len(rows)
            yield from rows

    def _directive(self, line: str) -> None:
        header = self.header
        if line.startswith("#separator"):
            value = line[len("#separator") :].strip()
            self.header = _Header(separator=_unescape(value) or "\t")
            return
        key, _, value = line[1:].partition(header.separator)
        if key == "set_separator":
            header.set_separator = _unescape(value) or ","
        elif key == "empty_field":
            header.empty = value
        elif key == "unset_field":
            header.unset = value
        elif key == "path":
            header.path = value.strip().lower()[:MAX_LOG_NAME] or None
        elif key == "fields":
            header.fields, header.types = value.split(header.separator), None
        elif key == "types":
            header.types = value.split(header.separator)
        elif key == "close":
            header.fields = header.types = None
        elif key != "open":
            self.stats.warn("unknown Zeek header line")

    def _tsv(self, line: str) -> tuple[dict[str, Any] | None, str | None]:
        header = self.header
        if header.fields is None:
            self.stats.skip("Zeek TSV line before a #fields header (or after #close)")
            return None, None
        cells = line.split(header.separator)
        if len(cells) != len(header.fields):
            self.stats.skip("Zeek TSV line whose column count differs from its #fields header")
            return None, None
        types = header.types if header.types is not None and len(header.types) == len(cells) else None
        record: dict[str, Any] = {}
        for position, (name, cell) in enumerate(zip(header.fields, cells, strict=True)):
            if cell == header.unset:
                continue
            value = self._value(cell, types[position] if types else "string")
            if value is not None:
                record[name] = value
        log_type = header.path or self.from_name or guess_log_type(record)
        return record, log_type or "unknown"

    def _value(self, cell: str, kind: str) -> Any:
        header = self.header
        if kind.startswith(("set[", "vector[", "table[")):
            if cell == header.empty:
                return []
            inner = kind[kind.index("[") + 1 : -1]
            return [self._value(item, inner) for item in cell.split(header.set_separator)]
        if cell == header.empty and kind == "string":
            return ""
        try:
            if kind in ("count", "int", "port"):
                return int(cell)
            if kind in ("time", "interval", "double"):
                return float(cell)
        except ValueError:
            self.stats.warn(f"Zeek value not of its declared type ({kind}); kept as text")
            return _unescape(cell)
        if kind == "bool":
            return {"T": True, "F": False}.get(cell)
        return _unescape(cell)

    def _json(self, line: str) -> tuple[dict[str, Any] | None, str | None]:
        try:
            record = loads(line, self.stats)
        except TooDeep:
            self.stats.skip(TOO_DEEP)
            return None, None
        except ValueError:
            self.stats.skip("malformed JSON")
            return None, None
        if not isinstance(record, dict):
            self.stats.skip("JSON value is not an object")
            return None, None
        path = record.get("_path")
        log_type = (
            path.lower()[:MAX_LOG_NAME]
            if isinstance(path, str) and path
            else self.from_name or guess_log_type(record)
        )
        if log_type is None and not ({"ts", "uid"} <= record.keys() or "id.orig_h" in record):
            self.stats.skip("not a Zeek record")
            return None, None
        return record, log_type or "unknown"

    # -- records ----------------------------------------------------------------------

    def _rows(self, log_type: str, record: dict[str, Any], raw: str, offset: str) -> list[Row]:
        plan = self._plans.get(log_type)
        if plan is None:
            plan = self._plans[log_type] = self._plan(log_type)
        pairs, spec, logsource = plan
        fields: dict[str, Any] = {
            "event.kind": "event",
            "event.module": "zeek",
            "event.dataset": f"zeek.{log_type}",
        }
        get = record.get
        take(fields, ((ecs, get(name)) for ecs, name in pairs))
        transport = fields.get("network.transport")
        if isinstance(transport, str):
            fields["network.transport"] = transport.lower()
        logins: Logins = []
        if spec is not None:
            fields.update(spec.constants)
            if spec.derive is not None:
                logins = spec.derive(record, fields, self)
        raw = self._masked(raw)
        return event_rows(parse_time(get("ts")), fields, logins, record, raw, offset, logsource)

    def _plan(self, log_type: str) -> tuple[tuple[tuple[str, str], ...], ZeekLog | None, LogSource]:
        """The field pairs, spec and log source of one log type (computed once per input)."""
        spec = LOGS.get(log_type)
        pairs = tuple({**COMMON, **(spec.fields if spec else {})}.items())
        categories = CAPTURE_CATEGORIES.get(log_type, ())
        return pairs, spec, LogSource(frozenset({"zeek"}), frozenset({log_type}), frozenset(categories))

    def secret(self, record: dict[str, Any], name: str) -> str | None:
        """A password the record shows (Zeek hides them unless told otherwise), masked in the record."""
        value = record.get(name)
        if not isinstance(value, str) or not value or value == _HIDDEN:
            return None
        self._secrets.append(value)
        if not self.reveal:
            record[name] = masked_raw(value, value, False)
        return value

    def _masked(self, raw: str) -> str:
        secrets, self._secrets = self._secrets, []
        for secret in secrets:
            raw = masked_raw(raw, secret, self.reveal)
        return raw


class ZeekParser(BatchParser):
    name = "zeek"
    description = "Zeek logs (TSV with #fields headers, or JSON): conn, dns, http, ssl, ssh, ftp, smtp, files, notice, kerberos, ntlm, rdp, weird, others generically"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        if sample.head.lstrip(b"\xef\xbb\xbf").startswith(b"#separator"):
            return 95
        record = first_json_record(sample.head)
        if record is None:  # a first record longer than the sample: its opening keys tell
            line = sample.head.split(b"\n", 1)[0]
            return 70 if _TRUNCATED_RECORD.match(line) and b'"ts"' in line else 0
        if not isinstance(record, dict) or "ts" not in record:
            return 0
        if isinstance(record.get("_path"), str) or {"uid", "id.orig_h"} <= record.keys():
            return 85
        return 0

    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]:
        for batch in self.batches(source, stats, 4096):
            yield from batch.events

    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[EventBatch]:
        reader = ZeekReader(source.name, stats, self.options.reveal_secrets)
        with source.open() as stream:
            yield from rows_to_batches(
                reader.rows(stream, self.options.max_record_bytes), size, source.name, FORMAT
            )
