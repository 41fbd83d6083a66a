"""The pack on the real samples raises exactly the hand-reviewed alerts of tests/fixtures/real_data_alerts.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SHARED, shared
from tocsin.model.alert import Alert
from tocsin.scan import ScanRequest, run_scan
from tocsin.sources import ParseOptions

FIXTURE = yaml.safe_load((Path(__file__).parent / "fixtures" / "real_data_alerts.yml").read_text())


def _sample_files() -> list[str]:
    """Every cloud and auth log sample (files with no alert included); without ../shared, the files
    the review names, whose tests then skip."""
    if not SHARED.exists():
        return sorted({entry["file"] for entry in FIXTURE["alerts"]})
    return sorted(
        [f"cloud/{p.name}" for p in (SHARED / "cloud").glob("*.jsonl")]
        + [f"authlogs/{p.name}" for p in (SHARED / "authlogs").iterdir() if not p.name.startswith("LICENSE")]
    )


FILES = _sample_files()


def scan(name: str) -> list[Alert]:
    alerts: list[Alert] = []
    run_scan(ScanRequest(paths=[str(shared(name))], parse=ParseOptions(year=2025)), alerts.append)
    return alerts


def key(file: str, rule: str, group: dict[str, Any], events: int, start: str | None) -> tuple[Any, ...]:
    return file, rule, tuple(sorted(group.items())), events, start


@pytest.mark.parametrize("name", FILES)
def test_the_pack_raises_exactly_the_reviewed_alerts(name: str) -> None:
    raised = sorted(
        key(name, a.rule.title, a.group_by or {}, a.event_count, a.document().get("window", {}).get("start"))
        for a in scan(name)
    )
    reviewed = sorted(
        key(e["file"], e["rule"], e["group"], e["events"], e["start"])
        for e in FIXTURE["alerts"]
        if e["file"] == name
    )
    assert raised == reviewed


def test_every_reviewed_alert_is_a_true_positive_with_a_reason() -> None:
    assert FIXTURE["alerts"]
    for entry in FIXTURE["alerts"]:
        assert entry["verdict"] == "true positive", entry  # false positives are fixed, not listed
        assert len(entry["why"]) > 40, entry


@pytest.mark.parametrize("fixed", FIXTURE["fixed"], ids=lambda f: f"{f['file']}: {f['rule']}")
def test_fixed_false_positives_stay_gone(fixed: dict[str, Any]) -> None:
    assert not [a for a in scan(fixed["file"]) if a.rule.title == fixed["rule"]]


def test_alerts_of_records_without_a_time_are_not_dated_1970() -> None:
    assert all(a.timestamp.year > 2000 for a in scan("cloud/gsuite_reports.jsonl"))
