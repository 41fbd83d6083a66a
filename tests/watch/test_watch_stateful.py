"""Stateful rules run in ``tocsin watch`` too: impossible travel across two Okta logins appended live."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import shared
from tests.watch.helpers import Watcher, wait_for
from tocsin.detectors.sigma.ruleset import builtin_rules_path


def okta_login(template: dict, published: str, ip: str, city: str, lat: float, lon: float) -> str:
    """A real Okta ``user.session.start`` record with its time, address and place replaced."""
    record = json.loads(json.dumps(template))
    record["published"] = published
    record["client"]["ipAddress"] = ip
    record["client"]["geographicalContext"].update(city=city, geolocation={"lat": lat, "lon": lon})
    record.pop("request", None)
    return json.dumps(record)


def test_impossible_travel_is_detected_live_and_once(tmp_path: Path) -> None:
    samples = shared("cloud/okta.jsonl").read_text().splitlines()
    template = next(
        json.loads(line) for line in samples
        if '"user.session.start"' in line and '"SUCCESS"' in line and '"geolocation"' in line
    )  # fmt: skip
    watcher = Watcher(tmp_path, "--rules", str(builtin_rules_path() / "account_takeover"))
    watcher.start()
    log = watcher.logs / "okta.jsonl"
    with open(log, "a", encoding="utf-8") as stream:
        stream.write(
            okta_login(template, "2024-04-02 09:00:00.000", "99.108.5.25", "Atlanta", 33.98, -84.35) + "\n"
        )
    wait_for(lambda: len(watcher.committed_raw()) == 1, what="the first login committed")
    with open(log, "a", encoding="utf-8") as stream:  # 40 minutes later from Sydney: ~15,000 km
        stream.write(
            okta_login(template, "2024-04-02 09:40:00.000", "1.144.110.23", "Sydney", -33.87, 151.21) + "\n"
        )
    wait_for(
        lambda: any(a["rule"]["title"] == "Impossible Travel" for a in watcher.delivered()), what="the alert"
    )
    with open(log, "a", encoding="utf-8") as stream:  # a later login from Sydney: no new travel
        stream.write(
            okta_login(template, "2024-04-02 11:00:00.000", "1.144.110.23", "Sydney", -33.87, 151.21) + "\n"
        )
    wait_for(lambda: len(watcher.committed_raw()) == 3, what="the third login committed")
    assert watcher.stop() == 0
    travel = [a for a in watcher.delivered() if a["rule"]["title"] == "Impossible Travel"]
    assert len(travel) == 1
    assert travel[0]["user"]["name"] == template["actor"]["alternateId"]
    assert "Sydney" in travel[0]["message"] and "Atlanta" in travel[0]["message"]
