"""Alerts read back from the JSON they are written as; events get their ids one way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import shared
from tocsin.model.alert import Alert, Level
from tocsin.model.event import Event
from tocsin.scan import ReadSummary, ScanRequest, read_events, run_scan
from tocsin.sources import ParseOptions


def _alerts(name: str) -> list[Alert]:
    alerts: list[Alert] = []
    run_scan(ScanRequest(paths=[str(shared(name))], parse=ParseOptions(year=2025)), alerts.append)
    return alerts


def test_alerts_of_a_real_scan_read_back_from_their_json_unchanged() -> None:
    alerts = _alerts("authlogs/OpenSSH_2k.log")
    assert alerts
    for alert in alerts:
        written = json.loads(json.dumps(alert.document()))
        assert isinstance(written["rule"]["level"], str)
        assert Alert.model_validate(written) == alert


def test_a_level_name_reads_back_whatever_its_case_and_an_unknown_one_is_refused() -> None:
    document = _alerts("authlogs/OpenSSH_2k.log")[0].document()
    document["rule"]["level"] = "CRITICAL"
    assert Alert.model_validate(document).level is Level.critical
    document["rule"]["level"] = "severe"
    with pytest.raises(ValidationError, match="unknown level 'severe'"):
        Alert.model_validate(document)


def _first_event() -> Event:
    events = read_events(
        [str(shared("authlogs/OpenSSH_2k.log"))], None, ParseOptions(year=2025), ReadSummary()
    )
    return next(events)


def test_an_event_id_is_a_digest_of_where_it_was_read_and_its_record() -> None:
    event = _first_event()
    default = event.id
    assert event.identify(event.input, event.offset) == default
    assert event.identify("followed-key", event.offset) != default
    assert event.id == event.identify("followed-key", event.offset)  # the reader's scope stays the id
    event.raw += " "
    assert event.identify(event.input, event.offset) != default


def test_values_that_look_like_times_are_written_as_they_were_read(tmp_path: Path) -> None:
    """Only the alert's own times are written in UTC 'Z' form; a user name ending like a time
    offset is hostile input and stays exactly as it was (it used to lose its ``+00:00``)."""
    log = tmp_path / "auth.log"
    name = "evilT1+00:00"
    log.write_text(
        "".join(f"Jan  5 10:00:{second:02} host sshd[1]: Failed password for {name} from 1.2.3.4 port 22 ssh2\n"
                for second in range(30))
    )  # fmt: skip
    alerts: list[Alert] = []
    run_scan(
        ScanRequest(paths=[str(log)], parse=ParseOptions(year=2025), min_level=Level.informational),
        alerts.append,
    )
    assert alerts
    for alert in alerts:
        document = json.loads(alert.json_text())
        assert document == alert.document()
        assert document["user"]["name"] == name
        assert document["@timestamp"].startswith("2025-01-05T10:00:") and document["@timestamp"].endswith("Z")


def test_an_events_own_tocsin_fields_stay_in_its_document() -> None:
    """A parser's tocsin.* fields (the vendor's anonymising-proxy verdict on okta.jsonl) are written
    beside the format and log source, so a cluster hunt can match on them as a local scan does."""
    events = list(read_events([str(shared("cloud/okta.jsonl"))], None, ParseOptions(), ReadSummary()))
    flagged = [event for event in events if event.fields.get("tocsin.source.anonymizer")]
    assert flagged
    for event in flagged:
        document = event.to_document()
        assert document["tocsin"]["source"] == {"anonymizer": True}
        assert document["tocsin"]["format"] == "okta" and document["tocsin"]["logsource"]
