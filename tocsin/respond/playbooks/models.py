"""The shapes of playbooks (trigger, steps, rollback), validated by pydantic."""

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


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"{value!r}: use lower-case letters, digits and dashes")
    return value
