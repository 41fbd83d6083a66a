"""Zeek logs: TSV and JSON, each log type's ECS fields, logins, routing of SigmaHQ's zeek rules, bad input.

The samples follow Zeek's documented log formats (``#separator``/``#fields``/``#types`` headers,
``-`` unset, ``(empty)`` sets, ``\\xNN`` escapes; JSON with flat ``id.orig_h`` keys).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared
from tests.network.helpers import scan
from tocsin.credentials import mask
from tocsin.model.event import Event
from tocsin.scan import ReadSummary, read_events
from tocsin.sources import ParseOptions
from tocsin.sources.detect import detect_format
from tocsin.sources.inputs import resolve_inputs
from tocsin.sources.zeek import ZeekParser

HEADER = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"


def tsv(path: str, fields: str, types: str, *rows: str) -> str:
    """One Zeek TSV header block (tab-separated ``fields``/``types``) and its rows."""
    return (
        HEADER
        + f"#path\t{path}\n#open\t2024-05-01-10-00-00\n#fields\t{fields}\n#types\t{types}\n"
        + "".join(row + "\n" for row in rows)
        + "#close\t2024-05-01-11-00-00\n"
    )


def read(path: Path, reveal: bool = False) -> tuple[list[Event], ReadSummary]:
    summary = ReadSummary()
    events = list(read_events([str(path)], None, ParseOptions(reveal_secrets=reveal), summary))
    return events, summary


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CONN = tsv(
    "conn",
    "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents",
    "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\tcount\tcount\tcount\tcount\tset[string]",
    "1714557600.250000\tCk1\t10.1.2.3\t51514\t93.184.216.34\t443\ttcp\tssl\t2.500000\t517\t4120\tSF\tShADadFf\t9\t1009\t8\t4544\t(empty)",
    "1714557601.000000\tCk2\t10.1.2.3\t5353\t10.1.0.1\t53\tudp\t-\t-\t-\t-\tS0\tD\t1\t61\t0\t0\t(empty)",
)


def test_conn_tsv_fields_are_the_capture_flow_fields(tmp_path):
    events, summary = read(write(tmp_path, "conn.log", CONN))
    assert summary.inputs[0].format == "zeek"
    first, second = events
    assert first.timestamp == 1714557600.25
    assert first.fields == {
        "event.kind": "event",
        "event.module": "zeek",
        "event.dataset": "zeek.conn",
        "event.category": "network",
        "event.type": "connection",
        "event.start": "2024-05-01T10:00:00.250Z",
        "event.end": "2024-05-01T10:00:02.750Z",
        "event.duration": 2_500_000_000,
        "event.provider": "tls",
        "source.ip": "10.1.2.3",
        "source.port": 51514,
        "source.address": "10.1.2.3",
        "source.packets": 9,
        "source.bytes": 1009,
        "destination.ip": "93.184.216.34",
        "destination.port": 443,
        "destination.packets": 8,
        "destination.bytes": 4544,
        "network.transport": "tcp",
        "network.protocol": "tls",
        "network.packets": 17,
        "network.bytes": 5553,
        "network.tcp_flags_history": "ShADadFf",
    }
    assert first.original["uid"] == "Ck1" and first.original["tunnel_parents"] == []
    assert first.logsource.as_dict() == {"product": ["zeek"], "service": ["conn"], "category": ["firewall"]}
    assert "duration" not in second.original and "event.duration" not in second.fields  # "-" is unset
    assert second.fields["network.transport"] == "udp" and "network.protocol" not in second.fields


def test_dns_tsv_values_escapes_and_sets(tmp_path):
    text = tsv(
        "dns",
        "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tqclass_name\tqtype_name\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs",
        "time\tstring\taddr\tport\taddr\tport\tenum\tcount\tstring\tstring\tstring\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]",
        "1714557600.000000\tCd1\t10.1.2.3\t40000\t10.1.0.1\t53\tudp\t4660\twww.example.co.uk\tC_INTERNET\tA\tNOERROR\tF\tF\tT\tT\t0\t93.184.216.34,cdn.example.net\t300.000000,60.000000",
        "1714557601.000000\tCd2\t10.1.2.3\t40001\t10.1.0.1\t53\tudp\t4661\tevil\\x1b[31m\\x09x.example\t-\t-\t-\tF\tF\tT\tF\t0\t(empty)\t(empty)",
    )
    answered, unanswered = read(write(tmp_path, "dns.log", text))[0]
    fields = answered.fields
    assert fields["event.action"] == "dns-query" and fields["dns.type"] == "answer"
    assert fields["dns.id"] == 4660 and fields["dns.question.name"] == "www.example.co.uk"
    assert fields["dns.question.registered_domain"] == "co.uk"  # the capture's rule: the last two labels
    assert fields["dns.question.type"] == "A" and fields["dns.question.class"] == "C_INTERNET"
    assert fields["dns.response_code"] == "NOERROR" and fields["dns.header_flags"] == ["RD", "RA"]
    assert fields["dns.resolved_ip"] == ["93.184.216.34"]
    assert fields["dns.answers"] == [
        {"data": "93.184.216.34", "ttl": 300.0},
        {"data": "cdn.example.net", "ttl": 60.0},
    ]
    assert fields["dns.question.longest_label"] == 7 and fields["dns.question.name_length"] == 17
    assert answered.original["RD"] is True and answered.original["Z"] == 0
    assert answered.logsource.as_dict() == {"product": ["zeek"], "service": ["dns"], "category": ["dns"]}
    assert (
        unanswered.fields["dns.question.name"] == "evil\x1b[31m\tx.example"
    )  # \xNN undone, as the wire had it
    assert unanswered.fields["dns.type"] == "query" and "dns.header_flags" not in unanswered.fields
    assert unanswered.original["answers"] == [] and "rcode_name" not in unanswered.original


def test_http_json_basic_auth_is_a_login_with_its_verdict(tmp_path):
    record = {
        "_path": "http", "ts": 1714557600.5, "uid": "Ch1", "id.orig_h": "198.51.100.7", "id.orig_p": 50000,
        "id.resp_h": "10.1.0.80", "id.resp_p": 8080, "trans_depth": 1, "method": "GET", "host": "intranet.example:8080",
        "uri": "/admin/login?next=%2F", "referrer": "http://intranet.example/", "version": "1.1",
        "user_agent": "curl/8.5.0", "request_body_len": 0, "response_body_len": 19, "status_code": 401,
        "username": "carol", "password": "hunter22", "tags": [],
    }  # fmt: skip
    events, _ = read(write(tmp_path, "http.json", json.dumps(record) + "\n"))
    request, login = events
    assert {
        key: value for key, value in request.fields.items() if key.startswith(("http.", "url.", "user"))
    } == {
        "http.request.method": "GET",
        "http.version": "1.1",
        "http.request.referrer": "http://intranet.example/",
        "http.request.body.bytes": 0,
        "http.response.status_code": 401,
        "http.response.body.bytes": 19,
        "url.original": "/admin/login?next=%2F",
        "url.domain": "intranet.example",
        "url.port": 8080,
        "url.path": "/admin/login",
        "url.query": "next=%2F",
        "user_agent.original": "curl/8.5.0",
        "user.name": "carol",
    }
    assert request.fields["event.action"] == "get" and request.fields["network.transport"] == "tcp"
    assert request.original["c-uri"] == "/admin/login?next=%2F" and request.original["sc-status"] == 401
    assert request.logsource.categories == {"proxy", "webserver"}
    assert login.fields["event.category"] == "authentication" and login.fields["event.outcome"] == "failure"
    assert login.fields["event.action"] == "http-login" and login.fields["credential.method"] == "http-basic"
    assert login.fields["user.name"] == "carol" and login.fields["source.ip"] == "198.51.100.7"
    assert login.fields["credential.masked"] == mask("hunter22")
    assert login.logsource.as_dict() == {
        "product": ["zeek"],
        "service": ["http"],
        "category": ["authentication"],
    }
    documents = json.dumps([event.to_document() for event in events])
    assert "hunter22" not in documents  # the record's password is masked in original and raw alike


def test_ssh_auth_failure_fires_the_brute_force_rules(tmp_path):
    lines = [
        json.dumps(
            {
                "ts": 1714557600 + second,
                "uid": f"Cs{second}",
                "id.orig_h": "203.0.113.9",
                "id.orig_p": 40000 + second,
                "id.resp_h": "10.1.0.22",
                "id.resp_p": 22,
                "version": 2,
                "auth_success": False,
                "auth_attempts": 3,
                "client": "SSH-2.0-libssh_0.9.6",
                "server": "SSH-2.0-OpenSSH_9.6",
            }
        )
        for second in range(12)
    ]
    path = write(tmp_path, "ssh.log", "\n".join(lines) + "\n")
    events, _ = read(path)
    banners = [event for event in events if event.fields.get("event.action") == "ssh-banner"]
    logins = [event for event in events if event.fields.get("event.category") == "authentication"]
    assert len(banners) == len(logins) == 12
    assert banners[0].fields["ssh.client.banner"] == "SSH-2.0-libssh_0.9.6"
    assert logins[0].fields["event.outcome"] == "failure" and logins[0].fields["event.action"] == "ssh-login"
    alerts, _ = scan(path)
    assert "Brute Force From One Source" in {alert.rule.title for alert in alerts}


def test_ftp_pass_reply_is_a_login_and_its_password_is_masked(tmp_path):
    text = tsv(
        "ftp",
        "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tuser\tpassword\tcommand\targ\treply_code\treply_msg",
        "time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tcount\tstring",
        "1714557600.0\tCf1\t10.9.9.9\t40000\t10.1.0.21\t21\tbob\t<hidden>\tPASS\t<hidden>\t530\tLogin incorrect.",
        "1714557601.0\tCf1\t10.9.9.9\t40000\t10.1.0.21\t21\tbob\tletmein1\tPASS\tletmein1\t230\tLogin successful.",
        "1714557602.0\tCf1\t10.9.9.9\t40000\t10.1.0.21\t21\tbob\tletmein1\tRETR\tftp://10.1.0.21/x.tgz\t226\tok",
    )
    events, _ = read(write(tmp_path, "ftp.log", text))
    logins = [event.fields for event in events if event.fields.get("event.category") == "authentication"]
    assert [(fields["user.name"], fields["event.outcome"]) for fields in logins] == [
        ("bob", "failure"),
        ("bob", "success"),
    ]
    assert "credential.masked" not in logins[0]  # Zeek hid it: nothing to report
    assert logins[1]["credential.kind"] == "password" and logins[1]["credential.masked"] == mask("letmein1")
    assert [event.fields["event.action"] for event in events if event.fields.get("event.category") == "network"] == [
        "pass", "pass", "retr"
    ]  # fmt: skip
    assert "letmein1" not in json.dumps([event.to_document() for event in events])
    revealed, _ = read(tmp_path / "ftp.log", reveal=True)
    assert any(event.fields.get("credential.value") == "letmein1" for event in revealed)


def test_kerberos_ntlm_rdp_smtp_files_notice_weird(tmp_path):
    base = {
        "ts": 1714557600.0,
        "uid": "Ck",
        "id.orig_h": "10.1.2.3",
        "id.orig_p": 50000,
        "id.resp_h": "10.1.0.10",
        "id.resp_p": 88,
    }
    records = [
        {**base, "_path": "kerberos", "request_type": "AS", "client": "alice/CORP.EXAMPLE", "service": "krbtgt/CORP.EXAMPLE",
         "success": False, "error_msg": "KDC_ERR_PREAUTH_FAILED", "cipher": "rc4-hmac"},
        {**base, "_path": "ntlm", "username": "bob", "hostname": "WS01", "domainname": "CORP", "success": True},
        {**base, "_path": "rdp", "cookie": "admin", "result": "encrypted", "security_protocol": "HYBRID"},
        {**base, "_path": "smtp", "trans_depth": 1, "helo": "mx", "mailfrom": "a@example.com", "rcptto": ["b@example.org"],
         "subject": "invoice"},
        {"_path": "files", "ts": 1714557600.0, "fuid": "F1", "tx_hosts": ["93.184.216.34"], "rx_hosts": ["10.1.2.3"],
         "source": "HTTP", "mime_type": "application/x-dosexec", "filename": "a.exe", "total_bytes": 4096,
         "md5": "0" * 32, "sha1": "1" * 40},
        {"_path": "notice", "ts": 1714557600.0, "note": "SSH::Password_Guessing", "msg": "10.9.9.9 guessed",
         "sub": "Sampled servers: 10.1.0.22", "src": "10.9.9.9"},
        {**base, "_path": "weird", "name": "bad_TCP_checksum", "addl": "", "notice": False, "peer": "zeek"},
    ]  # fmt: skip
    events, _ = read(write(tmp_path, "mixed.json", "".join(json.dumps(r) + "\n" for r in records)))
    by_dataset: dict[str, list[dict]] = {}
    for event in events:
        by_dataset.setdefault(event.fields["event.dataset"], []).append(event.fields)
    kerberos, kerberos_login = by_dataset["zeek.kerberos"]
    assert kerberos["event.action"] == "kerberos-as" and kerberos["event.outcome"] == "failure"
    assert kerberos["user.name"] == "alice" and kerberos["user.domain"] == "CORP.EXAMPLE"
    assert kerberos["kerberos.error_code"] == 24 and kerberos["kerberos.cipher"] == "rc4-hmac"
    assert kerberos_login["event.action"] == "kerberos-login" and kerberos_login["event.outcome"] == "failure"
    ntlm, ntlm_login = by_dataset["zeek.ntlm"]
    assert ntlm["user.name"] == "bob" and ntlm["user.domain"] == "CORP" and ntlm["source.domain"] == "WS01"
    assert ntlm_login["event.outcome"] == "success" and ntlm_login["event.action"] == "ntlm-login"
    assert by_dataset["zeek.rdp"][0]["user.name"] == "admin"
    smtp = by_dataset["zeek.smtp"][0]
    assert smtp["email.from.address"] == "a@example.com" and smtp["email.to.address"] == ["b@example.org"]
    files = by_dataset["zeek.files"][0]
    assert files["source.ip"] == "93.184.216.34" and files["destination.ip"] == "10.1.2.3"
    assert (
        files["file.name"] == "a.exe" and files["file.size"] == 4096 and files["network.protocol"] == "http"
    )
    notice = by_dataset["zeek.notice"][0]
    assert notice["event.kind"] == "alert" and notice["rule.name"] == "SSH::Password_Guessing"
    assert notice["source.ip"] == "10.9.9.9"
    assert by_dataset["zeek.weird"][0]["event.action"] == "bad_TCP_checksum"


def test_log_type_from_file_name_or_keys_and_gzip_rotations(tmp_path):
    record = {"ts": 1714557600.0, "uid": "C1", "id.orig_h": "10.1.2.3", "id.orig_p": 1, "id.resp_h": "10.1.0.1",
              "id.resp_p": 53, "proto": "udp", "trans_id": 1, "query": "example.com"}  # fmt: skip
    rotated = tmp_path / "dns.00:00:00-01:00:00.log.gz"
    rotated.write_bytes(gzip.compress((json.dumps(record) + "\n").encode()))
    guessed = write(tmp_path, "sensor-export.json", json.dumps(record) + "\n")
    for path in (rotated, guessed):
        (event,), summary = read(path)
        assert summary.inputs[0].format == "zeek"
        assert (
            event.fields["event.dataset"] == "zeek.dns" and event.fields["dns.question.name"] == "example.com"
        )
    unknown = write(
        tmp_path, "smb_files.log", json.dumps({**record, "action": "SMB::FILE_OPEN", "name": "x"}) + "\n"
    )
    (event,), _ = read(unknown)
    assert event.fields["event.dataset"] == "zeek.smb_files" and event.logsource.services == {"smb_files"}
    assert event.fields["source.ip"] == "10.1.2.3" and event.original["action"] == "SMB::FILE_OPEN"


def test_header_changes_mid_file_and_bad_lines_are_counted(tmp_path):
    dns = tsv(
        "dns", "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery", "time\tstring\taddr\tport\taddr\tport\tstring",
        "1714557600.0\tC1\t10.1.2.3\t1\t10.1.0.1\t53\tfirst.example",
        "1714557600.0\tC1\t10.1.2.3\t1\t10.1.0.1",  # a column short
    )  # fmt: skip
    conn = tsv(
        "conn", "ts\tuid\tid.orig_h\tproto", "time\tstring\taddr\tenum", "1714557601.0\tC2\t10.1.2.4\ttcp"
    )
    text = (
        dns
        + "1714557600.0\tafter close\n"
        + conn
        + '{"_path": "dns", "ts": 1714557602.0, "uid": "C3", "id.orig_h": "10.1.2.5", "query": "json.example"}\n'
        + '{"broken": \n'
        + '["not", "an", "object"]\n'
        + "\x00binary\n"
        + "1714557603.0\tnot\ta\tzeek\tline\n"
        + "x" * 2048
        + "\n"
    )
    path = write(tmp_path, "sensor.log", text)
    summary = ReadSummary()
    events = list(read_events([str(path)], None, ParseOptions(max_record_bytes=1024), summary))
    assert [(event.fields["event.dataset"], event.fields["source.ip"]) for event in events] == [
        ("zeek.dns", "10.1.2.3"),
        ("zeek.conn", "10.1.2.4"),
        ("zeek.dns", "10.1.2.5"),
    ]
    assert events[1].fields["network.transport"] == "tcp" and "query" not in events[1].original
    assert summary.inputs[0].skipped == {
        "Zeek TSV line whose column count differs from its #fields header": 1,
        "Zeek TSV line before a #fields header (or after #close)": 3,  # the JSON array among them
        "malformed JSON": 1,
        "binary data (NUL bytes)": 1,
        "record longer than 1024 bytes": 1,
    }


def test_hostile_values_do_not_break_the_reader_or_the_terminal(tmp_path):
    records = [
        {"_path": "dns", "ts": "not a time", "uid": "C1", "id.orig_h": {"nested": "object"}, "id.orig_p": "99999999999999999999999",
         "query": "\x1b]0;pwned\x07\x1b[2J" + "a" * 500_000},
        {"_path": "http", "ts": 1714557600.0, "uid": "C2", "id.orig_h": "10.1.2.3", "method": ["GET"], "uri": 7, "host": None,
         "username": {"x": 1}, "status_code": "401"},
        {"_path": "conn", "ts": 1714557600.0, "uid": "C3", "id.orig_h": "10.1.2.3", "duration": "long", "orig_pkts": True},
    ]  # fmt: skip
    path = write(tmp_path, "dns.json", "".join(json.dumps(r) + "\n" for r in records))
    events, summary = read(path)
    assert len(events) == 3 and summary.inputs[0].skipped_total == 0
    dns = events[0].fields
    assert "source.ip" not in dns and "source.port" not in dns and events[0].timestamp is None
    assert dns["dns.question.name_length"] == 500_014
    assert "user.name" not in events[1].fields and "url.original" not in events[1].fields
    assert "event.duration" not in events[2].fields and "source.packets" not in events[2].fields
    shown = subprocess.run(
        [sys.executable, "-m", "tocsin", "events", str(path), "--format", "table"],
        capture_output=True,
        timeout=120,
    )
    assert shown.returncode == 0 and b"\x1b]0;" not in shown.stdout + shown.stderr


def test_sniffing_picks_zeek_for_tsv_and_json_only(tmp_path):
    cases = {
        "a.log": CONN,
        "b.json": json.dumps({"ts": 1.0, "uid": "C1", "id.orig_h": "10.0.0.1", "id.resp_h": "10.0.0.2"})
        + "\n",
        "c.json": json.dumps({"_path": "weird", "ts": 1.0, "name": "x"}) + "\n",
    }
    for name, text in cases.items():
        (source,) = resolve_inputs([str(write(tmp_path, name, text))])
        assert detect_format(source) is ZeekParser, name
    generic = write(tmp_path, "d.json", json.dumps({"ts": 1.0, "uid": "u1", "user": "x"}) + "\n")
    (source,) = resolve_inputs([str(generic)])
    assert detect_format(source).name == "json"


def test_sigmahq_zeek_rules_route_and_resolve_zeek_field_names(tmp_path):
    rules = shared("sigma/sigmahq/network/zeek")
    if not rules.is_dir():
        pytest.skip("../shared/data/sigma/sigmahq is not available")
    base = {"ts": 1714557600.0, "uid": "C1", "id.orig_h": "10.1.2.3", "id.orig_p": 50000, "id.resp_p": 80}
    records = [
        {**base, "_path": "http", "id.resp_h": "198.51.100.20", "method": "PUT", "user_agent": "Microsoft-WebDAV-MiniRedir/10.0",
         "uri": "/share/x.exe", "host": "198.51.100.20", "status_code": 201},
        {**base, "_path": "http", "id.resp_h": "10.1.0.20", "method": "PUT", "user_agent": "Microsoft-WebDAV-MiniRedir/10.0",
         "uri": "/share/y.exe", "host": "10.1.0.20", "status_code": 201},
        {**base, "_path": "dns", "id.resp_h": "10.1.0.1", "id.resp_p": 53, "query": "abcdefgh.onion.to", "qtype_name": "A"},
        {**base, "_path": "kerberos", "id.resp_h": "10.1.0.10", "id.resp_p": 88, "request_type": "TGS", "cipher": "rc4-hmac",
         "service": "MSSQLSvc/db01.corp.example:1433", "client": "alice/CORP.EXAMPLE", "success": True},
    ]  # fmt: skip
    path = write(tmp_path, "zeek.json", "".join(json.dumps(r) + "\n" for r in records))
    alerts, _ = scan(path, rule_paths=[rules], builtin_rules=False)
    fired = sorted((alert.rule.title, alert.evidence[0]) for alert in alerts)
    titles = [title for title, _ in fired]
    assert titles.count("WebDav Put Request") == 1  # the internal destination is filtered by id.resp_h
    assert "DNS TOR Proxies" in titles
    assert "Kerberos Network Traffic RC4 Ticket Encryption" in titles


def test_a_byte_order_mark_and_an_overlong_path_are_harmless(tmp_path):
    block = tsv("x" * 500, "ts\tuid\tid.orig_h", "time\tstring\taddr", "1714557600.0\tC1\t10.1.2.3")
    path = tmp_path / "sensor.log"
    path.write_bytes(b"\xef\xbb\xbf" + block.encode())
    (event,), summary = read(path)
    assert summary.inputs[0].format == "zeek" and not summary.inputs[0].skipped
    assert event.fields["event.dataset"] == "zeek." + "x" * 64 and event.fields["source.ip"] == "10.1.2.3"


def test_events_category_selects_zeek_records_as_it_selects_a_captures(tmp_path):
    base = {"ts": 1714557600.0, "uid": "C1", "id.orig_h": "10.1.2.3", "id.orig_p": 1, "id.resp_h": "10.1.0.1"}
    records = [
        {**base, "_path": "dns", "id.resp_p": 53, "query": "a.example"},
        {**base, "_path": "ssh", "id.resp_p": 22, "auth_success": False, "client": "SSH-2.0-x"},
        {**base, "_path": "conn", "id.resp_p": 22, "proto": "tcp"},
    ]
    path = write(tmp_path, "zeek.json", "".join(json.dumps(r) + "\n" for r in records))
    for category, expected in (
        ("dns", ["dns-query"]),
        ("auth", ["ssh-login"]),
        ("tls", ["ssh-banner"]),
        ("flow", [None]),
    ):
        shown = subprocess.run(
            [sys.executable, "-m", "tocsin", "events", str(path), "--category", category],
            capture_output=True,
            timeout=120,
        )
        actions = [json.loads(line)["event"].get("action") for line in shown.stdout.splitlines()]
        assert shown.returncode == 0 and actions == expected, category
