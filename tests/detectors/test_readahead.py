"""Reading a group ahead to tell whether it can alert holds a bounded number of rows."""

from __future__ import annotations

from collections.abc import Iterator

from tocsin.detectors.readahead import of_enough_kinds


def rows(kinds: str) -> Iterator[tuple[int, str]]:
    yield from enumerate(kinds)


def kind(row: tuple[int, str]) -> str:
    return row[1]


def test_rows_of_enough_kinds_come_back_whole_and_in_order() -> None:
    found = of_enough_kinds(rows("aaab" + "a" * 50), kind, 2)
    assert found is not None and list(found) == list(rows("aaab" + "a" * 50))


def test_rows_of_too_few_kinds_are_none() -> None:
    assert of_enough_kinds(rows("a" * 100), kind, 2) is None


def test_past_the_limit_rows_are_given_without_reading_further() -> None:
    """A group of one kind longer than the limit is given on (it may be fed for nothing), and the
    rows after the limit are not read ahead: memory does not grow with the group."""
    taken: list[int] = []

    def counted() -> Iterator[tuple[int, str]]:
        for row in rows("a" * 100):
            taken.append(row[0])
            yield row

    found = of_enough_kinds(counted(), kind, 2, limit=10)
    assert found is not None and len(taken) == 10
    assert len(list(found)) == 100
