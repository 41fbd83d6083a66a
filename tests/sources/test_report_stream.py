"""The user-report stream: schema, ECS mapping, text fingerprint, format detection, report-abuse rules."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest

from tocsin.detectors.sigma.ruleset import builtin_rules_path
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions
from tocsin.sources.detect import detect_format
from tocsin.sources.report_stream import REPORT_STREAM, content_words, text_fingerprint

CASES = builtin_rules_path() / "report_abuse"

TEMPLATE = (
    "This account spreads hateful propaganda and targets vulnerable minority communities, "
    "violating community guidelines repeatedly. Immediate suspension is required to protect users."
)
UNRELATED = [
    "He keeps replying to my posts with insults after I blocked his other account.",
    "Posted a screenshot of my DMs without consent and is telling people to pile on.",
    "This profile sends me crypto investment links every day, clearly a scam bot.",
    "Repeated slurs in the comment section of the cooking livestream last night.",
    "Impersonating our local bakery and asking customers for card details.",
    "Threatened to find where I live because I disagreed about football.",
]


def report(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "report_id": "r-1",
        "created_at": "2026-03-02T09:00:00Z",
        "platform": "example-social",
        "reporter": {
            "id": "u-77",
            "name": "fresh_acct",
            "account_created_at": "2026-02-28T09:00:00Z",
            "followers": 40,
        },
        "target": {"id": "u-5", "name": "journalist_jane"},
        "reason": "Harassment",
        "text": TEMPLATE,
    }
    record.update(overrides)
    return record


def source_of(*records: dict[str, Any], name: str = "reports.jsonl") -> InputSource:
    data = "\n".join(json.dumps(record) for record in records).encode()
    return InputSource(name=name, open=lambda: io.BufferedReader(io.BytesIO(data)))


def parse(*records: dict[str, Any]) -> tuple[list[Any], InputStats]:
    stats = InputStats("reports.jsonl")
    events = list(PARSERS["report_stream"](ParseOptions()).parse(source_of(*records), stats))
    return events, stats


def test_report_maps_to_ecs_and_report_fields() -> None:
    (event,), stats = parse(report())
    assert stats.skipped_total == 0
    assert event.timestamp == pytest.approx(1772442000.0)
    assert event.logsource == REPORT_STREAM
    assert event.format == "report_stream"
    fields = event.fields
    assert fields["event.id"] == "r-1"
    assert fields["event.kind"] == "event"
    assert fields["event.category"] == "web"
    assert fields["event.action"] == "user-report"
    assert fields["event.provider"] == "example-social"
    assert fields["user.name"] == "fresh_acct" and fields["user.id"] == "u-77"
    assert fields["user.target.name"] == "journalist_jane" and fields["user.target.id"] == "u-5"
    assert fields["tocsin.report.reason"] == "harassment"
    assert fields["message"] == TEMPLATE
    assert fields["tocsin.report.reporter_age_days"] == 2.0
    assert fields["tocsin.report.reporter_followers"] == 40
    assert fields["tocsin.report.reporter_new"] is True
    assert fields["tocsin.report.text_fingerprint"] == text_fingerprint(TEMPLATE)
    assert event.original["reporter"]["name"] == "fresh_acct"


@pytest.mark.parametrize(
    ("reporter", "new"),
    [
        ({"id": "a", "account_age_days": 3, "followers": 900}, True),  # young
        ({"id": "a", "account_age_days": "400", "followers": 2}, True),  # few followers
        ({"id": "a", "account_age_days": 400, "followers": 5}, False),
        ({"id": "a", "account_created_at": "2025-01-01T00:00:00Z", "followers": 80}, False),
        ({"id": "a", "followers": 80}, False),  # age unknown, reputation fine
        ({"id": "a"}, None),  # nothing known: no field
    ],
)
def test_reporter_new_from_age_or_followers(reporter: dict[str, Any], new: bool | None) -> None:
    (event,), _ = parse(report(reporter=reporter))
    assert event.fields.get("tocsin.report.reporter_new") is new
    assert event.fields["user.name"] == "a"  # the id stands in for a missing name


def test_string_accounts_minimal_record_and_bad_records() -> None:
    minimal = {"created_at": 1772442000, "reporter": "u-1", "target": "u-2", "reason": "spam"}
    events, stats = parse(minimal, {"reporter": {}, "target": "u-2", "reason": "spam"}, [1, 2])  # type: ignore[arg-type]
    (event,) = events
    assert event.fields["user.name"] == "u-1" and event.fields["user.target.name"] == "u-2"
    assert event.fields["event.provider"] == "report_stream"
    assert "tocsin.report.text_fingerprint" not in event.fields
    assert stats.skipped_total == 2


def test_detection_picks_report_stream() -> None:
    assert detect_format(source_of(report(), report(report_id="r-2"))) is PARSERS["report_stream"]
    flat = {"created_at": "2026-03-02T09:00:00Z", "reporter": "u-1", "target": "u-2", "text": "spam"}
    assert detect_format(source_of(flat)) is PARSERS["report_stream"]
    assert PARSERS["report_stream"].recognizes({"actor": {}, "target": [], "eventType": "x"}) == 0
    assert PARSERS["report_stream"].recognizes({"reporter": "a", "target": "b"}) == 0


def test_test_cases_are_detected_as_report_stream() -> None:
    for path in CASES.glob("*/positive.jsonl"):
        (source,) = [InputSource(name=str(path), open=lambda p=path: p.open("rb"))]
        assert detect_format(source) is PARSERS["report_stream"], path


@pytest.mark.parametrize(
    "edited",
    [
        TEMPLATE.upper(),
        TEMPLATE.replace(",", "").replace(".", "!!!"),
        "   " + TEMPLATE.replace(" ", "  ") + " #ban",
        " ".join(reversed(TEMPLATE.split())),  # word order does not matter
        TEMPLATE.replace("Immediate", "Urgent"),  # a changed word
        TEMPLATE.replace("propaganda", "content"),
        TEMPLATE.replace("required", "needed").replace("hateful", "hate"),  # two changed words
        TEMPLATE.replace("users", "users and children"),  # added words
    ],
)
def test_light_edits_keep_the_fingerprint(edited: str) -> None:
    assert text_fingerprint(edited) == text_fingerprint(TEMPLATE)


def test_different_texts_get_different_fingerprints() -> None:
    fingerprints = [text_fingerprint(value) for value in [TEMPLATE, *UNRELATED]]
    assert all(fingerprints) and len(set(fingerprints)) == len(fingerprints)


def test_short_texts_have_no_fingerprint() -> None:
    assert text_fingerprint("spam") is None
    assert text_fingerprint("Fake account!!") is None
    assert text_fingerprint(None) is None
    assert content_words("The accounts are SPAMMING") == {"account", "spamming"}


def test_fingerprint_rates_match_the_documented_behaviour() -> None:
    """MinHash: equal with probability = Jaccard similarity of the content-word sets."""
    rng = random.Random(20260302)
    words = TEMPLATE.split()
    vocabulary = [f"filler{i}" for i in range(500)]
    original = text_fingerprint(TEMPLATE)
    for changes, at_least in ((1, 0.8), (2, 0.65)):
        kept = 0
        for _ in range(1000):
            edited = list(words)
            for position in rng.sample(range(len(edited)), changes):
                edited[position] = rng.choice(vocabulary)
            kept += text_fingerprint(" ".join(edited)) == original
        assert kept / 1000 >= at_least, (changes, kept)
    # Two texts of 15 words drawn from 500 share about 3 % of their words: they collide about as rarely.
    texts = [" ".join(rng.sample(vocabulary, 15)) for _ in range(300)]
    fingerprints = [text_fingerprint(value) for value in texts]
    pairs = [(a, b) for i, a in enumerate(fingerprints) for b in fingerprints[i + 1 :]]
    assert sum(a == b for a, b in pairs) / len(pairs) < 0.05


def test_report_abuse_rules_fire_on_their_positive_cases() -> None:
    from tocsin.ruletest.runner import run_tests

    run = run_tests([CASES])
    assert not run.problems
    by_title: dict[str, list[bool]] = {}
    for result in run.results:
        by_title.setdefault(result.title, []).append(result.passed)
    assert set(by_title) == {
        "User Report Filed",
        "Mass Reporting Of One Account",
        "Mass Reporting Of One Account By New Accounts",
        "Near-Identical Reports Against One Account",
        "Reporters Acting Together Again",
    }
    assert all(all(passed) and len(passed) == 2 for passed in by_title.values())


def test_report_abuse_rules_carry_the_playbook_tag() -> None:
    import yaml

    playbook = yaml.safe_load(
        (
            Path(__file__).parents[2] / "tocsin/respond/playbooks/library/coordinated-report-abuse.yml"
        ).read_text()
    )
    for name in ("mass_reporting_one_target", "mass_reporting_new_accounts", "near_identical_reports"):
        rule = next(yaml.safe_load_all((CASES / f"{name}.yml").read_text()))
        assert set(playbook["trigger"]["tags"]) <= set(rule["tags"]), name
        assert "attack.impact" in rule["tags"]
        group = rule["correlation"]["group-by"][0]
        assert group == "user.target.name" and f"group_by.{group}" in playbook["dedup"]
