"""Zeek-style and EVE-style logs of a capture, written from tshark's dissection (never tocsin's).

tshark is the oracle: each function reads the fields a Zeek or Suricata sensor would log for the
same traffic (``tshark -T fields -e …``) and writes them the way that sensor writes its logs, so a
scan of the logs can be compared with a scan of the capture itself. Deliberate choices, as a sensor
would be configured for them:

* Zeek's ftp.log carries USER and PASS (``redef FTP::logged_commands += { "USER", "PASS" }``); each
  command's reply is the first final (non-``-``) reply after it; passwords are ``<hidden>``, Zeek's default.
* Zeek's http.log carries the Basic-auth ``username`` (its default); EVE carries the request headers
  (``dump-all-headers: request``), so both see the same user.
* Zeek's dns.log has one row per query and its answer, EVE one record for each.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import subprocess
import zlib
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TSHARK = shutil.which("tshark")
_SEPARATOR = "\x1f"
#: DNS response codes by number (RFC 1035, 2136), as Zeek and Suricata name them.
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
#: Kerberos error codes Zeek names in kerberos.log's error_msg (RFC 4120 section 7.5.9).
KERBEROS_ERRORS = {6: "KDC_ERR_C_PRINCIPAL_UNKNOWN", 18: "KDC_ERR_CLIENT_REVOKED", 24: "KDC_ERR_PREAUTH_FAILED",
                   25: "KDC_ERR_PREAUTH_REQUIRED", 68: "KDC_ERR_WRONG_REALM"}  # fmt: skip


def tshark_fields(pcap: Path, display_filter: str, *fields: str) -> list[dict[str, str]]:
    """tshark's values of ``fields`` for each frame matching ``display_filter``."""
    command = [TSHARK or "tshark", "-r", str(pcap), "-n", "-Y", display_filter, "-T", "fields",
               "-E", f"separator={_SEPARATOR}", "-E", "occurrence=a", "-E", "aggregator=,",
               "-o", "tcp.desegment_tcp_streams:TRUE"]  # fmt: skip
    for name in fields:
        command += ["-e", name]
    done = subprocess.run(command, capture_output=True, check=True, timeout=120)
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return [dict(zip(fields, line.split(_SEPARATOR), strict=True)) for line in lines if line]


_ENDPOINTS = ("frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "udp.srcport",
              "tcp.dstport", "udp.dstport", "tcp.stream", "udp.stream")  # fmt: skip


def _endpoints(frame: dict[str, str]) -> dict[str, Any]:
    transport = "tcp" if frame["tcp.srcport"] else "udp"
    return {
        "ts": float(frame["frame.time_epoch"]),
        "src": frame["ip.src"] or frame["ipv6.src"],
        "dst": frame["ip.dst"] or frame["ipv6.dst"],
        "sport": int(frame[f"{transport}.srcport"]),
        "dport": int(frame[f"{transport}.dstport"]),
        "proto": transport,
        "stream": f"{transport}{frame[f'{transport}.stream']}",
    }


# -- what tshark saw, per protocol -------------------------------------------------------------------


def ftp_commands(pcap: Path) -> list[dict[str, Any]]:
    """USER and PASS commands with the user, argument and the final reply code that answered them."""
    frames = tshark_fields(
        pcap, "ftp", *_ENDPOINTS, "ftp.request.command", "ftp.request.arg", "ftp.response.code"
    )
    pending: dict[str, dict[str, Any]] = {}
    users: dict[str, str] = {}
    commands = []
    for frame in frames:
        where = _endpoints(frame)
        command = frame["ftp.request.command"].upper()
        if command:
            if command == "USER":
                users[where["stream"]] = frame["ftp.request.arg"]
            pending[where["stream"]] = {
                **where,
                "command": command,
                "arg": frame["ftp.request.arg"],
                "user": users.get(where["stream"]),
            }
            continue
        entry = pending.pop(where["stream"], None)
        code = frame["ftp.response.code"].split(",")[0]
        if entry is not None and code and entry["command"] in ("USER", "PASS"):
            commands.append({**entry, "reply_code": int(code)})
    return commands


def http_transactions(pcap: Path) -> list[dict[str, Any]]:
    """Each request with its response's status (matched by tshark's ``http.request_in``)."""
    fields = ("frame.number", "http.request.method", "http.request.uri", "http.request.version", "http.host",
              "http.user_agent", "http.referer", "http.authorization", "http.response.code", "http.request_in")  # fmt: skip
    frames = tshark_fields(pcap, "http", *_ENDPOINTS, *fields)
    requests: dict[str, dict[str, Any]] = {}
    for frame in frames:
        if frame["http.request.method"]:
            requests[frame["frame.number"]] = {**_endpoints(frame), **{name: frame[name] for name in fields}}
        elif frame["http.request_in"] in requests and frame["http.response.code"]:
            requests[frame["http.request_in"]]["status"] = int(frame["http.response.code"])
    return list(requests.values())


def dns_transactions(pcap: Path) -> list[dict[str, Any]]:
    """Each query with its answer (same endpoints and id), and answers without a query."""
    fields = ("dns.id", "dns.flags.response", "dns.qry.name", "dns.flags.rcode", "dns.a", "dns.aaaa",
              "dns.flags.recdesired", "dns.flags.recavail")  # fmt: skip
    frames = tshark_fields(pcap, "dns", *_ENDPOINTS, *fields)
    waiting: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    out = []
    for frame in frames:
        where = _endpoints(frame)
        ident = int(frame["dns.id"], 0)
        if frame["dns.flags.response"] in ("0", "False"):
            entry = {
                **where,
                "id": ident,
                "query": frame["dns.qry.name"].split(",")[0],
                "rcode": None,
                "answers": [],
            }
            waiting[(where["src"], where["sport"], where["dst"], where["dport"], ident)].append(entry)
            out.append(entry)
            continue
        key = (where["dst"], where["dport"], where["src"], where["sport"], ident)
        entry = waiting[key].pop(0) if waiting[key] else None
        if entry is None:
            client = {
                "src": where["dst"],
                "sport": where["dport"],
                "dst": where["src"],
                "dport": where["sport"],
            }
            entry = {**where, **client, "id": ident, "query": frame["dns.qry.name"].split(",")[0]}
            out.append(entry)
        entry["rcode"] = int(frame["dns.flags.rcode"] or 0)
        entry["answers"] = [
            value for name in ("dns.a", "dns.aaaa") for value in frame[name].split(",") if value
        ]
    return out


def kerberos_exchanges(pcap: Path) -> list[dict[str, Any]]:
    """AS and TGS requests with their reply: success, or the error code."""
    fields = (
        "kerberos.msg_type",
        "kerberos.CNameString",
        "kerberos.realm",
        "kerberos.SNameString",
        "kerberos.error_code",
    )
    frames = tshark_fields(pcap, "kerberos", *_ENDPOINTS, *fields)
    requests: dict[str, dict[str, Any]] = {}
    out = []
    for frame in frames:
        where = _endpoints(frame)
        kind = int(frame["kerberos.msg_type"].split(",")[0] or 0)
        if kind in (10, 12):  # AS-REQ, TGS-REQ
            requests[where["stream"]] = entry = {
                **where, "request_type": "AS" if kind == 10 else "TGS", "client": frame["kerberos.CNameString"].split(",")[0],
                "realm": frame["kerberos.realm"].split(",")[0], "service": frame["kerberos.SNameString"].replace(",", "/"),
                "success": None, "error": None,
            }  # fmt: skip
            out.append(entry)
        elif (entry := requests.pop(where["stream"], None)) is not None:
            entry["success"] = kind in (11, 13)
            code = frame["kerberos.error_code"]
            entry["error"] = int(code) if code else None
    return out


# -- written as the sensors write them -----------------------------------------------------------------


def _zeek_tsv(path: Path, log: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "T" if value else "F"
        if isinstance(value, list):
            return ",".join(map(cell, value)) if value else "(empty)"
        if isinstance(value, float):
            return f"{value:.6f}"
        text = str(value)
        return (
            "".join(f"\\x{ord(c):02x}" if c in "\t\\" or not c.isprintable() else c for c in text)
            or "(empty)"
        )

    lines = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", f"#path\t{log}",
             "#open\t2024-01-01-00-00-00", "#fields\t" + "\t".join(name for name, _ in columns),
             "#types\t" + "\t".join(kind for _, kind in columns)]  # fmt: skip
    lines += ["\t".join(cell(row.get(name)) for name, _ in columns) for row in rows]
    lines.append("#close\t2024-01-01-01-00-00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


_ID_COLUMNS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
               ("id.resp_p", "port")]  # fmt: skip


def _zeek_ids(entry: dict[str, Any]) -> dict[str, Any]:
    return {"ts": entry["ts"], "uid": f"C{entry['stream']}", "id.orig_h": entry["src"], "id.orig_p": entry["sport"],
            "id.resp_h": entry["dst"], "id.resp_p": entry["dport"]}  # fmt: skip


def _eve_ids(entry: dict[str, Any], event_type: str, app_proto: str) -> dict[str, Any]:
    return {"timestamp": _eve_time(entry["ts"]), "flow_id": zlib.crc32(entry["stream"].encode()), "event_type": event_type,
            "src_ip": entry["src"], "src_port": entry["sport"], "dest_ip": entry["dst"], "dest_port": entry["dport"],
            "proto": entry["proto"].upper(), "app_proto": app_proto}  # fmt: skip


def _eve_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def _basic_user(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(token.strip(), validate=True).decode("utf-8", "replace").partition(":")[0]
    except (binascii.Error, ValueError):
        return None


def _without_port(host: str) -> str | None:
    name, separator, port = host.rpartition(":")
    return (name if separator and port.isdigit() else host) or None


def write_zeek(pcap: Path, folder: Path) -> None:
    """ftp.log, http.log, dns.log and kerberos.log of ``pcap`` in ``folder`` (only the non-empty ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    if ftp := ftp_commands(pcap):
        columns = [*_ID_COLUMNS, ("user", "string"), ("password", "string"), ("command", "string"), ("arg", "string"),
                   ("reply_code", "count")]  # fmt: skip
        rows = [{**_zeek_ids(c), "user": c["user"], "password": "<hidden>" if c["command"] == "PASS" else None,
                 "command": c["command"], "arg": "<hidden>" if c["command"] == "PASS" else c["arg"],
                 "reply_code": c["reply_code"]} for c in ftp]  # fmt: skip
        _zeek_tsv(folder / "ftp.log", "ftp", columns, rows)
    if http := http_transactions(pcap):
        columns = [*_ID_COLUMNS, ("trans_depth", "count"), ("method", "string"), ("host", "string"), ("uri", "string"),
                   ("referrer", "string"), ("version", "string"), ("user_agent", "string"), ("status_code", "count"),
                   ("username", "string")]  # fmt: skip
        # Zeek logs the Host header without its port (``sub(value, /:[[:digit:]]+$/, "")`` in http/main.zeek)
        rows = [{**_zeek_ids(t), "trans_depth": 1, "method": t["http.request.method"], "host": _without_port(t["http.host"]),
                 "uri": t["http.request.uri"], "referrer": t["http.referer"] or None,
                 "version": t["http.request.version"].removeprefix("HTTP/") or None, "user_agent": t["http.user_agent"] or None,
                 "status_code": t.get("status"), "username": _basic_user(t["http.authorization"])} for t in http]  # fmt: skip
        _zeek_tsv(folder / "http.log", "http", columns, rows)
    if dns := dns_transactions(pcap):
        columns = [*_ID_COLUMNS, ("proto", "enum"), ("trans_id", "count"), ("query", "string"), ("rcode_name", "string"),
                   ("answers", "vector[string]")]  # fmt: skip
        rows = [{**_zeek_ids(d), "proto": d["proto"], "trans_id": d["id"], "query": d["query"] or None,
                 "rcode_name": RCODES.get(d["rcode"], str(d["rcode"])) if d["rcode"] is not None else None,
                 "answers": d["answers"]} for d in dns]  # fmt: skip
        _zeek_tsv(folder / "dns.log", "dns", columns, rows)
    if kerberos := kerberos_exchanges(pcap):
        columns = [*_ID_COLUMNS, ("request_type", "string"), ("client", "string"), ("service", "string"),
                   ("success", "bool"), ("error_msg", "string")]  # fmt: skip
        rows = [{**_zeek_ids(k), "request_type": k["request_type"], "client": f"{k['client']}/{k['realm']}" if k["client"] else None,
                 "service": k["service"] or None, "success": k["success"],
                 "error_msg": KERBEROS_ERRORS.get(k["error"], str(k["error"])) if k["error"] is not None else None}
                for k in kerberos]  # fmt: skip
        _zeek_tsv(folder / "kerberos.log", "kerberos", columns, rows)


def write_eve(pcap: Path, path: Path) -> None:
    """The EVE records (ftp, http, dns query and answer) of ``pcap``, in time order."""
    records: list[dict[str, Any]] = []
    for c in ftp_commands(pcap):
        ftp = {"command": c["command"], "command_data": c["arg"], "completion_code": [str(c["reply_code"])]}
        records.append({**_eve_ids(c, "ftp", "ftp"), "ftp": ftp})
    for t in http_transactions(pcap):
        headers = [{"name": name, "value": t[field]} for name, field in
                   (("Host", "http.host"), ("User-Agent", "http.user_agent"), ("Authorization", "http.authorization")) if t[field]]  # fmt: skip
        http = {"hostname": _without_port(t["http.host"]), "url": t["http.request.uri"],
                "http_user_agent": t["http.user_agent"] or None, "http_refer": t["http.referer"] or None,
                "http_method": t["http.request.method"], "protocol": t["http.request.version"], "status": t.get("status"),
                "request_headers": headers}  # fmt: skip
        records.append(
            {**_eve_ids(t, "http", "http"), "http": {k: v for k, v in http.items() if v is not None}}
        )
    for d in dns_transactions(pcap):
        records.append(
            {
                **_eve_ids(d, "dns", "dns"),
                "dns": {"version": 2, "type": "query", "id": d["id"], "rrname": d["query"]},
            }
        )
        if d["rcode"] is not None:
            answers = [{"rrname": d["query"], "rdata": value} for value in d["answers"]]
            body = {
                "version": 2,
                "type": "answer",
                "id": d["id"],
                "rrname": d["query"],
                "rcode": RCODES.get(d["rcode"], str(d["rcode"])),
                "answers": answers,
            }
            records.append({**_eve_ids(d, "dns", "dns"), "dns": body})
    records.sort(key=lambda record: record["timestamp"])
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
