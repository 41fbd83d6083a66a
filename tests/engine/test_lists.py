"""A field holding a list of several values (an ECS array such as ``event.type: [user, creation]``)
matches a rule's value when one of its values does, as Elasticsearch and Chainsaw match it; a
negated comparison holds when none does. Records read as JSON Lines (the column path) and the
same records made events one by one match alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.engine_helpers import ruleset_from
from tocsin.batch import EventList
from tocsin.detectors.sigma.engine import SigmaEngine
from tocsin.detectors.sigma.ruleset import RuleSet, load_rules
from tocsin.model.event import LogSource
from tocsin.scan import ReadSummary, read_batches, read_events
from tocsin.sources.base import ParseOptions
from tocsin.storage.sqlite import connect

OPTIONS = ParseOptions(logsource=LogSource.of("p"))


def rule(detection: str) -> str:
    return f"title: Listed\nid: 0b9d7d7e-5555-4c3a-9d1e-000000000001\nlogsource: {{product: p}}\n{detection}\nlevel: high\n"


def matched_rows(ruleset: RuleSet, path: Path) -> list[int]:
    """The rows the rule set matches in ``path``, read as column batches; asserted equal to the rows
    it matches in the same records made events one by one."""
    engine = SigmaEngine(ruleset, connect(":memory:"))
    by_columns = sorted(row for batch in read_batches([str(path)], None, OPTIONS, ReadSummary(), 1000)
                        for _, row in engine.matches(batch))  # fmt: skip
    events = list(read_events([str(path)], None, OPTIONS, ReadSummary()))
    by_events = sorted(row for _, row in SigmaEngine(ruleset, connect(":memory:")).matches(EventList(events)))
    assert by_columns == by_events
    return by_columns


def write_records(path: Path, values: list[Any], name: str) -> Path:
    """One record per value, ``name`` holding it (no key for a missing value)."""
    records = [
        {"@timestamp": f"2025-01-01T00:00:{second:02d}Z", **({} if value is ... else {name: value})}
        for second, value in enumerate(values)
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


CASES = [
    pytest.param(
        "event.type: creation",
        [["user", "creation"], ["user", "change"], "creation", ["creation"], [], ...],
        [0, 2, 3],
        id="equals",
    ),
    pytest.param(
        "event.type|all: [user, creation]",
        [["user", "creation"], ["creation", "info", "user"], ["user"], "user"],
        [0, 1],
        id="all of a list",
    ),
    pytest.param(
        "event.type: [deletion, creation]",
        [["user", "creation"], ["user", "change"], "deletion"],
        [0, 2],
        id="one of a list",
    ),
    pytest.param(
        "event.type|startswith: creat",
        [["user", "Creation"], ["user", "change"]],
        [0],
        id="starts with, any case",
    ),
    pytest.param(
        "event.type|re: '^cr[a-z]+n$'",
        [["user", "creation"], ["user", "xcreation"]],
        [0],
        id="regular expression",
    ),
    pytest.param(
        "event.type|cidr: 10.0.0.0/8",
        [["192.168.1.1", "10.1.2.3"], ["192.168.1.1", None], "10.9.9.9", ["10.0.0.1", "x"]],
        [0, 2, 3],
        id="IPv4 network",
    ),
    pytest.param(
        "event.type|gt: 5",
        [[1, 7], [1, 2], 9, ["x", "6.5"]],
        [0, 2, 3],
        id="number",
    ),
    pytest.param(
        "event.type: true",
        [[False, True], [False], True],
        [0, 2],
        id="boolean",
    ),
]


@pytest.mark.parametrize(("selection", "values", "rows"), CASES)
def test_a_list_matches_when_one_of_its_values_does(
    tmp_path: Path, selection: str, values: list[Any], rows: list[int]
) -> None:
    ruleset = ruleset_from(
        tmp_path, rule(f"detection:\n  selection: {{{selection}}}\n  condition: selection")
    )
    assert matched_rows(ruleset, write_records(tmp_path / "records.jsonl", values, "event.type")) == rows


def test_a_negated_comparison_holds_when_no_value_matches(tmp_path: Path) -> None:
    detection = (
        "detection:\n  selection: {event.category: iam}\n  filter: {event.type: creation}\n"
        "  condition: selection and not filter"
    )
    ruleset = ruleset_from(tmp_path, rule(detection))
    path = tmp_path / "records.jsonl"
    records = [["user", "creation"], ["user", "change"], "creation", "change", None]
    path.write_text(
        "".join(
            json.dumps({"@timestamp": "2025-01-01T00:00:00Z", "event.category": "iam", "event.type": value})
            + "\n"
            for value in records
        )
    )
    assert matched_rows(ruleset, path) == [1, 3, 4]


def test_a_nested_list_of_objects_is_compared_an_object_at_a_time(tmp_path: Path) -> None:
    """Each value of a list of objects is its compact JSON, as a lone object is."""
    ruleset = ruleset_from(
        tmp_path,
        rule("detection:\n  selection: {target|endswith: '\"User\"}'}\n  condition: selection"),
    )
    values = [[{"type": "AppInstance"}, {"type": "User"}], [{"type": "AppInstance"}], {"type": "User"}]
    assert matched_rows(ruleset, write_records(tmp_path / "records.jsonl", values, "target")) == [0, 2]


def test_whole_values_still_compare_where_no_value_of_a_list_is_compared(tmp_path: Path) -> None:
    """Comparisons that look at the field itself, not at a value: present or absent, the same as
    another field."""
    detection = (
        "detection:\n  present: {event.type|exists: true}\n  absent: {event.type: null}\n"
        "  condition: present and not absent"
    )
    ruleset = ruleset_from(tmp_path, rule(detection))
    values = [["user", "creation"], [], ..., "x"]
    assert matched_rows(ruleset, write_records(tmp_path / "records.jsonl", values, "event.type")) == [0, 1, 3]


def test_list_comparisons_survive_the_compiled_rule_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rule.yml").write_text(
        rule("detection:\n  selection: {event.type: creation}\n  condition: selection")
    )
    compiled, cached = load_rules([folder]), load_rules([folder])
    assert compiled.detections[0].element_tests
    assert cached.detections[0].element_tests == compiled.detections[0].element_tests
    path = write_records(tmp_path / "records.jsonl", [["user", "creation"], ["user"]], "event.type")
    assert matched_rows(cached, path) == [0]


def test_a_rule_value_holding_what_the_compiler_marks_comparisons_with_is_compared_as_written(
    tmp_path: Path,
) -> None:
    """The compiler marks each comparison while converting with NUL bytes around a nonce: a rule
    value holding NUL bytes and digits is still one literal value."""
    ruleset = ruleset_from(
        tmp_path,
        rule('detection:\n  selection: {event.type: "a\\x000:1\\x00b"}\n  condition: selection'),
    )
    path = write_records(
        tmp_path / "records.jsonl", [["x", "a\x000:1\x00b"], "a\x000:1\x00b", "ab"], "event.type"
    )
    assert matched_rows(ruleset, path) == [0, 1]


def test_a_path_through_a_list_of_objects_reads_each_objects_value(tmp_path: Path) -> None:
    """Okta names an event's targets in a list of objects, which SigmaHQ's Okta rules read as
    ``target.displayName``; a negated comparison holds when no target has the value."""
    detection = (
        "detection:\n  selection: {target.displayName: Okta Admin Console}\n"
        "  filter: {target.type: Group}\n  condition: selection and not filter"
    )
    ruleset = ruleset_from(tmp_path, rule(detection))
    values = [
        [
            {"displayName": "Okta Admin Console", "type": "AppInstance"},
            {"displayName": "Peter", "type": "User"},
        ],
        [{"displayName": "Peter", "type": "User"}],
        [{"displayName": "Okta Admin Console", "type": "AppInstance"}, {"type": "Group"}],
        {"displayName": "Okta Admin Console", "type": "AppInstance"},
    ]
    assert matched_rows(ruleset, write_records(tmp_path / "records.jsonl", values, "target")) == [0, 3]
