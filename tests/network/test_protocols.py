"""Each protocol event, from captures built with scapy."""

from __future__ import annotations

import base64
import gzip
import json
import struct

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import CookedLinux, Dot1Q, Ether
from scapy.packet import Raw
from scapy.utils import PcapNgWriter

from tests.network.captures import CLIENT, SERVER, T0, Session, udp, write
from tests.network.helpers import dataset, events_of, scan


def auth_events(events):
    return dataset(events, "auth")


def test_ftp_login_failure_then_success(tmp_path):
    session = Session(21).handshake().dialogue(
        (False, b"220 ready\r\n"), (True, b"USER alice\r\n"), (False, b"331 password please\r\n"),
        (True, b"PASS wrongpass1\r\n"), (False, b"530 Login incorrect\r\n"),
        (True, b"USER alice\r\n"), (False, b"331 password please\r\n"),
        (True, b"PASS s3cretpassword\r\n"), (False, b"230-Welcome\r\n230 Logged in\r\n"),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "ftp.pcap", session.packets))
    auths = auth_events(events)
    assert [e.fields["event.outcome"] for e in auths] == ["failure", "success"]
    success = auths[1].fields
    assert success["user.name"] == "alice"
    assert success["source.ip"] == CLIENT and success["destination.port"] == 21
    assert success["event.category"] == "authentication" and success["event.type"] == "start"
    assert success["credential.masked"] == "s****d"
    assert success["credential.hash"].startswith("hmac-sha256:")
    everything = json.dumps([e.to_document() for e in events])
    assert "s3cretpassword" not in everything and "wrongpass1" not in everything
    assert any(e.original.get("command") == "PASS" for e in dataset(events, "ftp"))


def test_reveal_secrets_adds_the_clear_value(tmp_path):
    session = (
        Session(21)
        .handshake()
        .dialogue(
            (True, b"USER bob\r\n"),
            (False, b"331 ok\r\n"),
            (True, b"PASS hunter22\r\n"),
            (False, b"230 ok\r\n"),
        )
    )
    events, _ = events_of(write(tmp_path / "ftp.pcap", session.packets), reveal=True)
    assert auth_events(events)[0].fields["credential.value"] == "hunter22"


def test_http_basic_auth_outcomes_and_transaction_fields(tmp_path):
    token = base64.b64encode(b"carol:pa:ss:word").decode()
    request = f"GET /admin?x=1 HTTP/1.1\r\nHost: intranet.example\r\nUser-Agent: curl/8\r\nAuthorization: Basic {token}\r\n\r\n"
    session = Session(80).handshake().dialogue(
        (True, request.encode()),
        (False, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope!"),
        (True, request.encode()),
        (False, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n4\r\nwelc\r\n3\r\nome\r\n0\r\n\r\n"),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "http.pcap", session.packets))
    http = dataset(events, "http")
    assert [e.fields["http.response.status_code"] for e in http] == [401, 200]
    first = http[0].fields
    assert first["http.request.method"] == "GET" and first["url.original"] == "/admin?x=1"
    assert first["url.domain"] == "intranet.example" and first["user_agent.original"] == "curl/8"
    assert http[1].fields["http.response.body.bytes"] == 7
    assert http[1].fields["http.response.mime_type"] == "text/html"
    auths = auth_events(events)
    assert [(e.fields["user.name"], e.fields["event.outcome"]) for e in auths] == [
        ("carol", "failure"),
        ("carol", "success"),
    ]
    assert auths[0].fields["credential.masked"] == "****"


def test_smtp_auth_login_and_plain(tmp_path):
    login = Session(25).handshake().dialogue(
        (False, b"220 mx ESMTP\r\n"), (True, b"EHLO me\r\n"), (False, b"250-mx\r\n250 AUTH LOGIN PLAIN\r\n"),
        (True, b"AUTH LOGIN\r\n"), (False, b"334 VXNlcm5hbWU6\r\n"),
        (True, base64.b64encode(b"dave@example.com") + b"\r\n"), (False, b"334 UGFzc3dvcmQ6\r\n"),
        (True, base64.b64encode(b"mailpassword") + b"\r\n"), (False, b"235 Authentication succeeded\r\n"),
    ).close()  # fmt: skip
    plain = Session(587, client_port=40001).handshake().dialogue(
        (True, b"AUTH PLAIN " + base64.b64encode(b"\0erin\0badpassword") + b"\r\n"),
        (False, b"535 Authentication failed\r\n"),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "smtp.pcap", login.packets + plain.packets))
    auths = auth_events(events)
    assert [
        (e.fields["user.name"], e.fields["event.outcome"], e.fields["credential.masked"]) for e in auths
    ] == [
        ("dave@example.com", "success", "m****d"),
        ("erin", "failure", "****"),
    ]


def test_pop3_and_imap_logins(tmp_path):
    pop3 = Session(110).handshake().dialogue(
        (False, b"+OK ready\r\n"), (True, b"USER frank\r\n"), (False, b"+OK\r\n"),
        (True, b"PASS popsecret\r\n"), (False, b"-ERR invalid\r\n"),
    ).close()  # fmt: skip
    imap = Session(143, client_port=40002).handshake().dialogue(
        (False, b"* OK IMAP ready\r\n"), (True, b'a1 LOGIN "grace" "imap secret"\r\n'), (False, b"a1 OK logged in\r\n"),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "mail.pcap", pop3.packets + imap.packets))
    assert [
        (e.fields["user.name"], e.fields["network.protocol"], e.fields["event.outcome"])
        for e in auth_events(events)
    ] == [
        ("frank", "pop3", "failure"),
        ("grace", "imap", "success"),
    ]


def test_socks5_username_password(tmp_path):
    session = Session(1080).handshake().dialogue(
        (True, b"\x05\x01\x02"), (False, b"\x05\x02"),
        (True, b"\x01\x04heidi\x08socks123"[:2] + b"heid" + b"\x08socks123"), (False, b"\x01\x00"),
        (True, b"\x05\x01\x00\x03\x0bexample.org\x00\x50"), (False, b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "socks.pcap", session.packets))
    auth = auth_events(events)[0].fields
    assert (auth["user.name"], auth["event.outcome"], auth["credential.masked"]) == (
        "heid",
        "success",
        "****",
    )
    connect = dataset(events, "socks")[0].fields
    assert connect["socks.destination.address"] == "example.org" and connect["socks.destination.port"] == 80


def test_dns_query_and_answer(tmp_path):
    query = DNS(id=7, rd=1, qd=DNSQR(qname="www.example.com", qtype="A"))
    answer = DNS(
        id=7,
        qr=1,
        qd=DNSQR(qname="www.example.com"),
        an=DNSRR(rrname="www.example.com", rdata="93.184.216.34"),
    )
    packets = [
        udp(bytes(query), 5555, 53),
        udp(bytes(answer), 53, 5555, src=SERVER, dst=CLIENT, at=T0 + 0.01),
    ]
    events, _ = events_of(write(tmp_path / "dns.pcap", packets))
    dns = dataset(events, "dns")[0]
    assert dns.fields["dns.question.name"] == "www.example.com"
    assert dns.fields["dns.question.type"] == "A" and dns.fields["dns.response_code"] == "NOERROR"
    assert dns.fields["dns.resolved_ip"] == ["93.184.216.34"]
    assert dns.fields["source.ip"] == CLIENT and dns.original["query"] == "www.example.com"
    assert "dns" in dns.logsource.categories


def test_dns_compression_loop_is_counted_not_fatal(tmp_path):
    looping = b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"
    events, summary = events_of(write(tmp_path / "loop.pcap", [udp(looping, 53, 5555)]))
    (dns,) = dataset(events, "dns")  # counted and kept as far as it could be read, not dropped
    assert dns.fields["dns.id"] == 1 and "dns.question.name" not in dns.fields
    assert dns.fields["error.message"] == "malformed DNS message: compression loop"
    assert any("compression loop" in reason for reason in summary.inputs[0].warnings)


def client_hello(server_name: bytes) -> bytes:
    """A TLS 1.2 ClientHello record with SNI, supported groups and a GREASE cipher."""
    sni = struct.pack("!HBH", len(server_name) + 3, 0, len(server_name)) + server_name
    extensions = struct.pack("!HH", 0, len(sni)) + sni + struct.pack("!HHHHH", 10, 4, 2, 0x001D, 0)[:-2]
    ciphers = struct.pack("!HHHH", 6, 0x0A0A, 0x1301, 0xC02F)
    body = (
        b"\x03\x03"
        + b"\x00" * 32
        + b"\x00"
        + ciphers
        + b"\x01\x00"
        + struct.pack("!H", len(extensions))
        + extensions
    )
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def test_tls_client_hello_sni_and_fingerprints(tmp_path):
    session = Session(443).handshake().send(True, client_hello(b"secure.example")).close()
    events, _ = events_of(write(tmp_path / "tls.pcap", session.packets))
    tls = dataset(events, "tls")[0].fields
    assert tls["tls.client.server_name"] == "secure.example"
    assert len(tls["tls.client.ja3"]) == 32
    assert tls["tls.client.ja4"].startswith("t12d0202") and tls["tls.client.ja4"].count("_") == 2
    assert tls["tls.client.supported_ciphers"] == ["0x1301", "0xc02f"]  # GREASE left out


def test_ssh_banners_on_an_unusual_port(tmp_path):
    session = Session(8022).handshake().dialogue(
        (False, b"SSH-2.0-OpenSSH_9.6\r\n"), (True, b"SSH-2.0-libssh_0.10\r\n")
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "ssh.pcap", session.packets))
    ssh = dataset(events, "ssh")[0].fields
    assert (
        ssh["ssh.server.banner"] == "SSH-2.0-OpenSSH_9.6"
        and ssh["ssh.client.banner"] == "SSH-2.0-libssh_0.10"
    )


def test_flow_event_counts_and_history(tmp_path):
    session = Session(9999).handshake().send(True, b"x" * 100).send(False, b"y" * 10).close()
    events, _ = events_of(write(tmp_path / "flow.pcap", session.packets))
    (flow,) = dataset(events, "flow")
    fields = flow.fields
    assert fields["source.ip"] == CLIENT and fields["destination.port"] == 9999
    assert fields["source.packets"] == 5 and fields["destination.packets"] == 3
    assert fields["network.tcp_flags_history"].startswith("Sh")
    assert fields["network.community_id"].startswith("1:")
    assert flow.original["orig_bytes"] == 100 and flow.original["resp_bytes"] == 10


def test_link_types_pcapng_and_gzip(tmp_path):
    session = Session(21).handshake().dialogue((True, b"USER ivan\r\n"), (False, b"331 ok\r\n"),
                                               (True, b"PASS linktypes\r\n"), (False, b"230 ok\r\n"))  # fmt: skip
    ip_packets = [packet[IP] for packet in session.packets]
    variants = {
        "raw.pcap": (ip_packets, {"linktype": 101}),
        "sll.pcap": ([CookedLinux(proto=0x0800) / p for p in ip_packets], {}),
        "vlan.pcap": ([Ether() / Dot1Q(vlan=7) / p for p in ip_packets], {}),
    }
    for name, (packets, options) in variants.items():
        for packet, original in zip(packets, session.packets, strict=True):
            packet.time = original.time
        events, _ = events_of(write(tmp_path / name, packets, **options))
        assert [e.fields["user.name"] for e in auth_events(events)] == ["ivan"], name
    writer = PcapNgWriter(str(tmp_path / "ng.pcapng"))
    for packet in session.packets:
        writer.write(packet)
    writer.close()
    events, _ = events_of(tmp_path / "ng.pcapng")
    assert len(auth_events(events)) == 1
    compressed = tmp_path / "ftp.pcap.gz"
    compressed.write_bytes(gzip.compress(write(tmp_path / "plain.pcap", session.packets).read_bytes()))
    events, _ = events_of(compressed)
    assert len(auth_events(events)) == 1


def test_cleartext_alert_names_user_and_masks_password(tmp_path):
    session = Session(110).handshake().dialogue(
        (True, b"USER judy\r\n"), (False, b"+OK\r\n"), (True, b"PASS verysecret\r\n"), (False, b"+OK\r\n")
    ).close()  # fmt: skip
    alerts, _ = scan(write(tmp_path / "pop.pcap", session.packets))
    (alert,) = [a for a in alerts if a.rule.title == "Cleartext Credentials On The Wire"]
    assert alert.user == {"name": "judy"}
    assert alert.details["credential"]["masked"] == "****"
    assert "verysecret" not in json.dumps(alert.document())


def test_tcp_payload_without_ports_known_still_flows(tmp_path):
    packet = Ether() / IP(src=CLIENT, dst=SERVER) / TCP(sport=1234, dport=4321, flags="PA") / Raw(b"hello")
    packet.time = T0
    events, summary = events_of(write(tmp_path / "one.pcap", [packet]))
    assert len(dataset(events, "flow")) == 1 and summary.inputs[0].format == "pcap"
