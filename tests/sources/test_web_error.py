"""Apache (2.2 and 2.4) and nginx error logs."""

from __future__ import annotations

from collections import Counter

from tests.conftest import shared
from tests.sources.web_support import FIXTURES, ecs, read, utc, write
from tocsin.sources import ParseOptions


def test_apache_2k_is_an_apache_error_log():
    fmt, events, stats = read(shared("authlogs/Apache_2k.log"))
    assert fmt == "apache-error"
    assert (stats.records, stats.events, stats.skipped_total) == (2000, 2000, 0)
    assert Counter(event.fields["log.level"] for event in events) == {"notice": 1405, "error": 595}
    first = events[0]
    assert first.timestamp == utc(2005, 12, 4, 4, 47, 44)
    assert first.fields == {
        "event.kind": "event",
        "event.category": "web",
        "event.type": "info",
        "event.dataset": "apache.error",
        "event.provider": "apache",
        "log.level": "notice",
        "message": "workerEnv.init() ok /etc/httpd/conf/workers2.properties",
    }
    clients = [event for event in events if "source.ip" in event.fields]
    assert len(clients) == 32
    assert ecs(events[131], "source.ip", "message", "event.type") == {
        "source.ip": "222.166.160.184",
        "message": "Directory index forbidden by rule: /var/www/html/",
        "event.type": "error",
    }
    assert events[-1].timestamp == utc(2005, 12, 5, 19, 15, 57)
    assert {event.logsource.as_dict()["product"][0] for event in events} == {"apache"}


def test_apache_24_error_log():
    fmt, events, _ = read(FIXTURES / "apache_error_24.log")
    assert fmt == "apache-error"
    first, ipv6, notice = events
    assert first.timestamp == utc(2019, 6, 27, 12, 0, 0) + 0.123456
    assert first.fields == {
        "event.kind": "event",
        "event.category": "web",
        "event.type": "error",
        "event.dataset": "apache.error",
        "event.provider": "apache",
        "log.level": "error",
        "log.logger": "core",
        "message": "AH00126: Invalid URI in request GET /../../etc/passwd HTTP/1.1",
        "process.pid": 1234,
        "process.thread.id": 140201,
        "source.ip": "203.0.113.9",
        "source.address": "203.0.113.9",
        "source.port": 51234,
        "error.code": "AH00126",
    }
    assert ecs(ipv6, "source.ip", "source.port", "log.logger", "error.code") == {
        "source.ip": "2001:db8::9",
        "source.port": 40000,
        "log.logger": "auth_basic",
        "error.code": "AH01618",
    }
    assert ecs(notice, "log.level", "event.type", "source.ip") == {
        "log.level": "notice",
        "event.type": "info",
        "source.ip": None,
    }


def test_apache_error_log_timezone(tmp_path):
    path = write(tmp_path, "error_log", "[Sun Dec 04 04:47:44 2005] [notice] started\n")
    _, (event,), _ = read(path, ParseOptions(timezone="Europe/Paris"))
    assert event.timestamp == utc(2005, 12, 4, 3, 47, 44)


def test_nginx_error_log():
    fmt, events, _ = read(FIXTURES / "nginx_error.log")
    assert fmt == "nginx-error"
    missing, upstream, notice = events
    assert missing.timestamp == utc(2019, 6, 27, 12, 0, 0)
    assert ecs(
        missing,
        "log.level",
        "message",
        "source.ip",
        "http.request.method",
        "url.path",
        "destination.domain",
        "process.pid",
        "event.dataset",
        "event.category",
        "event.type",
        "event.outcome",
    ) == {
        "log.level": "error",
        "message": 'open() "/usr/share/nginx/html/wp-login.php" failed (2: No such file or directory)',
        "source.ip": "203.0.113.10",
        "http.request.method": "GET",
        "url.path": "/wp-login.php",
        "destination.domain": "www.example.com",
        "process.pid": 123,
        "event.dataset": "nginx.error",
        "event.category": "web",
        "event.type": "error",
        "event.outcome": None,
    }
    assert ecs(upstream, "log.level", "url.query", "destination.domain", "source.ip") == {
        "log.level": "warn",
        "url.query": "all=1",
        "destination.domain": "api.example.com",
        "source.ip": "198.51.100.4",
    }
    assert ecs(notice, "message", "source.ip", "log.level") == {
        "message": "signal process started",
        "source.ip": None,
        "log.level": "notice",
    }
