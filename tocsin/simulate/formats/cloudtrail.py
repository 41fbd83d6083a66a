"""AWS CloudTrail management and S3 data events, one event per line (as CloudTrail Lake exports them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from random import Random
from typing import Any

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import HOUR, Day, logins
from tocsin.simulate.records import Record, iso_s
from tocsin.simulate.world import User, guid, token

STREAM = "cloudtrail"
ACCOUNT = "491837260514"
REGION = "eu-central-1"
BUCKETS = ("nw-analytics-exports", "nw-customer-data", "nw-build-artifacts")
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def access_key(rng: Random, temporary: bool = True) -> str:
    return ("ASIA" if temporary else "AKIA") + "".join(rng.choices(_UPPER, k=16))


def identity(user: User | str, key: str) -> dict[str, Any]:
    name = user if isinstance(user, str) else user.login
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + name.upper().replace(".", "")[:17].ljust(17, "X"),
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "userName": name,
    }


def event(
    rng: Random,
    time: float,
    name: str,
    source: str,
    who: dict[str, Any],
    ip: str,
    agent: str,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
    data_event: bool = False,
    **extra: Any,
) -> Record:
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": iso_s(time),
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION if source != "signin.amazonaws.com" else "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": guid(rng),
        "eventID": guid(rng),
        "readOnly": name.startswith(("Get", "List", "Describe")),
        "eventType": "AwsApiCall" if source != "signin.amazonaws.com" else "AwsConsoleSignIn",
        "managementEvent": not data_event,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Data" if data_event else "Management",
        **extra,
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    return Record(time, STREAM, record)


def console_login(rng: Random, time: float, user: User | str, ip: str, agent: str, success: bool) -> Record:
    who = identity(user, "")
    del who["accessKeyId"]
    failure: dict[str, Any] = {} if success else {"errorMessage": "Failed authentication"}
    return event(
        rng,
        time,
        "ConsoleLogin",
        "signin.amazonaws.com",
        who,
        ip,
        agent,
        response={"ConsoleLogin": "Success" if success else "Failure"},
        **failure,
        additionalEventData={
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if success else "No",
        },
    )


def get_object(
    rng: Random, time: float, who: dict[str, Any], ip: str, agent: str, bucket: str, key: str
) -> Record:
    return event(
        rng,
        time,
        "GetObject",
        "s3.amazonaws.com",
        who,
        ip,
        agent,
        request={"bucketName": bucket, "Host": f"{bucket}.s3.{REGION}.amazonaws.com", "key": key},
        data_event=True,
        resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}],
    )


def create_access_key(
    rng: Random, time: float, who: dict[str, Any], ip: str, agent: str, user_name: str
) -> tuple[str, Record]:
    """A CreateAccessKey call for ``user_name``: the new key id, and the event."""
    key = access_key(rng, temporary=False)
    record = event(
        rng,
        time,
        "CreateAccessKey",
        "iam.amazonaws.com",
        who,
        ip,
        agent,
        request={"userName": user_name},
        response={
            "accessKey": {
                "accessKeyId": key,
                "status": "Active",
                "userName": user_name,
                "createDate": f"{iso_s(time)[:-1]}+00:00",
            }
        },
    )
    return key, record


def console_work(rng: Random, time: float, user: User, ip: str) -> Iterator[Record]:
    """An engineer signs in to the console and looks around; a few objects are read."""
    agent = user.user_agent
    yield console_login(rng, time, user, ip, agent, True)
    who = identity(user, access_key(rng))
    for _ in range(rng.randint(3, 15)):
        time += rng.expovariate(1 / 120)
        name = rng.choice(
            (
                "DescribeInstances",
                "ListBuckets",
                "DescribeSecurityGroups",
                "GetBucketPolicy",
                "ListObjects",
                "DescribeDBInstances",
                "GetObject",
            )
        )
        if name == "GetObject":
            yield get_object(rng, time, who, ip, agent, rng.choice(BUCKETS), f"reports/{token(rng, 10)}.csv")
        else:
            source = {"Describe": "ec2.amazonaws.com", "List": "s3.amazonaws.com", "Get": "s3.amazonaws.com"}
            service = (
                "rds.amazonaws.com"
                if "DB" in name
                else next(v for k, v in source.items() if name.startswith(k))
            )
            yield event(rng, time, name, service, who, ip, agent, request={})


def key_rotation(rng: Random, time: float, admin: User, ip: str) -> Iterator[Record]:
    """An admin rotates the backup job's key; the job's next run reads a few dozen objects with it."""
    key, record = create_access_key(
        rng, time, identity(admin, access_key(rng)), ip, admin.user_agent, "svc-backup"
    )
    yield record
    job = identity("svc-backup", key)
    time += rng.uniform(2, 5) * HOUR
    for index in range(rng.randint(12, 40)):
        time += rng.uniform(1, 20)
        yield get_object(
            rng,
            time,
            job,
            "10.30.4.17",
            "aws-cli/2.15.10 Python/3.11.6 Linux/6.1.0 botocore/2.4.5",
            "nw-build-artifacts",
            f"backups/2026/manifest-{index:03d}.json",
        )


def cloudtrail_background(context: Background, day: Day) -> Iterable[Activity]:
    rng = context.rng
    for login in logins(context.world, rng, day, context.trips):
        if login.user.engineer and rng.random() < 0.5:
            start = login.time + rng.uniform(300, 3 * HOUR)
            yield start, partial(console_work, rng, start, login.user, login.ip)
            if login.user.admin and rng.random() < 0.1:
                yield start + 900, partial(key_rotation, rng, start + 900, login.user, login.ip)
