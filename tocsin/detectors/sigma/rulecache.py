"""The compiled-rule cache: a rule set compiled once is read back by later runs, without pySigma.

Compiling costs a command most of its start-up: importing pySigma, parsing every rule file,
converting and probing every predicate. The compiled ``RuleSet`` is kept as JSON in the private
cache folder (``tocsin.storage.cache``, ``sigma/``), named by a digest of all it depends on:

* the rule files found under the paths, each by its path and a digest of its bytes (an edited,
  added or removed file compiles again);
* the options: placeholders and the rule-pack selection;
* the versions of tocsin, pySigma, its SQLite backend and Windows pipelines and DuckDB, and the
  bytes of the modules that compile (a changed compiler compiles again).

An entry is written only when it reads back equal to the rule set it was written from, and an
entry that cannot be read back is compiled again. ``TOCSIN_RULE_CACHE=off`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from contextlib import suppress
from dataclasses import asdict
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pydantic

import tocsin
from tocsin.detectors.sigma.correlation import Condition, CorrelationRule, Reference
from tocsin.detectors.sigma.ruleset import (
    DetectionRule,
    ElementTest,
    RuleLoadError,
    RuleSelection,
    RuleSet,
    Shadowed,
    rule_files,
)
from tocsin.detectors.stateful.spec import StatefulRule
from tocsin.model.alert import RuleInfo
from tocsin.storage.cache import private_cache_dir, write_private

#: Bumped when the entry layout changes.
FORMAT = 1
#: Entries kept: the most recently used ones.
MAX_ENTRIES = 32
#: The packages whose version decides what a rule compiles to (beside DuckDB, which probes it).
_COMPILER_DISTRIBUTIONS = (
    "pysigma",
    "pysigma-backend-sqlite",
    "pysigma-pipeline-windows",
    "pysigma-pipeline-sysmon",
)
#: The modules whose code decides what a rule compiles to.
_COMPILER_MODULES = ("detectors/sigma", "detectors/stateful", "model")


class RuleCache:
    """Compiled rule sets by key (see module doc)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def open(cls) -> RuleCache | None:
        """The cache, or None when it is turned off or its folder is not private."""
        if os.environ.get("TOCSIN_RULE_CACHE", "").lower() in ("off", "0", "no", "false"):
            return None
        folder = private_cache_dir("sigma")
        return cls(folder) if folder else None

    def key(
        self,
        paths: list[Path],
        placeholders: dict[str, list[str]] | None,
        selection: RuleSelection | None,
    ) -> str | None:
        """The entry name of these rule paths and options; None when a rule file cannot be read
        (compiling reports it)."""
        digest = hashlib.sha256(_compiler_fingerprint())
        options = {
            "placeholders": placeholders or {},
            "selection": asdict(selection) if selection else None,
        }
        digest.update(json.dumps(options, sort_keys=True, default=_sorted_text).encode())
        try:
            for file in rule_files(paths):
                digest.update(f"\0{file}\0".encode())
                digest.update(hashlib.sha256(file.read_bytes()).digest())
        except OSError:
            return None
        return digest.hexdigest()[:40]

    def get(self, key: str) -> RuleSet | None:
        """The rule set of ``key``, or None when there is none or it cannot be read back."""
        entry = self.folder / f"{key}.json"
        try:
            document = orjson.loads(entry.read_bytes())
            if document.get("format") != FORMAT:
                return None
            ruleset = _ruleset(document["ruleset"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, pydantic.ValidationError):
            return None
        with suppress(OSError):  # most recently used: kept longest (a read-only cache is still read)
            os.utime(entry)
        return ruleset

    def put(self, key: str, ruleset: RuleSet) -> None:
        """Keep ``ruleset`` under ``key`` when it reads back equal; drop the least recently used entries."""
        try:
            document = {"format": FORMAT, "ruleset": _document(ruleset)}
            data = orjson.dumps(document)
            if _ruleset(orjson.loads(data)["ruleset"]) != ruleset:
                return  # a value JSON does not carry exactly: compiled again next time
            write_private(self.folder / f"{key}.json", data)
            entries = sorted(self.folder.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
            for stale in entries[MAX_ENTRIES:]:
                stale.unlink(missing_ok=True)
        except (OSError, TypeError, ValueError, pydantic.ValidationError):
            return  # an unwritable cache only costs the next run a compile


def _sorted_text(value: Any) -> Any:
    """JSON for the option values json cannot write: sets sorted, paths as text."""
    if isinstance(value, set | frozenset):
        return sorted(map(str, value))
    return str(value)


@cache
def _compiler_fingerprint() -> bytes:
    """The versions and the compiling code a compiled rule set depends on."""
    digest = hashlib.sha256(f"{FORMAT}\0{tocsin.__version__}\0{duckdb.__version__}".encode())
    for distribution in _COMPILER_DISTRIBUTIONS:
        try:
            digest.update(f"\0{distribution} {metadata.version(distribution)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"\0{distribution} absent".encode())
    package = Path(tocsin.__file__).parent
    for module in _COMPILER_MODULES:
        for source in sorted((package / module).glob("*.py")):
            digest.update(f"\0{source.name}\0".encode())
            digest.update(source.read_bytes())
    return digest.digest()


# -- the JSON form of a rule set ----------------------------------------------------------------


def _document(ruleset: RuleSet) -> dict[str, Any]:
    correlations: dict[int, CorrelationRule] = {}

    def collect(rule: CorrelationRule) -> None:
        for reference in rule.references:
            if reference.child is not None:
                collect(reference.child)
        correlations[rule.index] = rule

    for rule in ruleset.correlations:
        collect(rule)
    return {
        "detections": [
            {**asdict(rule), "info": _info(rule.info), "fields": sorted(rule.fields)}
            for rule in ruleset.detections
        ],
        # Referenced correlations before the ones referring to them, each once: a correlation two
        # others refer to stays one object.
        "all_correlations": [_correlation(rule) for rule in correlations.values()],
        "correlations": [rule.index for rule in ruleset.correlations],
        "errors": [asdict(error) for error in ruleset.errors],
        "files": ruleset.files,
        "correlation_fields": sorted(ruleset.correlation_fields),
        "stateful": [{**asdict(rule), "info": _info(rule.info)} for rule in ruleset.stateful],
        "left_out": dict(ruleset.left_out),
        "shadowed": [asdict(shadowed) for shadowed in ruleset.shadowed],
    }


def _info(info: RuleInfo) -> dict[str, Any]:
    return info.model_dump(mode="json")


def _correlation(rule: CorrelationRule) -> dict[str, Any]:
    return {
        "info": _info(rule.info),
        "kind": rule.kind,
        "group_by": rule.group_by,
        "timespan": rule.timespan,
        "references": [
            {
                "slot": ref.slot,
                "name": ref.name,
                "flag": ref.flag,
                "child": ref.child.index if ref.child is not None else None,
                "fields": ref.fields,
            }
            for ref in rule.references
        ],
        "emits_alerts": rule.emits_alerts,
        "index": rule.index,
        "op": rule.op,
        "threshold": rule.threshold,
        "value_field": rule.value_field,
        "percentile": rule.percentile,
        "expression": _condition_document(rule.expression),
        "depth": rule.depth,
    }


def _condition_document(node: Condition | str | None) -> Any:
    if node is None or isinstance(node, str):
        return node
    return {"op": node.op, "args": [_condition_document(arg) for arg in node.args]}


def _ruleset(document: dict[str, Any]) -> RuleSet:
    correlations: dict[int, CorrelationRule] = {}
    for item in document["all_correlations"]:
        rule = _correlation_rule(item, correlations)
        correlations[rule.index] = rule
    return RuleSet(
        detections=[
            DetectionRule(
                **{
                    **item,
                    "info": RuleInfo(**item["info"]),
                    "fields": frozenset(item["fields"]),
                    "element_tests": tuple(ElementTest(**test) for test in item["element_tests"]),
                }
            )
            for item in document["detections"]
        ],
        correlations=[correlations[index] for index in document["correlations"]],
        errors=[RuleLoadError(**error) for error in document["errors"]],
        files=document["files"],
        correlation_fields=set(document["correlation_fields"]),
        stateful=[
            StatefulRule(**{**item, "info": RuleInfo(**item["info"])}) for item in document["stateful"]
        ],
        left_out=Counter(document["left_out"]),
        shadowed=[Shadowed(**shadowed) for shadowed in document["shadowed"]],
    )


def _correlation_rule(item: dict[str, Any], known: dict[int, CorrelationRule]) -> CorrelationRule:
    references = [
        Reference(
            slot=ref["slot"],
            name=ref["name"],
            flag=ref["flag"],
            child=known[ref["child"]] if ref["child"] is not None else None,
            fields=ref["fields"],
        )
        for ref in item["references"]
    ]
    return CorrelationRule(
        **{
            **item,
            "info": RuleInfo(**item["info"]),
            "references": references,
            "expression": _condition(item["expression"]) if item["expression"] is not None else None,
        }
    )


def _condition(node: Any) -> Condition | str:
    if isinstance(node, str):
        return node
    return Condition(node["op"], tuple(_condition(arg) for arg in node["args"]))
