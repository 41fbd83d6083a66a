"""The one backoff rule the response engine, Elasticsearch shipping and the watch webhook share."""

from __future__ import annotations

from tocsin.retry import backoff


def test_backoff_doubles_from_the_first_pause_up_to_the_cap() -> None:
    pauses = [backoff(attempt, first=0.5, cap=30.0) for attempt in range(1, 10)]
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_backoff_stays_at_the_cap_after_any_number_of_failures() -> None:
    # A webhook endpoint down for days counts hundreds of thousands of failures.
    assert backoff(10**6, first=0.5, cap=60.0) == 60.0


def test_backoff_never_waits_less_than_the_first_pause() -> None:
    assert backoff(0, first=1.0, cap=5.0) == 1.0
    assert backoff(1, first=10.0, cap=5.0) == 5.0
