"""Cloud identity-provider parsers: detection, whole-file parsing, ECS mapping of real and inline records."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import shared
from tocsin.model.event import Event
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions
from tocsin.sources.detect import detect_format
from tocsin.sources.inputs import resolve_inputs

SAMPLES = {
    "okta.jsonl": "okta",
    "aws_cloudtrail.jsonl": "cloudtrail",
    "azure_signin.jsonl": "entra",
    "gsuite_activityevent.jsonl": "google_workspace",
    "gsuite_reports.jsonl": "google_workspace",
    "auth0.jsonl": "auth0",
    "duo.jsonl": "duo",
    "onelogin.jsonl": "onelogin",
    "github.jsonl": "github",
}


def epoch(text: str) -> float:
    """Epoch seconds of an ISO 8601 UTC time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def sample_source(name: str) -> InputSource:
    """The input source of a sample file under ../shared/data/cloud."""
    (source,) = list(resolve_inputs([str(shared(f"cloud/{name}"))]))
    assert isinstance(source, InputSource)
    return source


def parse_sample(name: str) -> tuple[dict[int, Event], InputStats]:
    """Events of a sample file by line number, and the parse statistics."""
    stats = InputStats(name)
    events = PARSERS[SAMPLES[name]](ParseOptions()).parse(sample_source(name), stats)
    return {int(event.offset): event for event in events}, stats


def parse_records(format_name: str, *records: dict[str, Any]) -> list[Event]:
    """Events parsed from inline records written as JSON Lines; nothing may be skipped."""
    data = "\n".join(json.dumps(record) for record in records).encode()
    source = InputSource(name="inline.jsonl", open=lambda: io.BufferedReader(io.BytesIO(data)))
    stats = InputStats("inline.jsonl")
    events = list(PARSERS[format_name](ParseOptions()).parse(source, stats))
    assert stats.skipped_total == 0
    return events


def assert_fields(event: Event, **expected: Any) -> None:
    """Compare ECS fields given with ``__`` for dots (``user__name``)."""
    actual = {key: event.fields.get(key.replace("__", ".")) for key in expected}
    assert actual == expected


@pytest.mark.parametrize(("name", "format_name"), sorted(SAMPLES.items()))
def test_sample_is_detected_as_its_format(name: str, format_name: str) -> None:
    parser = detect_format(sample_source(name))
    assert parser is not None and parser.name == format_name


@pytest.mark.parametrize("name", sorted(set(SAMPLES) - {"okta.jsonl"}))
def test_sample_parses_without_skipping(name: str) -> None:
    events, stats = parse_sample(name)
    lines = [line for line in shared(f"cloud/{name}").read_text().splitlines() if line.strip()]
    assert stats.skipped_total == 0
    assert stats.records == stats.events == len(events) == len(lines)
    assert all(event.fields.get("event.provider") for event in events.values())
    assert all(event.fields.get("event.dataset") for event in events.values())


def test_okta_skips_only_panther_anomaly_rows() -> None:
    """Rows of Panther's scheduled anomaly queries (baselines, z-scores) are no System Log events."""
    events, stats = parse_sample("okta.jsonl")
    rows = [json.loads(line) for line in shared("cloud/okta.jsonl").read_text().splitlines()]
    anomaly_rows = {number for number, row in enumerate(rows, 1) if not {"eventType", "eventtype"} & set(row)}
    assert all("anomaly_severity_score" in rows[number - 1] for number in anomaly_rows)
    assert len(anomaly_rows) == 26 and stats.skipped == {"not a okta record": 26}
    assert set(events) == set(range(1, len(rows) + 1)) - anomaly_rows


def test_okta_sample_sign_ins() -> None:
    events, _ = parse_sample("okta.jsonl")
    failed, succeeded, mfa = events[21], events[37], events[32]
    assert_fields(
        failed,
        event__action="user.session.start",
        event__category="authentication",
        event__type="start",
        event__outcome="failure",
        event__reason="INVALID_CREDENTIALS",
        user__name="homer.simpson@duff.com",
        source__ip="1.3.2.4",
        source__as__number=701,
        tocsin__session__id="100-abc-9999",
        source__geo__city_name="Springfield",
    )
    assert failed.timestamp == epoch("2022-06-22T18:18:29.015")
    assert failed.logsource.accepts("okta", "okta", "authentication")
    assert_fields(
        succeeded, event__outcome="success", user__name="casey.hill@hey.com", source__ip="99.108.5.25"
    )
    assert succeeded.timestamp == epoch("2024-04-02T19:17:37.621")
    assert_fields(mfa, event__action="user.authentication.auth_via_mfa", tocsin__mfa__result="approved")


def test_okta_sample_admin_change() -> None:
    events, _ = parse_sample("okta.jsonl")
    assert_fields(
        events[19],
        event__action="user.account.privilege.grant",
        event__category="iam",
        event__type="change",
        user__name="jack@acme.io",
        user__target__name="alice@acme.io",
        source__geo__location={"lat": 37.7852, "lon": -122.3874},
        message="Grant user privilege",
    )
    assert not events[19].logsource.accepts(None, None, "authentication")


def test_cloudtrail_sample_console_logins() -> None:
    events, _ = parse_sample("aws_cloudtrail.jsonl")
    succeeded, failed = events[54], events[55]
    assert_fields(
        succeeded,
        event__action="ConsoleLogin",
        event__category="authentication",
        event__type="start",
        event__outcome="success",
        user__name="anaya",
        source__ip="192.0.2.0",
        cloud__account__id="111122223333",
        cloud__region="us-east-1",
    )
    assert succeeded.timestamp == epoch("2022-11-10T16:24:34")
    assert_fields(
        failed, event__outcome="failure", user__name="anaya", error__message="Failed authentication"
    )
    assert failed.logsource.accepts("aws", "cloudtrail", "authentication")
    assert_fields(events[58], user__name="nicholas.hakmiller", event__outcome="success")


def test_cloudtrail_sample_api_call() -> None:
    events, _ = parse_sample("aws_cloudtrail.jsonl")
    assert_fields(
        events[1],
        event__action="UpdateFunctionConfiguration20150331v2",
        event__category="api",
        event__type="change",
        event__outcome="success",
        user__name="john.developer",
        user__id="AIDAI123456789EXAMPLE",
        source__ip="203.0.113.50",
        cloud__provider="aws",
    )
    assert events[1].timestamp == epoch("2019-01-01T00:00:00")
    assert not events[1].logsource.accepts(None, None, "authentication")


def test_entra_sample_sign_ins() -> None:
    events, _ = parse_sample("azure_signin.jsonl")
    failed, succeeded = events[43], events[24]
    assert_fields(
        failed,
        event__dataset="azure.signinlogs",
        event__outcome="failure",
        error__code="50126",
        event__reason="Invalid username or password",
        user__name="attacker@company.com",
        source__ip="192.0.2.250",
        user_agent__original="curl/7.68.0",
    )
    assert failed.timestamp == epoch("2025-01-15T15:05:50.678")
    assert failed.logsource.accepts("azure", "signinlogs", "authentication")
    assert_fields(
        succeeded,
        event__outcome="success",
        user__name="eve@lexcorp.com",
        source__ip="12.12.12.12",
        source__as__number=1234,
        source__geo__country_iso_code="US",
        tocsin__session__id="9d5f7dd3-46a7-475a-9cc3-96160551ce49",
    )
    assert succeeded.timestamp == epoch("2023-07-21T05:05:12.056")


def test_entra_sample_audit_entry() -> None:
    events, _ = parse_sample("azure_signin.jsonl")
    assert_fields(
        events[8],
        event__dataset="azure.auditlogs",
        event__action="Delete role assignment",
        event__category="iam",
        event__outcome="success",
        user__name="secadmin@company.com",
        user__target__name="former@company.com",
        source__ip="198.51.100.150",
    )
    assert events[8].logsource.accepts("azure", "auditlogs", None)


def test_google_workspace_sample_logins() -> None:
    events, _ = parse_sample("gsuite_activityevent.jsonl")
    saml, login = events[62], events[48]
    assert_fields(
        saml,
        event__dataset="google_workspace.saml",
        event__action="login_success",
        event__category="authentication",
        event__outcome="success",
        user__name="some.user@somedomain.com",
        source__ip="10.10.10.10",
    )
    assert saml.timestamp == epoch("2022-05-26T15:26:09.421")
    assert saml.logsource.accepts("gcp", "google_workspace.saml", "authentication")
    assert_fields(login, event__outcome="success", user__name="homer.simpson@example.com")
    assert login.logsource.accepts("gcp", "google_workspace.login", "authentication")


def test_google_workspace_sample_admin_and_drive() -> None:
    events, _ = parse_sample("gsuite_activityevent.jsonl")
    assert_fields(
        events[1],
        event__action="DELETE_ROLE",
        event__category="iam",
        event__type="deletion",
        user__name="example@example.io",
        source__ip="12.12.12.12",
    )
    assert events[1].logsource.accepts("gcp", "google_workspace.admin", None)
    reports, _ = parse_sample("gsuite_reports.jsonl")
    assert_fields(
        reports[1],
        event__action="change_user_access",
        event__category="file",
        user__name="example@acme.com",
        user__target__name="outside@acme.com",
    )
    assert reports[1].timestamp == epoch("2020-09-07T15:50:49.617")


def test_auth0_sample_records() -> None:
    events, _ = parse_sample("auth0.jsonl")
    assert_fields(
        events[23],
        event__action="blocked-account",
        event__code="limit_wc",
        event__category="authentication",
        event__outcome="failure",
        user__name="john@justice.org",
        source__ip="1.2.3.4",
    )
    assert events[23].timestamp == epoch("2025-09-30T21:23:49.689")
    assert_fields(
        events[41],
        event__action="mfa-push-notification-sent",
        tocsin__mfa__method="push",
        tocsin__mfa__result="sent",
    )
    assert_fields(
        events[1],
        event__action="success-api-operation",
        event__category="configuration",
        user__id="google-oauth2|105261262156475850461",
        user__email="denethor@lotr.com",
        message="Update Suspicious IP Throttling settings",
    )


def test_duo_sample_records() -> None:
    events, _ = parse_sample("duo.jsonl")
    assert_fields(
        events[29],
        event__dataset="duo.authentication",
        event__outcome="failure",
        user__name="example@example.io",
        source__ip="12.12.112.25",
        tocsin__mfa__method="push",
        tocsin__mfa__result="fraud",
    )
    assert_fields(events[31], event__outcome="success", tocsin__mfa__result="approved")
    assert events[31].logsource.accepts("cisco", "duo", "authentication")
    assert_fields(
        events[8],
        event__dataset="duo.administrator",
        event__action="admin_login",
        event__outcome="success",
        user__name="Homer Simpson",
        source__ip="1.2.3.4",
        tocsin__mfa__method="sms",
    )
    assert events[8].timestamp == epoch("2021-07-02T18:31:25")
    assert_fields(events[12], event__outcome="failure", tocsin__mfa__result="fraud")
    assert_fields(
        events[3], event__category="iam", event__type="creation", user__target__name="target@example.io"
    )


def test_onelogin_sample_records() -> None:
    events, _ = parse_sample("onelogin.jsonl")
    assert_fields(
        events[1],
        event__code="5",
        event__category="authentication",
        event__outcome="success",
        user__name="Bob Cat",
        user__id="123456",
        source__ip="203.0.113.55",
    )
    assert_fields(events[2], event__code="6", event__outcome="failure", user__name="Bob Cat")
    assert events[2].logsource.accepts("onelogin", "onelogin.events", "authentication")
    assert_fields(
        events[11],
        event__action="user-password-changed",
        user__name="Mountain Lion",
        user__target__name="Bob Cat",
    )


def test_github_sample_records() -> None:
    events, _ = parse_sample("github.jsonl")
    assert_fields(
        events[1],
        event__action="protected_branch.destroy",
        event__category="configuration",
        event__type="deletion",
        user__name="cat",
    )
    assert events[1].timestamp == 1621305118.553
    assert events[1].logsource.accepts("github", "audit", None)
    assert_fields(events[113], event__action="git.clone", user__name="acme-inc-user", source__ip="5.6.7.8")
    assert_fields(
        events[72], event__action="org.remove_member", event__type="deletion", user__target__name="bob"
    )
    webhook = events[38]
    assert_fields(
        webhook, event__dataset="github.webhook", event__action="issues.opened", user__name="suspicious-user"
    )
    assert not webhook.logsource.accepts("github", "audit", None)


def test_okta_inline_mfa_push_denied() -> None:
    (sent, denied) = parse_records(
        "okta",
        {
            "eventType": "system.push.send_factor_verify_push",
            "published": "2024-05-01T10:00:00.000Z",
            "actor": {"alternateId": "ann@example.com", "type": "User"},
            "outcome": {"result": "SUCCESS"},
            "client": {"ipAddress": "198.51.100.7"},
            "uuid": "a",
        },
        {
            "eventType": "user.mfa.okta_verify.deny_push",
            "published": "2024-05-01T10:00:30.000Z",
            "actor": {"alternateId": "ann@example.com", "type": "User"},
            "outcome": {"result": "FAILURE"},
            "debugContext": {"debugData": {"factor": "OKTA_VERIFY_PUSH"}},
            "uuid": "b",
        },
    )
    assert_fields(
        sent,
        event__category="authentication",
        event__type="info",
        tocsin__mfa__method="push",
        tocsin__mfa__result="sent",
        source__ip="198.51.100.7",
    )
    assert_fields(
        denied,
        event__outcome="failure",
        tocsin__mfa__method="push",
        tocsin__mfa__result="denied",
        user__name="ann@example.com",
    )
    assert denied.timestamp == epoch("2024-05-01T10:00:30")


def test_cloudtrail_inline_console_login_failure() -> None:
    (event,) = parse_records(
        "cloudtrail",
        {
            "eventVersion": "1.08",
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "eventTime": "2024-03-01T08:00:00Z",
            "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.9",
            "errorMessage": "Failed authentication",
            "responseElements": {"ConsoleLogin": "Failure"},
            "userIdentity": {
                "type": "IAMUser",
                "arn": "arn:aws:iam::111122223333:user/bob",
                "accountId": "111122223333",
            },
        },
    )
    assert_fields(
        event,
        event__category="authentication",
        event__type="start",
        event__outcome="failure",
        user__name="bob",
        source__ip="203.0.113.9",
        cloud__account__id="111122223333",
    )
    assert event.timestamp == epoch("2024-03-01T08:00:00")


def test_entra_inline_graph_sign_in_mfa_timeout() -> None:
    (event,) = parse_records(
        "entra",
        {
            "createdDateTime": "2024-06-01T12:00:00Z",
            "userPrincipalName": "kim@contoso.com",
            "userId": "u-1",
            "ipAddress": "192.0.2.44",
            "correlationId": "c-1",
            "status": {
                "errorCode": 500121,
                "additionalDetails": "MFA denied; user did not respond to mobile app notification",
            },
            "authenticationDetails": [
                {"authenticationMethod": "Password", "succeeded": True},
                {"authenticationMethod": "Mobile app notification", "succeeded": False},
            ],
            "location": {
                "city": "Oslo",
                "countryOrRegion": "NO",
                "geoCoordinates": {"latitude": 59.9, "longitude": 10.7},
            },
        },
    )
    assert_fields(
        event,
        event__category="authentication",
        event__outcome="failure",
        error__code="500121",
        user__name="kim@contoso.com",
        source__ip="192.0.2.44",
        tocsin__session__id="c-1",
        tocsin__mfa__method="push",
        tocsin__mfa__result="timeout",
        source__geo__location={"lat": 59.9, "lon": 10.7},
        source__geo__country_iso_code="NO",
    )
    assert event.timestamp == epoch("2024-06-01T12:00:00")
    assert event.logsource.accepts("azure", "signinlogs", "authentication")


def test_google_workspace_inline_api_login_failure() -> None:
    (event,) = parse_records(
        "google_workspace",
        {
            "kind": "admin#reports#activity",
            "ipAddress": "203.0.113.80",
            "id": {"time": "2024-02-02T09:30:00.000Z", "applicationName": "login", "uniqueQualifier": "1"},
            "actor": {"email": "lee@example.com", "profileId": "42"},
            "events": [
                {
                    "type": "login",
                    "name": "login_failure",
                    "parameters": [
                        {"name": "login_type", "value": "google_password"},
                        {"name": "login_failure_type", "value": "login_failure_invalid_password"},
                    ],
                }
            ],
        },
    )
    assert_fields(
        event,
        event__action="login_failure",
        event__category="authentication",
        event__type="start",
        event__outcome="failure",
        event__reason="login_failure_invalid_password",
        user__name="lee@example.com",
        user__id="42",
        source__ip="203.0.113.80",
    )
    assert event.timestamp == epoch("2024-02-02T09:30:00")


def test_auth0_inline_management_api_failed_login() -> None:
    (event,) = parse_records(
        "auth0",
        {
            "date": "2024-04-04T04:04:04.404Z",
            "type": "fp",
            "log_id": "900",
            "ip": "198.51.100.23",
            "user_name": "pat@example.com",
            "user_id": "auth0|pat",
            "description": "Wrong email or password.",
        },
    )
    assert_fields(
        event,
        event__action="failed-login-incorrect-password",
        event__code="fp",
        event__category="authentication",
        event__type="start",
        event__outcome="failure",
        user__name="pat@example.com",
        user__email="pat@example.com",
        source__ip="198.51.100.23",
        message="Wrong email or password.",
    )
    assert event.timestamp == epoch("2024-04-04T04:04:04.404")
    assert event.logsource.accepts("auth0", "auth0", "authentication")


def test_duo_inline_authentication_timeout() -> None:
    (event,) = parse_records(
        "duo",
        {
            "timestamp": 1717243200,
            "isotimestamp": "2024-06-01T12:00:00+00:00",
            "event_type": "authentication",
            "factor": "duo_push",
            "result": "denied",
            "reason": "no_response",
            "user": {"name": "sam"},
            "access_device": {"ip": "192.0.2.99"},
        },
    )
    assert_fields(
        event,
        event__category="authentication",
        event__outcome="failure",
        user__name="sam",
        source__ip="192.0.2.99",
        tocsin__mfa__method="push",
        tocsin__mfa__result="timeout",
    )
    assert event.timestamp == 1717243200


def test_onelogin_inline_failed_login() -> None:
    (event,) = parse_records(
        "onelogin",
        {
            "event_type_id": 6,
            "created_at": "2024-01-02T03:04:05Z",
            "user_name": "dana",
            "user_id": 7,
            "actor_user_id": 7,
            "actor_user_name": "dana",
            "ipaddr": "203.0.113.61",
            "risk_score": 70,
        },
    )
    assert_fields(
        event,
        event__category="authentication",
        event__type="start",
        event__outcome="failure",
        user__name="dana",
        user__id="7",
        source__ip="203.0.113.61",
        event__risk_score=70,
    )
    assert event.timestamp == epoch("2024-01-02T03:04:05")


def test_github_inline_failed_login() -> None:
    (event,) = parse_records(
        "github",
        {
            "@timestamp": 1700000000000,
            "action": "user.failed_login",
            "actor": "octo",
            "actor_ip": "198.51.100.5",
            "actor_location": {"country_code": "DE"},
        },
    )
    assert_fields(
        event,
        event__category="authentication",
        event__type="start",
        event__outcome="failure",
        user__name="octo",
        source__ip="198.51.100.5",
        source__geo__country_iso_code="DE",
    )
    assert event.timestamp == 1700000000
    assert event.logsource.accepts("github", "audit", "authentication")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_iam_events_carry_the_iam_logsource_category(name: str) -> None:
    """Account, credential and role changes are ECS category iam and Sigma category iam, for every vendor;
    other events keep their vendor logsource only."""
    events, _ = parse_sample(name)
    for event in events.values():
        iam = event.fields.get("event.category") == "iam"
        assert ("iam" in event.logsource.categories) == iam, (name, event.fields.get("event.action"))


def test_mfa_removals_in_the_samples_are_iam_events() -> None:
    okta, _ = parse_sample("okta.jsonl")
    actions = {e.fields.get("event.action") for e in okta.values() if "iam" in e.logsource.categories}
    assert {
        "user.mfa.factor.deactivate",
        "user.mfa.factor.reset_all",
        "system.mfa.factor.deactivate",
    } <= actions
    google, _ = parse_sample("gsuite_activityevent.jsonl")
    assert any(
        e.fields.get("event.action") == "2sv_disable" and "iam" in e.logsource.categories
        for e in google.values()
    )
