"""YAML from files anyone may have written (rules, playbooks, test cases): ``safe_load`` with alias limits,
and parse errors as authors read them.

PyYAML shares an aliased node instead of copying it, so a 572-byte "billion laughs" document loads
quickly — and then expands to gigabytes in whatever walks or serializes it (pySigma, a converter).
Every document is therefore measured as it would be expanded, and refused beyond ``MAX_NODES`` nodes
or ``MAX_ALIASES`` aliases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

#: Aliases (``*name``) in one document: a rule or playbook needs a handful at most.
MAX_ALIASES = 100
#: Nodes of one document once every alias is expanded; the largest SigmaHQ rule has a few thousand.
MAX_NODES = 100_000


class YAMLLimitError(yaml.YAMLError):
    """A document that would expand beyond the limits."""


class _LimitedLoader(yaml.SafeLoader):
    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YAMLLimitError(f"more than {MAX_ALIASES} YAML aliases in one document")
        return super().compose_node(parent, index)

    def compose_document(self) -> Any:
        self._aliases = 0
        node = super().compose_document()
        if node is not None and _expanded_size(node) > MAX_NODES:
            raise YAMLLimitError(f"YAML document expands to more than {MAX_NODES:,} nodes (aliases)")
        return node


def _expanded_size(root: yaml.Node) -> int:
    """Nodes of ``root`` counting every alias as a copy; shared nodes are measured once (memoized), and
    the count stops as soon as it passes the limit."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # nodes whose children are being measured: met again, they are a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = (
            [child for pair in node.value for child in pair]
            if isinstance(node, yaml.MappingNode)
            else node.value
        )
        if not children_done:
            if id(node) in open_nodes:
                return MAX_NODES + 1  # a recursive structure never ends when expanded
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(id(node))
        sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in children), MAX_NODES + 1)
    return sizes[id(root)]


def load(text: str) -> Any:
    """The one document of ``text``; raises ``yaml.YAMLError`` (``YAMLLimitError`` beyond the limits)."""
    return yaml.load(text, Loader=_LimitedLoader)


def load_all(text: str) -> Iterator[Any]:
    """Every document of ``text``, each within the limits."""
    return yaml.load_all(text, Loader=_LimitedLoader)


def describe(exc: Exception, file: Path | str) -> str:
    """One line: ``file:line:column: problem`` (1-based) when the parser knows where, else the problem."""
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.MarkedYAMLError) and mark is not None:
        context = (
            f" ({exc.context} at line {exc.context_mark.line + 1})"
            if exc.context and exc.context_mark
            else ""
        )
        return f"{file}:{mark.line + 1}:{mark.column + 1}: {exc.problem}{context}"
    return " ".join(str(exc).split())
