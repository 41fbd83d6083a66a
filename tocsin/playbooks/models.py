"""The shapes of playbooks and of the incident-response plan, validated by pydantic."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tocsin.model.alert import Alert, Level

_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def seconds(value: Any) -> int:
    """``90``, ``"90s"``, ``"15m"``, ``"72h"`` or ``"1d"`` as seconds."""
    if isinstance(value, int):
        return value
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration (e.g. 30s, 15m, 72h, 1d)")
    return int(match[1]) * _UNITS[match[2]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Trigger(Strict):
    """Which alerts a playbook answers: every given criterion must hold (globs allowed in ids, tags, titles)."""

    rule_ids: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)
    min_level: Level = Level.informational

    @field_validator("min_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return Level.parse(value) if isinstance(value, str) else value

    def matches(self, alert: Alert) -> bool:
        def any_glob(patterns: list[str], values: list[str]) -> bool:
            return not patterns or any(fnmatchcase(v.lower(), p.lower()) for p in patterns for v in values)

        return (
            alert.level >= self.min_level
            and any_glob(self.rule_ids, [alert.rule.id])
            and any_glob(self.tags, alert.rule.tags)
            and any_glob(self.titles, [alert.rule.title])
        )


class Step(Strict):
    """One action of a playbook; ``with`` values and ``when`` are sandboxed Jinja2 templates."""

    id: str
    action: str
    description: str = ""
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    when: str | None = None
    requires_approval: bool = False
    #: A required step that cannot run holds the incident; any other is skipped with the reason.
    required: bool = False
    timeout: int = 60
    retries: int = Field(default=0, ge=0, le=10)
    on_failure: Literal["stop", "continue", "rollback"] = "stop"

    _id = field_validator("id")(lambda value: _slug(value))
    _timeout = field_validator("timeout", mode="before")(lambda value: seconds(value))


class Playbook(Strict):
    """A named response: trigger, inputs drawn from the alert, ordered steps and rollback steps."""

    id: str
    title: str
    description: str = ""
    trigger: Trigger
    dedup: list[str] = Field(default_factory=lambda: ["source.ip", "user.name"])
    personal_data: bool = False
    inputs: dict[str, str] = Field(default_factory=dict)
    steps: list[Step]
    rollback: list[Step] = Field(default_factory=list)

    _id = field_validator("id")(lambda value: _slug(value))

    @model_validator(mode="after")
    def _unique_steps(self) -> Playbook:
        ids = [step.id for step in (*self.steps, *self.rollback)]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"step ids must be unique: {', '.join(duplicates)}")
        if not self.steps:
            raise ValueError("a playbook needs at least one step")
        return self


class Phase(Strict):
    id: str
    title: str
    goal: str


class Severity(Strict):
    """Response-time target and who is told, for one alert level."""

    response_time: int
    notify_email: list[str] = Field(default_factory=list)
    notify_webhook: bool = False

    _time = field_validator("response_time", mode="before")(lambda value: seconds(value))


class Duty(Strict):
    """A breach-notification duty: who must be told, by when after awareness, under which condition."""

    notify: str
    within: int | None = None
    deadline_text: str
    applies_when: Literal["personal_data", "always"] = "personal_data"
    template: str

    @field_validator("within", mode="before")
    @classmethod
    def _within(cls, value: Any) -> Any:
        return None if value is None else seconds(value)


class ResponsePlan(Strict):
    """The incident-response plan (after NIST SP 800-61): phases, severities, duties and which playbooks run."""

    name: str
    phases: list[Phase]
    severities: dict[str, Severity]
    breach_notification: list[Duty] = Field(default_factory=list)
    playbooks: list[str] = Field(description="enabled playbooks; an alert goes to the first whose trigger matches")

    @field_validator("severities")
    @classmethod
    def _levels(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        missing = [level.name for level in Level if level.name not in value]
        if missing:
            raise ValueError(f"severities lacks {', '.join(missing)}")
        return value


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"{value!r}: use lower-case letters, digits and dashes")
    return value
