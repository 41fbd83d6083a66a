"""Web logs through ``tocsin scan``: built-in authentication rules on web logins, SigmaHQ webserver
rules, and bad input reported in the summary."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared
from tests.sources.web_support import FIXTURES


def scan(*args: str, env: dict[str, str] | None = None) -> tuple[list[dict], str, int]:
    """(alerts, stderr, exit code) of ``tocsin scan --format jsonl ARGS``."""
    environment = {**os.environ, "COLUMNS": "1000", **(env or {})}
    environment.pop("TOCSIN_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "tocsin", "scan", "--format", "jsonl", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr, result.returncode


def _brute_force_log(tmp_path: Path) -> Path:
    lines = [
        f'203.0.113.66 - alice [27/Jun/2019:12:{i // 6:02d}:{i % 6 * 10:02d} +0000] "POST /login HTTP/1.1" 401 230 '
        '"https://shop.example.com/login" "python-requests/2.31.0"'
        for i in range(30)
    ]
    lines.append(
        '203.0.113.66 - alice [27/Jun/2019:12:05:30 +0000] "POST /login HTTP/1.1" 302 0 '
        '"https://shop.example.com/login" "python-requests/2.31.0"'
    )
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_web_login_brute_force_raises_the_built_in_alerts(tmp_path):
    alerts, stderr, code = scan(str(_brute_force_log(tmp_path)))
    assert code == 0, stderr
    by_rule = {alert["rule"]["title"]: alert for alert in alerts}
    brute = by_rule["Brute Force From One Source"]
    assert brute["group_by"] == {"source.address": "203.0.113.66"}
    assert brute["event_count"] == 30
    success = by_rule["Successful Authentication After Repeated Failures"]
    assert success["group_by"] == {"user.name": "alice"}
    assert "Brute Force Against One Account" in by_rule


def test_the_same_requests_without_logins_raise_nothing(tmp_path):
    text = _brute_force_log(tmp_path).read_text().replace("POST /login", "POST /comments")
    path = tmp_path / "comments.log"
    path.write_text(text)
    alerts, stderr, code = scan(str(path))
    assert (alerts, code) == ([], 0), stderr


def test_login_paths_come_from_the_settings(tmp_path):
    text = _brute_force_log(tmp_path).read_text().replace("POST /login", "POST /comments")
    path = tmp_path / "comments.log"
    path.write_text(text)
    alerts, stderr, _ = scan(str(path), env={"TOCSIN_WEB__LOGIN_PATHS": "/comments,/login"})
    assert "Brute Force From One Source" in {alert["rule"]["title"] for alert in alerts}, stderr


_ATTACKS = (
    '198.51.100.99 - - [27/Jun/2019:12:00:00 +0000] "GET /download.php?file=../../../etc/passwd HTTP/1.1" 200 1289 "-" "Mozilla/5.0"\n'
    '198.51.100.99 - - [27/Jun/2019:12:00:01 +0000] "GET /uploads/shell.aspx?cmd=whoami HTTP/1.1" 200 31 "-" "Mozilla/5.0"\n'
)
_BENIGN = (
    '203.0.113.5 - - [27/Jun/2019:12:00:02 +0000] "GET /download.php?file=report.pdf HTTP/1.1" 200 81289 "-" "Mozilla/5.0"\n'
    '203.0.113.5 - - [27/Jun/2019:12:00:03 +0000] "POST /uploads/shell.aspx?cmd=whoami HTTP/1.1" 200 31 "-" "Mozilla/5.0"\n'
)


@pytest.mark.parametrize("name", ["access.log", "nginx.access.log"])
def test_sigmahq_webserver_rules_fire_on_access_logs(tmp_path, name):
    rules = shared("sigma/sigmahq/web/webserver_generic")
    path = tmp_path / name
    path.write_text(_ATTACKS + _BENIGN)
    alerts, stderr, code = scan(str(path), "--no-builtin-rules", "--rules", str(rules))
    assert code == 0, stderr
    fired = {alert["rule"]["title"]: alert for alert in alerts}
    assert set(fired) == {"Path Traversal Exploitation Attempts", "Windows Webshell Strings"}
    assert all(alert["event_count"] == 1 for alert in alerts)  # the benign lines (and the POST) raise nothing
    evidence = json.dumps(alerts)
    assert "198.51.100.99" in evidence and "203.0.113.5" not in evidence


def test_sigmahq_rules_fire_on_iis_too(tmp_path):
    rules = shared("sigma/sigmahq/web/webserver_generic/web_path_traversal_exploitation_attempt.yml")
    path = tmp_path / "u_ex1.log"
    path.write_text(
        "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status\n"
        "2019-06-27 12:00:00 198.51.100.99 GET /download.php file=../../../etc/passwd 200\n"
        "2019-06-27 12:00:01 203.0.113.5 GET /download.php file=report.pdf 200\n"
    )
    alerts, stderr, _ = scan(str(path), "--no-builtin-rules", "--rules", str(rules))
    assert [alert["rule"]["title"] for alert in alerts] == ["Path Traversal Exploitation Attempts"], stderr


def test_bad_input_is_counted_in_the_summary(tmp_path):
    good = (FIXTURES / "access_combined.log").read_text()
    (tmp_path / "access.log").write_text(good + "this is not a log line\n" + good)
    rotated = "".join(good.replace(" 5120 ", f" {n} ") for n in range(3000)).encode()
    (tmp_path / "access.log.1.gz").write_bytes(gzip.compress(rotated)[:-2000])  # a rotation cut short
    (tmp_path / "u_ex1.log").write_text(
        "#Fields: date time c-ip cs-method cs-uri-stem sc-status\n2019-06-27 12:00:00 192.0.2.1 GET\n"
    )
    _, stderr, code = scan(str(tmp_path))
    assert code == 0, stderr
    read = re.search(r"^Read 3 input\(s\), ([\d,]+) events \(2 apache-access, 1 iis\)", stderr, re.M)
    assert read, stderr
    assert 12 + 1000 < int(read[1].replace(",", "")) < 12 + 18000  # the rotation is read up to where it ends
    skipped = dict((m[2], int(m[1])) for m in re.finditer(r"^ {4} *(\d+)  (\S.*)$", stderr, re.M))
    assert skipped == {
        "line not in the apache-access format": 1,
        "truncated or corrupt compressed data (EOFError)": 1,
        "column count differs from the #Fields header": 1,
    }


def test_apache_2k_scans_as_apache_error_events():
    alerts, stderr, code = scan(
        str(shared("authlogs/Apache_2k.log")),
        "--no-builtin-rules",
        "--rules",
        str(shared("sigma/sigmahq/web")),
    )
    assert code == 0, stderr
    assert "unrecognised" not in stderr
    assert re.search(r"^Read 1 input\(s\), 2,000 events \(1 apache-error\)", stderr, re.M), stderr
    assert alerts == []  # SigmaHQ's apache rules look for crashes this log does not have


def test_sigmahq_proxy_rules_fire_on_load_balancer_logs(tmp_path):
    rules = shared("sigma/sigmahq/web/proxy_generic/proxy_ua_hacktool.yml")
    template = (FIXTURES / "alb.log").read_text().splitlines()[0]
    path = tmp_path / "alb.log"
    path.write_text(
        template.replace('"Mozilla/5.0 (Windows NT 10.0)"', '"Mozilla/5.0 (Hydra) dirbuster"')
        + "\n"
        + template.replace("203.0.113.60", "203.0.113.61")
        + "\n"
    )
    alerts, stderr, _ = scan(str(path), "--no-builtin-rules", "--rules", str(rules))
    assert [alert["rule"]["title"] for alert in alerts] == ["Hack Tool User Agent"], stderr
    assert "203.0.113.60" in json.dumps(alerts) and "203.0.113.61" not in json.dumps(alerts)
