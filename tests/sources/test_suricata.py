"""Suricata EVE JSON: each event type's ECS fields, logins, routing, bad input.

The samples follow Suricata's documented EVE format (``event_type``, ``src_ip``/``dest_ip``, the
protocol object under its event type's name; DNS in the v2 query/answer and v3 request/response shapes).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tests.network.helpers import scan
from tocsin.credentials import mask
from tocsin.model.event import Event
from tocsin.scan import ReadSummary, read_events
from tocsin.sources import InputStats, ParseOptions
from tocsin.sources.detect import detect_format
from tocsin.sources.inputs import resolve_inputs
from tocsin.sources.suricata import EveParser

FLOW = {
    "flow_id": 1234567,
    "in_iface": "eth0",
    "src_ip": "10.1.2.3",
    "src_port": 50000,
    "dest_ip": "93.184.216.34",
    "dest_port": 80,
    "proto": "TCP",
}


def eve(kind: str, second: int = 0, **body: Any) -> dict[str, Any]:
    return {"timestamp": f"2024-05-01T10:00:{second:02d}.500000+0000", **FLOW, "event_type": kind, **body}


def read(tmp_path: Path, *records: dict[str, Any], reveal: bool = False) -> tuple[list[Event], ReadSummary]:
    path = tmp_path / "eve.json"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    summary = ReadSummary()
    events = list(read_events([str(path)], None, ParseOptions(reveal_secrets=reveal), summary))
    return events, summary


def test_http_fields_and_basic_auth_login(tmp_path):
    token = base64.b64encode(b"dave:Winter2024!").decode()
    http = {"hostname": "shop.example", "http_port": 8080, "url": "/wp-login.php?redirect_to=%2F", "http_user_agent": "python-requests/2.31",
            "http_refer": "https://shop.example/", "http_content_type": "text/html", "http_method": "POST", "protocol": "HTTP/1.1",
            "status": 403, "length": 512, "request_headers": [{"name": "Authorization", "value": f"Basic {token}"},
                                                              {"name": "Content-Type", "value": "application/x-www-form-urlencoded"}]}  # fmt: skip
    (request, login), summary = read(tmp_path, eve("http", app_proto="http", http=http))
    assert summary.inputs[0].format == "suricata"
    assert request.timestamp == 1714557600.5
    assert {
        key: value
        for key, value in request.fields.items()
        if key.startswith(("http.", "url.", "user", "network."))
    } == {
        "http.request.method": "POST",
        "http.version": "1.1",
        "http.request.referrer": "https://shop.example/",
        "http.request.mime_type": "application/x-www-form-urlencoded",
        "http.response.status_code": 403,
        "http.response.body.bytes": 512,
        "http.response.mime_type": "text/html",
        "url.original": "/wp-login.php?redirect_to=%2F",
        "url.domain": "shop.example",
        "url.port": 8080,
        "url.path": "/wp-login.php",
        "url.query": "redirect_to=%2F",
        "user_agent.original": "python-requests/2.31",
        "user.name": "dave",
        "network.transport": "tcp",
        "network.protocol": "http",
    }
    assert request.fields["event.dataset"] == "suricata.eve" and request.fields["event.module"] == "suricata"
    assert request.fields["event.action"] == "post" and request.original["cs-method"] == "POST"
    assert request.logsource.as_dict() == {
        "product": ["suricata"],
        "service": ["http"],
        "category": ["network", "proxy", "webserver"],
    }
    assert login.fields["event.category"] == "authentication" and login.fields["event.outcome"] == "failure"
    assert login.fields["user.name"] == "dave" and login.fields["credential.masked"] == mask("Winter2024!")
    documents = json.dumps([event.to_document() for event in (request, login)])
    assert token not in documents and "Winter2024!" not in documents


def test_dns_query_and_answer_in_both_shapes(tmp_path):
    records = [
        eve("dns", dns={"version": 2, "type": "query", "id": 16000, "rrname": "login.example.com", "rrtype": "A", "tx_id": 0}),
        eve("dns", 1, dns={"version": 2, "type": "answer", "id": 16000, "flags": "8180", "qr": True, "rd": True, "ra": True,
                           "rrname": "login.example.com", "rrtype": "A", "rcode": "NOERROR",
                           "answers": [{"rrname": "login.example.com", "rrtype": "A", "ttl": 60, "rdata": "192.0.2.10"}]}),
        eve("dns", 2, dns={"version": 3, "type": "request", "id": 7, "queries": [{"rrname": "v3.example.org", "rrtype": "AAAA"}]}),
    ]  # fmt: skip
    (query, answer, request), _ = read(tmp_path, *records)
    assert query.fields["event.action"] == "dns-query" and query.fields["dns.type"] == "query"
    assert (
        query.fields["dns.question.name"] == "login.example.com" and query.fields["dns.question.type"] == "A"
    )
    assert (
        query.fields["dns.question.registered_domain"] == "example.com"
        and query.fields["network.protocol"] == "dns"
    )
    assert "dns" in query.logsource.categories
    assert answer.fields["event.action"] == "dns-answer" and answer.fields["dns.response_code"] == "NOERROR"
    assert answer.fields["dns.resolved_ip"] == ["192.0.2.10"]
    assert answer.fields["dns.answers"] == [
        {"name": "login.example.com", "type": "A", "ttl": 60, "data": "192.0.2.10"}
    ]
    assert "dns" not in answer.logsource.categories  # one lookup counts once for the DNS rules
    assert (
        request.fields["dns.question.name"] == "v3.example.org"
        and request.fields["dns.question.type"] == "AAAA"
    )


def test_alert_tls_ssh_flow_fileinfo_anomaly_smtp(tmp_path):
    records = [
        eve("alert", alert={"action": "blocked", "gid": 1, "signature_id": 2019401, "rev": 3, "severity": 1,
                            "signature": "ET POLICY Suspicious", "category": "Potential Corporate Privacy Violation"}),
        eve("tls", app_proto="tls", tls={"subject": "CN=shop.example", "issuerdn": "CN=R3,O=Let's Encrypt", "sni": "shop.example",
                                         "version": "TLS 1.3", "ja3": {"hash": "e7d705a3286e19ea42f587b344ee6865"}}),
        eve("ssh", app_proto="ssh", ssh={"client": {"proto_version": "2.0", "software_version": "OpenSSH_9.6"},
                                         "server": {"proto_version": "2.0", "software_version": "dropbear"}}),
        eve("flow", app_proto="http", flow={"pkts_toserver": 6, "pkts_toclient": 5, "bytes_toserver": 700, "bytes_toclient": 9000,
                                            "start": "2024-05-01T10:00:00.000000+0000", "end": "2024-05-01T10:00:01.250000+0000",
                                            "state": "closed"}),
        eve("fileinfo", fileinfo={"filename": "/a.exe", "magic": "PE32", "size": 4096, "md5": "0" * 32, "sha256": "1" * 64}),
        eve("anomaly", anomaly={"type": "decode", "event": "ipv4.wrong_ip_version"}),
        eve("smtp", app_proto="smtp", smtp={"helo": "mx", "mail_from": "<a@example.com>", "rcpt_to": ["<b@example.org>"]},
            email={"from": "a@example.com", "to": ["b@example.org"], "subject": "invoice"}),
        eve("stats", stats={"uptime": 10}),
    ]  # fmt: skip
    events, summary = read(tmp_path, *records)
    alert, tls, ssh, flow, fileinfo, anomaly, smtp, stats = (event.fields for event in events)
    assert alert["event.kind"] == "alert" and alert["event.type"] == "denied" and alert["rule.id"] == 2019401
    assert alert["rule.name"] == "ET POLICY Suspicious" and alert["event.severity"] == 1
    assert tls["tls.client.server_name"] == "shop.example" and tls["tls.version"] == "1.3"
    assert (
        tls["tls.version_protocol"] == "tls" and tls["tls.client.ja3"] == "e7d705a3286e19ea42f587b344ee6865"
    )
    assert tls["tls.server.issuer"] == "CN=R3,O=Let's Encrypt" and tls["event.action"] == "tls-handshake"
    assert (
        ssh["ssh.client.banner"] == "SSH-2.0-OpenSSH_9.6" and ssh["ssh.server.banner"] == "SSH-2.0-dropbear"
    )
    assert {
        key: flow[key] for key in flow if key.startswith(("source.", "destination.", "network.", "event."))
    } == {
        "source.ip": "10.1.2.3",
        "source.port": 50000,
        "source.address": "10.1.2.3",
        "source.packets": 6,
        "source.bytes": 700,
        "destination.ip": "93.184.216.34",
        "destination.port": 80,
        "destination.packets": 5,
        "destination.bytes": 9000,
        "network.transport": "tcp",
        "network.protocol": "http",
        "network.packets": 11,
        "network.bytes": 9700,
        "event.kind": "event",
        "event.module": "suricata",
        "event.dataset": "suricata.eve",
        "event.category": "network",
        "event.type": "connection",
        "event.start": "2024-05-01T10:00:00.000Z",
        "event.end": "2024-05-01T10:00:01.250Z",
        "event.duration": 1_250_000_000,
        "event.provider": "http",
    }
    assert events[3].logsource.categories == {"firewall", "network"}
    assert (
        fileinfo["file.name"] == "/a.exe"
        and fileinfo["file.size"] == 4096
        and fileinfo["file.hash.sha256"] == "1" * 64
    )
    assert anomaly["event.action"] == "ipv4.wrong_ip_version" and anomaly["event.reason"] == "decode"
    assert smtp["email.from.address"] == "a@example.com" and smtp["email.to.address"] == ["b@example.org"]
    assert stats["event.dataset"] == "suricata.eve" and events[7].logsource.services == {"stats"}
    assert summary.inputs[0].events == 8 and summary.inputs[0].skipped_total == 0


def test_ftp_logins_follow_the_user_of_their_flow(tmp_path):
    def ftp(second: int, command: str, data: str, code: str) -> dict[str, Any]:
        return eve("ftp", second, app_proto="ftp", ftp={"command": command, "command_data": data, "completion_code": [code],
                                                        "reply": ["x"], "dynamic_port": None})  # fmt: skip

    records = [
        ftp(0, "USER", "bob", "331"),
        ftp(1, "PASS", "guess1", "530"),
        ftp(2, "PASS", "s3cretpass", "230"),
        ftp(3, "RETR", "x", "226"),
    ]
    events, _ = read(tmp_path, *records)
    logins = [event.fields for event in events if event.fields.get("event.category") == "authentication"]
    assert [(fields["user.name"], fields["event.outcome"], fields["event.action"]) for fields in logins] == [
        ("bob", "failure", "ftp-login"),
        ("bob", "success", "ftp-login"),
    ]
    assert logins[1]["credential.masked"] == mask("s3cretpass")
    assert "s3cretpass" not in json.dumps([event.to_document() for event in events])


def test_brute_force_over_http_basic_fires_the_builtin_rules(tmp_path):
    token = base64.b64encode(b"admin:guess").decode()
    records = [
        eve("http", second, app_proto="http", http={"hostname": "router.example", "url": "/", "http_method": "GET", "status": 401,
                                                     "request_headers": [{"name": "Authorization", "value": f"Basic {token}"}]})
        for second in range(12)
    ]  # fmt: skip
    path = tmp_path / "eve.json"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    titles = {alert.rule.title for alert in scan(path)[0]}
    assert {"Brute Force From One Source", "Brute Force Against One Account"} <= titles


def test_bad_lines_and_hostile_values_are_counted_not_fatal(tmp_path):
    records: list[Any] = [
        eve("dns", dns={"type": "query", "rrname": "\x1b[31m" + "x" * 300_000, "rrtype": ["A"]}),
        {"timestamp": "2024-05-01T10:00:00Z", "src_ip": "10.0.0.1", "event_type": 7},
        {"timestamp": "2024-05-01T10:00:00Z", "src_ip": "10.0.0.1"},
        eve("http", http="not an object", src_port="99999999999999999999999"),
        eve("flow", flow={"start": "yesterday", "end": None, "pkts_toserver": "many"}),
        ["an", "array"],
    ]
    path = tmp_path / "eve.json"
    path.write_text(
        "".join(json.dumps(record) + "\n" for record in records) + "{truncated\n", encoding="utf-8"
    )
    summary = ReadSummary()
    events = list(read_events([str(path)], None, ParseOptions(), summary))
    assert len(events) == 3
    assert (
        events[0].fields["dns.question.name_length"] == 300_005
        and "dns.question.type" not in events[0].fields
    )
    assert "source.port" not in events[1].fields and "event.duration" not in events[2].fields
    assert summary.inputs[0].skipped == {
        "not a Suricata EVE record (no event_type)": 2,
        "JSON value is not an object": 1,
        "malformed JSON": 1,
    }


def test_sniffing_picks_eve_without_stealing_other_json(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(eve("alert", alert={"signature": "x"})) + "\n", encoding="utf-8")
    (source,) = resolve_inputs([str(path)])
    assert detect_format(source) is EveParser
    other = tmp_path / "b.json"
    other.write_text(
        json.dumps({"timestamp": "2024-05-01T10:00:00Z", "event_type": "login", "user": "x"}) + "\n",
        encoding="utf-8",
    )
    (source,) = resolve_inputs([str(other)])
    assert detect_format(source).name == "json"


def test_appended_lines_are_read_on_their_own_for_watch():
    token = base64.b64encode(b"erin:x").decode()
    http = {
        "url": "/",
        "http_method": "GET",
        "status": 401,
        "request_headers": [{"name": "Authorization", "value": f"Basic {token}"}],
    }
    data = (
        json.dumps(eve("dns", dns={"type": "query", "rrname": "a.example"}))
        + "\n"
        + json.dumps(eve("http", http=http))
        + "\n"
    ).encode()
    stats = InputStats("eve.json")
    events = list(EveParser(ParseOptions()).parse_lines(data, "eve.json", stats))
    assert [event.offset for event in events] == [
        "1",
        "2",
        "2#login",
    ]  # line numbers, as watch maps them to bytes
    assert stats.records == 2 and stats.events == 3
