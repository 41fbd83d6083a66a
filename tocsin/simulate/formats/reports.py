"""A social platform's user-report stream (tocsin's report_stream schema)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from random import Random
from typing import Any

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import DAY, HOUR, Day
from tocsin.simulate.records import Record, iso_s
from tocsin.simulate.world import token

STREAM = "reports"
PLATFORM = "northwind-social"
REASONS = ("spam", "harassment", "impersonation", "scam", "hate_speech", "misinformation")
#: Platform accounts per employee at scale 1 (the platform's users, not the company's).
ACCOUNTS_PER_USER = 250
_OPENERS = (
    "this account",
    "they",
    "this user",
    "the person behind this profile",
    "this page",
    "someone here",
)
_COMPLAINTS = (
    "keeps sending me unsolicited links to a crypto giveaway",
    "posted insults under my photo again",
    "is pretending to be my friend and asking for money",
    "copied my pictures and my bio",
    "spams the same advert in every group I am in",
    "threatened me in a private message",
    "shares fake news about the election every day",
    "sold me a phone that never arrived",
    "is a bot following thousands of people",
    "wrote hateful comments about my religion",
    "uses my brand name and logo to sell knockoffs",
    "keeps tagging me in scam posts",
)
_ASKS = (
    "please look into it",
    "I blocked them but they made a new account",
    "it has been going on for weeks",
    "several of my friends got the same message",
    "",
    "",
    "can you remove the post",
)


def account(rng: Random, population: int) -> str:
    return f"u-{rng.randrange(population):07d}"


def report(
    rng: Random,
    time: float,
    reporter: str,
    age_days: float,
    followers: int,
    target: str,
    reason: str,
    text: str,
) -> Record:
    record: dict[str, Any] = {
        "report_id": f"r-{token(rng, 12, '0123456789abcdef')}",
        "created_at": iso_s(time),
        "platform": PLATFORM,
        "reporter": {
            "id": reporter,
            "name": reporter.replace("u-", "user"),
            "account_created_at": iso_s(time - age_days * DAY),
            "followers": followers,
        },
        "target": {"id": target, "name": target.replace("u-", "user")},
        "reason": reason,
        "text": text,
    }
    return Record(time, STREAM, record)


def honest_text(rng: Random) -> str:
    """A report in the reporter's own words."""
    text = f"{rng.choice(_OPENERS)} {rng.choice(_COMPLAINTS)}. {rng.choice(_ASKS)}".strip()
    return text[0].upper() + text[1:]


def established(rng: Random) -> tuple[float, int]:
    """Account age (days) and followers of an ordinary reporter: mostly established, some newcomers."""
    if rng.random() < 0.08:
        return rng.uniform(0.5, 6), rng.randint(0, 12)
    return rng.uniform(30, 3000), int(rng.lognormvariate(4.5, 1.3))


def reports_background(context: Background, day: Day) -> Iterable[Activity]:
    """Organic reports all day; now and then an abusive account gets a handful from different people."""
    rng = context.rng
    population = len(context.world.users) * ACCOUNTS_PER_USER
    for _ in range(round(len(context.world.users) * 3)):
        time = day.start + rng.uniform(0, 24) * HOUR
        yield (
            time,
            partial(_organic_report, rng, time, population),
        )
    if rng.random() < 0.5:
        target = account(rng, population)
        start = day.start + rng.uniform(8, 20) * HOUR
        reason = rng.choice(REASONS)
        for _ in range(rng.randint(3, 7)):
            time = start + rng.uniform(0, 50 * 60)
            yield (
                time,
                partial(_abuse_report, rng, time, population, target, reason),
            )


def _organic_report(rng: Random, time: float, population: int) -> list[Record]:
    """One report between random accounts (drawn when the record is written, as the stream is merged)."""
    return [
        report(
            rng,
            time,
            account(rng, population),
            *established(rng),
            account(rng, population),
            rng.choice(REASONS),
            honest_text(rng),
        )
    ]


def _abuse_report(rng: Random, time: float, population: int, target: str, reason: str) -> list[Record]:
    """One report of the abusive ``target`` by a random account."""
    return [report(rng, time, account(rng, population), *established(rng), target, reason, honest_text(rng))]
