"""IIS and CloudFront W3C extended logs: the #Fields header decides the columns."""

from __future__ import annotations

import gzip

from tests.sources.web_support import FIXTURES, ecs, read, utc, write


def test_iis_fields_and_a_header_change_mid_file():
    fmt, events, stats = read(FIXTURES / "u_ex190627.log")
    assert fmt == "iis"
    assert stats.skipped == {"column count differs from the #Fields header": 1}
    page, login, later = events
    assert page.timestamp == utc(2019, 6, 27, 12, 0, 0)
    assert page.fields == {
        "event.kind": "event",
        "event.dataset": "iis.access",
        "event.provider": "iis",
        "event.category": "web",
        "event.type": "access",
        "event.outcome": "success",
        "event.duration": 31_000_000,
        "source.ip": "203.0.113.20",
        "source.address": "203.0.113.20",
        "url.original": "/default.aspx?id=7",
        "url.path": "/default.aspx",
        "url.extension": "aspx",
        "url.query": "id=7",
        "http.request.method": "GET",
        "http.response.status_code": 200,
        "http.request.referrer": "https://www.example.com/",
        "user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "iis.access.sub_status": 0,
    }
    assert page.original["s-ip"] == "10.0.0.5"
    assert ecs(login, "user.name", "event.action", "event.outcome", "url.query") == {
        "user.name": "EXAMPLE\\carol",
        "event.action": "web-login",
        "event.outcome": "failure",
        "url.query": "ReturnUrl=%2F",
    }
    # after the second #Fields: other columns, an unknown one kept as it was logged
    assert ecs(
        later, "source.ip", "destination.domain", "http.response.status_code", "user_agent.original"
    ) == {
        "source.ip": "192.0.2.44",
        "destination.domain": "mail.example.com",
        "http.response.status_code": 404,
        "user_agent.original": None,
    }
    assert later.get("X-Custom") == "abc"
    assert later.get("cs-host") == "mail.example.com"


def test_iis_bad_headers_are_counted(tmp_path):
    text = (
        "2019-06-27 12:00:00 GET / 200\n"
        "#Fields: s-ip cs-method cs-uri-stem sc-status\n"
        "10.0.0.1 GET / 200\n"
        "#Fields: date time cs-method cs-uri-stem sc-status\n"
        "2019-06-27 12:00:01 GET / 200\n"
        "2019-13-40 12:00:01 GET / 200\n"
    )
    path = write(tmp_path, "u_ex1.log", "#Software: Microsoft Internet Information Services 10.0\n" + text)
    _, events, stats = read(path)
    assert [event.fields["url.path"] for event in events] == ["/"]
    assert stats.skipped == {
        "line before any #Fields header": 1,
        "#Fields header without date and time": 1,
        "invalid timestamp": 1,
    }


def test_iis_gzip_rotation(tmp_path):
    path = tmp_path / "u_ex190627.log.gz"
    path.write_bytes(gzip.compress((FIXTURES / "u_ex190627.log").read_bytes()))
    fmt, events, _ = read(path)
    assert (fmt, len(events)) == ("iis", 3)


def test_cloudfront():
    fmt, (event,), _ = read(FIXTURES / "cloudfront.log")
    assert fmt == "aws-cloudfront"
    assert event.timestamp == utc(2019, 6, 27, 12, 0, 0)
    assert ecs(
        event,
        "event.dataset",
        "source.ip",
        "source.port",
        "url.original",
        "destination.domain",
        "user_agent.original",
        "http.version",
        "http.response.body.bytes",
        "event.duration",
    ) == {
        "event.dataset": "aws.cloudfront",
        "source.ip": "203.0.113.50",
        "source.port": 11040,
        "url.original": "/images/logo.png?v=2",
        "destination.domain": "www.example.com",  # the viewer's Host, not the distribution's name
        "user_agent.original": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        "http.version": "2.0",
        "http.response.body.bytes": 2390,
        "event.duration": 4_000_000,
    }
    assert event.logsource.categories == {"webserver", "proxy"}
    assert event.get("x-edge-location") == "SEA19-C1"
