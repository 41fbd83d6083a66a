"""YARA: compiling (signature-base, errors, cache), externals, payload and file scanning, masking."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared
from tests.network.captures import Session, write
from tests.network.helpers import scan
from tocsin.detectors.yara.compiler import compile_rules, rule_files
from tocsin.detectors.yara.scanner import luhn_valid

PRIVATE_KEY = (
    b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretsecret\n-----END RSA PRIVATE KEY-----\n"
)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_signature_base_compiles_at_least_95_percent_and_reports_the_rest():
    root = shared("yara/signature-base")
    compiled = compile_rules([root])
    assert compiled.files == len(rule_files([root])) > 700
    assert compiled.compiled_files / compiled.files >= 0.95
    assert all(error.source and error.reason for error in compiled.errors)
    assert compile_rules([root]).cached


def test_a_broken_file_is_reported_with_its_reason_and_the_others_still_load(tmp_path):
    (tmp_path / "good.yar").write_text('rule good { strings: $a = "needle" condition: $a }')
    (tmp_path / "bad.yar").write_text("rule bad { condition: nonsense_identifier }")
    compiled = compile_rules([tmp_path], use_cache=False)
    assert compiled.files == 2 and len(compiled.errors) == 1
    assert (
        compiled.errors[0].source.endswith("bad.yar") and "nonsense_identifier" in compiled.errors[0].reason
    )
    assert compiled.rules.match(data=b"a needle here")


def test_http_upload_of_a_private_key_raises_a_masked_yara_alert(tmp_path):
    body = PRIVATE_KEY
    request = b"POST /upload HTTP/1.1\r\nHost: paste.example\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    session = (
        Session(80)
        .handshake()
        .send(True, request)
        .send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .close()
    )
    alerts, _ = scan(write(tmp_path / "upload.pcap", session.packets))
    yara_alerts = [a for a in alerts if a.rule.type == "yara" and a.rule.title == "Private Key In Clear"]
    kinds = {a.details["target"]["kind"] for a in yara_alerts}
    assert "http request body" in kinds and "tcp stream client→server" in kinds
    alert = yara_alerts[0]
    assert alert.source["ip"] == "10.0.0.5" and alert.details["target"]["flow_id"].startswith("1:")
    match = alert.details["yara"]["matches"][0]
    assert match["data"] == "-****-" and match["offset"] >= 0
    assert b"MIIEow" not in json.dumps([a.document() for a in alerts]).encode()


def test_plain_files_are_scanned_with_user_rules_and_externals(tmp_path):
    rules = tmp_path / "rules.yar"
    rules.write_text('rule by_name { condition: filename == "dump.bin" and extension == ".bin" }')
    dump = tmp_path / "data" / "dump.bin"
    dump.parent.mkdir()
    dump.write_bytes(b"\x00\x01binary" + PRIVATE_KEY)
    alerts, summary = scan(dump.parent, yara_paths=[rules])
    titles = sorted(a.rule.title for a in alerts)
    assert titles == ["Private Key In Clear", "by_name"]  # a rule without a title meta: its name
    assert summary.content_scan["files scanned"] == 1
    assert summary.read.inputs[0].format == "file" and not summary.read.failed_inputs


def test_card_numbers_need_to_pass_luhn(tmp_path):
    assert luhn_valid(b"4111 1111 1111 1111") and not luhn_valid(b"4111 1111 1111 1112")
    rules = tmp_path / "none.yar"
    rules.write_text("rule never { condition: false }")
    valid, invalid = tmp_path / "valid.txt", tmp_path / "invalid.txt"
    valid.write_bytes(b"\x00" + b"card 4111 1111 1111 1111\n" * 25)
    invalid.write_bytes(b"\x00" + b"card 4111 1111 1111 1112\n" * 25)
    assert [a.rule.title for a in scan(valid, yara_paths=[rules])[0]] == [
        "Bulk Payment Card Numbers In A Payload"
    ]
    assert scan(invalid, yara_paths=[rules])[0] == []
