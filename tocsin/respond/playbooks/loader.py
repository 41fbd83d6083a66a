"""Loading and validating the response plan and playbooks (``yaml.safe_load`` then pydantic, then cross-checks)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tocsin import yamlsafe
from tocsin.respond.actions.registry import ACTIONS
from tocsin.respond.plan import BUILTIN_PLAN, ResponsePlan
from tocsin.respond.playbooks.models import Playbook, Step
from tocsin.respond.playbooks.templates import check_syntax

BUILTIN = Path(__file__).parent
BUILTIN_PLAYBOOKS = BUILTIN / "library"


class PlaybookError(ValueError):
    """A plan or playbook file that cannot be used; the message names the file."""


@dataclass
class Catalog:
    """The plan and the playbooks it can use, with every problem found while loading."""

    plan: ResponsePlan
    playbooks: dict[str, Playbook] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def enabled(self) -> list[Playbook]:
        return [self.playbooks[name] for name in self.plan.playbooks if name in self.playbooks]


def _read(path: Path) -> Any:
    try:
        return yamlsafe.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PlaybookError(f"{path}: {exc}") from None


def validation_problems(exc: ValidationError) -> str:
    """What pydantic refused, ``where: why`` for each problem, joined by ``; ``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}" for error in exc.errors()
    )


def _explain(path: Path, exc: ValidationError) -> PlaybookError:
    return PlaybookError(f"{path}: {validation_problems(exc)}")


def load_plan(path: Path | None = None) -> ResponsePlan:
    path = path or BUILTIN_PLAN
    try:
        return ResponsePlan.model_validate(_read(path))
    except ValidationError as exc:
        raise _explain(path, exc) from None


def playbook_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.name != "plan.yml"
            )
        elif path.exists():
            files.append(path)
        else:
            raise PlaybookError(f"{path}: no such file or directory")
    return files


def load_playbook(path: Path) -> Playbook:
    """One playbook, validated: shape, known actions and parameters, template syntax."""
    try:
        playbook = Playbook.model_validate(_read(path))
    except ValidationError as exc:
        raise _explain(path, exc) from None
    problems = [problem for step in (*playbook.steps, *playbook.rollback) for problem in _check_step(step)]
    problems += [
        f"input {name}: {reason}" for name, text in playbook.inputs.items() if (reason := check_syntax(text))
    ]
    if problems:
        raise PlaybookError(f"{path}: " + "; ".join(problems))
    return playbook


def _check_step(step: Step) -> list[str]:
    action = ACTIONS.get(step.action)
    if action is None:
        return [f"step {step.id}: unknown action {step.action!r} (tocsin playbooks list names them)"]
    fields = action.params.model_fields
    problems = [
        f"step {step.id}: {step.action} has no parameter {key!r}" for key in step.with_ if key not in fields
    ]
    problems += [
        f"step {step.id}: {step.action} needs parameter {name!r}"
        for name, info in fields.items()
        if info.is_required() and name not in step.with_
    ]
    for key, value in step.with_.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and (reason := check_syntax(text)):
                problems.append(f"step {step.id}: with.{key}: {reason}")
    if step.when and (reason := check_syntax(step.when, expression=True)):
        problems.append(f"step {step.id}: when: {reason}")
    return problems


def load_catalog(plan_path: Path | None = None, extra: Iterable[Path] = ()) -> Catalog:
    """The plan plus the built-in and extra playbooks; a later file with the same id replaces an earlier one."""
    catalog = Catalog(load_plan(plan_path))
    for path in playbook_files([BUILTIN_PLAYBOOKS, *extra]):
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            catalog.problems.append(str(exc))
            continue
        catalog.playbooks[playbook.id] = playbook
        catalog.sources[playbook.id] = path
    catalog.problems += [
        f"plan: playbook {name!r} not found"
        for name in catalog.plan.playbooks
        if name not in catalog.playbooks
    ]
    return catalog
