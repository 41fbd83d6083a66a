"""A platform's user-report stream: one JSON object per user report ("this account is abusive").

Mass reporting is how legitimate accounts get taken down: many accounts, mostly new or
low-reputation, report one target in a burst with near-identical texts, and the same crew does
it again against the next target. This parser gives the built-in rules under
``tocsin/rules/report_abuse/`` the fields to see that.

Schema (JSON Lines, or a JSON array; keys are matched case-insensitively)::

    {
      "report_id": "r-1029",                      # unique id of the report
      "created_at": "2026-03-02T09:00:00Z",       # when it was filed (ISO 8601 or epoch)
      "platform": "example-social",               # optional: which platform / product
      "reporter": {
        "id": "u-77",                             # the reporting account
        "name": "fresh_acct_77",
        "account_created_at": "2026-03-01T10:00:00Z",   # or "account_age_days": 0.9
        "followers": 0
      },
      "target": {"id": "u-5", "name": "journalist_jane"},   # the reported account
      "reason": "harassment",                     # the platform's report category
      "text": "This account is spreading hate..." # the reporter's free text
    }

``reporter`` and ``target`` may also be a plain string (the account's id). A record is
recognised by its ``reporter`` and ``target`` plus ``reason`` or ``text``.

ECS mapping:

==================================  ==========================================================
``@timestamp``                      ``created_at``
``event.id``                        ``report_id``
``event.kind``                      ``event``
``event.category`` / ``.type``      ``web`` / ``info`` (a user action on a web platform)
``event.action``                    ``user-report``
``event.provider``                  ``platform`` (else ``report_stream``)
``event.dataset``                   ``report_stream.reports``
``event.reason``                    ``reason``
``message``                         ``text``
``user.id`` / ``user.name``         the reporter (``name`` falls back to ``id``)
``user.target.id`` / ``.name``      the reported account (``name`` falls back to ``id``)
``tocsin.report.reason``            ``reason``, lower-cased
``tocsin.report.reporter_age_days`` the reporter's account age in days when the report was filed
                                    (``account_age_days``, or ``created_at`` minus
                                    ``account_created_at``)
``tocsin.report.reporter_followers`` ``reporter.followers``
``tocsin.report.reporter_new``      true when the age is under 7 days or followers under 5;
                                    false when neither holds; absent when both are unknown
``tocsin.report.text_fingerprint``  a locality-sensitive fingerprint of ``text`` (below)
==================================  ==========================================================

Logsource: ``product: platform``, ``service: reports``, ``category: user_report``. The record
itself is kept as the event's original fields.

The text fingerprint
--------------------
Sigma can group and count (``event_count``, ``value_count``) but cannot compare free texts, so
"near-identical texts, not exact copies" has to become a field whose *value* is shared by texts
that are alike. ``tocsin.report.text_fingerprint`` is a one-permutation MinHash of the text's
content words: the text is NFKC-normalized and case-folded, split into words (punctuation,
emoji and symbols dropped), stop words removed and a plural ``s`` stripped; the fingerprint is
the smallest keyed 64-bit BLAKE2b hash over that word set, in hex. Two texts get the same value
with probability equal to the Jaccard similarity of their word sets, so:

* case, punctuation, spacing, word order, stop words and repeated words never change it;
* replacing one or two words of a template with 17 content words keeps it for about 85 % (one
  word) or 70 % (two) of the copies, so a campaign's copies still pile up on one value (longer
  templates do better);
* unrelated texts share it only when they happen to share the one "smallest" word: rarely,
  and rules require several distinct reporters on one target besides.

Texts with fewer than three distinct content words ("spam", "fake account") get no fingerprint:
such one-liners are what honest reporters write too, and grouping them would only add noise.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.base import compact
from tocsin.sources.cloud.common import as_int, lower_keys, text, value_at
from tocsin.sources.jsonbase import JsonParser, Normalized
from tocsin.sources.timeparse import parse_time

REPORT_STREAM = LogSource.of("platform", ("reports",), "user_report")

#: A reporter younger than this (days) or with fewer followers than this is "new".
NEW_ACCOUNT_DAYS = 7
LOW_FOLLOWERS = 5
#: Texts with fewer distinct content words than this get no fingerprint.
MIN_FINGERPRINT_WORDS = 3

_DAY = 86400.0
_WORD = re.compile(r"[^\W_]+")
_FINGERPRINT_KEY = b"tocsin.report.text_fingerprint/1"
_STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves im ive dont doesnt isnt
    also please pls plz u ur
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def content_words(value: str) -> frozenset[str]:
    """The normalized content words of a report text (what its fingerprint is computed over)."""
    normalized = unicodedata.normalize("NFKC", value).casefold().replace("'", "").replace("\u2019", "")
    words = set()
    for word in _WORD.findall(normalized):
        if word in _STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def text_fingerprint(value: str | None) -> str | None:
    """The MinHash fingerprint of a report text (16 hex digits); None for short or empty texts."""
    words = content_words(value or "")
    if len(words) < MIN_FINGERPRINT_WORDS:
        return None
    smallest = min(
        hashlib.blake2b(word.encode(), digest_size=8, key=_FINGERPRINT_KEY).digest() for word in words
    )
    return smallest.hex()


class ReportStreamParser(JsonParser):
    """User reports of a platform: ``reporter`` reports ``target`` for ``reason`` with ``text``."""

    name = "report_stream"
    description = "A platform's user-report stream (reporter, target, reason, text; JSON Lines)"

    @classmethod
    def recognizes(cls, record: dict[str, Any]) -> int:
        keys = lower_keys(record)
        if not {"reporter", "target"} <= keys or not keys & {"reason", "text"}:
            return 0
        nested = isinstance(value_at(record, "reporter"), dict) and isinstance(
            value_at(record, "target"), dict
        )
        return 90 if nested or keys & {"report_id", "created_at"} else 60

    def normalize(self, record: dict[str, Any]) -> Normalized | None:
        reporter_id, reporter_name = _account(value_at(record, "reporter"))
        target_id, target_name = _account(value_at(record, "target"))
        if reporter_name is None or target_name is None:
            return None
        timestamp = parse_time(value_at(record, "created_at"))
        if timestamp is None:
            timestamp = parse_time(value_at(record, "timestamp"))
        reason = text(value_at(record, "reason"))
        body = text(value_at(record, "text"))
        age = _age_days(record, timestamp)
        followers = as_int(value_at(record, "reporter.followers"))
        fields = {
            "event.id": _identifier(value_at(record, "report_id")),
            "event.kind": "event",
            "event.category": "web",
            "event.type": "info",
            "event.action": "user-report",
            "event.provider": text(value_at(record, "platform")) or "report_stream",
            "event.dataset": "report_stream.reports",
            "event.reason": reason,
            "message": body,
            "user.id": reporter_id,
            "user.name": reporter_name,
            "user.target.id": target_id,
            "user.target.name": target_name,
            "tocsin.report.reason": reason.lower() if reason else None,
            "tocsin.report.reporter_age_days": age,
            "tocsin.report.reporter_followers": followers,
            "tocsin.report.reporter_new": _is_new(age, followers),
            "tocsin.report.text_fingerprint": text_fingerprint(body),
        }
        return Normalized(timestamp, compact(fields), REPORT_STREAM)


def _identifier(value: Any) -> str | None:
    """An id given as a string or a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value)


def _account(value: Any) -> tuple[str | None, str | None]:
    """(id, name) of a reporter or target; the name falls back to the id so rules can group on it."""
    if isinstance(value, dict):
        identifier = _identifier(value_at(value, "id"))
        name = text(value_at(value, "name")) or text(value_at(value, "username")) or identifier
        return identifier, name
    identifier = _identifier(value)
    return identifier, identifier


def _age_days(record: dict[str, Any], filed: float | None) -> float | None:
    """The reporter's account age in days when the report was filed."""
    given = value_at(record, "reporter.account_age_days")
    if isinstance(given, int | float) and not isinstance(given, bool):
        return float(given) if given >= 0 else None
    if isinstance(given, str):
        try:
            number = float(given)
        except ValueError:
            number = -1.0
        if number >= 0:
            return number
    created = parse_time(value_at(record, "reporter.account_created_at"))
    if created is None or filed is None or filed < created:
        return None
    return round((filed - created) / _DAY, 2)


def _is_new(age: float | None, followers: int | None) -> bool | None:
    """New or low-reputation reporter: young account or few followers; None when both are unknown."""
    if age is None and followers is None:
        return None
    return (age is not None and age < NEW_ACCOUNT_DAYS) or (
        followers is not None and followers < LOW_FOLLOWERS
    )
