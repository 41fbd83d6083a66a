"""tshark as the oracle: tocsin's events on every shared capture compared row by row with tshark's dissection.

Every difference in a gated protocol must be listed in ``tshark_allowlist.yml`` with its reason; an entry that
no longer matches a difference fails too, so the list stays true. The agreement per protocol is printed
(``pytest -s``) and recorded in the test report.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.conftest import SHARED
from tests.network.oracle import PROTOCOLS, TSHARK, rows

ALLOWLIST = Path(__file__).with_name("tshark_allowlist.yml")
#: The least share of rows on which tocsin and tshark must agree, per gated protocol.
THRESHOLDS = {"http": 0.98, "dns": 0.98, "logins": 0.99}
CAPTURES = SHARED / "pcaps"


def _captures() -> list[Path]:
    return sorted(p for p in CAPTURES.rglob("*") if p.is_file() and ".pcap" in p.name)


@pytest.fixture(scope="module")
def comparison() -> dict[str, tuple[int, int, list[dict[str, str]]]]:
    """Per protocol: (rows agreed, rows in all, the differences as allow-list keys)."""
    if TSHARK is None:
        pytest.skip("tshark is not installed (Debian package tshark)")
    if not CAPTURES.exists():
        pytest.skip(f"shared captures not found under {CAPTURES}")
    result: dict[str, tuple[int, int, list[dict[str, str]]]] = {}
    for protocol in PROTOCOLS:
        agreed = total = 0
        differences: list[dict[str, str]] = []
        for capture in _captures():
            theirs, ours = rows(capture, protocol)
            same = sum((theirs & ours).values())
            # a row both tools have with one field different counts once, not once per tool
            agreed += same
            total += same + max(sum((theirs - ours).values()), sum((ours - theirs).values()))
            name = str(capture.relative_to(CAPTURES))
            for side, extra in (("tshark", theirs - ours), ("tocsin", ours - theirs)):
                differences += [
                    {"capture": name, "only": side, "row": repr(row)}
                    for row in sorted(extra.elements(), key=repr)
                ]
        result[protocol] = (agreed, total, differences)
    return result


def _allowed() -> Counter[tuple[str, str, str, str]]:
    entries = yaml.safe_load(ALLOWLIST.read_text()) or []
    for entry in entries:
        assert entry.get("reason", "").strip(), f"allow-list entry without a reason: {entry}"
    return Counter((e["protocol"], e["capture"], e["only"], e["row"]) for e in entries)


@pytest.mark.slow
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_tocsin_agrees_with_tshark(protocol, comparison, record_property):
    agreed, total, differences = comparison[protocol]
    share = agreed / total if total else 1.0
    record_property(f"agreement_{protocol}", f"{agreed}/{total}")
    print(f"\n{protocol}: {agreed}/{total} rows agree with tshark ({share:.1%}), {len(differences)} differ")
    if protocol not in THRESHOLDS:
        return  # reported, not yet gated (see the report)
    found = Counter((protocol, d["capture"], d["only"], d["row"]) for d in differences)
    allowed = Counter({key: count for key, count in _allowed().items() if key[0] == protocol})
    assert not found - allowed, f"differences with tshark not in {ALLOWLIST.name}: {sorted(found - allowed)}"
    assert not allowed - found, (
        f"stale {ALLOWLIST.name} entries (no longer differ): {sorted(allowed - found)}"
    )
    assert total > 0 and share >= THRESHOLDS[protocol]


def test_the_allow_list_names_real_captures_and_gated_protocols():
    for protocol, capture, only, _ in _allowed():
        assert protocol in THRESHOLDS and only in ("tshark", "tocsin")
        if CAPTURES.exists():
            assert (CAPTURES / capture).is_file(), capture
