"""tshark as the oracle: the rows it and tocsin see in one capture, per protocol, for a row-by-row comparison.

A row is a tuple starting with the connection (its two endpoints, sorted) and holding what both tools
name the same way. Rows are compared as multisets per capture and protocol.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from tests.network.helpers import events_of
from tocsin.model.event import Event

TSHARK = shutil.which("tshark")
PROTOCOLS = ("http", "dns", "logins", "tls", "ssh", "kerberos", "ldap")
_LAYERS = "ip ipv6 tcp udp http dns mdns ftp pop imap smtp ssh tls kerberos ldap ntlmssp"
_PREFERENCES = ("tcp.desegment_tcp_streams:TRUE", "http.desegment_headers:TRUE", "http.desegment_body:FALSE",
 "ip.defragment:TRUE", "ipv6.defragment:TRUE")  # fmt: skip
#: Captures of a protocol on a port tshark gives to another: told with Decode As, as a Wireshark user would.
_DECODE_AS = {
    "postgresql/http-on-port-5432.pcap": "tcp.port==5432,http",
    "http/get-to-ssh-server.pcap": "tcp.port==22,http",
}
#: tshark's TLS version names, as ECS writes them.
_TLS_VERSIONS = {"0x0300": "3.0", "0x0301": "1.0", "0x0302": "1.1", "0x0303": "1.2", "0x0304": "1.3"}
Row = tuple[Any, ...]


@cache
def tshark_frames(path: Path) -> list[dict[str, Any]]:
    """tshark's dissection of a capture (its JSON layers per frame), once per test session."""
    command = [TSHARK or "tshark", "-r", str(path), "-n", "--no-duplicate-keys", "-T", "json", "-J", _LAYERS]
    for preference in _PREFERENCES:
        command += ["-o", preference]
    decode_as = next((rule for name, rule in _DECODE_AS.items() if path.as_posix().endswith(name)), None)
    if decode_as is not None:
        command += ["-d", decode_as]
    done = subprocess.run(command, capture_output=True, check=False, timeout=120)
    text = done.stdout.decode("utf-8", "replace").strip()
    return [frame["_source"]["layers"] for frame in json.loads(text)] if text else []


@cache
def tocsin_events(path: Path) -> list[Event]:
    return events_of(path)[0]


def rows(path: Path, protocol: str) -> tuple[Counter[Row], Counter[Row]]:
    """(tshark's rows, tocsin's rows) of one protocol in one capture."""
    frames = tshark_frames(path)
    events = tocsin_events(path)
    return Counter(_TSHARK_ROWS[protocol](frames)), Counter(_TOCSIN_ROWS[protocol](events))


# -- walking tshark's JSON ------------------------------------------------------------------------


def _layers(frame: dict[str, Any], name: str) -> list[dict[str, Any]]:
    layer = frame.get(name)
    if layer is None:
        return []
    return [item for item in (layer if isinstance(layer, list) else [layer]) if isinstance(item, dict)]


def _find(tree: Any, field: str) -> list[Any]:
    """Every value of ``field`` anywhere below ``tree``, in document order."""
    found: list[Any] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == field:
                found += value if isinstance(value, list) else [value]
            else:
                found += _find(value, field)
    elif isinstance(tree, list):
        for item in tree:
            found += _find(item, field)
    return found


def _first(tree: Any, field: str) -> Any:
    values = _find(tree, field)
    return values[0] if values else None


def _endpoints(frame: dict[str, Any]) -> tuple[str, int, str, int]:
    ip = frame.get("ip") or frame.get("ipv6") or {}
    if isinstance(ip, list):  # tunnels: the innermost header
        ip = ip[-1]
    prefix = "ip" if "ip" in frame else "ipv6"
    transport = frame.get("tcp") or frame.get("udp") or {}
    if isinstance(transport, list):
        transport = transport[-1]
    kind = "tcp" if "tcp" in frame else "udp"
    return (ip.get(f"{prefix}.src", ""), int(transport.get(f"{kind}.srcport", 0)),
            ip.get(f"{prefix}.dst", ""), int(transport.get(f"{kind}.dstport", 0)))  # fmt: skip


def _connection(a: str, a_port: int, b: str, b_port: int) -> tuple[str, ...]:
    return tuple(sorted((f"{a}:{a_port}", f"{b}:{b_port}")))


def _frame_connection(frame: dict[str, Any]) -> tuple[str, ...]:
    return _connection(*_endpoints(frame))


def _event_connection(event: Event) -> tuple[str, ...]:
    f = event.fields
    return _connection(f["source.ip"], f["source.port"], f["destination.ip"], f["destination.port"])


def _by(events: list[Event], dataset: str) -> Iterator[Event]:
    return (e for e in events if e.fields.get("event.dataset") == f"network.{dataset}")


# -- HTTP ---------------------------------------------------------------------------------------------


def _tshark_http(frames: list[dict[str, Any]]) -> Iterator[Row]:
    for frame in frames:
        connection = _frame_connection(frame)
        for http in _layers(frame, "http"):
            method = _first(http, "http.request.method")
            if method is not None:
                auth = _first(http, "http.authbasic")
                yield ("request", connection, method, _first(http, "http.host"),
                       _first(http, "http.request.uri") or None, _first(http, "http.request.version") or None, _first(http, "http.user_agent"),
                       auth.partition(":")[0] if auth is not None else None)  # fmt: skip
            code = _first(http, "http.response.code")
            if code is not None:
                yield ("response", connection, int(code))


def _tocsin_http(events: list[Event]) -> Iterator[Row]:
    for event in _by(events, "http"):
        f = event.fields
        connection = _event_connection(event)
        if f.get("http.request.method"):
            host = f.get("url.domain")
            if host is not None and f.get("url.port") is not None:
                host = f"[{host}]:{f['url.port']}" if ":" in host else f"{host}:{f['url.port']}"
            version = f.get("http.version")
            yield ("request", connection, f["http.request.method"], host, f.get("url.original"),
                   f"HTTP/{version}" if version else None, f.get("user_agent.original"),
                   f.get("user.name"))  # fmt: skip
        if f.get("http.response.status_code") is not None:
            yield ("response", connection, f["http.response.status_code"])


# -- DNS ------------------------------------------------------------------------------------------------


def _tshark_type(label: str) -> str:
    """The type in tshark's record label ``name: type A, class IN`` (``Unknown (65534)`` → ``65534``)."""
    kind = label.rpartition(": type ")[2].split(",")[0]
    return kind[9:-1] if kind.startswith("Unknown (") else kind


def _tshark_class(label: str) -> str:
    kind = label.rpartition(", class ")[2].split(",")[0].strip()
    return kind[9:-1] if kind.startswith("Unknown (") else kind


def _tshark_dns_message(dns: dict[str, Any]) -> dict[str, Any]:
    flags = dns.get("dns.flags_tree", {})
    queries = dns.get("Queries") or dns.get("Zone") or {}  # an UPDATE names its zone in place of a question
    question = next(iter(queries.items()), None) if isinstance(queries, dict) else None
    name = qtype = qclass = None
    if question is not None:
        label, tree = question
        if isinstance(tree, list):
            tree = tree[0]
        name = tree.get("dns.qry.name") if isinstance(tree, dict) else None
        qtype, qclass = _tshark_type(label), _tshark_class(label)
    answers = []
    section = dns.get("Answers", {})
    if isinstance(section, dict):
        for label, records in section.items():
            for record in records if isinstance(records, list) else [records]:
                if isinstance(record, dict) and "dns.resp.ttl" in record:
                    answers.append((_any(_tshark_type(label)), int(record["dns.resp.ttl"])))
    return {
        "id": int(dns.get("dns.id", "0"), 16),
        "response": flags.get("dns.flags.response") == "1",
        "rcode": _rcode(flags, dns),
        "truncated": flags.get("dns.flags.truncated") == "1",
        "name": name,
        "qtype": qtype,
        "qclass": qclass,
        "answers": tuple(sorted(answers)),
    }


_RCODES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
           "NOTAUTH", "NOTZONE", "DSOTYPENI", "12", "13", "14", "15", "BADVERS", "BADKEY", "BADTIME", "BADMODE",
           "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE")  # fmt: skip


def _rcode(flags: dict[str, Any], dns: dict[str, Any]) -> str | None:
    """The response code with EDNS's upper bits (tshark shows them apart, in the OPT record)."""
    if "dns.flags.rcode" not in flags:
        return None
    extended = _first(dns.get("Additional records", {}), "dns.resp.ext_rcode")
    value = int(flags["dns.flags.rcode"]) | (int(extended, 16) << 4 if extended else 0)
    return _RCODES[value] if value < len(_RCODES) else str(value)


def _tshark_dns(frames: list[dict[str, Any]]) -> Iterator[Row]:
    """One row per transaction: a query with its response, or either alone."""
    open_queries: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    rows: list[tuple[tuple[str, ...], dict[str, Any] | None, dict[str, Any] | None]] = []
    for frame in frames:
        connection = _frame_connection(frame)
        for dns in _layers(frame, "dns") + _layers(frame, "mdns"):
            message = _tshark_dns_message(dns)
            key = (connection, message["id"])
            if not message["response"]:
                rows.append((connection, message, None))
                open_queries.setdefault(key, []).append(rows[-1])  # type: ignore[arg-type]
                continue
            waiting = open_queries.get(key)
            if waiting:
                query_row = waiting.pop(0)
                rows[rows.index(query_row)] = (connection, query_row[1], message)  # type: ignore[index]
            else:
                rows.append((connection, None, message))
    for connection, query, answer in rows:
        yield _dns_row(connection, query, answer)


def _dns_row(connection: tuple[str, ...], query: dict[str, Any] | None, answer: dict[str, Any] | None) -> Row:
    known = answer if query is None or (query["name"] is None and answer is not None) else query
    return ("dns", connection, known["id"], known["name"], _any(known["qtype"]), known["qclass"],
            answer["rcode"] if answer else None, answer["answers"] if answer else (),
            answer["truncated"] if answer else None)  # fmt: skip


def _any(qtype: str | None) -> str | None:
    """tshark writes the ANY type as ``*``; tocsin as ``ANY`` (the name rules use)."""
    return "ANY" if qtype == "*" else qtype


def _tocsin_dns(events: list[Event]) -> Iterator[Row]:
    for event in _by(events, "dns"):
        f = event.fields
        answered = f.get("dns.type") == "answer"
        answers = tuple(sorted((_any(a.get("type")), a.get("ttl")) for a in f.get("dns.answers") or []))
        yield ("dns", _event_connection(event), f.get("dns.id"), f.get("dns.question.name"),
               f.get("dns.question.type"), f.get("dns.question.class"),
               f.get("dns.response_code") if answered else None, answers if answered else (),
               "TC" in (f.get("dns.header_flags") or []) if answered else None)  # fmt: skip


# -- logins -------------------------------------------------------------------------------------------


def _tshark_logins(frames: list[dict[str, Any]]) -> Iterator[Row]:
    """USER, APOP, IMAP LOGIN and AUTH commands (tshark leaves SASL base64 undecoded: decoded here)."""
    sasl_plain: dict[tuple[str, ...], bool] = {}
    for frame in frames:
        connection = _frame_connection(frame)
        for ftp in _layers(frame, "ftp"):
            for command, argument in zip(
                _find(ftp, "ftp.request.command"), _find(ftp, "ftp.request.arg"), strict=False
            ):
                if command.upper() == "USER":
                    yield ("ftp", connection, argument)
        for pop in _layers(frame, "pop"):
            command = _first(pop, "pop.request.command")
            parameter = _first(pop, "pop.request.parameter") or ""
            if command is not None and command.upper() in ("USER", "APOP"):
                yield ("pop3", connection, parameter.split(" ")[0])
            elif command is not None and sasl_plain.pop(connection, False):
                yield ("pop3", connection, _sasl_plain_user(command))
            elif command is not None and command.upper() == "AUTH" and parameter.upper().startswith("PLAIN"):
                if " " in parameter:
                    yield ("pop3", connection, _sasl_plain_user(parameter.split(" ")[1]))
                else:
                    sasl_plain[connection] = True  # tshark shows the SASL response as a command: decode it
        for imap in _layers(frame, "imap"):
            user = _first(imap, "imap.request.username")
            if user is not None:
                yield ("imap", connection, user.strip('"'))
        for smtp in _layers(frame, "smtp"):
            user = _first(smtp, "smtp.auth.username")
            if user is not None:
                yield ("smtp", connection, _base64(user))


def _base64(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return text


def _sasl_plain_user(text: str) -> str:
    """The authentication identity of a SASL PLAIN response (authzid NUL authcid NUL password)."""
    parts = _base64(text).split("\0")
    return parts[1] if len(parts) == 3 else text


def _tocsin_logins(events: list[Event]) -> Iterator[Row]:
    for event in _by(events, "auth"):
        service = event.fields.get("event.provider")
        if service in ("ftp", "pop3", "imap", "smtp"):
            yield (service, _event_connection(event), event.fields.get("user.name"))


# -- TLS and SSH ------------------------------------------------------------------------------------


def _tshark_tls(frames: list[dict[str, Any]]) -> Iterator[Row]:
    hellos: dict[tuple[str, ...], list[Any]] = {}
    for frame in frames:
        connection = _frame_connection(frame)
        for tls in _layers(frame, "tls"):
            for handshake_type, tree in _handshakes(tls):
                if handshake_type == "1" and connection not in hellos:
                    hellos[connection] = [_first(tree, "tls.handshake.extensions_server_name"), None]
                elif handshake_type == "2" and connection in hellos and hellos[connection][1] is None:
                    version = _first(tree, "tls.handshake.extensions.supported_version")
                    version = version or _first(tree, "tls.handshake.version")
                    hellos[connection][1] = _TLS_VERSIONS.get(version, version)
    for connection, (sni, version) in hellos.items():
        yield ("tls", connection, sni, version)


def _handshakes(tls: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for handshake in _find(tls, "tls.handshake"):
        if isinstance(handshake, dict) and "tls.handshake.type" in handshake:
            yield handshake["tls.handshake.type"], handshake


def _tocsin_tls(events: list[Event]) -> Iterator[Row]:
    for event in _by(events, "tls"):
        f = event.fields
        if f.get("tls.client.ja3") is not None:  # a ClientHello was seen
            yield ("tls", _event_connection(event), f.get("tls.client.server_name"), f.get("tls.version"))


def _tshark_ssh(frames: list[dict[str, Any]]) -> Iterator[Row]:
    seen: set[tuple[Any, ...]] = set()
    for frame in frames:
        src, sport, dst, dport = _endpoints(frame)
        for ssh in _layers(frame, "ssh"):
            banner = _first(ssh, "ssh.protocol")
            if banner is not None and (src, sport) not in seen:
                seen.add((src, sport))
                yield ("ssh", _connection(src, sport, dst, dport), f"{src}:{sport}", banner.rstrip("\r\n"))


def _tocsin_ssh(events: list[Event]) -> Iterator[Row]:
    for event in _by(events, "ssh"):
        f = event.fields
        connection = _event_connection(event)
        for side, ip, port in (
            ("client", "source.ip", "source.port"),
            ("server", "destination.ip", "destination.port"),
        ):
            banner = f.get(f"ssh.{side}.banner")
            if banner is not None:
                yield ("ssh", connection, f"{f[ip]}:{f[port]}", banner)


# -- Kerberos and LDAP ------------------------------------------------------------------------------


def _tshark_kerberos(frames: list[dict[str, Any]]) -> Iterator[Row]:
    for frame in frames:
        connection = _frame_connection(frame)
        for kerberos in _layers(frame, "kerberos"):
            if "kerberos.as_req_element" in json.dumps(kerberos):
                cname = _first(kerberos, "kerberos.cname_element")
                names = _find(cname, "kerberos.CNameString")  # one per component: joined as principal
                yield ("as-req", connection, "/".join(names) or None, _first(kerberos, "kerberos.realm"))


def _tocsin_kerberos(events: list[Event]) -> Iterator[Row]:
    for event in _by(events, "kerberos"):
        f = event.fields
        if f.get("kerberos.request_type") == "AS":
            yield ("as-req", _event_connection(event), f.get("user.name"), f.get("user.domain"))


def _tshark_ldap(frames: list[dict[str, Any]]) -> Iterator[Row]:
    for frame in frames:
        connection = _frame_connection(frame)
        for ldap in _layers(frame, "ldap"):
            for message in _find(ldap, "ldap.LDAPMessage_element"):
                if _first(message, "ldap.protocolOp") != "0":
                    continue
                if _find(message, "ldap.simple"):
                    yield ("bind", connection, _first(message, "ldap.name") or None, "simple")
                elif (kind := _first(message, "ntlmssp.messagetype")) is not None:
                    if int(kind, 16) == 3:  # NTLM's AUTHENTICATE carries the account; NEGOTIATE only opens
                        yield ("bind", connection, _first(message, "ntlmssp.auth.username") or None, "sasl")
                else:
                    yield ("bind", connection, _first(message, "ldap.name") or None, "sasl")


def _tocsin_ldap(events: list[Event]) -> Iterator[Row]:
    for event in _by(events, "ldap"):
        f = event.fields
        if f.get("event.action") == "ldap-bind":
            method = f.get("ldap.bind.method")
            yield (
                "bind",
                _event_connection(event),
                f.get("user.name"),
                "simple" if method == "simple" else "sasl",
            )


_TSHARK_ROWS = {"http": _tshark_http, "dns": _tshark_dns, "logins": _tshark_logins, "tls": _tshark_tls,
                "ssh": _tshark_ssh, "kerberos": _tshark_kerberos, "ldap": _tshark_ldap}  # fmt: skip
_TOCSIN_ROWS = {"http": _tocsin_http, "dns": _tocsin_dns, "logins": _tocsin_logins, "tls": _tocsin_tls,
                "ssh": _tocsin_ssh, "kerberos": _tocsin_kerberos, "ldap": _tocsin_ldap}  # fmt: skip
