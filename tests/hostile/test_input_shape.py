"""Findings 3 and 4: deeply nested JSON and a blank prefix neither stop nor blind scan and watch."""

from __future__ import annotations

import json
from pathlib import Path

from tests.hostile.conftest import Tocsin
from tests.watch.helpers import Watcher, syslog_stamp, wait_for

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 200 + "1" + "}" * 200


def okta(n: int, user: str = "alice@example.org") -> str:
    return json.dumps({
        "uuid": f"00000000-0000-0000-0000-{n:012d}", "published": f"2025-12-10T10:{n % 60:02d}:00.000Z",
        "eventType": "user.session.start", "actor": {"alternateId": user, "type": "User"},
        "client": {"ipAddress": "203.0.113.7"}, "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
        "displayMessage": "User login to Okta",
    })  # fmt: skip


def sshd_failures(count: int, host: str = "web01") -> str:
    return "".join(
        f"Dec 10 10:{i:02d}:01 {host} sshd[{100 + i}]: Failed password for root from 203.0.113.9 port {4000 + i} ssh2\n"
        for i in range(count)
    )


def _events_read(stderr: str) -> int:
    line = next(line for line in stderr.splitlines() if line.startswith("Read "))
    return int(line.split(", ")[1].split()[0].replace(",", ""))


def test_deep_json_is_skipped_and_counted_and_the_rest_read(tocsin: Tocsin) -> None:
    lines = [okta(1), DEEP, okta(2), DEEP_OBJECT, *(okta(n) for n in range(3, 13))]
    (tocsin.cwd / "okta.jsonl").write_text("\n".join(lines) + "\n")
    (tocsin.cwd / "okta.json").write_text(
        "[\n" + ",\n".join(lines) + "\n]\n"
    )  # the buffered array reader too
    (tocsin.cwd / "auth.log").write_text(sshd_failures(12))
    result = tocsin.run("scan", "okta.jsonl", "okta.json", "auth.log", "--format", "jsonl")
    assert _events_read(result.stderr) == 12 + 12 + 12
    assert "4  JSON nested deeper than 64 levels" in result.stderr
    assert "Brute Force From One Source" in result.stdout  # the other input's results are kept
    strict = tocsin.run("scan", "okta.jsonl", "--strict", check=2)
    assert "records or inputs were skipped" in strict.stderr


def test_blank_prefix_does_not_hide_a_file(tocsin: Tocsin) -> None:
    (tocsin.cwd / "auth.log").write_text("\n" * 70_000 + " \n\t\r\n" + sshd_failures(12))
    result = tocsin.run("scan", "auth.log", "--strict", "--format", "jsonl")
    assert _events_read(result.stderr) == 12 and "1 syslog" in result.stderr
    assert "Brute Force From One Source" in result.stdout
    piped = tocsin.run("scan", "-", "--format", "jsonl", check=None)
    assert "1 empty" in piped.stderr and "Nothing was checked" in piped.stderr  # really blank stays empty


def _followed(watcher: Watcher) -> dict[str, dict]:
    try:
        status = json.loads((watcher.state / "status.json").read_text())
    except (OSError, ValueError):  # not written yet, or being replaced
        return {}
    return {Path(source["path"]).name: source for source in status["sources"]}


def test_watch_skips_deep_json_and_reads_after_a_blank_prefix(tmp_path: Path) -> None:
    watcher = Watcher(tmp_path)
    watcher.start()
    with open(watcher.logs / "okta.jsonl", "w", encoding="utf-8") as stream:
        stream.write("\n".join([okta(1), DEEP, okta(2)]) + "\n")
    with open(watcher.logs / "auth.log", "w", encoding="utf-8") as stream:
        stream.write("\n" * 70_000)
        stream.flush()
        wait_for(
            lambda: _followed(watcher).get("auth.log", {}).get("offset") == 70_000, what="blank lines read"
        )
        stream.write(
            f"{syslog_stamp()} web01 sshd[7]: Failed password for root from 203.0.113.9 port 4 ssh2\n"
        )
    wait_for(
        lambda: (
            [_followed(watcher).get(name, {}).get("events") for name in ("okta.jsonl", "auth.log")] == [2, 1]
        ),
        what="both okta records and the sshd line",
    )
    assert _followed(watcher)["okta.jsonl"]["skipped"] == 1
    assert watcher.stop() == 0
    watcher.start()  # a restart does not trip over the deep line again
    with open(watcher.logs / "okta.jsonl", "a", encoding="utf-8") as stream:
        stream.write(okta(3) + "\n")
    wait_for(
        lambda: _followed(watcher).get("okta.jsonl", {}).get("events") == 1,
        what="the record after the restart",
    )
    assert watcher.stop() == 0
    assert "Traceback" not in watcher.stderr.read_text()
