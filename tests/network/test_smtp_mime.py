"""SMTP messages reach YARA as decoded MIME parts: bodies out of quoted-printable, attachments out of
base64 and named; malformed MIME is counted, never fatal."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from tests.conftest import shared
from tests.network.captures import CLIENT, Session, write
from tests.network.helpers import scan
from tocsin.scan import ReadSummary, read_events
from tocsin.sources import ParseOptions
from tocsin.sources.pcap.payloads import Payload
from tocsin.sources.pcap.protocols import mail

PRIVATE_KEY = (
    b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretsecret\n-----END RSA PRIVATE KEY-----\n"
)
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def smtp_session(message: bytes) -> Session:
    """One SMTP delivery of ``message`` (CRLF lines), the DATA sent in several segments."""
    data = message.replace(b"\r\n.", b"\r\n..") + b".\r\n"
    session = Session(25).handshake().dialogue(
        (False, b"220 mx ESMTP\r\n"), (True, b"EHLO me\r\n"), (False, b"250 mx\r\n"),
        (True, b"MAIL FROM:<mallory@example.com>\r\n"), (False, b"250 ok\r\n"),
        (True, b"RCPT TO:<drop@example.org>\r\n"), (False, b"250 ok\r\n"),
        (True, b"DATA\r\n"), (False, b"354 go ahead\r\n"),
    )  # fmt: skip
    for start in range(0, len(data), 500):
        session.send(True, data[start : start + 500])
    return session.dialogue((False, b"250 queued\r\n"), (True, b"QUIT\r\n"), (False, b"221 bye\r\n")).close()


def yara_alerts(alerts, title):
    return [a for a in alerts if a.rule.type == "yara" and a.rule.title == title]


def test_attachment_and_body_are_scanned_decoded_and_named(tmp_path):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "mallory@example.com", "drop@example.org", "keys"
    # Quoted-printable wraps the long line with a soft break inside the token: only the decoded body matches.
    message.set_content("x" * 60 + " " + GITHUB_TOKEN + " as promised\n", cte="quoted-printable")
    message.add_attachment(PRIVATE_KEY, maintype="application", subtype="octet-stream", filename="id_rsa")
    raw = message.as_bytes(policy=SMTP)
    assert b"PRIVATE KEY" not in raw and GITHUB_TOKEN.encode() not in raw

    alerts, summary = scan(write(tmp_path / "smtp.pcap", smtp_session(raw).packets))

    (key,) = yara_alerts(alerts, "Private Key In Clear")
    target = key.details["target"]
    assert target["kind"] == "smtp attachment" and target["file"] == {"name": "id_rsa"}
    assert target["flow_id"].startswith("1:") and key.source["ip"] == CLIENT
    assert '"id_rsa"' in key.message
    assert key.details["yara"]["matches"][0]["data"] == "-****-"
    (token,) = yara_alerts(alerts, "GitHub Token")
    assert token.details["target"]["kind"] == "smtp body" and "file" not in token.details["target"]
    assert key.id != token.id
    everything = json.dumps([a.document() for a in alerts])
    assert "MIIEow" not in everything and GITHUB_TOKEN not in everything
    assert summary.content_scan["payloads scanned"] >= 3  # two parts, the two stream directions
    assert not summary.read.inputs[0].warnings


def test_malformed_mime_is_counted_and_the_parts_still_scanned(tmp_path):
    raw = (
        b"From: a@example.com\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="k.pem"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        b"LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K!!!not base64 at all\r\n"
    )
    alerts, summary = scan(write(tmp_path / "broken.pcap", smtp_session(raw).packets))
    warnings = summary.read.inputs[0].warnings
    assert any(reason.startswith("smtp: malformed MIME message") for reason in warnings), warnings
    assert not summary.read.failed_inputs
    (key,) = yara_alerts(alerts, "Private Key In Clear")
    assert key.details["target"]["file"] == {"name": "k.pem"}


def test_a_message_the_email_package_rejects_is_counted_and_scanned_raw(tmp_path, monkeypatch):
    def refuse(raw):
        raise ValueError("unparseable")

    monkeypatch.setattr(mail, "mime_parts", refuse)
    raw = b"Subject: plain\r\n\r\n" + PRIVATE_KEY.replace(b"\n", b"\r\n")
    alerts, summary = scan(write(tmp_path / "raw.pcap", smtp_session(raw).packets))
    assert summary.read.inputs[0].warnings["smtp: MIME message not parsed (ValueError); scanned raw"] == 1
    kinds = {a.details["target"]["kind"] for a in yara_alerts(alerts, "Private Key In Clear")}
    assert kinds == {"smtp message", "tcp stream client→server"}


def test_a_message_of_countless_tiny_parts_is_parsed_only_up_to_the_limits():
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + b"--b\r\n\r\nx\r\n" * 200_000 + b"--b--\r\n"
    )
    parts, defects = mail.mime_parts(raw)
    assert len(parts) == mail.MAX_PARTS
    assert f"more than {mail.MAX_BOUNDARY_LINES} boundary lines" in defects


def test_bdat_chunks_are_reassembled_into_a_message_whose_attachment_is_scanned(tmp_path):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "mallory@example.com", "drop@example.org", "chunked"
    message.set_content("see attached\n")
    message.add_attachment(PRIVATE_KEY, maintype="application", subtype="octet-stream", filename="id_rsa")
    raw = message.as_bytes(policy=SMTP)
    cut = len(raw) // 3
    first, second, third = raw[:cut], raw[cut : 2 * cut], raw[2 * cut :]
    session = Session(25).handshake().dialogue(
        (False, b"220 mx ESMTP\r\n"), (True, b"EHLO me\r\n"), (False, b"250-mx\r\n250 CHUNKING\r\n"),
        (True, b"MAIL FROM:<mallory@example.com>\r\n"), (False, b"250 ok\r\n"),
        (True, b"RCPT TO:<drop@example.org>\r\n"), (False, b"250 ok\r\n"),
        # the command and its chunk in one segment; a chunk split over segments; a line-like chunk end
        (True, f"BDAT {len(first)}\r\n".encode() + first), (False, b"250 ok\r\n"),
        (True, f"BDAT {len(second)}\r\n".encode() + second[:7]), (True, second[7:]), (False, b"250 ok\r\n"),
        (True, f"BDAT {len(third)} LAST\r\n".encode()), (True, third + b"QUIT\r\n"),
        (False, b"250 queued\r\n221 bye\r\n"),
    ).close()  # fmt: skip
    alerts, summary = scan(write(tmp_path / "bdat.pcap", session.packets))
    (key,) = yara_alerts(alerts, "Private Key In Clear")
    assert key.details["target"]["kind"] == "smtp attachment" and key.details["target"]["file"] == {
        "name": "id_rsa"
    }
    assert not summary.read.inputs[0].warnings


def test_bdat_messages_of_the_shared_captures_are_reassembled_into_their_mime_parts():
    seen: list[Payload] = []
    summary = ReadSummary()
    path = shared("pcaps/smtp/rfc3030-bdat-multipart-chunked.pcap")
    list(read_events([str(path)], None, ParseOptions(payload_scanner=seen.append), summary))
    parts = {p.kind: p for p in seen if p.kind.startswith("smtp")}
    assert parts["smtp body"].data.startswith(b"This is Zeek's logo.")
    logo = parts["smtp attachment"]
    assert logo.name == "zeek-logo.png" and logo.data.startswith(b"\x89PNG\r\n") and len(logo.data) == 2011
    assert not summary.inputs[0].warnings
