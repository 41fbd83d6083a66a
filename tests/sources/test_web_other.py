"""HAProxy, AWS ALB and JSON access logs."""

from __future__ import annotations

from tests.sources.web_support import FIXTURES, ecs, read, utc, write
from tocsin.credentials import redact
from tocsin.settings import WebSettings
from tocsin.sources import ParseOptions


def test_haproxy():
    fmt, (page, login), stats = read(FIXTURES / "haproxy.log")
    assert fmt == "haproxy"
    assert stats.skipped == {"line not in the haproxy format": 1}  # "Proxy http-in started."
    assert page.timestamp == utc(2019, 6, 27, 12, 0, 0) + 0.655
    assert ecs(
        page,
        "source.ip",
        "source.port",
        "url.path",
        "http.response.status_code",
        "http.response.body.bytes",
        "event.duration",
        "haproxy.backend_name",
        "host.name",
        "event.dataset",
    ) == {
        "source.ip": "203.0.113.40",
        "source.port": 33317,
        "url.path": "/index.html",
        "http.response.status_code": 200,
        "http.response.body.bytes": 2750,
        "event.duration": 109_000_000,
        "haproxy.backend_name": "static",
        "host.name": "lb1",
        "event.dataset": "haproxy.log",
    }
    assert (login.fields["event.action"], login.fields["event.outcome"]) == ("web-login", "failure")


def test_alb():
    fmt, (page, token), _ = read(FIXTURES / "alb.log")
    assert fmt == "aws-alb"
    assert page.timestamp == utc(2019, 6, 27, 12, 0, 0) + 0.186641
    assert ecs(
        page,
        "source.ip",
        "source.port",
        "url.original",
        "url.path",
        "url.query",
        "url.domain",
        "event.duration",
        "http.response.body.bytes",
        "user_agent.original",
        "event.dataset",
    ) == {
        "source.ip": "203.0.113.60",
        "source.port": 2817,
        "url.original": "https://www.example.com:443/account?tab=2",
        "url.path": "/account",
        "url.query": "tab=2",
        "url.domain": "www.example.com",
        "event.duration": 49_000_000,
        "http.response.body.bytes": 366,
        "user_agent.original": "Mozilla/5.0 (Windows NT 10.0)",
        "event.dataset": "aws.elb",
    }
    # -1 processing times: no duration; a 503 to a login endpoint is the server's failure, not a login
    assert ecs(token, "event.duration", "event.category", "event.outcome") == {
        "event.duration": None,
        "event.category": "web",
        "event.outcome": "failure",
    }


def test_json_access_logs():
    fmt, (nginx, plain, document), stats = read(FIXTURES / "nginx_json.log")
    assert fmt == "web-json"
    assert stats.skipped == {"not a JSON access log record": 1}
    assert nginx.timestamp == utc(2019, 6, 27, 12, 0, 0)
    assert ecs(
        nginx,
        "source.ip",
        "user.name",
        "url.path",
        "http.response.status_code",
        "event.duration",
        "destination.domain",
        "event.action",
        "event.outcome",
        "event.dataset",
    ) == {
        "source.ip": "10.0.0.2",  # X-Forwarded-For is not trusted by default
        "user.name": "dave",  # from the Basic Authorization header
        "url.path": "/api/v1/auth/login",
        "http.response.status_code": 401,
        "event.duration": 12_000_000,
        "destination.domain": "api.example.com",
        "event.action": "web-login",
        "event.outcome": "failure",
        "event.dataset": "nginx.access",
    }
    assert nginx.get("http_user_agent") == "okhttp/4.9.0"
    assert ecs(plain, "url.original", "url.query", "http.version", "event.duration") == {
        "url.original": "/search?q=shoes",
        "url.query": "q=shoes",
        "http.version": "1.1",
        "event.duration": 200_000_000,
    }
    assert document.timestamp == utc(2019, 6, 27, 12, 0, 2) + 0.5
    assert ecs(
        document, "source.ip", "source.port", "url.domain", "event.action", "event.outcome", "event.duration"
    ) == {
        "source.ip": "192.0.2.90",
        "source.port": 50123,
        "url.domain": "blog.example.com",
        "event.action": "web-login",
        "event.outcome": "success",
        "event.duration": 2_500_000,
    }
    assert document.logsource.products == {"nginx"}


def test_json_access_log_behind_a_trusted_proxy():
    options = ParseOptions(web=WebSettings(trusted_proxies=["10.0.0.0/8"]))
    _, (nginx, *_), _ = read(FIXTURES / "nginx_json.log", options)
    assert ecs(nginx, "source.ip", "client.ip") == {"source.ip": "198.51.100.77", "client.ip": "10.0.0.2"}


def test_hostile_json_records_are_read_or_counted(tmp_path):
    lines = [
        '{"remote_addr":"192.0.2.1","status":{"x":1},"request":["GET / HTTP/1.1"],"time_local":{},"request_time":"fast"}',
        '{"remote_addr":"192.0.2.1","status":"200","request":"GET /a HTTP/1.1","time_local":"99/Xyz/2019:99:00:00 +0000"}',
        '{"remote_addr":"192.0.2.1","status":200,"request":"GET /b HTTP/1.1","http_authorization":"Basic !!!"}',
        "[1, 2]",
        '{"remote_addr":' + "[" * 100 + "]" * 100 + ',"status":1}',
    ]
    _, events, stats = read(write(tmp_path, "access.json", "\n".join(lines) + "\n"))
    assert [
        ecs(event, "url.path", "http.response.status_code", "event.duration", "user.name") for event in events
    ] == [
        {"url.path": None, "http.response.status_code": None, "event.duration": None, "user.name": None},
        {"url.path": "/a", "http.response.status_code": 200, "event.duration": None, "user.name": None},
        {"url.path": "/b", "http.response.status_code": 200, "event.duration": None, "user.name": None},
    ]
    assert [event.timestamp for event in events] == [None, None, None]
    assert stats.warnings == {"record without a readable timestamp": 3}
    assert stats.skipped_total == 2


def test_a_basic_authorization_header_is_redacted_before_storage():
    raw = (FIXTURES / "nginx_json.log").read_text().splitlines()[0]
    assert "ZGF2ZTpodW50ZXIy" in raw
    redacted = redact(raw)
    assert "ZGF2ZTpodW50ZXIy" not in redacted and '"http_authorization":"Basic ****(hmac-sha256:' in redacted
    assert redact("basic information about Authorization") == "basic information about Authorization"
