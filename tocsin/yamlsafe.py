"""YAML from files anyone may have written (rules, playbooks, test cases): ``safe_load`` with alias limits,
and parse errors as authors read them.

PyYAML shares an aliased node instead of copying it, so a 572-byte "billion laughs" document loads
quickly — and then expands to gigabytes in whatever walks or serializes it (pySigma, a converter).
Every document is therefore measured as it would be expanded, and refused beyond ``MAX_NODES`` nodes,
``MAX_ALIASES`` aliases or ``MAX_DEPTH`` levels of nesting (the parsers and pySigma recurse: a deeper
document stopped a whole scan with a RecursionError).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

#: Aliases (``*name``) in one document: a rule or playbook needs a handful at most.
MAX_ALIASES = 100
#: Nodes of one document once every alias is expanded; the largest SigmaHQ rule has a few thousand.
MAX_NODES = 100_000
#: Levels of nesting in one document: a rule needs half a dozen, and the parsers and pySigma recurse.
MAX_DEPTH = 64


class YAMLLimitError(yaml.YAMLError):
    """A document that would expand beyond the limits."""


class _Limited:
    """Each document measured once composed, before it is constructed. Composing shares an aliased
    node instead of copying it, so a hostile document composes in time linear in its size."""

    def get_node(self) -> Any:
        return _within_limits(super().get_node())  # type: ignore[misc]

    def get_single_node(self) -> Any:
        return _within_limits(super().get_single_node())  # type: ignore[misc]


class _PlainLoader(_Limited, yaml.SafeLoader):
    """``safe_load``'s loader: the pure Python parser, whose errors name what they found."""


class _FastLoader(_Limited, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """``safe_load``'s loader on libyaml's parser when PyYAML has it: the same documents, six times
    faster (the built-in pack's YAML was 70% of its loading)."""


def _within_limits(root: yaml.Node | None) -> yaml.Node | None:
    if root is None:
        return None
    if _aliases(root) > MAX_ALIASES:
        raise YAMLLimitError(f"more than {MAX_ALIASES} YAML aliases in one document")
    nodes, depth = _expansion(root)
    if nodes > MAX_NODES:
        raise YAMLLimitError(f"YAML document expands to more than {MAX_NODES:,} nodes (aliases)")
    if depth > MAX_DEPTH:
        raise YAMLLimitError(_TOO_DEEP)
    return root


_TOO_DEEP = f"YAML nested more than {MAX_DEPTH} levels deep"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.ScalarNode):
        return []
    return (
        [child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode) else node.value
    )


def _aliases(root: yaml.Node) -> int:
    """The aliases (``*name``) of a composed document: every reference to a node met before."""
    seen, stack, aliases = {id(root)}, [root], 0
    while stack:
        for child in _children(stack.pop()):
            if id(child) in seen:
                aliases += 1
            else:
                seen.add(id(child))
                stack.append(child)
    return aliases


def _expansion(root: yaml.Node) -> tuple[int, int]:
    """Nodes and levels of ``root`` with every alias expanded into a copy (an alias nested in an
    aliased node nests its levels too). Shared nodes are measured once (memoized), and the count of
    nodes stops past its limit; a recursive structure never ends when expanded: past both limits."""
    measured: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()  # nodes whose children are being measured: met again, they are a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in measured:
            continue
        if isinstance(node, yaml.ScalarNode):
            measured[id(node)] = (1, 1)
            continue
        children = _children(node)
        if not children_done:
            if id(node) in open_nodes:
                return MAX_NODES + 1, MAX_DEPTH + 1
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in measured)
            continue
        open_nodes.discard(id(node))
        below = [measured[id(child)] for child in children]
        nodes = min(1 + sum(count for count, _ in below), MAX_NODES + 1)
        measured[id(node)] = (nodes, 1 + max((depth for _, depth in below), default=0))
    return measured[id(root)]


def load(text: str) -> Any:
    """The one document of ``text``; raises ``yaml.YAMLError`` (``YAMLLimitError`` beyond the limits)."""
    return _read(yaml.load, text)


def load_all(text: str) -> list[Any]:
    """Every document of ``text``, each within the limits."""
    return _read(lambda stream, Loader: list(yaml.load_all(stream, Loader)), text)


def _read(read: Callable[..., Any], text: str) -> Any:
    """``read(text, Loader=…)`` on libyaml; should it refuse the text, the pure Python parser reads it
    again, so that what is accepted and the errors an author reads are that parser's."""
    try:
        try:
            return read(text, Loader=_FastLoader)
        except YAMLLimitError:
            raise
        except yaml.YAMLError:
            return read(text, Loader=_PlainLoader)
    except RecursionError:  # nested beyond what a parser's own recursion can compose
        raise YAMLLimitError(_TOO_DEEP) from None


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
