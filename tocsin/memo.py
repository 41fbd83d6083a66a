"""Caches of values computed from input, bounded in entries and in the size of the keys they keep.

Input values are written by attackers. A cache keyed by them (addresses, user agents, a record's
key set, an application name) keeps at most ``entries`` keys, and arguments longer than ``longest``
characters in all are computed every time rather than kept: distinct hostile values cannot fill
memory with their own bytes, however many or long they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

Function = TypeVar("Function", bound=Callable[..., Any])


def bounded_cache(entries: int, longest: int) -> Callable[[Function], Function]:
    """An LRU cache of ``entries`` calls, skipped for calls whose arguments hold more than ``longest``
    characters in all (``size``). ``cache_info`` is the LRU cache's."""

    def decorate(function: Function) -> Function:
        cached = functools.lru_cache(maxsize=entries)(function)

        @functools.wraps(function)
        def call(*arguments: Any) -> Any:
            return cached(*arguments) if sum(map(size, arguments)) <= longest else function(*arguments)

        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return cast(Function, call)

    return decorate


def size(value: Any) -> int:
    """The characters an argument holds: a text's length, a tuple's items' sizes plus one each, 0 for
    anything else."""
    if type(value) is str:
        return len(value)
    if type(value) is tuple:
        try:
            return len("".join(value)) + len(value)  # the usual tuple, of texts only: no Python code per item
        except TypeError:
            return sum(map(size, value)) + len(value)
    return 0
