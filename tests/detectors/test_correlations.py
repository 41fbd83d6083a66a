"""Each correlation type, with group-by and timespan, and independence from input order."""

from __future__ import annotations

import random

from tests.engine_helpers import make_event, ruleset_from, run

BASE = """
title: failed login
id: 00000000-0000-4000-8000-0000000000f1
name: failed_login
logsource:
    category: authentication
detection:
    selection:
        event.outcome: failure
    condition: selection
level: low
---
title: successful login
id: 00000000-0000-4000-8000-0000000000f2
name: successful_login
logsource:
    category: authentication
detection:
    selection:
        event.outcome: success
    condition: selection
level: low
"""


def correlation(kind: str, body: str, timespan: str = "10m", group_by: str = "source.ip") -> str:
    return (
        BASE
        + f"""---
title: {kind} correlation
id: 00000000-0000-4000-8000-0000000000c1
correlation:
    type: {kind}
{body}
    group-by:
        - {group_by}
    timespan: {timespan}
level: high
"""
    )


T0 = 1_700_000_000.0


def failures(ip: str, count: int, start: float = T0, step: float = 10, user: str = "root", **extra):
    return [
        make_event(
            T0 if start is None else start + i * step,
            event__outcome="failure",
            source__ip=ip,
            user__name=user if user != "*" else f"user{i}",
            offset=f"{ip}-{start}-{i}",
            **extra,
        )
        for i in range(count)
    ]


def test_event_count_merges_a_burst_into_one_alert_per_group(tmp_path):
    rules = ruleset_from(
        tmp_path, correlation("event_count", "    rules: [failed_login]\n    condition:\n        gte: 5")
    )
    events = failures("1.1.1.1", 12) + failures("2.2.2.2", 4)
    alerts = run(rules, events)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.rule.type == "correlation"
    assert alert.event_count == 12
    assert alert.group_by == {"source.ip": "1.1.1.1"}
    assert alert.source == {"ip": "1.1.1.1", "address": "1.1.1.1"} and alert.user == {"name": "root"}
    assert sorted(alert.evidence) == sorted(e.id for e in events[:12])
    assert alert.window.start.timestamp() == T0 and alert.window.end.timestamp() == T0 + 110


def test_event_count_separate_bursts_are_separate_alerts(tmp_path):
    rules = ruleset_from(
        tmp_path, correlation("event_count", "    rules: [failed_login]\n    condition:\n        gte: 5")
    )
    events = failures("1.1.1.1", 5) + failures("1.1.1.1", 5, start=T0 + 7200)
    assert sorted(a.event_count for a in run(rules, events)) == [5, 5]


def test_groups_with_just_enough_events_for_the_condition_alert(tmp_path):
    """Groups with fewer candidate rows than a count condition needs are not evaluated at all: the
    bound must let through a group holding exactly enough."""
    for condition, enough in (("gt: 4", 5), ("gte: 4", 4), ("eq: 3", 3)):
        body = f"    rules: [failed_login]\n    condition:\n        {condition}"
        rules = ruleset_from(tmp_path, correlation("event_count", body))
        events = failures("1.1.1.1", enough) + failures("2.2.2.2", enough - 1)
        assert [a.group_by for a in run(rules, events)] == [{"source.ip": "1.1.1.1"}], condition


def test_event_count_respects_timespan(tmp_path):
    rules = ruleset_from(
        tmp_path, correlation("event_count", "    rules: [failed_login]\n    condition:\n        gte: 5")
    )
    assert run(rules, failures("1.1.1.1", 8, step=200)) == []  # 5 events never fall within 10 minutes


def test_value_count_counts_distinct_values(tmp_path):
    body = "    rules: [failed_login]\n    condition:\n        gte: 4\n        field: user.name"
    rules = ruleset_from(tmp_path, correlation("value_count", body))
    spray = failures("3.3.3.3", 6, user="*")
    brute = failures("4.4.4.4", 20)
    alerts = run(rules, spray + brute)
    assert [(a.group_by, a.metric["value"]) for a in alerts] == [({"source.ip": "3.3.3.3"}, 6)]


def test_temporal_needs_every_rule_in_the_window(tmp_path):
    body = "    rules: [failed_login, successful_login]"
    rules = ruleset_from(tmp_path, correlation("temporal", body, group_by="user.name"))
    ok = make_event(T0 - 60, event__outcome="success", user__name="root", offset="s1")
    events = [*failures("1.1.1.1", 2), ok]
    lonely = make_event(T0, event__outcome="success", user__name="alice", offset="s2")
    alerts = run(rules, [*events, lonely])
    assert len(alerts) == 1 and alerts[0].group_by == {"user.name": "root"}
    assert set(alerts[0].evidence) == {e.id for e in events}


def test_temporal_with_a_threshold_alerts_on_as_few_rules_as_it_allows(tmp_path):
    """A group whose events come from fewer referenced rules than a condition without a threshold
    needs is passed over unread, but only below the threshold: ``gte: 1`` alerts on one rule's
    events, ``lte: 1`` too, and without a condition one rule's events never alert."""
    events = [*failures("1.1.1.1", 2, user="bob")]
    for condition, expected in [("gte: 1", 1), ("lte: 1", 1), ("gte: 2", 0), (None, 0)]:
        body = "    rules: [failed_login, successful_login]"
        if condition:
            body += f"\n    condition:\n        {condition}"
        rules = ruleset_from(tmp_path, correlation("temporal", body, group_by="user.name"))
        assert len(run(rules, events)) == expected, condition


def test_temporal_ordered_requires_the_order(tmp_path):
    body = "    rules: [failed_login, successful_login]"
    rules = ruleset_from(tmp_path, correlation("temporal_ordered", body, group_by="user.name"))
    in_order = [
        *failures("1.1.1.1", 3, user="bob"),
        make_event(T0 + 100, event__outcome="success", user__name="bob", offset="ok-bob"),
    ]
    reversed_order = [
        make_event(T0 - 100, event__outcome="success", user__name="eve", offset="ok-eve"),
        *failures("1.1.1.1", 3, user="eve"),
    ]
    alerts = run(rules, in_order + reversed_order)
    assert [a.group_by for a in alerts] == [{"user.name": "bob"}]


def test_events_of_one_second_keep_the_order_they_were_read_in(tmp_path):
    """Equal times are ordered as the log has them, also when the rows are written grouped by the
    rules they match: bob failed then succeeded; eve succeeded then failed."""
    body = "    rules: [failed_login, successful_login]"
    rules = ruleset_from(tmp_path, correlation("temporal_ordered", body, group_by="user.name"))
    events = [
        make_event(T0, event__outcome="failure", user__name="bob", offset="1"),
        make_event(T0, event__outcome="success", user__name="eve", offset="2"),
        make_event(T0, event__outcome="success", user__name="bob", offset="3"),
        make_event(T0, event__outcome="failure", user__name="eve", source__ip="10.0.0.1", offset="4"),
    ]
    alerts = run(rules, events)
    assert [a.group_by for a in alerts] == [{"user.name": "bob"}]


def test_value_sum_and_value_avg(tmp_path):
    sum_rules = ruleset_from(
        tmp_path / "sum",
        correlation(
            "value_sum",
            "    rules: [failed_login]\n    condition:\n        gte: 1000\n        field: network.bytes",
        ),
    )
    events = failures("5.5.5.5", 4, network__bytes=300) + failures("6.6.6.6", 4, network__bytes=10)
    assert [a.group_by["source.ip"] for a in run(sum_rules, events)] == ["5.5.5.5"]
    avg_rules = ruleset_from(
        tmp_path / "avg",
        correlation(
            "value_avg",
            "    rules: [failed_login]\n    condition:\n        gt: 100\n        field: network.bytes",
        ),
    )
    assert [a.group_by["source.ip"] for a in run(avg_rules, events)] == ["5.5.5.5"]


def test_results_do_not_depend_on_input_order_or_batching(tmp_path):
    body = "    rules: [failed_login]\n    condition:\n        gte: 5"
    rules = ruleset_from(tmp_path, correlation("event_count", body))
    events = failures("1.1.1.1", 30, step=7) + failures("2.2.2.2", 6, step=50) + failures("3.3.3.3", 3)
    expected = {(a.id, a.event_count) for a in run(rules, events)}
    assert len(expected) == 2
    shuffled = events[:]
    random.Random(4).shuffle(shuffled)
    rules_again = ruleset_from(tmp_path / "again", correlation("event_count", body))
    assert {(a.id, a.event_count) for a in run(rules_again, shuffled, batch_size=7)} == expected


def test_nested_correlation_success_after_repeated_failures(tmp_path):
    from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules

    rules = load_rules([builtin_rules_path()])
    events = failures("9.9.9.9", 6, user="carol", event__category="authentication", event__type="start")
    events.append(
        make_event(
            T0 + 300,
            event__outcome="success",
            event__category="authentication",
            event__type="start",
            user__name="carol",
            source__ip="9.9.9.9",
            offset="win",
        )
    )
    titles = [a.rule.title for a in run(rules, events)]
    assert "Successful Authentication After Repeated Failures" in titles


def test_value_median_and_value_percentile(tmp_path):
    events = failures("7.7.7.7", 5, network__bytes=1000) + failures("8.8.8.8", 5, network__bytes=10)
    median = ruleset_from(
        tmp_path / "median",
        correlation(
            "value_median",
            "    rules: [failed_login]\n    condition:\n        gte: 500\n        field: network.bytes",
        ),
    )
    assert [a.group_by["source.ip"] for a in run(median, events)] == ["7.7.7.7"]
    spiky = failures("9.9.9.9", 9, network__bytes=1) + failures(
        "9.9.9.9", 1, start=T0 + 95, network__bytes=10_000
    )
    percentile = ruleset_from(
        tmp_path / "p95",
        correlation(
            "value_percentile",
            "    rules: [failed_login]\n    condition:\n        gte: 1000\n        field: network.bytes\n"
            "        percentile: 95",
        ),
    )
    alerts = run(percentile, spiky + events)
    assert sorted(a.group_by["source.ip"] for a in alerts) == ["7.7.7.7", "9.9.9.9"]


def test_temporal_with_a_boolean_condition_and_no_rules_list(tmp_path):
    """Sigma lets the condition name the rules (no ``rules:``); loading used to fail on the missing list."""
    body = "    condition: failed_login and not successful_login"
    rules = ruleset_from(tmp_path, correlation("temporal", body, group_by="user.name"))
    assert rules.errors == []
    ok = make_event(T0 - 60, event__outcome="success", user__name="root", offset="s1")
    alerts = run(rules, [*failures("1.1.1.1", 2), ok, *failures("2.2.2.2", 2, user="bob")])
    assert [a.group_by for a in alerts] == [{"user.name": "bob"}]


def test_condition_field_given_as_a_list(tmp_path):
    """A one-field list works as the field; several fields are refused with a reason, not a crash."""
    one = "    rules: [failed_login]\n    condition:\n        gte: 4\n        field: [user.name]"
    rules = ruleset_from(tmp_path / "one", correlation("value_count", one))
    assert [a.group_by for a in run(rules, failures("3.3.3.3", 6, user="*"))] == [{"source.ip": "3.3.3.3"}]
    two = "    rules: [failed_login]\n    condition:\n        gte: 4\n        field: [user.name, host.name]"
    rules = ruleset_from(tmp_path / "two", correlation("value_count", two))
    assert rules.correlations == []
    assert [error.reason for error in rules.errors] == ["a condition on 2 fields is not supported"]


def test_a_nested_correlation_reads_the_fields_its_child_groups_by(tmp_path):
    # url.domain is no entity field and only the child groups its building block's rows by it.
    rules = ruleset_from(
        tmp_path,
        BASE
        + """---
title: failure burst
id: 00000000-0000-4000-8000-0000000000c3
name: failure_burst
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - url.domain
    timespan: 10m
    condition:
        gte: 3
level: low
---
title: burst then success
id: 00000000-0000-4000-8000-0000000000c4
correlation:
    type: temporal_ordered
    rules:
        - failure_burst
        - successful_login
    group-by:
        - url.domain
    timespan: 30m
level: high
""",
    )
    events = failures("9.9.9.9", 3, url__domain="app.example")
    events.append(make_event(T0 + 300, event__outcome="success", url__domain="app.example", offset="ok"))
    alerts = run(rules, events)
    assert [(alert.rule.title, alert.group_by) for alert in alerts] == [
        ("burst then success", {"url.domain": "app.example"})
    ]


def _chain(length: int) -> str:
    """``base`` then correlations c1..c<length>, each counting the one before it."""
    links = []
    for index in range(1, length + 1):
        below = "failed_login" if index == 1 else f"c{index - 1}"
        links.append(
            f"title: c{index}\nid: 00000000-0000-4000-8000-{index:012d}\nname: c{index}\ncorrelation:\n"
            f"    type: event_count\n    rules: [{below}]\n    group-by: [source.ip]\n    timespan: 10m\n"
            "    condition: {gte: 1}\nlevel: high\n"
        )
    return BASE + "---\n" + "---\n".join(links)


def test_correlations_nested_beyond_ten_levels_are_refused_and_the_rest_runs(tmp_path):
    from tocsin.detectors.sigma.correlation import MAX_NESTING

    deep = ruleset_from(tmp_path / "deep", _chain(1500))  # evaluated recursively, this stopped the scan
    refused = [error.reason for error in deep.errors]
    assert f"nests correlations {MAX_NESTING + 1} deep, beyond the limit of {MAX_NESTING}" in refused
    assert (
        len(refused) == 1500 - MAX_NESTING
    )  # and every correlation above it: it refers to one that did not load
    run(deep, failures("9.9.9.9", 3))  # no RecursionError
    chain = ruleset_from(tmp_path / "chain", _chain(MAX_NESTING))
    assert not chain.errors
    assert [alert.rule.title for alert in run(chain, failures("9.9.9.9", 3))] == [f"c{MAX_NESTING}"]
