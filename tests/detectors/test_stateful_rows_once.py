"""A batch run keeps every stateful row it reads; an event read twice must still play its role once."""

from __future__ import annotations

import json
import math

from tocsin.detectors.stateful.engine import _data, _once, _text


def test_copies_of_a_row_are_passed_over_in_reading_order() -> None:
    rows = [
        ("alice", 1.0, 0, "e1", "{}"),
        ("alice", 1.0, 0, "e2", "{}"),
        ("alice", 1.0, 0, "e1", "{}"),  # e1 read again: same group, time and role, another row between
        ("alice", 1.0, 1, "e1", "{}"),  # the same event in another role plays it too
        ("alice", 2.0, 0, "e3", "{}"),
        ("alice", 2.0, 0, "e3", "{}"),
        ("bob", 2.0, 0, "e3", "{}"),  # another group's key for the same event id
    ]
    assert [(row[2], row[3]) for row in _once(rows)] == [
        (0, "e1"),
        (0, "e2"),
        (1, "e1"),
        (0, "e3"),
        (0, "e3"),
    ]


def test_row_data_reads_back_as_the_json_module_s_text_of_it_does() -> None:
    values = [
        {"ip": "198.51.100.7", "lat": 48.85, "lon": -0.0, "place": "Paris", "ids": [1, 2], "none": None},
        {"ip": "198.51.100.7", "lat": 1e-310, "pid": 2**63 - 1, "ok": True, "agent": None},  # plain values
        {"lat": 48.85, "lon": -math.inf},  # plain values but one: orjson would write null
        {"lat": math.nan, "lon": math.inf},  # orjson would write null
        {"big": 123456789012345678901234567890},  # beyond 64 bits: orjson refuses it
        {"user": "bad\ud800name"},  # a lone surrogate: orjson refuses it
        {1: "a non-text key"},
        {"pair": ("a", "b")},
    ]
    for value in values:
        expected = _data(json.dumps(value, default=str))
        got = _data(_text(value))
        assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True), value


def test_row_data_reads_back_what_json_dumps_wrote() -> None:
    assert _data('{"lat": 48.85, "ids": [1, 2]}') == {"lat": 48.85, "ids": [1, 2]}
    assert _data('{"x": NaN, "big": 123456789012345678901234567890}')["big"] == 123456789012345678901234567890
