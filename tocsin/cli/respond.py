"""Response commands: respond, incidents, playbooks and audit (registered on the main ``tocsin`` group)."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from pydantic import ValidationError

from tocsin.cli.options import bundle, pass_settings
from tocsin.model.alert import Alert, Level
from tocsin.respond import audit
from tocsin.respond.actions.registry import ACTIONS
from tocsin.respond.engine import ResponseEngine, RunSummary, Triage
from tocsin.respond.journal import Journal, JournalError
from tocsin.respond.playbooks.loader import (
    Catalog,
    PlaybookError,
    load_catalog,
    load_playbook,
    playbook_files,
)
from tocsin.settings import Settings
from tocsin.terminal import visible


def echo(text: str = "", err: bool = False) -> None:
    """A line for the terminal: control characters (escape sequences) shown, never sent."""
    click.echo(visible(text), err=err)


@dataclass
class Session:
    settings: Settings
    catalog: Catalog
    journal: Journal | None

    @property
    def engine(self) -> ResponseEngine:
        return ResponseEngine(self.catalog, self.settings, self.journal)


def _actor() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


@contextmanager
def session(
    settings: Settings, db: Path | None, create: bool = True, open_journal: bool = True
) -> Iterator[Session]:
    """Plan and playbooks, and the journal (created when ``create``, else only if it exists)."""
    response = settings.response
    try:
        catalog = load_catalog(
            Path(response.plan) if response.plan else None, [Path(p) for p in response.playbooks]
        )
    except PlaybookError as exc:
        raise click.UsageError(str(exc)) from None
    for problem in catalog.problems:
        echo(f"warning: {problem}", err=True)
    path = db or Path(response.db)
    journal = None
    try:
        if open_journal and (create or path.exists()):
            journal = Journal(path, _actor())
        yield Session(settings, catalog, journal)
    except JournalError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        if journal:
            journal.close()


#: ``--db`` and ``--config``: the case database and the settings of a response command.
journal_options = bundle(
    click.option(
        "--db",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Case database (default: [response] db, tocsin-cases.db).",
    ),
    pass_settings,
)


def read_alerts(paths: tuple[str, ...]) -> tuple[list[Alert], list[str]]:
    """Alerts from JSON Lines or JSON array files (``-`` for stdin), and the problems met."""
    alerts: list[Alert] = []
    problems: list[str] = []
    for name in paths:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"cannot read {name}: {exc.strerror}") from None
        stripped = text.lstrip()
        try:
            documents = (
                json.loads(stripped)
                if stripped.startswith("[")
                else [json.loads(line) for line in text.splitlines() if line.strip()]
            )
        except ValueError as exc:
            problems.append(f"{name}: not JSON Lines or a JSON array ({exc})")
            continue
        for number, document in enumerate(documents, start=1):
            try:
                alerts.append(Alert.model_validate(document))
            except (ValidationError, ValueError, TypeError, AttributeError) as exc:
                if not isinstance(exc, ValidationError):
                    problems.append(f"{name} alert {number}: {exc}")
                    continue
                problems.append(
                    f"{name} alert {number}: {exc.error_count()} invalid field(s), e.g. {exc.errors()[0]['loc']}"
                )
    return alerts, problems


def print_triage(triage: Triage) -> None:
    for proposal in triage.proposals:
        alerts = len(proposal.alerts)
        if proposal.joins:
            echo(f"{proposal.joins} (open) <- {alerts} more alert(s) for {proposal.key}")
            continue
        echo(
            f"new incident [{proposal.level.name}] {proposal.playbook.id}: {proposal.alerts[0].message} ({alerts} alert(s))"
        )
        for name, value in proposal.inputs.items():
            echo(f"    input {name} = {value!r}")
        for number, step in enumerate(proposal.steps, start=1):
            gate = " [needs approval]" if step["requires_approval"] else ""
            stage = "rollback " if step["stage"] == "rollback" else ""
            echo(f"  {stage}{number:>2}. {step['id']} ({step['action']}){gate}: {step['plan']}")
    for alert in triage.unmatched:
        echo(f"no playbook: {alert.rule.title} ({alert.id})")


def print_summary(triage: Triage, run: RunSummary | None, problems: list[str]) -> None:
    new = sum(1 for p in triage.proposals if not p.joins)
    joined = sum(len(p.alerts) for p in triage.proposals if p.joins)
    line = (
        f"Response: {sum(len(p.alerts) for p in triage.proposals)} alert(s) matched a playbook, "
        f"{len(triage.unmatched)} matched none, {len(triage.already_handled)} already handled; "
        f"{new} new incident(s), {joined} alert(s) joining open incidents"
    )
    echo(line, err=True)
    if run is not None:
        steps = ", ".join(f"{count} {status}" for status, count in sorted(run.steps.items())) or "none run"
        echo(f"Executed: opened {', '.join(run.opened) or 'no incident'}; steps: {steps}", err=True)
    else:
        echo("Plan only: nothing was changed (act with --execute, or scan --respond=execute).", err=True)
    for problem in problems:
        echo(f"  skipped: {problem}", err=True)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--execute", is_flag=True, help="Act: open incidents and run their steps (default: plan only).")
@journal_options
def respond(paths: tuple[str, ...], execute: bool, db: Path | None, settings: Settings) -> None:
    """Plan (or with --execute, carry out) the response to alerts from JSON Lines files or - (stdin)."""
    alerts, problems = read_alerts(paths)
    respond_to(alerts, execute, db, settings, problems)


def respond_to(
    alerts: list[Alert],
    execute: bool,
    db: Path | None,
    settings: Settings,
    problems: list[str] | None = None,
    playbook_id: str | None = None,
) -> None:
    """The response to parsed alerts (``respond``, ``scan --respond``, ``playbooks run``); exit 1 if a step failed."""
    with session(settings, db, create=execute) as current:
        forced = None
        if playbook_id is not None:
            forced = current.catalog.playbooks.get(playbook_id)
            if forced is None:
                raise click.UsageError(f"no playbook {playbook_id} (see tocsin playbooks list)")
        triage = current.engine.triage(alerts, forced)
        print_triage(triage)
        run = current.engine.respond(triage) if execute else None
        print_summary(triage, run, problems or [])
        if run and run.steps.get("failed"):
            raise click.exceptions.Exit(1)


@click.group()
def incidents() -> None:
    """List, inspect, approve, resume and close incidents."""


@incidents.command("list")
@click.option(
    "--status",
    type=click.Choice(["open", "waiting-approval", "failed", "responded", "closed"]),
    help="Only incidents with this status.",
)
@journal_options
def incidents_list(status: str | None, db: Path | None, settings: Settings) -> None:
    """One line per incident."""
    with session(settings, db, create=False) as current:
        rows = current.journal.incidents(status) if current.journal else []
        for row in rows:
            echo(
                f"{row['id']:8} {row['status']:17} {row['level']:9} {row['playbook']:30} {row['first_seen']}  {row['title']}"
            )
        counts = Counter(row["status"] for row in rows)
        echo(
            f"{len(rows)} incident(s)"
            + (": " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) if rows else ""),
            err=True,
        )


@incidents.command("show")
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True, help="The full record as JSON.")
@journal_options
def incidents_show(incident_id: str, as_json: bool, db: Path | None, settings: Settings) -> None:
    """An incident: alerts, steps with their state, deadlines, timeline and evidence."""
    with session(settings, db, create=False) as current:
        record = _journal(current).incident_record(incident_id.upper())
    if as_json:
        click.echo(json.dumps(record, indent=2, default=str))
        return
    echo(
        f"{record['id']} [{record['level']}] {record['status']} (phase {record['phase']}): {record['title']}"
    )
    echo(
        f"  playbook {record['playbook']}, opened {record['opened_at']}, activity {record['first_seen']} .. {record['last_seen']}"
    )
    for duty in record["duties"]:
        echo(f"  notify {duty['notify']}: {'by ' + duty['due'] if duty['due'] else duty['deadline_text']}")
    echo(f"  alerts: {len(record['alerts'])}")
    for step in record["steps"]:
        gate = " [approval: " + (step["approved_by"] or "pending") + "]" if step["requires_approval"] else ""
        detail = step["error"] or step["plan"]
        echo(
            f"  {step['stage']:8} {step['step_id']:24} {step['status']:8} x{step['attempts']}{gate}  {detail}"
        )
    for entry in record["timeline"]:
        echo(f"  {entry['at']}  {entry['kind']:10} {entry['text']}")
    for item in record["evidence"]:
        echo(f"  evidence {item['name']} sha256 {item['sha256']}")


@incidents.command("approve")
@click.argument("incident_id")
@click.argument("step_id")
@click.option("--no-run", is_flag=True, help="Only record the approval; run it later with resume.")
@journal_options
def incidents_approve(
    incident_id: str, step_id: str, no_run: bool, db: Path | None, settings: Settings
) -> None:
    """Approve a step that waits for a human, then run what can run."""
    with session(settings, db, create=False) as current:
        journal = _journal(current)
        step = journal.approve(incident_id.upper(), step_id)
        echo(f"{step.incident_id} {step.step_id} approved by {step.approved_by}", err=True)
        if not no_run:
            _resume(current, step.incident_id)


@incidents.command("resume")
@click.argument("incident_id")
@journal_options
def incidents_resume(incident_id: str, db: Path | None, settings: Settings) -> None:
    """Run the steps not yet done (after a crash, a failure or an approval); done steps are not repeated."""
    with session(settings, db, create=False) as current:
        _resume(current, incident_id.upper())


def _resume(current: Session, incident_id: str) -> None:
    run = RunSummary()
    status = current.engine.run(incident_id, run)
    steps = (
        ", ".join(f"{count} {state}" for state, count in sorted(run.steps.items())) or "nothing left to run"
    )
    echo(f"{incident_id}: {status}; steps this run: {steps}", err=True)
    if status == "failed":
        raise click.exceptions.Exit(1)


@incidents.command("close")
@click.argument("incident_id")
@click.option("--rollback", is_flag=True, help="First run the playbook's rollback steps (unblock, unlock).")
@journal_options
def incidents_close(incident_id: str, rollback: bool, db: Path | None, settings: Settings) -> None:
    """Close an incident (post-incident phase); with --rollback, undo its containment first."""
    with session(settings, db, create=False) as current:
        journal = _journal(current)
        incident = journal.incident(incident_id)
        if rollback:
            current.engine.rollback(incident["id"])
        journal.update_incident(incident["id"], phase="post-incident")
        journal.set_status(incident["id"], "closed")
        refreshed = current.engine.refresh_reports(incident["id"])
        echo(f"{incident['id']} closed" + (" after rollback" if rollback else "")
             + ("; report regenerated" if refreshed else ""), err=True)  # fmt: skip


@incidents.command("skip")
@click.argument("incident_id")
@click.argument("step_id")
@click.option(
    "--reason", required=True, help="Why the step will not run (kept in the journal and the audit log)."
)
@click.option("--no-run", is_flag=True, help="Only record the skip; run the rest later with resume.")
@journal_options
def incidents_skip(
    incident_id: str, step_id: str, reason: str, no_run: bool, db: Path | None, settings: Settings
) -> None:
    """Skip a step that cannot or should not run, with the reason, then run what can run.

    \b
    Examples:
      tocsin incidents skip INC-3 lock-account --reason "account already disabled in the IdP"
    """
    with session(settings, db, create=False) as current:
        current.engine.skip(incident_id.upper(), step_id, reason)
        echo(f"{incident_id.upper()} {step_id} skipped: {reason}", err=True)
        if not no_run:
            _resume(current, incident_id.upper())


@click.group()
def playbooks() -> None:
    """List, validate and run playbooks."""


@playbooks.command("list")
@pass_settings
def playbooks_list(settings: Settings) -> None:
    """The playbooks, in the plan's order, with their triggers; then the actions they can use."""
    with session(settings, None, open_journal=False) as current:
        catalog = current.catalog
        enabled = catalog.plan.playbooks
        for playbook in sorted(
            catalog.playbooks.values(), key=lambda p: enabled.index(p.id) if p.id in enabled else 99
        ):
            state = "enabled" if playbook.id in enabled else "not in plan"
            trigger = " ".join(
                f"{name}={value.name if isinstance(value, Level) else ','.join(value)}"
                for name, value in playbook.trigger.model_dump(exclude_defaults=True).items()
            )
            echo(
                f"{playbook.id:32} {state:12} {len(playbook.steps)} steps  {playbook.title}  trigger: {trigger}"
            )
        echo("actions: " + ", ".join(sorted(ACTIONS)))
        echo(
            f"{len(catalog.playbooks)} playbook(s), {len(enabled)} enabled by plan {catalog.plan.name!r}",
            err=True,
        )


@playbooks.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def playbooks_validate(paths: tuple[Path, ...]) -> None:
    """Check playbook files: shape, actions, parameters and template syntax. Exit 1 if any is invalid."""
    try:
        files = playbook_files(paths)
    except PlaybookError as exc:
        raise click.UsageError(str(exc)) from None
    bad = 0
    for path in files:
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            bad += 1
            echo(f"invalid {exc}")
        else:
            echo(f"ok      {path}: {playbook.id} ({len(playbook.steps)} steps)")
    echo(f"{len(files)} file(s): {len(files) - bad} valid, {bad} invalid", err=True)
    if bad:
        raise click.exceptions.Exit(1)


@playbooks.command("run")
@click.argument("playbook_id")
@click.option("--alert-id", required=True, help="The alert to respond to.")
@click.option(
    "--alerts",
    "alerts_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="JSON Lines file holding it.",
)
@click.option("--execute", is_flag=True, help="Act (default: plan only).")
@journal_options
def playbooks_run(
    playbook_id: str, alert_id: str, alerts_file: str, execute: bool, db: Path | None, settings: Settings
) -> None:
    """Run one playbook for one alert, whatever the plan's routing says."""
    alerts, problems = read_alerts((alerts_file,))
    chosen = [alert for alert in alerts if alert.id == alert_id]
    if not chosen:
        raise click.UsageError(f"no alert {alert_id} in {alerts_file}")
    respond_to(chosen, execute, db, settings, problems, playbook_id)


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@journal_options
def audit_verify(db: Path | None, settings: Settings) -> None:
    """Recompute the audit chain; exit 1 when any entry was changed, removed or inserted."""
    with session(settings, db, create=False) as current:
        journal = _journal(current)
        result = audit.verify(journal.connection, journal.path)
    for problem in result.problems:
        echo(f"tampered: {problem}")
    echo(
        f"audit log: {result.entries} entries, "
        + ("chain intact" if result.ok else f"{len(result.problems)} problem(s)"),
        err=True,
    )
    if not result.ok:
        raise click.exceptions.Exit(1)


def _journal(current: Session) -> Journal:
    if current.journal is None:
        raise click.UsageError("no case database yet: run tocsin respond --execute first (or pass --db)")
    return current.journal


COMMANDS = (respond, incidents, playbooks, audit_group)
