"""A loaded rule set: Sigma rules compiled to DuckDB predicates and correlation plans, stateful rules.

``load_rules`` gives the rule set of some rule paths: from the compiled-rule cache when these rule
files were compiled before with the same options (``tocsin.detectors.sigma.rulecache``), else
compiled by ``tocsin.detectors.sigma.compiler``, the only module that imports pySigma.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from tocsin.detectors.sigma.columnar import ELEMENT, elements_column, quote_identifier
from tocsin.detectors.sigma.correlation import CorrelationRule
from tocsin.detectors.stateful.spec import StatefulRule
from tocsin.model.alert import Level, RuleInfo
from tocsin.model.event import LogSource

if TYPE_CHECKING:
    from sigma.correlations import SigmaCorrelationRule
    from sigma.rule import SigmaRule

RULE_SUFFIXES = {".yml", ".yaml"}


@dataclass
class RuleLoadError:
    """A rule (or rule file) that could not be used, and why."""

    source: str
    reason: str
    title: str | None = None


@dataclass(frozen=True)
class ElementTest:
    """A comparison of a field's value in a rule's predicate (``predicate[start:end]``), and the same
    comparison of one value of a list (``element``, reading ``ELEMENT``): where a row holds a list of
    several values the field matches when one of them does, as Elasticsearch and Chainsaw match an
    ECS array (``event.type: [user, creation]``)."""

    field: str
    start: int
    end: int
    element: str


@dataclass
class DetectionRule:
    """A single-event Sigma rule compiled to a DuckDB predicate."""

    info: RuleInfo
    predicate: str
    fields: frozenset[str]
    product: str | None
    service: str | None
    category: str | None
    emits_alerts: bool
    flag: int | None = None
    element_tests: tuple[ElementTest, ...] = ()

    def predicate_over(self, listed: Collection[str]) -> str:
        """The predicate for a batch whose fields ``listed`` (lower case) hold lists in some rows: each
        comparison of such a field true when it holds for one of the row's values
        (``elements_column``), NULL for a row without the field, as the comparison itself is."""
        parts: list[str] = []
        last = 0
        for test in self.element_tests:
            if test.field.lower() in listed:
                column = quote_identifier(elements_column(test.field))
                parts += [
                    self.predicate[last : test.start],
                    f"list_bool_or(list_transform({column}, lambda {ELEMENT}: {test.element}))",
                ]
                last = test.end
        return "".join(parts) + self.predicate[last:]

    def applies_to(self, logsource: LogSource) -> bool:
        """Logsource routing. Windows rules route on product alone: pySigma's
        Windows pipelines already turned their service/category into
        ``Channel``/``EventID`` conditions."""
        if self.product == "windows":
            return logsource.accepts("windows", None, None)
        return logsource.accepts(self.product, self.service, self.category)


@dataclass
class RuleSelection:
    """Which rules of the installed packs (under ``roots``) load: by status, level and tag; and the
    rule ids that never load, wherever they come from. ``problems`` (unreadable pack manifests) are
    reported as rejected rules."""

    roots: tuple[Path, ...] = ()
    statuses: frozenset[str] = frozenset({"stable", "test"})
    min_level: str = "informational"
    #: Tag patterns (``attack.t1110*``); a rule needs one of them. Empty: every tag.
    tags: tuple[str, ...] = ()
    disabled: frozenset[str] = frozenset()
    #: Pack name by the resolved path of its rule folder, for messages.
    names: dict[str, str] = field(default_factory=dict)
    problems: list[RuleLoadError] = field(default_factory=list)

    def left_out(self, rule: SigmaRule | SigmaCorrelationRule, source: Path | None) -> str | None:
        """Why ``rule`` does not load; None when it does."""
        if {str(rule.id).lower(), (rule.name or "").lower()} & self.disabled:
            return "disabled"
        if source is None or not any(root in source.parents for root in self.roots):
            return None
        status = rule.status.name.lower() if rule.status else "experimental"
        if status not in self.statuses:
            return f"status {status}"
        if Level.from_sigma(rule.level.name if rule.level else None) < Level.parse(self.min_level):
            return f"level below {self.min_level}"
        tags = [str(tag).lower() for tag in rule.tags]
        if self.tags and not any(fnmatchcase(tag, pattern) for tag in tags for pattern in self.tags):
            return "none of the selected tags"
        return None

    def pack_of(self, source: str) -> str:
        """The pack a rule file belongs to, else the file."""
        path = Path(source)
        return next((name for root, name in self.names.items() if Path(root) in path.parents), source)


@dataclass
class Shadowed:
    """A rule id loaded more than once: the last one loaded (``winner``) is used."""

    id: str
    title: str
    winner: str
    loser: str


@dataclass
class RuleSet:
    """Everything loaded from the rule paths, ready for an engine."""

    detections: list[DetectionRule] = field(default_factory=list)
    correlations: list[CorrelationRule] = field(default_factory=list)
    errors: list[RuleLoadError] = field(default_factory=list)
    files: int = 0
    #: Fields the correlation candidate table holds, over every correlation (nested ones included).
    correlation_fields: set[str] = field(default_factory=set)
    stateful: list[StatefulRule] = field(default_factory=list)
    #: Rules the selection left out, by reason (``status experimental``, ``disabled``...).
    left_out: Counter[str] = field(default_factory=Counter)
    shadowed: list[Shadowed] = field(default_factory=list)

    def notes(self) -> list[str]:
        """One line each for the rules left out by the selection and the ids loaded more than once."""
        notes = []
        if self.left_out:
            reasons = ", ".join(f"{reason} ({count})" for reason, count in sorted(self.left_out.items()))
            notes.append(
                f"{sum(self.left_out.values())} rule(s) left out by the rule-pack filters: {reasons}"
            )
        if self.shadowed:
            first = self.shadowed[0]
            notes.append(
                f"{len(self.shadowed)} rule id(s) loaded more than once, the last loaded wins: "
                f"e.g. {first.id} ({first.title}) from {first.winner} over {first.loser}"
            )
        return notes

    @property
    def loaded(self) -> int:
        return (
            sum(1 for rule in self.detections if rule.emits_alerts)
            + len(self.correlations)
            + len(self.stateful)
        )


def builtin_rules_path() -> Path:
    """The rule pack shipped inside the package."""
    return Path(str(resources.files("tocsin") / "rules"))


def rule_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Sigma rule files under ``paths`` (recursively, sorted), skipping test fixtures."""
    for path in paths:
        if path.is_file():
            yield path
            continue
        for file in sorted(path.rglob("*")):
            if file.suffix.lower() in RULE_SUFFIXES and file.is_file() and file.name != "info.yml":
                yield file


def load_rules(
    paths: Iterable[Path],
    placeholders: dict[str, list[str]] | None = None,
    selection: RuleSelection | None = None,
) -> RuleSet:
    """Parse and compile every rule under ``paths`` that ``selection`` keeps; when two rules share an
    id, the one loaded last (the later path) is used. A rule set compiled before from the same files
    and options is read from the compiled-rule cache instead."""
    from tocsin.detectors.sigma.rulecache import RuleCache

    paths = list(paths)
    cache = RuleCache.open()
    key = cache.key(paths, placeholders, selection) if cache else None
    ruleset = cache.get(key) if cache and key else None
    if ruleset is None:
        from tocsin.detectors.sigma.compiler import compile_rules

        ruleset = compile_rules(paths, placeholders, selection)
        if cache and key:
            cache.put(key, ruleset)
    return ruleset
