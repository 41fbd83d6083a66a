"""The incident-response plan (after NIST SP 800-61): phases, response times and who is told per
severity, breach-notification duties, and which playbooks run. The built-in plan is ``plan.yml``
beside this module; ``response.plan`` in the configuration names another."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from tocsin.model.alert import Level
from tocsin.respond.playbooks.models import Strict, seconds

BUILTIN_PLAN = Path(__file__).with_name("plan.yml")


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
    playbooks: list[str] = Field(
        description="enabled playbooks; an alert goes to the first whose trigger matches"
    )

    @field_validator("severities")
    @classmethod
    def _levels(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        missing = [level.name for level in Level if level.name not in value]
        if missing:
            raise ValueError(f"severities lacks {', '.join(missing)}")
        return value
