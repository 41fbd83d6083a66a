"""What every responder shares: the step context, the error type and the ``Action`` the registry binds."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from tocsin.respond.playbooks.templates import RenderError, render_file
from tocsin.settings import Settings


class ResponderError(Exception):
    """A step that could not be carried out; the message is shown to the user as it is."""


class Params(BaseModel):
    """Parameters of an action, after template rendering; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class IncidentCase(Protocol):
    """What case and report actions may do to the incident (the journal implements it)."""

    path: Path  # the case database

    def add_timeline(self, incident_id: str, kind: str, text: str) -> None: ...

    def update_incident(self, incident_id: str, **fields: Any) -> None: ...

    def add_evidence(self, incident_id: str, name: str, sha256: str, size: int, path: str) -> None: ...

    def incident_record(self, incident_id: str) -> dict[str, Any]: ...


#: In an incident output folder: the case database whose incidents it holds.
CASE_MARKER = ".case-database"


@dataclass
class StepContext:
    """Everything an action may use besides its parameters."""

    incident_id: str
    step_id: str
    settings: Settings
    case: IncidentCase
    timeout: int = 60
    template_context: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and resumes, so receivers can drop a repeat."""
        return f"{self.incident_id}/{self.step_id}"

    @property
    def incident_dir(self) -> Path:
        """``output_dir/INC-n``. Incident numbers are per case database: when ``output_dir`` belongs to
        another database (its ``.case-database`` file names it), this one's incidents go to
        ``output_dir/DBNAME-HASH/INC-n``, so two databases never overwrite each other's evidence."""
        output_dir, database = self._output_dir, self._database
        if database is None:
            return output_dir / self.incident_id
        me = str(database.resolve())
        try:
            owner = (output_dir / CASE_MARKER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            owner = me  # claimed by the first write (claim_incident_dir)
        if owner == me:
            return output_dir / self.incident_id
        tag = hashlib.sha256(me.encode()).hexdigest()[:8]
        return output_dir / f"{database.stem}-{tag}" / self.incident_id

    def claim_incident_dir(self) -> Path:
        """The incident folder, created; an unclaimed ``output_dir`` becomes this case database's."""
        output_dir, database = self._output_dir, self._database
        if database is not None:
            output_dir.mkdir(parents=True, exist_ok=True)
            try:
                descriptor = os.open(output_dir / CASE_MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                    stream.write(str(database.resolve()) + "\n")
        folder = self.incident_dir
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def render_file(self, name: str, suffix: str, context: dict[str, Any]) -> str:
        """The named template (``response.template_dirs`` first, then the built-in ones) rendered;
        a template that fails is this step's failure."""
        folders = [Path(folder) for folder in self.settings.response.template_dirs]
        try:
            return render_file(name, suffix, context, folders)
        except RenderError as exc:
            raise ResponderError(str(exc)) from None

    @property
    def _output_dir(self) -> Path:
        return Path(self.settings.response.output_dir)

    @property
    def _database(self) -> Path | None:
        """The case database; None while only planning."""
        return Path(self.case.path) if self.case is not None else None


class Responder:
    """A family member: ``plan`` says what would happen, ``execute`` does it, ``rollback`` undoes it.

    Every method is idempotent: running it again after success changes nothing more.
    """

    params: ClassVar[type[Params]]

    def plan(self, params: Any, ctx: StepContext) -> str:
        raise NotImplementedError

    def execute(self, params: Any, ctx: StepContext) -> dict[str, Any]:
        raise NotImplementedError

    def rollback(self, params: Any, ctx: StepContext) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Action:
    """What a playbook action name runs: a responder's ``execute``, or with ``undo`` its ``rollback``."""

    responder: type[Responder]
    undo: bool = False

    @property
    def params(self) -> type[Params]:
        return self.responder.params

    def plan(self, params: Params, ctx: StepContext) -> str:
        text = self.responder().plan(params, ctx)
        return f"undo: {text}" if self.undo else text

    def run(self, params: Params, ctx: StepContext) -> dict[str, Any]:
        responder = self.responder()
        return responder.rollback(params, ctx) if self.undo else responder.execute(params, ctx)


_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def email_addresses(recipients: str | list[str]) -> list[str]:
    """Addresses, each checked strictly (no display names, no header tricks): a list holds one address
    per item, never split, so a value from an alert cannot add a recipient with a comma; a string
    (a configured list joined with commas) is split on commas."""
    parts = recipients if isinstance(recipients, list) else recipients.split(",")
    addresses = [part.strip() for part in parts if part.strip()]
    if not addresses:
        raise ResponderError("no recipient address")
    bad = [address for address in addresses if not _ADDRESS.match(address) or len(address) > 254]
    if bad:
        raise ResponderError(f"not an e-mail address: {', '.join(repr(b) for b in bad)}")
    return addresses
