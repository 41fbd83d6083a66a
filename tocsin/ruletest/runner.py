"""``tocsin rules test``: run each rule against the test cases beside it.

One layout serves tocsin's own pack and public rule sets: SigmaHQ's regression tests. A rule's
cases are described by an ``info.yml``::

    rule_metadata:
        - id: 0f1e...            # the rule under test (its id, or name)
          title: Brute Force Against One Account
    regression_tests_info:
        - name: twelve failures in five minutes
          type: ecs              # ECS documents (JSONL); or evtx, syslog, okta... (read like ``tocsin scan``)
          match_count: 1         # alerts the rule must raise; 0 makes a negative case
          path: positive.jsonl   # beside info.yml, or relative to any folder above it (SigmaHQ's layout)

tocsin keeps it in a folder named after the rule file (``brute_force_per_user.yml`` →
``brute_force_per_user/info.yml``); SigmaHQ keeps it under ``regression_data/`` and points to it
with the rule's ``regression_tests_path``. Both are found. A case passes when the rule raises
exactly ``match_count`` alerts over the case's events (at least one when it is not given).
Every loaded rule runs, building blocks included, so a case can test a rule that raises no alert
of its own; the alerts of other rules are ignored.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tocsin import yamlsafe
from tocsin.detectors.sigma.rulefile import RuleFileError, read_rule_file
from tocsin.detectors.sigma.ruleset import RuleSet, builtin_rules_path, load_rules, rule_files
from tocsin.model.alert import RuleInfo
from tocsin.pipeline import DetectionPipeline
from tocsin.ruletest.events import CaseDataError, load_events
from tocsin.storage.sqlite import connect

INFO_FILE = "info.yml"


@dataclass
class TestCase:
    """One expectation: a rule over one events file raises ``match_count`` alerts."""

    info_file: Path
    name: str
    rule: str
    path: Path
    kind: str | None
    match_count: int | None

    @property
    def negative(self) -> bool:
        return self.match_count == 0


@dataclass
class CaseResult:
    case: TestCase
    passed: bool
    reason: str
    matched: int | None = None
    seconds: float = 0.0
    title: str | None = None
    #: Every alert of the run by rule title, to tell an author what fired instead.
    others: dict[str, int] = field(default_factory=dict)


@dataclass
class SuiteProblem:
    """An ``info.yml`` (or a rule's pointer to one) that cannot be used."""

    source: str
    reason: str


@dataclass
class TestRun:
    results: list[CaseResult] = field(default_factory=list)
    problems: list[SuiteProblem] = field(default_factory=list)
    rule_errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(result.passed for result in self.results)

    @property
    def failures(self) -> int:
        return sum(1 for result in self.results if not result.passed) + len(self.problems)


def context_paths(paths: Iterable[Path], builtin: bool = True) -> list[Path]:
    """The rules loaded for a test run: the given paths, plus the built-in pack (whose building
    blocks other rules refer to) unless ``builtin`` is off. Nothing is loaded twice."""
    paths = [path.resolve() for path in paths]
    if not paths:
        return [builtin_rules_path().resolve()]
    pack = builtin_rules_path().resolve()
    if builtin and not any(_inside(path, pack) for path in paths):
        paths.insert(0, pack)
    if builtin and any(_inside(path, pack) for path in paths):
        paths = [pack, *(path for path in paths if not _inside(path, pack))]
    return paths


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def discover(paths: Iterable[Path]) -> tuple[list[TestCase], list[SuiteProblem]]:
    """Every test case under ``paths``: ``info.yml`` files, and those rules point to."""
    info_files: dict[Path, None] = {}
    problems: list[SuiteProblem] = []
    for path in paths:
        if path.is_file() and path.name == INFO_FILE:
            info_files[path.resolve()] = None
            continue
        if path.is_dir():
            for file in sorted(path.rglob(INFO_FILE)):
                info_files[file.resolve()] = None
        for rule in rule_files([path]):
            for target in _pointed_info_files(rule, problems):
                info_files[target] = None
            sibling = rule.with_suffix("") / INFO_FILE
            if sibling.is_file():
                info_files[sibling.resolve()] = None
    cases: list[TestCase] = []
    for info in info_files:
        cases.extend(read_info(info, problems))
    return cases, problems


def _pointed_info_files(rule: Path, problems: list[SuiteProblem]) -> list[Path]:
    """The ``regression_tests_path`` of a rule file, resolved against the folders above it."""
    try:
        if "regression_tests_path" not in rule.read_text(encoding="utf-8"):
            return []  # most rules: no need to parse them here
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    for document in _documents(rule):
        if not document.get("regression_tests_path"):
            continue
        pointer = str(document["regression_tests_path"])
        target = resolve_relative(pointer, rule.parent)
        if target is None:
            problems.append(SuiteProblem(str(rule), f"regression_tests_path {pointer} does not exist"))
        else:
            found.append(target.resolve())
    return found


def _documents(rule: Path) -> list[dict[str, Any]]:
    """The documents of a rule file; none when it is no rule file (loading the rules reports why)."""
    try:
        return read_rule_file(rule).documents
    except RuleFileError:
        return []


def resolve_relative(pointer: str, start: Path) -> Path | None:
    """``pointer`` relative to ``start`` or to the first folder above it where it exists."""
    relative = Path(pointer)
    if relative.is_absolute():
        return relative if relative.exists() else None
    for folder in [start, *start.parents]:
        candidate = folder / relative
        if candidate.exists():
            return candidate
    return None


def read_info(info: Path, problems: list[SuiteProblem]) -> list[TestCase]:
    """The cases an ``info.yml`` describes."""
    try:
        data = yamlsafe.load(info.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(SuiteProblem(str(info), f"unreadable: {' '.join(str(exc).split())}"))
        return []
    if not isinstance(data, dict):
        problems.append(SuiteProblem(str(info), "not a mapping"))
        return []
    metadata = data.get("rule_metadata")
    if not isinstance(metadata, list) or not metadata or not isinstance(metadata[0], dict):
        problems.append(SuiteProblem(str(info), "rule_metadata must list the rule under test (id, title)"))
        return []
    rule = str(metadata[0].get("id") or metadata[0].get("title") or "")
    tests = data.get("regression_tests_info")
    if not isinstance(tests, list) or not tests:
        problems.append(SuiteProblem(str(info), "regression_tests_info lists no test"))
        return []
    cases = []
    for number, test in enumerate(tests, 1):
        if not isinstance(test, dict) or not test.get("path"):
            problems.append(SuiteProblem(str(info), f"test {number} has no path"))
            continue
        count = test.get("match_count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            problems.append(SuiteProblem(str(info), f"test {number}: match_count must be a whole number"))
            continue
        pointer = str(test["path"])
        path = resolve_relative(pointer, info.parent) or info.parent / pointer
        cases.append(
            TestCase(
                info_file=info,
                name=str(test.get("name") or f"test {number}"),
                rule=rule,
                path=path,
                kind=str(test["type"]) if test.get("type") else None,
                match_count=count,
            )
        )
    return cases


def testable(ruleset: RuleSet) -> RuleSet:
    """Make every rule raise alerts, nested correlations included, so building blocks can be tested."""
    for detection in ruleset.detections:
        detection.emits_alerts = True
    seen = {id(rule) for rule in ruleset.correlations}
    stack = list(ruleset.correlations)
    while stack:
        rule = stack.pop()
        for reference in rule.references:
            child = reference.child
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                child.emits_alerts = True
                ruleset.correlations.append(child)
                stack.append(child)
    return ruleset


def rule_index(ruleset: RuleSet) -> dict[str, RuleInfo]:
    """Loaded rules by id (lower case) and by title, for ``rule_metadata`` lookups."""
    index: dict[str, RuleInfo] = {}
    for info in rule_infos(ruleset):
        index.setdefault(info.title.lower(), info)
    for info in rule_infos(ruleset):
        index[info.id.lower()] = info
    return index


def rule_infos(ruleset: RuleSet) -> list[RuleInfo]:
    """Every loaded rule: detections, correlations and stateful rules."""
    return (
        [rule.info for rule in ruleset.detections]
        + [rule.info for rule in ruleset.correlations]
        + [rule.info for rule in ruleset.stateful]
    )


def run_tests(
    paths: list[Path], builtin: bool = True, placeholders: dict[str, list[str]] | None = None
) -> TestRun:
    """Discover the cases under ``paths`` and run them all."""
    run = TestRun()
    search = paths or [builtin_rules_path()]
    cases, run.problems = discover(search)
    ruleset = testable(load_rules(context_paths(paths, builtin), placeholders))
    run.rule_errors = [f"{error.source}: {error.reason}" for error in ruleset.errors]
    index = rule_index(ruleset)
    names = _names(rule_files(context_paths(paths, builtin)))
    for case in cases:
        run.results.append(run_case(case, ruleset, index, names))
    return run


def _names(files: Iterable[Path]) -> dict[str, str]:
    """Rule ``name`` → id, so ``rule_metadata`` may name a building block by its name."""
    names: dict[str, str] = {}
    for file in files:
        for document in _documents(file):
            if document.get("name") and document.get("id"):
                names[str(document["name"]).lower()] = str(document["id"]).lower()
    return names


def run_case(
    case: TestCase, ruleset: RuleSet, index: dict[str, RuleInfo], names: dict[str, str]
) -> CaseResult:
    started = time.monotonic()
    key = case.rule.lower()
    info = index.get(key) or index.get(names.get(key, ""))
    if info is None:
        return CaseResult(case, False, f"rule {case.rule} is not loaded (missing, or it failed to load)")
    try:
        events = load_events(case.path, case.kind)
    except CaseDataError as exc:
        return CaseResult(case, False, f"cannot read the events: {exc}", title=info.title)
    connection = connect(":memory:")
    pipeline = DetectionPipeline(ruleset, connection)
    alerts = pipeline.process(events)
    alerts += pipeline.finish()
    pipeline.close()
    connection.close()
    fired: Counter[str] = Counter(alert.rule.title for alert in alerts)
    matched = sum(1 for alert in alerts if alert.rule.id == info.id)
    elapsed = time.monotonic() - started
    result = CaseResult(case, False, "", matched, elapsed, info.title, dict(fired))
    if not events:
        result.reason = "the case has no events"
    elif case.match_count is None:
        result.passed = matched >= 1
        result.reason = f"{matched} matches (at least 1 expected) over {len(events)} events"
    else:
        result.passed = matched == case.match_count
        result.reason = f"{matched} matches, {case.match_count} expected, over {len(events)} events"
    if not result.passed and matched == 0 and fired:
        result.reason += "; other rules fired: " + ", ".join(f"{t} ×{n}" for t, n in sorted(fired.items()))
    return result


def coverage(run: TestRun, ruleset: RuleSet) -> list[tuple[str, str]]:
    """Rules (id, title) of ``ruleset`` that lack a positive or a negative case in ``run``."""
    positive: set[str] = set()
    negative: set[str] = set()
    for result in run.results:
        target = result.title
        (negative if result.case.negative else positive).add(target or "")
    missing = []
    for info in rule_infos(ruleset):
        lacks = [
            kind
            for kind, found in (("positive", positive), ("negative", negative))
            if info.title not in found
        ]
        if lacks:
            missing.append((info.id, f"{info.title}: no {' and no '.join(lacks)} case"))
    return missing
