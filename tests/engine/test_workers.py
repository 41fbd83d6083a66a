"""scan --workers: a scan read by several processes gives the alerts and counts of one process."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tocsin.cli import cli
from tocsin.pipeline import FinishPart, FinishTask
from tocsin.scan import ScanRequest, ScanSummary, run_scan
from tocsin.shares import Unit, Worker, WorkerFailed, plan_shares, split_finish
from tocsin.simulate.scenarios import SCENARIOS
from tocsin.simulate.simulation import Settings, generate
from tocsin.sources import InputStats, ParseOptions
from tocsin.sources.inputs import cut_at_lines, resolve_inputs
from tocsin.sources.jsonstream import iter_json_records
from tocsin.sources.syslog import SyslogParser
from tocsin.storage.sqlite import is_disk_full


@pytest.fixture(scope="module")
def brute_force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated brute force: syslog, Okta, Auth0 and a capture, with correlation alerts."""
    root = tmp_path_factory.mktemp("brute_force")
    generate(SCENARIOS["brute_force"], Settings(seed=4321, days=2), root)
    return root / "logs"


def _scan(paths: list[Path], workers: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    alerts: list[Any] = []
    summary = run_scan(ScanRequest(paths=[str(path) for path in paths], workers=workers), alerts.append)
    return [alert.model_dump(mode="json") for alert in alerts], _counts(summary)


def _counts(summary: ScanSummary) -> dict[str, Any]:
    return {
        "inputs": [
            (s.name, s.format, s.records, s.events, dict(s.skipped), dict(s.warnings), s.error)
            for s in summary.read.inputs
        ],
        "levels": dict(summary.alerts_by_level),
        "routed": dict(summary.coverage.routed),
        "blind": [rule.title for rule in summary.coverage.blind],
        "diagnostics": dict(summary.diagnostics),
    }


def test_a_syslog_file_cut_in_three_gives_the_alerts_of_one_read(brute_force: Path) -> None:
    log = next((brute_force / "syslog").iterdir())
    units = [
        Unit(source, SyslogParser(ParseOptions()), InputStats(source.name))
        for source in resolve_inputs([str(log)])
    ]
    assert len(plan_shares(units, 3)) == 3  # the file really is read in three parts
    alone, counts = _scan([log], 1)
    assert any(alert["event_count"] > 1 for alert in alone)  # correlation windows cross the cuts
    assert _scan([log], 3) == (alone, counts)


def test_mixed_inputs_spread_over_workers_give_the_alerts_of_one_process(brute_force: Path) -> None:
    alone, counts = _scan([brute_force], 1)
    assert {name.rsplit(".", 1)[-1] for name, *_ in counts["inputs"]} >= {"log", "jsonl", "pcap"}
    assert alone
    assert _scan([brute_force], 4) == (alone, counts)


def test_cut_at_lines_gives_every_line_once_numbered_as_in_the_whole_file(tmp_path: Path) -> None:
    lines = [f"line {number} " + "x" * (number % 7) * 300 for number in range(1, 400)]
    path = tmp_path / "log"
    path.write_bytes(("\n".join(lines) + "\n" + "last line without an end").encode())
    (source,) = resolve_inputs([str(path)])
    size = path.stat().st_size
    parts = cut_at_lines(source, [1, size // 3, size // 3 + 1, size // 2, size - 3, size + 10])
    read = b""
    for part in parts:
        with part.open() as stream:
            data = stream.read()
        assert data.startswith(f"line {part.first_line} ".encode()) or data.startswith(b"last")
        assert part.size == len(data)
        read += data
    assert read == path.read_bytes()
    assert [part.first_line for part in parts] == sorted({part.first_line for part in parts})


def test_inputs_that_cannot_be_cut_go_whole_to_one_share_in_reading_order(brute_force: Path) -> None:
    sources = list(resolve_inputs([str(brute_force)]))
    units = [
        Unit(source, SyslogParser(ParseOptions(year=2025)), InputStats(source.name)) for source in sources
    ]
    shares = plan_shares(units, 8)  # a pinned year cannot be cut: at most one share per input
    assert [unit.source for share in shares for unit in share] == sources


def test_a_failing_worker_is_reported_not_lost() -> None:
    with pytest.raises(WorkerFailed, match="ZeroDivisionError"):
        Worker(lambda: 1 // 0).result()


def _fill_the_disk() -> None:
    raise sqlite3.OperationalError("database or disk is full")


def test_a_worker_on_a_full_disk_is_reported_as_a_full_disk() -> None:
    with pytest.raises(OSError, match="disk is full") as raised:
        Worker(_fill_the_disk).result()
    assert is_disk_full(raised.value)


def test_workers_refuse_options_that_keep_every_event(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Jan  5 10:00:00 host sshd[1]: Accepted publickey for alice from 10.0.0.1 port 22 ssh2\n")
    result = CliRunner().invoke(cli, ["scan", str(log), "--workers", "2", "--db", str(tmp_path / "case.db")])
    assert result.exit_code == 2
    assert "--workers" in result.output
    assert (
        CliRunner().invoke(cli, ["scan", str(log), "--workers", "0", "-o", str(tmp_path / "a")]).exit_code
        == 0
    )


def test_the_end_of_a_scan_is_spread_by_cost_and_rules_that_read_nothing_stay_first() -> None:
    costs = {
        FinishTask("correlation", 0): 900,
        FinishTask("correlation", 1): 0,
        FinishTask("stateful", "impossible-travel"): 500,
        FinishTask("correlation", 2): 450,
    }
    first, second = split_finish(costs, 2)
    assert (first.correlations, first.stateful) == ({0, 1}, set())
    assert (second.correlations, second.stateful) == ({2}, {"impossible-travel"})
    assert split_finish({FinishTask("correlation", 0): 0}, 4) == [FinishPart({0}, set())]


def _ecs_failures(path: Path) -> None:
    """Flat ECS sshd failures from a few addresses, with malformed and blank lines among them."""
    lines = []
    for number in range(3000):
        if number % 3 == 1:
            lines.append("{not json" if number % 2 else "")
            continue
        record = {
            "@timestamp": f"2026-03-01T10:{number // 60 % 60:02d}:{number % 60:02d}Z",
            "event.category": "authentication",
            "event.type": "start",
            "event.outcome": "failure",
            "process.name": "sshd",
            "user.name": f"user{number % 40}",
            "source.ip": f"203.0.113.{number % 3}",
            "message": f"Failed password for user{number % 40} from 203.0.113.{number % 3} port 22 ssh2",
        }
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")


def test_a_json_lines_file_cut_anywhere_gives_the_alerts_of_one_read(tmp_path: Path) -> None:
    log = tmp_path / "failures.jsonl"
    _ecs_failures(log)
    alone, counts = _scan([log], 1)
    assert counts["inputs"][0][1:5] == ("json", 2000, 2000, {"malformed JSON": 500})
    assert any(alert["event_count"] > 1 for alert in alone)
    assert _scan([log], 5) == (alone, counts)


def test_a_part_of_a_json_lines_file_starting_with_a_bad_line_is_read_as_json_lines() -> None:
    stream = io.BufferedReader(io.BytesIO(b'{not json\n{"a": 1}\n\n{"b": 2}\n'))  # type: ignore[arg-type]
    stats = InputStats("part")
    records = list(iter_json_records(stream, stats, 1 << 20, first_line=41))
    assert records == [("42", '{"a": 1}', {"a": 1}), ("44", '{"b": 2}', {"b": 2})]
    assert stats.skipped == {"malformed JSON": 1}


def test_the_progress_counts_the_events_every_worker_read(brute_force: Path) -> None:
    counted: list[int] = []
    summary = run_scan(ScanRequest(paths=[str(brute_force)], workers=3), lambda alert: None, counted.append)
    assert sum(counted) == summary.read.events > 0
    assert len(counted) > 1


def test_a_web_access_log_cut_in_three_gives_the_alerts_of_one_read(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    lines = []
    for second in range(3000):
        stamp = f"03/Dec/2026:10:{second // 60 % 60:02d}:{second % 60:02d} +0000"
        if second % 3 == 0:  # a password guesser among the shoppers
            request, status, client = "POST /login HTTP/1.1", 401, "198.51.100.7"
        else:
            request, status, client = f"GET /item/{second % 97} HTTP/1.1", 200, f"203.0.113.{second % 50}"
        lines.append(f'{client} - - [{stamp}] "{request}" {status} 512 "-" "Mozilla/5.0"')
    log.write_text("\n".join(lines) + "\n")
    alone, counts = _scan([log], 1)
    assert counts["inputs"][0][1:4] == ("apache-access", 3000, 3000)
    assert any(alert["event_count"] > 1 for alert in alone)
    assert _scan([log], 3) == (alone, counts)
