"""Compiling Sigma rules (pySigma) to DuckDB predicates and correlation plans: a ``RuleSet``.

A rule that cannot be parsed or converted is kept as a ``RuleLoadError``
with its file and the reason; compiling never stops at a bad rule. Stateful rules
(``stateful:`` documents, see ``tocsin.detectors.stateful.spec``) load beside them,
their building-block references resolved like a correlation's.

This is the only module of a scan that imports pySigma, and only when a rule set is not in the
compiled-rule cache (``tocsin.detectors.sigma.rulecache``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    ValueListPlaceholderTransformation,
    WildcardPlaceholderTransformation,
)
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaCIDRExpression, SigmaFieldReference

from tocsin.detectors.sigma.backend import TocsinDuckDBBackend
from tocsin.detectors.sigma.columnar import (
    IPV4_SUFFIX,
    IPV6_SUFFIX,
    RAW_COLUMN,
    connect_columnar,
    elements_column,
    probe_predicate,
    reserved,
    unique_columns,
)
from tocsin.detectors.sigma.correlation import KINDS, MAX_NESTING, Condition, CorrelationRule, Reference
from tocsin.detectors.sigma.rulefile import MALFORMED_RULE_ERRORS, RuleFileError, one_line, read_rule_file
from tocsin.detectors.sigma.ruleset import (
    DetectionRule,
    RuleLoadError,
    RuleSelection,
    RuleSet,
    Shadowed,
    rule_files,
)
from tocsin.detectors.stateful.spec import StatefulRule, StatefulSpecError, parse_stateful
from tocsin.model.alert import Level, RuleInfo

#: A rule reading more fields than this is refused (it would cost every batch a column per field).
MAX_RULE_FIELDS = 1000
#: The correlation candidate table holds a column per field any correlation groups by or counts:
#: a correlation that would take it past this many is refused (SQLite allows 2,000 columns).
MAX_CORRELATION_FIELDS = 1000


def processing_pipeline(placeholders: dict[str, list[str]], windows: bool) -> ProcessingPipeline:
    """Placeholder expansion for ``|expand``, after the Windows/Sysmon logsource pipelines when
    ``windows`` (they only touch Windows rules, and importing them costs a rule-loading command
    about 40 ms).

    Placeholders with configured values expand to those values; any other
    placeholder matches every value (as sigma-cli's wildcard handling does).
    """
    items = [ProcessingItem(WildcardPlaceholderTransformation(), identifier="tocsin_placeholder_wildcards")]
    if placeholders:
        items.insert(
            0,
            ProcessingItem(
                ValueListPlaceholderTransformation(include=sorted(placeholders)),
                identifier="tocsin_placeholder_values",
            ),
        )
    expansion = ProcessingPipeline(
        items=items, vars={name: list(values) for name, values in placeholders.items()}
    )
    if not windows:
        return expansion
    from sigma.pipelines.sysmon import sysmon_pipeline
    from sigma.pipelines.windows import windows_logsource_pipeline

    return sysmon_pipeline() + windows_logsource_pipeline() + expansion


def compile_rules(
    paths: Iterable[Path],
    placeholders: dict[str, list[str]] | None = None,
    selection: RuleSelection | None = None,
) -> RuleSet:
    """Parse and compile every rule under ``paths`` that ``selection`` keeps; when two rules share an
    id, the one loaded last (the later path) is used."""
    ruleset = RuleSet()
    parsed: list[SigmaRule | SigmaCorrelationRule | SigmaFilter] = []
    stateful: list[StatefulRule] = []
    for file in rule_files(paths):
        ruleset.files += 1
        parsed.extend(_parse_file(file, ruleset.errors, stateful))
    if selection is not None:
        ruleset.errors.extend(selection.problems)
        parsed = [rule for rule in parsed if not _left_out(rule, selection, ruleset)]
        stateful = [rule for rule in stateful if rule.info.id.lower() not in selection.disabled]
    parsed = _last_of_each_id(parsed, ruleset, selection)
    collection = _resolved_collection(parsed, ruleset.errors)
    windows = any(
        isinstance(rule, SigmaRule) and _lower(rule.logsource.product) == "windows"
        for rule in collection.rules
    )
    pipeline = processing_pipeline(placeholders or {}, windows)
    detection_backend = TocsinDuckDBBackend(pipeline)
    probe = connect_columnar()
    by_rule: dict[int, DetectionRule] = {}
    by_name: dict[str, DetectionRule] = {}
    for rule in collection.rules:
        if isinstance(rule, SigmaRule):
            compiled = _compile_detection(rule, detection_backend, probe, ruleset.errors)
            if compiled:
                by_rule[id(rule)] = compiled
                ruleset.detections.append(compiled)
                for name in (rule.name, compiled.info.id, compiled.info.title):
                    if name:
                        by_name.setdefault(name.lower(), compiled)
    probe.close()
    ruleset.stateful = [rule for rule in stateful if _resolve_stateful(rule, by_name, ruleset.errors)]
    correlations = [rule for rule in collection.rules if isinstance(rule, SigmaCorrelationRule)]
    _assign_flags(correlations, by_rule)
    compiled_correlations: dict[int, CorrelationRule] = {}
    for rule in correlations:
        correlation = _compile_correlation(
            rule, len(compiled_correlations), by_rule, compiled_correlations, ruleset.errors
        )
        if correlation is None:
            continue
        fields = ruleset.correlation_fields | correlation.candidate_fields
        if len(fields) > MAX_CORRELATION_FIELDS:
            ruleset.errors.append(
                RuleLoadError(
                    _source(rule),
                    f"groups by or counts {len(correlation.candidate_fields)} fields: with the other correlations, "
                    f"more than the limit of {MAX_CORRELATION_FIELDS}",
                    rule.title,
                )
            )
            continue
        compiled_correlations[id(rule)] = correlation
        ruleset.correlation_fields = fields
        if correlation.emits_alerts:
            ruleset.correlations.append(correlation)
    return ruleset


def _left_out(
    rule: SigmaRule | SigmaCorrelationRule | SigmaFilter, selection: RuleSelection, ruleset: RuleSet
) -> bool:
    if isinstance(rule, SigmaFilter):
        return False
    reason = selection.left_out(
        rule, Path(rule.source.path).resolve() if rule.source and rule.source.path else None
    )
    if reason:
        ruleset.left_out[reason] += 1
    return reason is not None


def _last_of_each_id(
    parsed: list[SigmaRule | SigmaCorrelationRule | SigmaFilter],
    ruleset: RuleSet,
    selection: RuleSelection | None,
) -> list[SigmaRule | SigmaCorrelationRule | SigmaFilter]:
    """``parsed`` with one rule per id, the last one loaded; each id dropped is noted in ``ruleset``."""
    position: dict[str, int] = {}
    kept: list[SigmaRule | SigmaCorrelationRule | SigmaFilter | None] = []
    for rule in parsed:
        if rule.id is None or isinstance(rule, SigmaFilter):
            kept.append(rule)
            continue
        key = str(rule.id).lower()
        if key in position:
            earlier = kept[position[key]]
            assert earlier is not None and not isinstance(earlier, SigmaFilter)
            where = selection.pack_of if selection else str
            ruleset.shadowed.append(
                Shadowed(str(rule.id), rule.title, where(_source(rule)), where(_source(earlier)))
            )
            kept[position[key]] = None
        position[key] = len(kept)
        kept.append(rule)
    return [rule for rule in kept if rule is not None]


def _resolved_collection(
    parsed: list[SigmaRule | SigmaCorrelationRule | SigmaFilter], errors: list[RuleLoadError]
) -> SigmaCollection:
    """Resolve correlation references rule by rule (so one dangling reference costs one rule),
    apply Sigma filters, and order rules so referenced ones come first."""
    collection = SigmaCollection(parsed, resolve_references=False)
    filters = [rule for rule in collection.rules if isinstance(rule, SigmaFilter)]
    rules = []
    for rule in collection.rules:
        if isinstance(rule, SigmaFilter):
            continue
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(collection)
            except MALFORMED_RULE_ERRORS as exc:
                errors.append(RuleLoadError(_source(rule), one_line(exc), rule.title))
                continue
        for rule_filter in filters:
            try:
                rule = rule_filter.apply_on_rule(rule)
            except MALFORMED_RULE_ERRORS as exc:
                errors.append(
                    RuleLoadError(_source(rule_filter), f"filter: {one_line(exc)}", rule_filter.title)
                )
        rules.append(rule)
    collection.rules = sorted(rules)
    return collection


def _source(rule: SigmaRule | SigmaCorrelationRule) -> str:
    return str(rule.source.path) if rule.source and rule.source.path else "<unknown>"


def _resolve_stateful(
    rule: StatefulRule, by_name: dict[str, DetectionRule], errors: list[RuleLoadError]
) -> bool:
    """Point each role of a stateful rule at its building block; False (and an error) if one did not load.
    As with correlations, a rule a stateful rule refers to raises no alert of its own."""
    blocks = {role: by_name.get(name.lower()) for role, name in rule.roles.items()}
    missing = [rule.roles[role] for role, block in blocks.items() if block is None]
    if missing:
        errors.append(
            RuleLoadError(
                rule.info.source or "<unknown>",
                f"refers to a rule that did not load: {', '.join(missing)}",
                rule.info.title,
            )
        )
        return False
    for role, block in blocks.items():
        assert block is not None
        block.emits_alerts = False
        rule.references[role] = block.info.id
    return True


def _parse_file(
    file: Path, errors: list[RuleLoadError], stateful: list[StatefulRule]
) -> list[SigmaRule | SigmaCorrelationRule | SigmaFilter]:
    try:
        rule_file = read_rule_file(file)
        if rule_file.stateful:
            for document in rule_file.documents:
                try:
                    stateful.append(parse_stateful(document, file))
                except StatefulSpecError as exc:
                    errors.append(RuleLoadError(str(file), f"stateful rule: {exc}", document.get("title")))
            return []
        if not any(
            key in doc for doc in rule_file.documents for key in ("detection", "correlation", "filter")
        ):
            errors.append(RuleLoadError(str(file), "not a Sigma rule (no detection or correlation section)"))
            return []
        good, rejected = rule_file.sigma()
    except RuleFileError as exc:
        errors.append(RuleLoadError(str(file), exc.reason))
        return []
    for rule in rejected:
        errors.append(RuleLoadError(str(file), "; ".join(one_line(e) for e in rule.errors), rule.title))
    return good


def _info(rule: SigmaRule | SigmaCorrelationRule, kind: str) -> RuleInfo:
    return RuleInfo(
        id=str(rule.id) if rule.id else (rule.name or rule.title),
        title=rule.title,
        level=Level.from_sigma(rule.level.name if rule.level else None),
        tags=[str(tag) for tag in rule.tags],
        type=kind,
        description=(rule.description or "").strip() or None,
        falsepositives=[str(fp) for fp in getattr(rule, "falsepositives", []) or []],
        source=_source(rule),
    )


def _compile_detection(
    rule: SigmaRule, backend: TocsinDuckDBBackend, probe: Any, errors: list[RuleLoadError]
) -> DetectionRule | None:
    logsource = copy.copy(rule.logsource)
    try:
        converted = backend.convert_predicate(rule)
    except (SigmaError, NotImplementedError, ValueError, TypeError, KeyError, AttributeError) as exc:
        errors.append(RuleLoadError(_source(rule), f"cannot convert: {one_line(exc)}", rule.title))
        return None
    if converted is None:
        errors.append(RuleLoadError(_source(rule), "conversion produced no query", rule.title))
        return None
    predicate, element_tests = converted
    fields = _detection_fields(rule)
    if len(fields) > MAX_RULE_FIELDS:
        errors.append(
            RuleLoadError(
                _source(rule),
                f"reads {len(fields)} fields, more than the limit of {MAX_RULE_FIELDS}",
                rule.title,
            )
        )
        return None
    kept = sorted(name for name in fields if reserved(name))
    if kept:
        errors.append(
            RuleLoadError(_source(rule), f"reads the field {kept[0]}, a name the engine keeps", rule.title)
        )
        return None
    compiled = DetectionRule(
        info=_info(rule, "sigma"),
        predicate=predicate,
        fields=frozenset(fields),
        product=_lower(logsource.product),
        service=_lower(logsource.service),
        category=_lower(logsource.category),
        emits_alerts=bool(rule._output),
        element_tests=element_tests,
    )
    columns = unique_columns(fields | {RAW_COLUMN})
    listed = {test.field.lower() for test in element_tests}
    problem = probe_predicate(probe, predicate, columns) or probe_predicate(
        probe, compiled.predicate_over(listed), columns + sorted(map(elements_column, listed))
    )
    if problem:
        errors.append(RuleLoadError(_source(rule), f"the engine cannot run it: {problem}", rule.title))
        return None
    return compiled


def _detection_items(rule: SigmaRule) -> Iterator[SigmaDetectionItem]:
    stack: list[SigmaDetection | SigmaDetectionItem] = list(rule.detection.detections.values())
    while stack:
        item = stack.pop()
        if isinstance(item, SigmaDetection):
            stack.extend(item.detection_items)
        else:
            yield item


def _values(item: SigmaDetectionItem) -> list[Any]:
    return item.value if isinstance(item.value, list) else [item.value]


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _detection_fields(rule: SigmaRule) -> set[str]:
    """Every event field the rule's detection reads (after pipeline processing)."""
    fields: set[str] = set()
    for item in _detection_items(rule):
        if item.field:
            fields.add(item.field)
            fields.update(
                item.field + (IPV4_SUFFIX if value.network.version == 4 else IPV6_SUFFIX)
                for value in _values(item)
                if isinstance(value, SigmaCIDRExpression)
            )
        fields.update(value.field for value in _values(item) if isinstance(value, SigmaFieldReference))
    return fields


def _assign_flags(correlations: list[SigmaCorrelationRule], by_rule: dict[int, DetectionRule]) -> None:
    """Give every detection rule a correlation refers to a flag column in the candidate table."""
    flags = 0
    for correlation in correlations:
        for reference in correlation.referenced_rules:
            compiled = by_rule.get(id(reference.rule))
            if compiled is not None and compiled.flag is None:
                compiled.flag = flags
                flags += 1


def _compile_correlation(
    rule: SigmaCorrelationRule,
    index: int,
    by_rule: dict[int, DetectionRule],
    correlations: dict[int, CorrelationRule],
    errors: list[RuleLoadError],
) -> CorrelationRule | None:
    references = []
    for slot, reference in enumerate(rule.referenced_rules):
        target = reference.rule
        aliases = {
            alias.alias: physical
            for alias in rule.aliases
            for ref, physical in alias.mapping.items()
            if ref.reference in (reference.reference, getattr(target, "name", None), str(target.id))
        }
        detection = by_rule.get(id(target))
        child = correlations.get(id(target))
        if detection is None and child is None:
            errors.append(
                RuleLoadError(
                    _source(rule), f"refers to a rule that did not load: {reference.reference}", rule.title
                )
            )
            return None
        references.append(
            Reference(slot, reference.reference, detection.flag if detection else None, child, aliases)
        )
    try:
        return compile_correlation(rule, index, references, _info(rule, "correlation"))
    except UnsupportedCorrelation as exc:
        errors.append(RuleLoadError(_source(rule), str(exc), rule.title))
        return None


class UnsupportedCorrelation(ValueError):
    """A correlation construct this engine cannot evaluate."""


def _condition_field(fieldref: str | list[str] | None) -> str | None:
    """The condition's one field; Sigma allows a list, which this engine evaluates only when it names one."""
    if not isinstance(fieldref, list):
        return fieldref
    if len(fieldref) != 1:
        raise UnsupportedCorrelation(f"a condition on {len(fieldref)} fields is not supported")
    return fieldref[0]


def compile_correlation(
    rule: SigmaCorrelationRule, index: int, references: list[Reference], info: RuleInfo
) -> CorrelationRule:
    """Our form of a pySigma correlation rule whose references are already resolved."""
    kind = rule.type.name.lower()
    if kind not in KINDS:
        raise UnsupportedCorrelation(f"correlation type {kind} is not supported")
    depth = 1 + max((ref.child.depth for ref in references if ref.child is not None), default=0)
    if depth > MAX_NESTING:
        raise UnsupportedCorrelation(f"nests correlations {depth} deep, beyond the limit of {MAX_NESTING}")
    condition = rule.condition
    compiled = CorrelationRule(
        info=info,
        kind=kind,
        group_by=list(rule.group_by or []),
        timespan=rule.timespan.seconds,
        references=references,
        emits_alerts=bool(rule._output),
        index=index,
        depth=depth,
    )
    if isinstance(condition, SigmaExtendedCorrelationCondition):
        if kind != "temporal":
            raise UnsupportedCorrelation(f"a boolean condition on {kind} is not supported")
        compiled.expression = _condition(condition.parsed)
    elif condition is not None:
        compiled.op = condition.op.name.lower()
        compiled.threshold = float(condition.count)
        compiled.value_field = _condition_field(condition.fieldref)
        compiled.percentile = condition.percentile
    if kind.startswith("value_") and not compiled.value_field:
        raise UnsupportedCorrelation(f"{kind} needs a condition field")
    if compiled.timespan <= 0:
        raise UnsupportedCorrelation("timespan must be positive")
    return compiled


def _condition(node: Any) -> Condition | str:
    """Our form of a pySigma boolean correlation condition (see ``Condition``)."""
    if isinstance(node, SigmaRuleReference):
        return node.reference
    if isinstance(node, CorrelationConditionNOT):
        return Condition("not", (_condition(node.args[0]),))
    if isinstance(node, CorrelationConditionAND):
        return Condition("and", tuple(_condition(arg) for arg in node.args))
    if isinstance(node, CorrelationConditionOR):
        return Condition("or", tuple(_condition(arg) for arg in node.args))
    raise UnsupportedCorrelation(f"unknown condition element {type(node).__name__}")
