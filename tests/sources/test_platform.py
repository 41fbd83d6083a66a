"""Platform events (tocsin.platform/1): ECS mapping, detection, bad input and the --map example of the docs."""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tocsin.model.event import LogSource
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions
from tocsin.sources.detect import detect_format

DOCS = Path(__file__).parents[2] / "docs" / "platform-events.md"


def login(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema": "tocsin.platform/1",
        "timestamp": "2026-03-02T09:00:00Z",
        "event": "login",
        "outcome": "failure",
        "reason": "bad_password",
        "app": "northwind-shop",
        "id": "evt-1",
        "user": {"id": "u-1029", "name": "alice@example.com"},
        "source": {"ip": "203.0.113.7", "geo": {"country_iso_code": "DE", "city_name": "Berlin"}},
        "user_agent": "Mozilla/5.0",
        "tls": {"ja3": "e7d705a3286e19ea42f587b344ee6865", "ja4": "t13d1516h2_8daaf6152771_02713d6af862"},
        "session_id": "s-77",
        "device_id": "dev-9",
        "request": {"method": "post", "path": "/login", "query": "next=/", "status": 401, "bytes": 312},
    }
    record.update(overrides)
    return record


def source_of(lines: list[str], name: str = "events.jsonl") -> InputSource:
    data = "\n".join(lines).encode()
    return InputSource(name=name, open=lambda: io.BufferedReader(io.BytesIO(data)))


def parse(*lines: str, field_map: dict[str, str] | None = None) -> tuple[list[Any], InputStats]:
    stats = InputStats("events.jsonl")
    parser = PARSERS["platform"](ParseOptions(field_map=field_map or {}))
    return list(parser.parse(source_of(list(lines)), stats)), stats


def test_login_maps_to_ecs() -> None:
    (event,), stats = parse(json.dumps(login()))
    assert stats.skipped_total == 0
    assert event.timestamp == pytest.approx(1772442000.0)
    assert event.format == "platform"
    assert event.logsource == LogSource(
        frozenset({"platform"}), frozenset({"auth"}), frozenset({"authentication", "webserver"})
    )
    assert event.fields == {
        "event.id": "evt-1",
        "event.kind": "event",
        "event.category": "authentication",
        "event.type": "start",
        "event.action": "login",
        "event.outcome": "failure",
        "event.reason": "bad_password",
        "event.provider": "northwind-shop",
        "event.dataset": "platform.auth",
        "user.id": "u-1029",
        "user.name": "alice@example.com",
        "source.ip": "203.0.113.7",
        "source.address": "203.0.113.7",
        "source.geo.country_iso_code": "DE",
        "source.geo.city_name": "Berlin",
        "user_agent.original": "Mozilla/5.0",
        "tls.client.ja3": "e7d705a3286e19ea42f587b344ee6865",
        "tls.client.ja4": "t13d1516h2_8daaf6152771_02713d6af862",
        "tocsin.session.id": "s-77",
        "tocsin.device.id": "dev-9",
        "http.request.method": "POST",
        "url.path": "/login",
        "url.query": "next=/",
        "url.original": "/login?next=/",
        "http.response.status_code": 401,
        "http.response.body.bytes": 312,
    }


def test_api_access_export_and_mfa_events() -> None:
    access = {
        "schema": "tocsin.platform/1",
        "timestamp": 1772442000,
        "event": "API_ACCESS",
        "outcome": "ok",
        "user": "svc-reports",
        "token_id": 4411,
        "object": {"type": "invoice", "id": 18842},
        "request": {"method": "GET", "path": "/api/v1/invoices/18842", "status": 200, "bytes": 2048},
    }
    export = {"schema": "tocsin.platform/1", "timestamp": 1772442000, "event": "data_export", "bytes": 9000}
    challenge = {
        "schema": "tocsin.platform/1",
        "timestamp": 1772442000,
        "event": "mfa_challenge",
        "outcome": "denied",
        "user": {"id": "u-5"},
        "mfa": {"method": "Push"},
    }
    removed = {"schema": "tocsin.platform/1", "timestamp": 1772442000, "event": "mfa_remove", "user": "bob"}
    events, stats = parse(*(json.dumps(record) for record in (access, export, challenge, removed)))
    assert stats.skipped_total == 0
    first, second, third, fourth = (event.fields for event in events)
    assert first["event.category"] == "web" and first["event.action"] == "api-access"
    assert first["event.outcome"] == "success" and first["user.name"] == "svc-reports"
    assert first["tocsin.token.id"] == "4411"
    assert (first["tocsin.object.type"], first["tocsin.object.id"]) == ("invoice", "18842")
    assert first["http.response.body.bytes"] == 2048 and first["url.original"] == "/api/v1/invoices/18842"
    assert events[0].logsource.categories == frozenset({"webserver"})
    assert second["event.action"] == "data-export" and second["http.response.body.bytes"] == 9000
    assert events[1].logsource.categories == frozenset()
    assert third["user.name"] == "u-5" and third["event.outcome"] == "failure"
    assert (third["tocsin.mfa.method"], third["tocsin.mfa.result"]) == ("push", "denied")
    assert fourth["event.category"] == "iam" and fourth["event.action"] == "mfa-remove"
    assert "tocsin.mfa.result" not in fourth and events[3].logsource.categories == frozenset({"iam"})


def test_bad_lines_are_counted_and_skipped() -> None:
    lines = [
        json.dumps(login()),
        "{not json",
        "[1, 2]",
        json.dumps(login(event="teleport")),
        json.dumps(login(event=None)),
        json.dumps(login(timestamp="yesterday-ish")),
        json.dumps(login(user={"id": ["x"]}, source={"ip": "999.1.1.1"}, request="GET /")),
        json.dumps(login(id="evt-last")),
    ]
    events, stats = parse(*lines)
    assert [event.fields.get("event.id") for event in events] == ["evt-1", "evt-1", "evt-1", "evt-last"]
    assert stats.events == 4 and stats.skipped_total == 4
    assert stats.skipped == {
        "malformed JSON": 1,
        "JSON value is not an object": 1,
        "not a platform record": 2,
    }
    assert events[1].timestamp is None and stats.warnings
    hostile = events[2].fields
    assert "source.ip" not in hostile and "user.id" not in hostile and "url.path" not in hostile


def test_map_reads_another_shape_field_by_field_or_by_object() -> None:
    record = {
        "when": 1772442000,
        "what": "login",
        "ok": False,
        "actor": {"id": 7, "name": "bob"},
        "client": {"ip": "192.0.2.9"},
        "user": "ignored",
    }
    field_map = {
        "@timestamp": "when",
        "event": "what",
        "outcome": "ok",
        "user": "actor",
        "source.ip": "client.ip",
    }
    (event,), stats = parse(json.dumps(record), field_map=field_map)
    assert stats.skipped_total == 0 and event.timestamp == 1772442000
    assert (event.fields["user.name"], event.fields["user.id"]) == ("bob", "7")
    assert (event.fields["event.outcome"], event.fields["source.ip"]) == ("failure", "192.0.2.9")


def test_detected_by_its_marker_only() -> None:
    assert detect_format(source_of([json.dumps(login())] * 2)) is PARSERS["platform"]
    unmarked = login()
    del unmarked["schema"]
    assert detect_format(source_of([json.dumps(unmarked)])) is PARSERS["json"]


def _example(name: str) -> str:
    match = re.search(rf"<!-- example: {re.escape(name)} -->\n```\w+\n(.*?)```", DOCS.read_text(), re.S)
    assert match, name
    return match.group(1)


def test_the_documented_map_example(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text(_example("app.log"))
    arguments = shlex.split(_example("command"))
    assert arguments[:2] == ["tocsin", "events"]
    arguments[2] = str(tmp_path / "app.log")
    result = subprocess.run(
        [sys.executable, "-m", "tocsin", *arguments[1:], "--format", "jsonl"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["event"]["category"] == "authentication" and first["event"]["type"] == "start"
    assert (first["event"]["action"], first["event"]["outcome"]) == ("login", "failure")
    assert first["event"]["reason"] == "unknown_user"
    assert (first["user"]["name"], first["user"]["id"]) == ("nobody@example.com", "7")
    assert first["source"]["ip"] == "198.51.100.23" and first["url"]["path"] == "/api/v1/auth"
    assert first["http"]["response"]["status_code"] == 401
    assert first["user_agent"]["original"] == "python-requests/2.31"
    assert second["event"]["action"] == "data-export" and second["event"]["outcome"] == "success"
    assert second["http"]["response"]["body"]["bytes"] == 73400320
