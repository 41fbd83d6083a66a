"""Caches of values computed from input, bounded in entries and in the size of the keys they keep.

Input values are written by attackers. A cache keyed by them (addresses, user agents, a record's
key set, an application name) keeps at most ``entries`` calls, and arguments longer than ``longest``
characters in all are computed every time rather than kept, so a cache holds at most about
``entries`` times ``longest`` characters: distinct hostile values cannot fill memory with their own
bytes, however many or long they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar, cast

Function = TypeVar("Function", bound=Callable[..., Any])
_NOT_REMEMBERED = object()


def bounded_cache(entries: int, longest: int) -> Callable[[Function], Function]:
    """Remember the results of at most ``entries`` calls, the oldest forgotten first; a call whose
    arguments hold more than ``longest`` characters in all (``size``) is computed but not remembered.
    The size is measured only when a call is new, so a repeated call costs one dict look-up.
    ``remembered`` is the dict of remembered calls."""

    def decorate(function: Function) -> Function:
        remembered: dict[tuple[Any, ...], Any] = {}

        @functools.wraps(function)
        def call(*arguments: Any) -> Any:
            result = remembered.get(arguments, _NOT_REMEMBERED)
            if result is not _NOT_REMEMBERED:
                return result
            result = function(*arguments)
            if sum(map(size, arguments)) <= longest:
                if len(remembered) >= entries:
                    with suppress(StopIteration, KeyError, RuntimeError):  # another thread evicted it first
                        del remembered[next(iter(remembered))]
                remembered[arguments] = result
            return result

        call.remembered = remembered  # type: ignore[attr-defined]
        return cast(Function, call)

    return decorate


#: What an item of a tuple costs beside its own characters (a Python object, a pointer), in characters.
ITEM_COST = 64


def size(value: Any) -> int:
    """The characters an argument holds: a text's length; a tuple's items' sizes plus ``ITEM_COST``
    each; 0 for anything else."""
    if type(value) is str:
        return len(value)
    if type(value) is tuple:
        try:
            total = len("".join(value))  # the usual tuple, of texts only: no Python code per item
        except TypeError:
            total = sum(map(size, value))
        return total + ITEM_COST * len(value)
    return 0
