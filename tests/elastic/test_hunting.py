"""Hunting without a cluster: the queries each built-in rule becomes, and the document round trip
that lets a hunt reproduce the local engine's alerts exactly."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import shared
from tests.detectors.test_correlations import correlation
from tocsin.detectors.sigma.engine import SigmaEngine
from tocsin.detectors.sigma.ruleset import builtin_rules_path
from tocsin.elastic.convert import convert
from tocsin.elastic.hunting import candidate_query, event_from_hit, in_reading_order, parse_since
from tocsin.elastic.shipping import event_action
from tocsin.scan import ReadSummary, ScanRequest, load_ruleset, read_events, run_scan
from tocsin.sources import ParseOptions
from tocsin.storage.sqlite import connect

AUTH = [builtin_rules_path() / "authentication"]
#: The record of an attempt: typed start, untyped (an ECS export without event.type), or Elastic's sshd one.
FAILURE = (
    "(event.category:authentication AND event.outcome:failure) AND "
    "(event.type:start OR (NOT _exists_:event.type) OR (event.type:info AND event.action:ssh_login))"
)
FAILURE_ESQL = (
    'event.category=="authentication" and event.outcome=="failure" and '
    '(event.type=="start" or event.type is null or event.type=="info" and event.action=="ssh_login")'
)
FAILURE_EQL = (
    '(event.category:"authentication" and event.outcome:"failure") and '
    '(event.type:"start" or (?event.type == null) or (event.type:"info" and event.action:"ssh_login"))'
)
SUCCESS_EQL = FAILURE_EQL.replace("failure", "success")
EXPECTED = {
    "Failed Authentication": ("lucene", FAILURE),
    "Successful Authentication": ("lucene", FAILURE.replace("failure", "success")),
    "Brute Force From One Source": (
        "esql",
        (
            f"from logs-tocsin.events-* metadata _id, _index, _version | where {FAILURE_ESQL}\n"
            "| eval timebucket=date_trunc(10minutes, @timestamp) | stats event_count=count() by timebucket, source.address\n"
            "| where event_count >= 10"
        ),
    ),
    "Password Spraying From One Source": (
        "esql",
        (
            f"from logs-tocsin.events-* metadata _id, _index, _version | where {FAILURE_ESQL}\n"
            "| eval timebucket=date_trunc(1hours, @timestamp) | stats value_count=count_distinct(user.name) by timebucket, source.address\n"
            "| where value_count >= 10"
        ),
    ),
    "Repeated Failed Authentications For One Account": (
        "esql",
        (
            f"from logs-tocsin.events-* metadata _id, _index, _version | where {FAILURE_ESQL}\n"
            "| eval timebucket=date_trunc(10minutes, @timestamp) | stats event_count=count() by timebucket, user.name\n"
            "| where event_count >= 5"
        ),
    ),
    "Successful Authentication After Repeated Failures": (
        "eql",
        (
            "sequence by user.name with maxspan=1800s\n"
            f" [any where {FAILURE_EQL}] with runs=5\n [any where {SUCCESS_EQL}]"
        ),
    ),
}


def test_each_builtin_authentication_rule_converts_to_its_query():
    converted = {c.rule.title: (c.language, c.query) for c in convert(AUTH)}
    assert converted == EXPECTED


def test_every_builtin_rule_converts():
    failures = [(c.rule.title, c.error) for c in convert([builtin_rules_path()]) if c.error]
    assert failures == []


def test_a_correlation_naming_its_rules_only_in_its_condition_is_reported_not_fatal(tmp_path):
    """pySigma leaves ``rules`` None when the condition names them; converting used to raise TypeError."""
    (tmp_path / "rules.yml").write_text(
        correlation("temporal", "    condition: failed_login and successful_login", group_by="user.name")
    )
    converted = {c.rule.title: c for c in convert([tmp_path])}
    assert converted["failed login"].error is None and converted["successful login"].error is None
    assert "not supported" in (converted["temporal correlation"].error or "")


def test_the_hunt_searches_the_union_of_single_event_rules():
    query, count, problems = candidate_query(AUTH, {})
    assert (query, count, problems) == (f"({FAILURE}) OR ({FAILURE.replace('failure', 'success')})", 2, [])


def test_shipped_documents_give_back_the_same_events_and_the_same_alerts():
    sample = str(shared("authlogs/OpenSSH_2k.log"))
    events = list(read_events([sample], None, ParseOptions(), ReadSummary()))
    hits = [{"_id": action["_id"], "_source": action["_source"]} for action in map(event_action, events)]
    restored = [event_from_hit(hit) for hit in hits]
    for before, after in zip(events, restored, strict=True):
        assert (after.id, after.timestamp, after.raw, after.original) == (
            before.id,
            before.timestamp,
            before.raw,
            before.original,
        )
        assert after.logsource == before.logsource and after.fields == before.fields
    local = []
    run_scan(ScanRequest([sample]), local.append)
    with tempfile.TemporaryDirectory() as workdir:
        engine = SigmaEngine(load_ruleset(ScanRequest([sample])), connect(str(Path(workdir) / "e.db")))
        hunted = engine.process(restored) + engine.finish()
    assert [a.document() for a in hunted] == [a.document() for a in local] and local


def test_since_accepts_durations_and_times():
    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_since("24h", now) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_since("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)


def test_hits_of_equal_time_come_in_reading_order_across_pages():
    def hit(millis: int, epoch: float, path: str, offset: str) -> dict:
        return {
            "sort": [millis],
            "_source": {"tocsin": {"epoch": epoch}, "log": {"file": {"path": path}, "offset": offset}},
        }

    ordered = [
        hit(1, 0.001, "/a", "2"),
        hit(1, 0.001, "/a", "9"),
        hit(1, 0.001, "/a", "10"),
        hit(1, 0.001, "/a", "10#1"),
        hit(1, 0.001, "/b", "1"),
        hit(1, 0.0015, "/a", "3"),
        hit(2, 0.002, "/a", "11"),
    ]
    shuffled = [ordered[i] for i in (4, 2, 0, 5, 3, 1, 6)]
    pages = [shuffled[:2], shuffled[2:5], [], shuffled[5:]]
    out = list(in_reading_order(pages))
    assert [h for page in out for h in page] == ordered
    assert all(page for page in out)
