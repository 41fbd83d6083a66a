"""HTTP/1.x read the way servers read it: any token as method, pipelining, interim and upgrade answers,
chunked and gzip bodies, absolute-form targets, folded headers, conflicting lengths, HTTP/0.9."""

from __future__ import annotations

import gzip

from tests.network.captures import Session, write
from tests.network.helpers import dataset, events_of


def http_events(tmp_path, *lines: tuple[bool, bytes], port: int = 80, name: str = "http.pcap"):
    session = Session(port).handshake().dialogue(*lines).close()
    events, summary = events_of(write(tmp_path / name, session.packets))
    return dataset(events, "http"), summary.inputs[0]


def test_pipelined_requests_with_unknown_tokens_pair_with_their_answers(tmp_path):
    requests = (b"BREW /pot HTTP/1.1\r\nHost: a.example\r\n\r\n"
                b"HEAD /h HTTP/1.1\r\nHost: a.example\r\n\r\n"
                b"GET /g HTTP/1.1\r\nHost: a.example\r\n\r\n")  # fmt: skip
    answers = (b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 5\r\n\r\nshort"
               b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n"  # HEAD: no body whatever the length says
               b"HTTP/1.1 204 No Content\r\n\r\n")  # fmt: skip
    http, _ = http_events(tmp_path, (True, requests[:30]), (True, requests[30:]), (False, answers))
    assert [(e.fields["http.request.method"], e.fields["url.path"], e.fields["http.response.status_code"])
            for e in http] == [("BREW", "/pot", 418), ("HEAD", "/h", 200), ("GET", "/g", 204)]  # fmt: skip


def test_continue_then_final_answer_and_a_chunked_gzip_body(tmp_path):
    body = gzip.compress(b"x" * 100 + b"unzipped-secret-42")
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 20]), body[i : i + 20]) for i in range(0, len(body), 20)
    )
    http, stats = http_events(
        tmp_path,
        (True, b"POST /up HTTP/1.1\r\nHost: b.example\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"),
        (False, b"HTTP/1.1 100 Continue\r\n\r\n"),
        (True, b"data"),
        (False, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n" + chunked + b"0\r\n\r\n"),
    )  # fmt: skip
    (event,) = http
    assert event.fields["http.response.status_code"] == 200 and event.fields["http.request.body.bytes"] == 4
    assert event.fields["http.response.body.bytes"] == len(body)
    assert not stats.warnings


def test_connect_tunnel_and_upgrade_stop_parsing(tmp_path):
    http, _ = http_events(
        tmp_path,
        (True, b"CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n"),
        (False, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        (True, b"\x16\x03\x01 not http at all\r\n\r\n"), (False, b"\x16\x03\x03 neither\r\n\r\n"),
    )  # fmt: skip
    (event,) = http
    assert (
        event.fields["http.request.method"] == "CONNECT" and event.fields["url.original"] == "db.example:5432"
    )
    assert (event.fields["url.domain"], event.fields["url.port"]) == ("db.example", 5432)


def test_absolute_form_folded_headers_and_ipv6_host(tmp_path):
    http, _ = http_events(
        tmp_path,
        (True, b"GET http://proxy.example:3128/p?q=1 HTTP/1.1\r\nUser-Agent: curl/8\r\n  (folded)\r\n\r\n"),
        (False, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        (True, b"GET / HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n"),
        (False, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        port=3128,
    )  # fmt: skip
    first, second = http
    assert (first.fields["url.domain"], first.fields["url.port"]) == ("proxy.example", 3128)
    assert first.fields["user_agent.original"] == "curl/8 (folded)"
    assert (second.fields["url.domain"], second.fields["url.port"]) == ("2001:db8::1", 8443)


def test_conflicting_content_lengths_are_counted_and_parsing_resumes(tmp_path):
    http, stats = http_events(
        tmp_path,
        (True, b"POST /a HTTP/1.1\r\nHost: c.example\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\n"),
        (True, b"GET /b HTTP/1.1\r\nHost: c.example\r\n\r\n"),
        (False, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    )  # fmt: skip
    assert stats.warnings["http: conflicting Content-Length values"] == 1
    assert [e.fields.get("url.path") for e in http] == ["/a", "/b"]


def test_http_09_request_and_a_response_without_request(tmp_path):
    http, _ = http_events(
        tmp_path, (True, b"GET /old\r\n"), (False, b"<html>old times</html>"), name="09.pcap"
    )
    (event,) = http
    assert event.fields["url.original"] == "/old" and "http.version" not in event.fields
    assert event.fields["http.response.body.bytes"] == len(b"<html>old times</html>")
    http, _ = http_events(
        tmp_path, (False, b"HTTP/1.0 302 Found\r\nContent-Length: 0\r\n\r\n"), name="lone.pcap"
    )
    (event,) = http
    assert event.fields["http.response.status_code"] == 302 and "http.request.method" not in event.fields
