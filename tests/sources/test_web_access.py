"""Combined/common access logs (Apache, nginx, Tomcat): exact ECS fields, logins, X-Forwarded-For."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from tests.sources.web_support import FIXTURES, ecs, read, utc, write
from tocsin.settings import WebSettings
from tocsin.sources import InputStats, ParseOptions
from tocsin.sources.inputs import resolve_inputs
from tocsin.sources.web.lines import ApacheAccessParser


def test_combined_fixture_fields():
    fmt, events, stats = read(FIXTURES / "access_combined.log")
    assert fmt == "apache-access"
    assert (stats.records, stats.events, stats.skipped_total) == (6, 6, 0)
    first = events[0]
    assert first.timestamp == utc(2019, 6, 27, 12, 0, 0)
    assert first.fields == {
        "event.kind": "event",
        "event.dataset": "apache.access",
        "event.provider": "apache",
        "event.category": "web",
        "event.type": "access",
        "event.outcome": "success",
        "source.ip": "203.0.113.7",
        "source.address": "203.0.113.7",
        "url.original": "/index.html?lang=en",
        "url.path": "/index.html",
        "url.extension": "html",
        "url.query": "lang=en",
        "http.request.method": "GET",
        "http.version": "1.1",
        "http.response.status_code": 200,
        "http.response.body.bytes": 5120,
        "http.request.referrer": "https://www.example.com/",
        "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0",
    }
    assert first.logsource.as_dict() == {
        "product": ["apache"],
        "service": ["access", "apache"],
        "category": ["webserver"],
    }
    login = events[1]
    assert login.timestamp == utc(2019, 6, 27, 10, 0, 1)  # +0200
    assert ecs(login, "user.name", "event.category", "event.type", "event.action", "event.outcome") == {
        "user.name": "alice",
        "event.category": "authentication",
        "event.type": "start",
        "event.action": "web-login",
        "event.outcome": "failure",
    }
    assert login.logsource.categories == {"webserver", "authentication"}
    ipv6 = events[2]
    assert ecs(
        ipv6, "source.ip", "http.version", "event.outcome", "user_agent.original", "http.request.referrer"
    ) == {
        "source.ip": "2001:db8::17",
        "http.version": "2.0",
        "event.outcome": "failure",
        "user_agent.original": None,
        "http.request.referrer": None,
    }
    common = events[3]  # common format: no referrer, agent; "-" bytes
    assert ecs(common, "http.response.status_code", "http.response.body.bytes", "event.outcome") == {
        "http.response.status_code": 304,
        "http.response.body.bytes": None,
        "event.outcome": "success",
    }
    vhost = events[4]
    assert ecs(vhost, "destination.domain", "url.domain", "event.duration", "source.ip") == {
        "destination.domain": "www.example.com",
        "url.domain": "www.example.com",
        "event.duration": 15_023_000,  # %D: microseconds
        "source.ip": "203.0.113.7",
    }
    garbage = events[5]  # a TLS handshake sent to a plain HTTP port: the request is not a request line
    assert ecs(garbage, "http.request.method", "url.original", "url.path", "http.response.status_code") == {
        "http.request.method": None,
        "url.original": r"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        "url.path": None,
        "http.response.status_code": 400,
    }


def test_sigma_webserver_names_resolve_on_the_event():
    _, events, _ = read(FIXTURES / "access_combined.log")
    first = events[0]
    assert first.get("cs-uri-query") == "lang=en"
    assert first.get("cs-method") == "GET"
    assert first.get("c-useragent") == "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"
    assert first.get("sc-status") == 200
    assert first.get("c-ip") == "203.0.113.7"


def test_parse_gives_the_events_batches_give():
    (source,) = resolve_inputs([str(FIXTURES / "access_combined.log")])
    stats = InputStats(source.name)
    parsed = list(ApacheAccessParser(ParseOptions()).parse(source, stats))
    _, batched, _ = read(FIXTURES / "access_combined.log")
    assert [(e.id, e.fields, e.timestamp) for e in parsed] == [(e.id, e.fields, e.timestamp) for e in batched]


def test_nginx_main_format_and_request_time(tmp_path):
    path = write(
        tmp_path,
        "nginx-access.log",
        '192.0.2.1 - - [27/Jun/2019:12:00:00 -0500] "GET /a?b=1 HTTP/1.1" 200 12 "-" "Wget/1.21" "-" 0.250\n',
    )
    fmt, (event,), _ = read(path)
    assert fmt == "nginx-access"
    assert event.timestamp == utc(2019, 6, 27, 17, 0, 0)
    assert ecs(event, "event.dataset", "event.duration", "user_agent.original") == {
        "event.dataset": "nginx.access",
        "event.duration": 250_000_000,
        "user_agent.original": "Wget/1.21",
    }
    assert event.logsource.products == {"nginx"}


def test_tomcat_access_log_by_its_file_name(tmp_path):
    path = write(
        tmp_path,
        "localhost_access_log.2019-06-27.txt",
        '10.1.2.3 - tomcat [27/Jun/2019:12:00:00 +0000] "GET /manager/html HTTP/1.1" 401 2473\n'
        '10.1.2.3 - tomcat [27/Jun/2019:12:00:05 +0000] "GET /manager/html HTTP/1.1" 200 17642\n',
    )
    fmt, events, _ = read(path)
    assert fmt == "tomcat-access"
    assert [ecs(e, "event.dataset", "user.name", "event.action", "event.outcome") for e in events] == [
        {
            "event.dataset": "tomcat.access",
            "user.name": "tomcat",
            "event.action": "web-login",
            "event.outcome": "failure",
        },
        {
            "event.dataset": "tomcat.access",
            "user.name": "tomcat",
            "event.action": "web-login",
            "event.outcome": "success",
        },
    ]


@pytest.mark.parametrize(
    ("method", "path", "status", "login", "outcome"),
    [
        ("POST", "/login", 302, True, "success"),
        ("POST", "/login/", 200, True, "success"),
        ("POST", "/LOGIN", 401, True, "failure"),
        ("GET", "/login", 200, False, "success"),  # showing the form is no attempt
        ("POST", "/api/v2/authenticate", 429, True, "failure"),
        ("POST", "/shop/j_security_check", 403, True, "failure"),
        ("POST", "/wp-login.php", 404, False, "failure"),  # no such page: not a login
        ("POST", "/login", 500, False, "failure"),  # the server failed, not the user
        ("PUT", "/manager/html/upload", 401, True, "failure"),
        ("POST", "/loginx", 401, False, "failure"),
    ],
)
def test_login_endpoints(tmp_path, method, path, status, login, outcome):
    line = f'198.51.100.2 - - [27/Jun/2019:12:00:00 +0000] "{method} {path} HTTP/1.1" {status} 10 "-" "x"\n'
    _, (event,), _ = read(write(tmp_path, "access.log", line))
    assert (event.fields["event.category"] == "authentication") is login
    assert (event.fields.get("event.action") == "web-login") is login
    assert event.fields["event.outcome"] == outcome


def test_login_settings_are_configurable(tmp_path):
    web = WebSettings(login_paths=["/auth/*"], login_methods=["PUT"], failure_statuses=[200, 401])
    line = '198.51.100.2 - - [27/Jun/2019:12:00:00 +0000] "PUT /auth/password HTTP/1.1" 200 10\n'
    _, (event,), _ = read(write(tmp_path, "access.log", line), ParseOptions(web=web))
    assert (event.fields["event.action"], event.fields["event.outcome"]) == ("web-login", "failure")
    _, (event,), _ = read(write(tmp_path, "access.log", line.replace("PUT", "POST")), ParseOptions(web=web))
    assert event.fields["event.category"] == "web"


_XFF_LINE = '10.0.0.5 - - [27/Jun/2019:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x" "{}"\n'


@pytest.mark.parametrize(
    ("trusted", "forwarded", "source", "client"),
    [
        ([], "203.0.113.9", "10.0.0.5", None),  # never trusted by default
        (["10.0.0.0/8"], "203.0.113.9", "203.0.113.9", "10.0.0.5"),
        (
            ["10.0.0.0/8"],
            "6.6.6.6, 203.0.113.9, 10.1.1.1",
            "203.0.113.9",
            "10.0.0.5",
        ),  # spoofed left entry ignored
        (["10.0.0.0/8", "192.0.2.7"], "203.0.113.9, 192.0.2.7", "203.0.113.9", "10.0.0.5"),
        (["10.0.0.0/8"], "10.9.9.9, 10.1.1.1", "10.9.9.9", "10.0.0.5"),  # every hop trusted: the farthest
        (["10.0.0.0/8"], "not-an-ip, 10.1.1.1", "10.1.1.1", "10.0.0.5"),  # garbage ends the walk
        (["10.0.0.0/8"], "-", "10.0.0.5", None),
        (["192.0.2.0/24"], "203.0.113.9", "10.0.0.5", None),  # the connecting host is no trusted proxy
    ],
)
def test_x_forwarded_for_trust(tmp_path, trusted, forwarded, source, client):
    path = write(tmp_path, "nginx.access.log", _XFF_LINE.format(forwarded))
    _, (event,), _ = read(path, ParseOptions(web=WebSettings(trusted_proxies=trusted)))
    assert ecs(event, "source.ip", "client.ip", "network.forwarded_ip") == {
        "source.ip": source,
        "client.ip": client,
        "network.forwarded_ip": source if client else None,
    }


def test_trusted_proxies_must_be_networks():
    with pytest.raises(ValidationError, match=r"not an address or CIDR network: 'proxy\.example'"):
        WebSettings(trusted_proxies=["proxy.example"])


def test_bad_lines_are_counted_and_the_rest_read(tmp_path):
    good = '192.0.2.1 - - [27/Jun/2019:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"\n'
    text = (
        good * 3
        + "Jun 27 12:00:00 host sshd[1]: Accepted password for bob from 192.0.2.1 port 22 ssh2\n"
        + '192.0.2.1 - - [31/Feb/2019:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"\n'
        + '192.0.2.1 - - [27/Jun/2019:12:00:00 +0000] "GET / HTTP/1.1" 200\n'
        + good
    )
    fmt, events, stats = read(write(tmp_path, "access.log", text))
    assert fmt == "apache-access"
    assert len(events) == 4
    assert stats.skipped == {"line not in the apache-access format": 2, "invalid timestamp": 1}


def test_hostile_values_are_kept_as_data(tmp_path):
    agent = "\x1b[31mred\x1b[0m" + "A" * 100_000
    line = f'192.0.2.1 - - [27/Jun/2019:12:00:00 +0000] "GET /\x1b]0;pwned\x07?q=\x00 HTTP/1.1" 200 1 "-" "{agent}"\n'
    plain = '192.0.2.1 - - [27/Jun/2019:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"\n'
    _, events, stats = read(write(tmp_path, "access.log", plain + line + line.replace("\x00", "")))
    _, event = events  # the line with a NUL byte is binary: skipped and counted
    assert stats.skipped_total == 1
    assert event.fields["user_agent.original"] == agent
    assert event.fields["url.path"] == "/\x1b]0;pwned\x07"


def test_lines_appended_to_a_followed_access_log():
    data = (FIXTURES / "access_combined.log").read_bytes().splitlines(keepends=True)
    stats = InputStats("access.log")
    events = list(ApacheAccessParser(ParseOptions()).parse_lines(b"".join(data[1:3]), "access.log", stats))
    assert [(event.offset, event.fields["url.path"]) for event in events] == [
        ("1", "/login"),
        ("2", "/missing"),
    ]
    assert (stats.records, stats.events) == (2, 2)


@pytest.mark.parametrize(
    ("start", "forced"),
    [
        ('1.1.1.1 - - [27/Jun/2019:12:00:00 +0000] "', "apache-access"),
        ('1.1.1.1 - - [27/Jun/2019:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "', "apache-access"),
        ('http 2019-06-27T12:00:00Z a b 1.1.1.1:1 - 1 1 1 200 200 1 1 "GET / HTTP/1.1" "', "aws-alb"),
    ],
)
def test_an_unclosed_quote_fails_in_linear_time(tmp_path, start, forced):
    good = (
        (FIXTURES / ("alb.log" if forced == "aws-alb" else "access_combined.log")).read_text().splitlines()[0]
    )
    hostile = start + '\\"' * 450_000  # just under the 1 MiB record limit
    path = write(tmp_path, "access.log", "\n".join([good, *[hostile] * 5, good]) + "\n")
    started = time.perf_counter()
    _, events, stats = read(path, forced=forced)
    assert time.perf_counter() - started < 4  # backtracking took seconds per line
    assert (len(events), stats.skipped_total) == (2, 5)
