"""The alert contract: what every detector produces and every sink, responder and store consumes."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import IntEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator


class Level(IntEnum):
    """Sigma levels, ordered so that ``>=`` compares severity."""

    informational = 0
    low = 1
    medium = 2
    high = 3
    critical = 4

    @classmethod
    def from_sigma(cls, name: str | None) -> Level:
        """A Sigma ``level`` value; rules without one are treated as medium."""
        if not name:
            return cls.medium
        return cls[name.lower()]

    @classmethod
    def parse(cls, text: str) -> Level:
        """A user-given level name (case-insensitive); ValueError lists the choices."""
        try:
            return cls[text.lower()]
        except KeyError:
            raise ValueError(
                f"unknown level {text!r} (choose from {', '.join(m.name for m in cls)})"
            ) from None


class RuleInfo(BaseModel):
    """The rule that raised an alert."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    level: Level
    tags: list[str] = Field(default_factory=list)
    type: str = "sigma"
    description: str | None = None
    falsepositives: list[str] = Field(default_factory=list)
    source: str | None = None

    @field_serializer("level")
    def _level_name(self, level: Level) -> str:
        return level.name

    @field_validator("level", mode="before")
    @classmethod
    def _level_from_name(cls, level: Any) -> Any:
        """Levels are written by name (see ``_level_name``), so a document reads back as it was written."""
        return Level.parse(level) if isinstance(level, str) else level


class Window(BaseModel):
    """The time span a correlation alert covers."""

    start: datetime
    end: datetime


#: Alerts list at most this many evidence ids (``event_count`` stays exact).
EVIDENCE_CAP = 1000


class Alert(BaseModel):
    """One detection, ECS style: nested objects, ``@timestamp`` in UTC.

    ``evidence`` lists the ids of the events that matched (resolvable with
    ``tocsin show ID --db FILE``); for large correlations it is capped and
    ``evidence_truncated`` says so, while ``event_count`` stays exact.
    """

    model_config = ConfigDict(populate_by_name=True)

    id: str
    timestamp: datetime = Field(alias="@timestamp")
    rule: RuleInfo
    event_count: int
    message: str
    user: dict[str, Any] | None = None
    source: dict[str, Any] | None = None
    host: dict[str, Any] | None = None
    group_by: dict[str, Any] | None = None
    window: Window | None = None
    metric: dict[str, Any] | None = None
    evidence: list[str] = Field(default_factory=list)
    evidence_truncated: bool = False
    #: Detector-specific context: YARA matches (masked), the masked secret of a credential alert.
    details: dict[str, Any] | None = None

    @property
    def level(self) -> Level:
        return self.rule.level

    def document(self) -> dict[str, Any]:
        """The JSON form (``@timestamp`` alias, UTC 'Z' times, no empty fields)."""
        return orjson.loads(self.json_text())

    def json_text(self) -> str:
        """``document`` as one line of JSON (pydantic writes it directly: four times faster than
        dumping the dict)."""
        return self.model_dump_json(by_alias=True, exclude_none=True)

    def entity(self, name: str) -> Any:
        """An entity value such as ``user.name`` or ``source.ip``, or None."""
        group, _, key = name.partition(".")
        container = getattr(self, group, None)
        return container.get(key) if isinstance(container, dict) else None


def alert_id(*parts: str) -> str:
    """A deterministic alert id, so re-running a scan yields the same ids."""
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=12).hexdigest()
