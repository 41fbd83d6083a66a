"""Sigma rules to Elasticsearch queries with pySigma's Elasticsearch backends, and to
OpenSearch Alerting monitors with its OpenSearch backend.

Lucene for single-event rules, ES|QL for correlations, EQL for
``temporal_ordered``. Field names: the built-in pack and tocsin's events use
ECS names, which stay as they are; any other field a rule names is a source's
own field, which tocsin indexes under ``original.`` (see ``Event``).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeGuard

import yaml
from sigma.backends.elasticsearch import EqlBackend, ESQLBackend, LuceneBackend
from sigma.backends.opensearch import OpensearchLuceneBackend
from sigma.collection import SigmaCollection
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.processing.conditions import IncludeFieldCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import AddFieldnamePrefixTransformation, SetStateTransformation
from sigma.rule import SigmaRule, SigmaRuleTag

from tocsin import yamlsafe
from tocsin.detectors.sigma.compiler import processing_pipeline
from tocsin.detectors.sigma.ruleset import rule_files
from tocsin.detectors.stateful.spec import is_stateful
from tocsin.elastic import EVENTS_PATTERN

#: ECS field sets (and tocsin's own) whose names a rule may use as they are.
ECS_FIELD = (
    r"^(@timestamp|message|tags|labels|agent|as|client|cloud|container|data_stream|destination|dns|"
    r"ecs|email|error|event|file|group|host|http|log|network|observer|organization|package|process|"
    r"registry|related|rule|server|service|source|threat|tls|url|user|user_agent|vulnerability|"
    r"winlog|tocsin|original)(\..+)?$"
)
KIBANA_SEVERITIES = ("low", "medium", "high", "critical")


def elastic_pipeline(placeholders: dict[str, list[str]] | None = None) -> ProcessingPipeline:
    """tocsin's Sigma pipeline plus the ECS handling for Elasticsearch (see module doc)."""
    ecs = ProcessingPipeline(
        name="tocsin ECS for Elasticsearch",
        priority=90,
        items=[
            ProcessingItem(
                AddFieldnamePrefixTransformation("original."),
                identifier="tocsin_original_fields",
                field_name_conditions=[IncludeFieldCondition([ECS_FIELD], "re")],
                field_name_condition_negation=True,
            ),
            ProcessingItem(SetStateTransformation("index", EVENTS_PATTERN), identifier="tocsin_index"),
        ],
    )
    return processing_pipeline(placeholders or {}, windows=True) + ecs


class _OfflineThreatModel:
    """Kibana's ``threat`` block needs MITRE ATT&CK names that pySigma downloads; without
    them (no network) ATT&CK tags stay plain rule tags instead of failing the export."""

    def finalize_output_threat_model(self, tags: list[SigmaRuleTag]) -> Iterable[dict[str, Any]]:
        if not _attack_data_available():
            return []
        return super().finalize_output_threat_model(tags)  # type: ignore[misc]


@functools.cache
def _attack_data_available() -> bool:
    try:
        from sigma.data import mitre_attack

        return bool(mitre_attack.mitre_attack_tactics)
    except (RuntimeError, OSError, ValueError):
        return False


class TocsinLucene(_OfflineThreatModel, LuceneBackend):
    pass


class TocsinOpenSearchLucene(_OfflineThreatModel, OpensearchLuceneBackend):
    pass


class TocsinESQL(_OfflineThreatModel, ESQLBackend):
    """pySigma's ES|QL backend plus the numeric correlations (sum, average, median) it lacks."""

    value_sum_aggregation_expression: ClassVar[dict[str, str]] = {
        "stats": "| eval timebucket=date_trunc({timespan}, @timestamp) | stats value_sum=sum({field}){fields}{groupby}"
    }
    value_sum_condition_expression: ClassVar[dict[str, str]] = {"stats": "| where value_sum {op} {count}"}
    value_avg_aggregation_expression: ClassVar[dict[str, str]] = {
        "stats": "| eval timebucket=date_trunc({timespan}, @timestamp) | stats value_avg=avg({field}){fields}{groupby}"
    }
    value_avg_condition_expression: ClassVar[dict[str, str]] = {"stats": "| where value_avg {op} {count}"}
    value_median_aggregation_expression: ClassVar[dict[str, str]] = {
        "stats": "| eval timebucket=date_trunc({timespan}, @timestamp) | stats value_median=median({field}){fields}{groupby}"
    }
    value_median_condition_expression: ClassVar[dict[str, str]] = {
        "stats": "| where value_median {op} {count}"
    }


class TocsinEQL(_OfflineThreatModel, EqlBackend):
    def finalize_query_siem_rule_ndjson(
        self, rule: SigmaRule | SigmaCorrelationRule, query: str, index: int, state: ConversionState
    ) -> dict[str, Any]:
        """pySigma prefixes every query with ``any where``, which breaks a ``sequence``."""
        # pySigma annotates SigmaRule, but reads only fields every rule has (title, id, level...).
        result = super().finalize_query_siem_rule_ndjson(rule, query, index, state)  # type: ignore[arg-type]
        if isinstance(rule, SigmaCorrelationRule):
            result["query"] = query
        return result


@dataclass
class Converted:
    """One rule's query in one language, or why it has none."""

    rule: SigmaRule | SigmaCorrelationRule
    language: str
    query: Any = None
    error: str | None = None

    @property
    def emits_alerts(self) -> bool:
        return bool(self.rule._output)


def load_collection(paths: Iterable[Path]) -> tuple[SigmaCollection, list[str]]:
    """Every rule under ``paths`` with references resolved, and the problems met (one line each)."""
    rules: list[SigmaRule | SigmaCorrelationRule | SigmaFilter] = []
    problems: list[str] = []
    for file in rule_files(paths):
        try:
            text = file.read_text(encoding="utf-8")
            if is_stateful(list(yamlsafe.load_all(text))):
                continue  # stateful rules run only in tocsin's own engine
            parsed = SigmaCollection.from_yaml(
                text,
                collect_errors=True,
                source=SigmaRuleLocation(file),
                resolve_references=False,
            )
        except (OSError, UnicodeDecodeError, SigmaError, yaml.YAMLError) as exc:
            problems.append(f"{file}: {exc}")
            continue
        for rule in parsed.rules:
            if rule.errors:
                problems.append(f"{file}: {'; '.join(str(e) for e in rule.errors)}")
            else:
                rules.append(rule)
    collection = SigmaCollection(rules, resolve_references=False)
    kept = []
    for rule in collection.rules:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(collection)
            except SigmaError as exc:
                problems.append(f"{rule.title}: {exc}")
                continue
        kept.append(rule)
    collection.rules = sorted(kept)
    return collection, problems


def language_for(rule: SigmaRule | SigmaCorrelationRule) -> str:
    if not isinstance(rule, SigmaCorrelationRule):
        return "lucene"
    return "eql" if rule.type == SigmaCorrelationType.TEMPORAL_ORDERED else "esql"


def convert(
    paths: Iterable[Path],
    output_format: str = "default",
    language: str | None = None,
    placeholders: dict[str, list[str]] | None = None,
) -> Iterator[Converted]:
    """Each rule converted to ``language`` (default: the one that fits it) in ``output_format``."""
    collection, _ = load_collection(paths)
    pipeline = elastic_pipeline(placeholders)
    for rule in collection.rules:
        chosen = language or language_for(rule)
        yield _convert_rule(rule, chosen, output_format, pipeline)


def _backend(language: str, pipeline: ProcessingPipeline) -> TextQueryBackend:
    if language == "lucene":
        return TocsinLucene(pipeline, index_names=[EVENTS_PATTERN])
    if language == "eql":
        return TocsinEQL(pipeline, index_names=[EVENTS_PATTERN])
    if language == "opensearch":
        return TocsinOpenSearchLucene(pipeline, index_names=[EVENTS_PATTERN])
    return TocsinESQL(pipeline)


def _convert_rule(
    rule: SigmaRule | SigmaCorrelationRule, language: str, output_format: str, pipeline: ProcessingPipeline
) -> Converted:
    backend = _backend(language, pipeline)
    try:
        if language == "eql" and _is_nested_sequence(rule):
            query = _nested_sequence(rule, backend, output_format)
        else:
            queries = _queries(backend, rule, output_format)
            query = queries[0] if len(queries) == 1 else queries
    except (SigmaError, NotImplementedError) as exc:
        return Converted(rule, language, error=" ".join(str(exc).split()))
    if isinstance(query, dict):
        if query.get("severity") not in KIBANA_SEVERITIES:
            query["severity"] = "low"
        if _building_block(rule):
            query["building_block_type"] = "default"
    return Converted(rule, language, query)


def _queries(
    backend: TextQueryBackend, rule: SigmaRule | SigmaCorrelationRule, output_format: str
) -> list[Any]:
    """The rule's own queries, finalized even when a correlation refers to it or it is a
    building block (``generate: false``)."""
    rule = copy.deepcopy(rule)
    rule._output = True
    rule._backreferences = []
    if isinstance(rule, SigmaCorrelationRule):
        _convert_references(backend, rule)
        return backend.convert_correlation_rule(rule, output_format)
    return backend.convert_rule(rule, output_format)


def _convert_references(backend: TextQueryBackend, rule: SigmaCorrelationRule) -> None:
    """Convert what a correlation refers to first, as ``backend.convert`` does for a collection."""
    for reference in rule.referenced_rules:
        if isinstance(reference.rule, SigmaCorrelationRule):
            _convert_references(backend, reference.rule)
            backend.convert_correlation_rule(reference.rule)
        else:
            backend.convert_rule(reference.rule)


def _building_block(rule: SigmaRule | SigmaCorrelationRule) -> bool:
    return not rule._output


def _indexed(field: str) -> str:
    """Where a field lives in tocsin's indices: ECS fields as they are, others under ``original.``."""
    return field if re.fullmatch(ECS_FIELD, field) else f"original.{field}"


def _aliased(rule: SigmaCorrelationRule, reference: Any, name: str) -> str:
    """The field a group-by name stands for in one referenced rule (through ``aliases``)."""
    for alias in rule.aliases:
        if alias.alias == name:
            for ref, field in alias.mapping.items():
                if ref.reference in (reference.reference, getattr(reference.rule, "name", None)):
                    return field
    return name


def _is_nested_sequence(rule: SigmaRule | SigmaCorrelationRule) -> TypeGuard[SigmaCorrelationRule]:
    """Ordered sequences are written by ``_nested_sequence``: pySigma's EQL for them appends a
    stray ``by ... with runs=N`` to the last step."""
    return isinstance(rule, SigmaCorrelationRule) and rule.type == SigmaCorrelationType.TEMPORAL_ORDERED


def _nested_sequence(rule: SigmaCorrelationRule, backend: TextQueryBackend, output_format: str) -> Any:
    """An ordered sequence whose steps may be "at least N of one rule" (an ``event_count``
    correlation grouped like the sequence): EQL says that as ``[...] with runs=N``, which
    pySigma's EQL backend does not generate for a nested correlation. Group-by aliases become
    per-step ``by`` fields."""
    steps = []
    for reference in rule.referenced_rules:
        target = reference.rule
        fields = [_aliased(rule, reference, name) for name in rule.group_by or []]
        runs = ""
        if isinstance(target, SigmaCorrelationRule):
            condition = target.condition
            if (
                target.type != SigmaCorrelationType.EVENT_COUNT
                or len(target.referenced_rules) != 1
                or isinstance(target.referenced_rules[0].rule, SigmaCorrelationRule)
                or list(target.group_by or []) != fields
                or not isinstance(condition, SigmaCorrelationCondition)
                or condition.op != SigmaCorrelationConditionOperator.GTE
            ):
                raise NotImplementedError(
                    f"EQL cannot express step {target.title!r}: only 'at least N events of one rule' nests"
                )
            runs = f" with runs={condition.count}"
            target = target.referenced_rules[0].rule
        condition_query = _queries(backend, target, "default")[0]
        by_step = f" by {', '.join(map(_indexed, fields))}" if rule.aliases.aliases and fields else ""
        steps.append(f"[any where {condition_query.removeprefix('any where ')}]{by_step}{runs}")
    by = (
        f"by {', '.join(map(_indexed, rule.group_by))} " if rule.group_by and not rule.aliases.aliases else ""
    )
    seconds = rule.timespan.seconds
    query = f"sequence {by}with maxspan={seconds}s\n " + "\n ".join(steps)
    if output_format == "default":
        return query
    finalize = getattr(backend, f"finalize_query_{output_format}")
    return finalize(rule, query, 0, ConversionState(processing_state={"index": [EVENTS_PATTERN]}))
