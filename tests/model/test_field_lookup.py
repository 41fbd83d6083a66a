"""Field paths resolve in nested records ignoring case, the first matching key winning, through lists
of objects to what they resolve to in each, in bounded memory."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.model.event import lookup_path, may_resolve


def first_matching_key(data: dict[str, Any], path: str) -> Any:
    """The lookup as specified, key by key: an exact key first; else, at each part, the first key
    equal (ignoring case) to that part, to descend into, or to the whole rest of the path. At a list,
    the rest of the path in each of its objects, the lists found flattened; None if it is in none."""
    if path in data:
        return data[path]
    current: Any = data
    parts = path.split(".")
    for index, part in enumerate(parts):
        if isinstance(current, list):
            found: list[Any] = []
            for item in current:
                value = first_matching_key(item, ".".join(parts[index:])) if isinstance(item, dict) else None
                found += value if isinstance(value, list) else [] if value is None else [value]
            return found or None
        if not isinstance(current, dict):
            return None
        if part in current:
            current = current[part]
            continue
        rest = ".".join(parts[index:]).lower()
        for key, value in current.items():
            if key.lower() == part.lower():
                current = value
                break
            if key.lower() == rest:
                return value
        else:
            return None
    return current


_KEYS = st.sampled_from(["a", "A", "b", "B", "a.b", "A.B", "a.B", "b.c", "c", "a.b.c", "İ", "i̇", "ß", "SS"])
_VALUES = st.recursive(
    st.integers(0, 9) | st.none(),
    lambda inner: st.dictionaries(_KEYS, inner, max_size=5) | st.lists(inner, max_size=3),
    max_leaves=12,
)
_PATHS = st.lists(st.sampled_from(["a", "A", "b", "B", "c", "C", "İ", "ß", "ss"]), min_size=1, max_size=4)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=6), _PATHS.map(".".join))
def test_a_path_resolves_to_the_first_key_matching_it_ignoring_case(
    record: dict[str, Any], path: str
) -> None:
    assert lookup_path(record, path) == first_matching_key(record, path)
    whole, head = path.lower(), path.partition(".")[0].lower()
    assert may_resolve(tuple(record), path) == any(key.lower() in (whole, head) for key in record)


def test_records_with_thousands_of_keys_do_not_fill_memory() -> None:
    """Each record's own key set (a hostile input's) is looked at without being kept: 5,000 records
    of 500 keys each kept about 190 MB when every key set was cached. (The peak is the process's
    own, ``VmHWM``: ``ru_maxrss`` carries over the parent's from before ``exec``.)"""
    program = """
import re
from pathlib import Path
from tocsin.model.event import Event, LogSource
for n in range(5000):
    original = {f"k{n}_{i}": "v" for i in range(500)}
    Event(None, {}, original, "", LogSource(), "in", str(n), "json").get("eventType")
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1]) // 1024)
"""
    peak_mb = int(
        subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    )
    assert peak_mb < 80


def test_a_path_through_lists_of_objects_gives_each_objects_values() -> None:
    """Entra ID's audit records nest ``modifiedProperties`` in ``targetResources``, both lists."""
    record = {
        "targetResources": [
            {"type": "User", "modifiedProperties": [{"newValue": "a"}, {"newValue": ["b", "c"]}]},
            {"type": "Group", "modifiedProperties": []},
            "not an object",
            {"type": "Device", "modifiedProperties": [{"oldValue": "x"}]},
        ]
    }
    assert lookup_path(record, "TargetResources.modifiedProperties.newValue") == ["a", "b", "c"]
    assert lookup_path(record, "targetResources.type") == ["User", "Group", "Device"]
    assert lookup_path(record, "targetResources.displayName") is None
