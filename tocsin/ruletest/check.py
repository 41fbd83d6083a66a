"""``tocsin rules check``: schema (pySigma), SigmaHQ conventions (pySigma validators), duplicate
ids, and whether tocsin's engine can run each rule.

The SigmaHQ validator plugins that need reference data (taxonomy, ATT&CK) download it on first
use. Offline (the default) those downloads are refused: a validator whose data is not already in
pySigma's cache is skipped and the report says why.
"""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.error import URLError

from sigma.plugins import InstalledSigmaPlugins

from tocsin.detectors.sigma.rulefile import RuleFileError, one_line, read_rule_file
from tocsin.detectors.sigma.ruleset import load_rules, rule_files
from tocsin.detectors.stateful.spec import StatefulSpecError, parse_stateful

#: Modules of pySigma that fetch reference data over the network.
_DOWNLOADERS = ("sigma.validators.sigmahq.data.base", "sigma.data.mitre_attack", "sigma.data.mitre_d3fend")
#: SigmaHQ's own repository layout conventions that do not apply to a rule pack elsewhere.
#: File-naming checks of the SigmaHQ repository (names differ between pySigma releases); only with --sigmahq-layout.
LAYOUT_VALIDATORS = {
    "sigmahq_filename_convention", "sigmahq_filename_prefix", "sigmahq_correlation_filename_prefix",
    "filename_length", "duplicate_filename",
}  # fmt: skip
_CONDITION_WORDS = {"and", "or", "not", "of", "all", "them", "1", "any"}
_IDENTIFIER = re.compile(r"[\w*?]+")


def undefined_identifiers(detection: Any) -> list[str]:
    """Names (or ``name*`` patterns) a Sigma condition uses that no detection item defines."""
    if not isinstance(detection, dict):
        return []
    defined = [str(key) for key in detection if key != "condition"]
    conditions = detection.get("condition")
    missing: list[str] = []
    for condition in conditions if isinstance(conditions, list) else [conditions]:
        if not isinstance(condition, str):
            continue
        for word in _IDENTIFIER.findall(condition.split("|")[0]):
            if word.lower() in _CONDITION_WORDS or word.isdigit() or word in missing:
                continue
            if not any(fnmatchcase(name, word) for name in defined):
                missing.append(word)
    return missing


@dataclass
class Finding:
    check: str
    severity: str  # error | warning | note
    message: str
    file: str
    rule_id: str | None = None
    title: str | None = None


@dataclass
class CheckReport:
    files: int = 0
    rules: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: Validators that could not run, and why.
    skipped: dict[str, str] = field(default_factory=dict)
    validators: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")


@contextmanager
def offline() -> Iterator[None]:
    """Make pySigma's data loaders fail fast instead of downloading."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise URLError("offline: tocsin rules check does not download validator data (use --online)")

    saved = []
    for name in _DOWNLOADERS:
        try:
            module: Any = importlib.import_module(name)  # a downloader module, patched while offline
        except ImportError:
            continue
        if hasattr(module, "urlopen"):
            saved.append((module, module.urlopen))
            module.urlopen = refuse
    try:
        yield
    finally:
        for module, original in saved:
            module.urlopen = original


def check_rules(
    paths: list[Path], online: bool = False, layout: bool = False, engine: bool = True
) -> CheckReport:
    """Lint every rule under ``paths``. ``layout`` also applies SigmaHQ's file-naming conventions;
    ``engine`` also reports rules tocsin's engine cannot run."""
    report = CheckReport()
    parsed = []
    ids: dict[str, list[str]] = defaultdict(list)
    stateful = 0
    for file in rule_files(paths):
        report.files += 1
        rules, stateful_ids = _parse(file, report)
        parsed.extend(rules)
        stateful += len(stateful_ids)
        for rule_id in [*(str(rule.id) for rule in rules if rule.id), *stateful_ids]:
            ids[rule_id].append(str(file))
    report.rules = len(parsed) + stateful
    for rule_id, files in ids.items():
        if len(files) > 1:
            for where in files:
                others = ", ".join(other for other in files if other != where) or where
                report.findings.append(
                    Finding("duplicate-id", "error", f"id {rule_id} also used by {others}", where, rule_id)
                )
    context = offline() if not online else _nothing()
    with context:
        _validate(parsed, report, layout)
    if engine:
        for error in load_rules(paths).errors:
            report.findings.append(
                Finding(
                    "tocsin-engine",
                    "warning",
                    f"tocsin cannot run it: {error.reason}",
                    error.source,
                    None,
                    error.title,
                )
            )
    return report


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _parse(file: Path, report: CheckReport) -> tuple[list[Any], list[str]]:
    """The Sigma rules of a file, and the ids of its stateful rules (checked against their detector)."""
    try:
        rule_file = read_rule_file(file)
        if rule_file.stateful:
            return [], _stateful_ids(rule_file.documents, file, report)
        for document in rule_file.documents:
            for name in undefined_identifiers(document.get("detection")):
                report.findings.append(Finding(
                    "condition", "error", f"condition names {name!r}, which the detection does not define",
                    str(file), str(document.get("id") or "") or None, document.get("title"),
                ))  # fmt: skip
        good, rejected = rule_file.sigma()
    except RuleFileError as exc:
        report.findings.append(Finding(exc.kind, "error", exc.reason, str(file)))
        return [], []
    for rule in rejected:
        for error in rule.errors:
            report.findings.append(
                Finding("schema", "error", one_line(error), str(file), _id(rule), rule.title)
            )
    return good, []


def _stateful_ids(documents: list[Any], file: Path, report: CheckReport) -> list[str]:
    ids = []
    for document in documents:
        try:
            ids.append(parse_stateful(document, file).info.id)
        except StatefulSpecError as exc:
            report.findings.append(
                Finding("schema", "error", f"stateful rule: {exc}", str(file), None, document.get("title"))
            )
    return ids


def _id(rule: Any) -> str | None:
    return str(rule.id) if getattr(rule, "id", None) else None


def _validate(rules: list[Any], report: CheckReport, layout: bool) -> None:
    plugins = InstalledSigmaPlugins.autodiscover()
    for name, validator_class in sorted(plugins.validators.items()):
        if name in LAYOUT_VALIDATORS and not layout:
            report.skipped[name] = "SigmaHQ repository file-naming convention (use --sigmahq-layout)"
            continue
        try:
            validator = validator_class()  # type: ignore[operator]  # pySigma types its registry as instances; it holds classes
        except Exception as exc:
            report.skipped[name] = f"cannot start: {' '.join(str(exc).split())}"
            continue
        issues = []
        try:
            for rule in rules:
                issues.extend(validator.validate(rule))
            issues.extend(validator.finalize())
        except Exception as exc:
            report.skipped[name] = " ".join(str(exc).split())[:300]
            continue
        report.validators.append(name)
        for issue in issues:
            severity = {"HIGH": "error", "MEDIUM": "warning"}.get(issue.severity.name, "note")
            for rule in issue.rules or [None]:
                file = (
                    str(rule.source.path)
                    if rule is not None and rule.source and rule.source.path
                    else "<collection>"
                )
                report.findings.append(
                    Finding(
                        name,
                        severity,
                        f"{issue.description}{_detail(issue)}",
                        file,
                        _id(rule) if rule else None,
                        getattr(rule, "title", None),
                    )
                )


def _detail(issue: Any) -> str:
    extra = {
        key: value
        for key, value in vars(issue).items()
        if key not in ("rules", "description", "severity") and not key.startswith("_")
    }
    if not extra:
        return ""
    return " (" + ", ".join(f"{key}: {value}" for key, value in extra.items()) + ")"
