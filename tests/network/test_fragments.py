"""IP fragments put back together (IPv4 and IPv6) before flows and protocols see them, within limits."""

from __future__ import annotations

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from tests.network.captures import CLIENT, SERVER, T0, Session, write
from tests.network.helpers import dataset, events_of
from tocsin.sources.base import InputStats
from tocsin.sources.pcap.reader import Defragmenter

LONG_TEXT = "v=" + "x" * 250


def _stamped(packets, start=T0):
    for index, packet in enumerate(packets):
        packet.time = start + index * 0.001
    return packets


def test_fragmented_ipv4_udp_dns_answer_is_reassembled(tmp_path):
    query = (
        Ether()
        / IP(src=CLIENT, dst=SERVER)
        / UDP(sport=5555, dport=53)
        / DNS(id=9, qd=DNSQR(qname="big.example", qtype="TXT"))
    )
    answer = IP(src=SERVER, dst=CLIENT, id=4242) / UDP(sport=53, dport=5555) / DNS(
        id=9, qr=1, qd=DNSQR(qname="big.example", qtype="TXT"),
        an=[DNSRR(rrname="big.example", type="TXT", ttl=300, rdata=LONG_TEXT) for _ in range(12)],
    )  # fmt: skip
    pieces = [Ether() / piece for piece in fragment(answer, fragsize=512)]
    assert len(pieces) >= 4
    pieces = [pieces[-1], *pieces[1:-1], pieces[0]]  # last first, first last
    events, summary = events_of(write(tmp_path / "frag4.pcap", _stamped([query, *pieces])))
    (dns,) = dataset(events, "dns")
    assert dns.fields["dns.response_code"] == "NOERROR" and len(dns.fields["dns.answers"]) == 12
    assert dns.fields["dns.answers"][0]["ttl"] == 300 and dns.fields["dns.answers"][0]["data"] == LONG_TEXT
    stats = summary.inputs[0]
    assert not stats.skipped
    assert any("reassembled from fragments: 1 (from" in reason for reason in stats.warnings)


def test_fragmented_ipv4_tcp_segment_carrying_a_login_is_analysed(tmp_path):
    session = Session(80).handshake()
    request = (
        b"GET /secret HTTP/1.1\r\nHost: frag.example:8080\r\nAuthorization: Basic YWxpY2U6czNjcjN0\r\n"
        + b"X-Pad: "
        + b"p" * 3000
        + b"\r\n\r\n"
    )
    session.send(True, request)
    whole = session.packets.pop()
    packets = list(session.packets)
    packets += [Ether() / piece for piece in fragment(whole[IP], fragsize=1000)]
    session.send(False, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n").close()
    packets += session.packets[-4:]  # the response and the close
    events, _ = events_of(write(tmp_path / "frag-tcp.pcap", _stamped(packets)))
    (http,) = dataset(events, "http")
    assert http.fields["url.original"] == "/secret" and http.fields["url.port"] == 8080
    assert http.fields["user.name"] == "alice" and http.fields["http.response.status_code"] == 401


def test_fragmented_ipv6_udp_is_reassembled(tmp_path):
    answer = IPv6(src="2001:db8::53", dst="2001:db8::5") / IPv6ExtHdrFragment(id=77) / UDP(sport=53, dport=5555) / DNS(
        id=3, qr=1, qd=DNSQR(qname="six.example", qtype="TXT"),
        an=[DNSRR(rrname="six.example", type="TXT", ttl=60, rdata=LONG_TEXT) for _ in range(8)],
    )  # fmt: skip
    pieces = [Ether() / piece for piece in fragment6(answer, 600)]
    assert len(pieces) >= 3
    events, _ = events_of(write(tmp_path / "frag6.pcap", _stamped(list(reversed(pieces)))))
    (dns,) = dataset(events, "dns")
    assert dns.fields["dns.question.name"] == "six.example" and len(dns.fields["dns.answers"]) == 8
    assert dns.fields["source.ip"] == "2001:db8::5" or dns.fields["destination.ip"] == "2001:db8::5"


def test_incomplete_and_oversized_datagrams_are_counted_not_analysed(tmp_path):
    answer = IP(src=SERVER, dst=CLIENT, id=7) / UDP(sport=53, dport=5555) / Raw(b"z" * 3000)
    pieces = [Ether() / piece for piece in fragment(answer, fragsize=1000)]
    events, summary = events_of(write(tmp_path / "hole.pcap", _stamped(pieces[:-1])))  # the last one lost
    assert not dataset(events, "dns")
    assert summary.inputs[0].skipped["IP fragments of a datagram never completed"] == len(pieces) - 1

    stats = InputStats("limits")
    defragmenter = Defragmenter(max_datagrams=2, timeout=1.0)
    assert defragmenter.add((4, "a", "b", 1, 17), 0, True, b"x" * 8, 0.0, stats) is None
    assert defragmenter.add((4, "a", "b", 1, 17), 65528, True, b"x" * 16, 0.1, stats) is None  # over 65535
    assert stats.skipped["IP fragments dropped: datagram over the size or piece limit"] == 2
    for ident in (2, 3, 4):
        defragmenter.add((4, "a", "b", ident, 17), 8, True, b"y" * 8, 0.2, stats)
    assert stats.skipped["IP fragments dropped: too many datagrams in reassembly"] == 1
    defragmenter.add((4, "a", "b", 5, 17), 8, True, b"y" * 8, 5.0, stats)
    assert stats.skipped["IP fragments of a datagram not completed within 1 s"] == 2
    assert defragmenter.held == 8 and len(defragmenter.open) == 1
