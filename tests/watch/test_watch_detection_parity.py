"""watch runs the same detection pipeline as scan: the user's YARA rules and a GeoIP database included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.watch.helpers import Watcher, wait_for
from tocsin.detectors.sigma.ruleset import builtin_rules_path

YARA_RULE = """
rule tocsin_watch_marker
{
    meta:
        description = "A marker planted by the test"
    strings:
        $marker = "TOCSIN-WATCH-MARKER-7f3a"
    condition:
        $marker
}
"""


def test_user_yara_rules_run_over_appended_data(tmp_path: Path) -> None:
    rules = tmp_path / "marker.yar"
    rules.write_text(YARA_RULE)
    watcher = Watcher(tmp_path, "--yara", str(rules), "--min-level", "informational")
    watcher.start()
    with open(watcher.logs / "app.log", "a", encoding="utf-8") as stream:
        stream.write("2025-01-01T09:00:00+00:00 web1 app[7]: uploaded TOCSIN-WATCH-MARKER-7f3a\n")
    wait_for(
        lambda: any("tocsin_watch_marker" in alert["rule"]["id"] for alert in watcher.delivered()),
        what="the YARA alert",
    )
    assert watcher.stop() == 0


def test_geoip_locates_logins_for_impossible_travel(tmp_path: Path) -> None:
    """sshd records no location: only the MaxMind database can tell Atlanta from Sydney."""
    pytest.importorskip("geoip2", reason="geoip2 (tocsin[geoip]) is not installed")
    writer_module = pytest.importorskip("mmdb_writer", reason="mmdb-writer (test extra) is not installed")
    from netaddr import IPSet

    database = tmp_path / "city.mmdb"
    writer = writer_module.MMDBWriter(ip_version=4, database_type="GeoLite2-City", languages=["en"])
    for address, city, lat, lon in (
        ("99.108.5.25/32", "Atlanta", 33.98, -84.35),
        ("1.144.110.23/32", "Sydney", -33.87, 151.21),
    ):
        writer.insert_network(
            IPSet([address]),
            {"city": {"names": {"en": city}}, "location": {"latitude": lat, "longitude": lon}},
        )
    writer.to_db_file(str(database))
    watcher = Watcher(
        tmp_path, "--rules", str(builtin_rules_path() / "account_takeover"), "--geoip", str(database)
    )
    watcher.start()
    with open(watcher.logs / "auth.log", "a", encoding="utf-8") as stream:
        stream.write(
            "2025-01-01T09:00:00+00:00 bastion sshd[11]: Accepted password for alice from 99.108.5.25 port 50022 ssh2\n"
        )
        stream.flush()
        stream.write(
            "2025-01-01T09:40:00+00:00 bastion sshd[12]: Accepted password for alice from 1.144.110.23 port 50023 ssh2\n"
        )
    wait_for(
        lambda: any(alert["rule"]["title"] == "Impossible Travel" for alert in watcher.delivered()),
        what="the impossible travel alert",
    )
    assert watcher.stop() == 0
    travel = next(alert for alert in watcher.delivered() if alert["rule"]["title"] == "Impossible Travel")
    assert "Atlanta" in travel["message"] and "Sydney" in travel["message"]
