"""Caches keyed by input values keep a bounded number of keys, and never a long one."""

from __future__ import annotations

from tocsin.memo import ITEM_COST, bounded_cache, size


def test_a_call_with_long_arguments_is_computed_but_not_kept() -> None:
    calls: list[str] = []

    @bounded_cache(entries=4, longest=10)
    def upper(text: str) -> str:
        calls.append(text)
        return text.upper()

    assert [upper("ab"), upper("ab"), upper("x" * 11), upper("x" * 11)] == ["AB", "AB", "X" * 11, "X" * 11]
    assert calls == ["ab", "x" * 11, "x" * 11]  # the short one computed once, the long one each time
    for number in range(100):
        upper(str(number))
    assert list(upper.remembered) == [("96",), ("97",), ("98",), ("99",)]  # type: ignore[attr-defined]


def test_the_size_of_a_key_counts_every_character_it_holds() -> None:
    assert size("abc") == 3
    assert size(("ab", "cde")) == 2 + 3 + 2 * ITEM_COST
    assert size(("ab", None, ("cd", "e"))) == 2 + 0 + (2 + 1 + 2 * ITEM_COST) + 3 * ITEM_COST
    assert size(None) == size(True) == size(12345) == 0
