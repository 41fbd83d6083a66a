"""The command line end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared

EXAMPLE = Path(__file__).resolve().parents[1] / "tocsin" / "examples" / "auth.log"


def tocsin(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tocsin", *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_openssh_sample_flags_brute_force_and_spraying():
    result = tocsin("scan", str(shared("authlogs/OpenSSH_2k.log")), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    alerts = jsonl(result.stdout)
    brute = {a["source"]["ip"]: a for a in alerts if a["rule"]["title"] == "Brute Force From One Source"}
    assert {"183.62.140.253", "187.141.143.180", "103.99.0.122"} <= set(brute)
    assert brute["183.62.140.253"]["event_count"] == 286
    assert brute["183.62.140.253"]["message"].startswith("Brute Force From One Source: 286 events in 10 min")
    spraying = {
        a["source"]["ip"] for a in alerts if a["rule"]["title"] == "Password Spraying From One Source"
    }
    assert {"187.141.143.180", "103.99.0.122"} <= spraying
    assert "Alerts 16: 11 high, 5 medium" in result.stderr  # 5: accounts brute-forced from many sources


def test_alert_json_contract():
    result = tocsin("scan", str(EXAMPLE), "--format", "jsonl")
    alerts = jsonl(result.stdout)
    assert len(alerts) == 5
    for alert in alerts:
        assert set(alert) >= {"id", "@timestamp", "rule", "event_count", "evidence", "message"}
        assert alert["@timestamp"].endswith("Z") and "T" in alert["@timestamp"]
        assert set(alert["rule"]) >= {"id", "title", "level", "tags", "type"}
        assert alert["rule"]["type"] == "correlation"
        assert alert["rule"]["level"] in {"informational", "low", "medium", "high", "critical"}
        assert all(tag.startswith("attack.") for tag in alert["rule"]["tags"])
        assert alert["event_count"] == len(alert["evidence"]) and not alert["evidence_truncated"]
        assert alert["window"]["start"] <= alert["window"]["end"] == alert["@timestamp"]
        assert alert["group_by"]
    per_account = next(a for a in alerts if a["rule"]["title"] == "Brute Force Against One Account")
    assert per_account["group_by"] == {"user.name": "root"} and per_account["event_count"] == 40
    critical = next(a for a in alerts if a["rule"]["level"] == "critical")
    assert critical["user"] == {"name": "erin"} and critical["source"] == {
        "ip": "192.0.2.99",
        "address": "192.0.2.99",
    }
    assert critical["host"] == {"name": "web01"}


def test_evidence_resolves_with_show_from_the_case_database(tmp_path):
    db = tmp_path / "case.db"
    result = tocsin("scan", str(EXAMPLE), "--format", "jsonl", "--db", str(db))
    alert = next(a for a in jsonl(result.stdout) if a["rule"]["level"] == "critical")
    shown = json.loads(tocsin("show", alert["id"], "--db", str(db)).stdout)
    assert shown["alert"]["id"] == alert["id"]
    assert sorted(e["event"]["id"] for e in shown["evidence"]) == sorted(alert["evidence"])
    event = json.loads(tocsin("show", alert["evidence"][0], "--db", str(db)).stdout)
    assert event["user"]["name"] == "erin" and event["event"]["category"] == "authentication"
    missing = tocsin("show", "nope", "--db", str(db))
    assert missing.returncode == 2 and "no event or alert" in missing.stderr


def test_rescanning_into_the_same_database_does_not_duplicate(tmp_path):
    import sqlite3

    db = tmp_path / "case.db"
    for _ in range(2):
        tocsin("scan", str(EXAMPLE), "--db", str(db), "-o", str(tmp_path / "alerts.jsonl"))
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 124
        assert connection.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 5


def test_same_alerts_whatever_the_file_order(tmp_path):
    lines = EXAMPLE.read_text().splitlines(keepends=True)
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    first.write_text("".join(lines[: len(lines) // 2]))
    second.write_text("".join(lines[len(lines) // 2 :]))
    forward = jsonl(tocsin("scan", str(first), str(second), "--format", "jsonl").stdout)
    backward = jsonl(tocsin("scan", str(second), str(first), "--format", "jsonl").stdout)
    key = lambda a: (a["rule"]["id"], a["event_count"], a["window"]["start"])  # noqa: E731
    assert sorted(map(key, forward)) == sorted(map(key, backward))
    assert len(forward) == 5


def test_min_level_and_fail_on():
    hidden = tocsin("scan", str(EXAMPLE), "--format", "jsonl", "--min-level", "critical")
    assert len(jsonl(hidden.stdout)) == 1 and "4 below --min-level not shown" in hidden.stderr
    assert tocsin("scan", str(EXAMPLE), "-o", os.devnull, "--fail-on", "high").returncode == 1
    quiet = tocsin("scan", str(shared("cloud/onelogin.jsonl")), "-o", os.devnull, "--fail-on", "high")
    assert quiet.returncode == 0


def test_usage_errors_exit_2_with_one_line():
    result = tocsin("scan", "/no/such/file.log")
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr and "Traceback" not in result.stderr
    bad_level = tocsin("scan", str(EXAMPLE), "--min-level", "extreme")
    assert bad_level.returncode == 2 and "unknown level" in bad_level.stderr


def test_run_that_could_not_look_says_so(tmp_path):
    garbage = tmp_path / "x.bin"
    garbage.write_bytes(bytes(range(256)) * 8)
    result = tocsin("scan", str(tmp_path), "--format", "jsonl")
    assert "Nothing was checked" in result.stderr and "unrecognised format" in result.stderr
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "ok.log").write_text(EXAMPLE.read_text().splitlines()[0] + "\n")
    result = tocsin("scan", str(clean), "--format", "jsonl")
    assert result.returncode == 0 and "No alerts" in result.stderr


def test_table_output_is_sorted_by_severity():
    result = tocsin("scan", str(EXAMPLE), "--format", "table", env={"COLUMNS": "160"})
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ") and line[2:4].strip()]
    levels = [row.split("│")[2].strip() for row in rows]
    assert levels == ["critical", "high", "high", "high", "medium"]


def test_events_prints_normalized_ecs_documents():
    result = tocsin("events", str(EXAMPLE), "--limit", "3")
    documents = jsonl(result.stdout)
    assert len(documents) == 3
    first = documents[0]
    assert first["event"]["action"] == "ssh-login" and first["user"]["name"] == "alice"
    assert first["source"]["ip"] == "10.0.4.20" and first["tocsin"]["format"] == "syslog"
    assert first["event"]["original"].endswith("ED25519 SHA256:k0aZ")


def test_stdin_input():
    result = tocsin("scan", "-", "--format", "jsonl", stdin=EXAMPLE.read_bytes())
    assert len(jsonl(result.stdout)) == 5


def test_custom_rules_and_rejected_rules_are_reported(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "sudo_tar.yml").write_text("""
title: Archive Of A Database Directory Via Sudo
id: 1c8e0f5a-0000-4000-8000-00000000abcd
logsource:
    product: linux
    service: sudo
detection:
    selection:
        process.command_line|contains|all: [tar, postgresql]
    condition: selection
level: medium
""")
    (rules / "broken.yml").write_text(
        "title: broken\nlogsource: {product: linux}\ndetection:\n  condition: nothing\n"
    )
    result = tocsin("scan", str(EXAMPLE), "--rules", str(rules), "--format", "jsonl")
    sudo = [a for a in jsonl(result.stdout) if a["rule"]["title"].startswith("Archive")]
    assert len(sudo) == 1 and sudo[0]["user"] == {"name": "erin"} and sudo[0]["rule"]["type"] == "sigma"
    assert "1 rejected" in result.stderr and "broken.yml" in result.stderr


def test_config_file_and_environment(tmp_path):
    (tmp_path / "tocsin.toml").write_text(
        '[scan]\nmin_level = "critical"\n\n[elasticsearch]\napi_key = "s3cr3t"\n'
    )
    os.chmod(tmp_path / "tocsin.toml", 0o600)
    shown = tocsin("config", "show", cwd=tmp_path)
    assert (
        'min_level = "critical"' in shown.stdout and "s3cr3t" not in shown.stdout and "****" in shown.stdout
    )
    scanned = tocsin("scan", str(EXAMPLE), "--format", "jsonl", cwd=tmp_path)
    assert len(jsonl(scanned.stdout)) == 1
    overridden = tocsin(
        "scan", str(EXAMPLE), "--format", "jsonl", cwd=tmp_path, env={"TOCSIN_SCAN_MIN_LEVEL": "high"}
    )
    assert len(jsonl(overridden.stdout)) == 4  # the medium per-account alert is below "high"
    os.chmod(tmp_path / "tocsin.toml", 0o644)
    refused = tocsin("config", "show", cwd=tmp_path)
    assert refused.returncode == 2 and "chmod 600" in refused.stderr


def test_lazy_commands_list_the_help_their_modules_give():
    """`tocsin --help` lists lazily imported commands from a table: it must say what the commands say."""
    import importlib

    from tocsin.cli import LAZY_COMMANDS

    for name, (module, attribute, short_help) in LAZY_COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        assert command.get_short_help_str(limit=1000) == short_help, name


def test_help_imports_no_engine():
    """The root help is printed without importing the engine, the capture stack or a cluster client."""
    import subprocess
    import sys

    code = (
        "import sys; from tocsin.cli import main; sys.argv = ['tocsin', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('duckdb', 'scapy', 'elasticsearch', 'sigma', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
