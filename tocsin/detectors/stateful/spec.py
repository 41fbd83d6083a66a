"""Stateful rules: detection scenarios Sigma cannot express, written as data.

A stateful rule is a YAML document with Sigma's metadata (title, id, status, description, tags,
falsepositives, level) and a ``stateful`` section instead of ``detection``/``correlation``::

    stateful:
        kind: impossible_travel            # the detector (tocsin.detectors.stateful.registry)
        rules:                              # role → building-block rule (name, id or title)
            login: tocsin_successful_authentication
        parameters:                         # the detector's knobs; omitted ones take its defaults
            max_speed_kmh: 1000

Which events play each role is decided by Sigma building blocks, exactly as correlations refer
to rules; the detector only keeps state over those events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tocsin.detectors.stateful.registry import detector_class
from tocsin.model.alert import Level, RuleInfo

#: The key that makes a YAML document a stateful rule.
STATEFUL_KEY = "stateful"
_SPAN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class StatefulSpecError(ValueError):
    """A stateful rule document that cannot be used."""


@dataclass
class StatefulRule:
    """A parsed stateful rule; ``references`` maps each role to its building block's rule id."""

    info: RuleInfo
    kind: str
    roles: dict[str, str]
    parameters: dict[str, Any]
    references: dict[str, str] = field(default_factory=dict)


def is_stateful(documents: list[Any]) -> bool:
    """True when a rule file's YAML documents hold a stateful rule."""
    return any(isinstance(doc, dict) and STATEFUL_KEY in doc for doc in documents)


def parse_stateful(document: dict[str, Any], source: Path) -> StatefulRule:
    """The rule of one document, its parameters checked against the detector's; StatefulSpecError if not."""
    for key in ("title", "id"):
        if not isinstance(document.get(key), str) or not document[key].strip():
            raise StatefulSpecError(f"a stateful rule needs a {key}")
    if STATEFUL_KEY not in document:
        raise StatefulSpecError(
            "a file with a stateful rule holds only stateful rules (put Sigma rules in another)"
        )
    section = document[STATEFUL_KEY]
    if not isinstance(section, dict):
        raise StatefulSpecError("stateful must be a mapping with kind, rules and parameters")
    kind = str(section.get("kind") or "")
    detector = detector_class(kind)
    if detector is None:
        raise StatefulSpecError(f"unknown stateful kind {kind!r}")
    roles = section.get("rules")
    if not isinstance(roles, dict) or set(roles) != set(detector.roles):
        raise StatefulSpecError(f"{kind} needs rules for exactly: {', '.join(sorted(detector.roles))}")
    given = section.get("parameters") or {}
    if not isinstance(given, dict):
        raise StatefulSpecError("parameters must be a mapping")
    unknown = set(given) - set(detector.defaults)
    if unknown:
        raise StatefulSpecError(f"{kind} has no parameter {', '.join(sorted(unknown))}")
    parameters = {**detector.defaults, **given}
    for name, default in detector.defaults.items():
        parameters[name] = _coerce(name, parameters[name], default)
    detector.check(parameters)
    try:
        level = Level.from_sigma(document.get("level"))
    except KeyError:
        raise StatefulSpecError(f"unknown level {document.get('level')!r}") from None
    info = RuleInfo(
        id=document["id"].strip(),
        title=document["title"].strip(),
        level=level,
        tags=[str(tag) for tag in document.get("tags") or []],
        type="stateful",
        description=str(document.get("description") or "").strip() or None,
        falsepositives=[str(item) for item in document.get("falsepositives") or []],
        source=str(source),
    )
    return StatefulRule(info, kind, {role: str(name) for role, name in roles.items()}, parameters)


def timespan(value: Any) -> int:
    """Seconds of a Sigma-style timespan (``90s``, ``30m``, ``1h``, ``7d``) or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    match = _SPAN.match(str(value))
    if not match or int(match[1]) <= 0:
        raise StatefulSpecError(f"not a timespan: {value!r} (e.g. 30m, 1h, 7d)")
    return int(match[1]) * _SECONDS[match[2]]


def _coerce(name: str, value: Any, default: Any) -> Any:
    """A parameter value of the default's type (a timespan for ``*window*`` parameters)."""
    if "window" in name:
        return timespan(value)
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    wrong_bool = isinstance(value, bool) and expected is not bool
    if isinstance(value, expected) and not wrong_bool:
        return value
    raise StatefulSpecError(f"parameter {name} must be a {expected.__name__}, not {value!r}")
