"""Reading one rule file, the one way the engine, the linter and the test runner read it.

A file holds Sigma rules, correlations and filters, or tocsin's stateful rules (see
``tocsin.detectors.stateful.spec``), as YAML documents read with ``tocsin.yamlsafe``'s limits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from tocsin import yamlsafe
from tocsin.detectors.stateful.spec import is_stateful

#: What pySigma raises on malformed rules: its own errors, and plain exceptions from its parsers (a
#: correlation without a condition, a reference to nothing...). The rule is rejected, not the scan.
MALFORMED_RULE_ERRORS = (SigmaError, AttributeError, KeyError, NameError, TypeError, ValueError)

SigmaItem = SigmaRule | SigmaCorrelationRule | SigmaFilter


class RuleFileError(ValueError):
    """A file that holds no rule tocsin can read: ``kind`` is ``yaml`` (not readable as YAML) or
    ``schema`` (YAML, but not rules); the message says why, as the rule's author reads it."""

    def __init__(self, kind: Literal["yaml", "schema"], reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


@dataclass(frozen=True)
class RuleFile:
    """The YAML documents of one rule file (every one a mapping)."""

    path: Path
    text: str
    documents: list[dict[str, Any]]

    @property
    def stateful(self) -> bool:
        """Whether the file holds tocsin's stateful rules rather than Sigma."""
        return is_stateful(self.documents)

    def sigma(self) -> tuple[list[SigmaItem], list[SigmaItem]]:
        """The file's Sigma rules, correlations and filters: those that parsed, and those that did
        not (their ``errors`` say why); RuleFileError when pySigma refuses the file as a whole."""
        try:
            collection = SigmaCollection.from_dicts(
                copy.deepcopy(self.documents),  # parsed once; pySigma edits what it is given (global actions)
                collect_errors=True,
                source=SigmaRuleLocation(self.path),
                resolve_references=False,
                collect_filters=True,
            )
        except MALFORMED_RULE_ERRORS as exc:
            raise RuleFileError("schema", one_line(exc)) from None
        items: list[SigmaItem] = [*collection.rules, *collection.filters]
        return [item for item in items if not item.errors], [item for item in items if item.errors]


def read_rule_file(path: Path) -> RuleFile:
    """The rule file at ``path``; RuleFileError when it is unreadable or holds something else than
    YAML mappings."""
    try:
        text = path.read_text(encoding="utf-8")
        documents = [document for document in yamlsafe.load_all(text) if document is not None]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleFileError("yaml", f"unreadable YAML: {yamlsafe.describe(exc, path)}") from None
    if not documents or not all(isinstance(document, dict) for document in documents):
        raise RuleFileError("schema", "not a Sigma rule (no YAML mapping)")
    return RuleFile(path, text, documents)


def one_line(error: BaseException | str) -> str:
    """An error message on one line, its whitespace collapsed."""
    return " ".join(str(error).split())
