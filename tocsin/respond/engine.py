"""Turning alerts into incidents and running their playbooks, step by journaled step."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from tocsin.model.alert import Alert, Level
from tocsin.respond.actions.base import IncidentCase, ResponderError, StepContext
from tocsin.respond.actions.registry import ACTIONS
from tocsin.respond.journal import (
    DONE,
    FAILED,
    NEW_INCIDENT,
    PENDING,
    RUNNING,
    SKIPPED,
    WAITING,
    Journal,
    JournalError,
    iso,
)
from tocsin.respond.playbooks.loader import Catalog, validation_problems
from tocsin.respond.playbooks.models import Playbook, Step
from tocsin.respond.playbooks.templates import RenderError, evaluate, render, render_value
from tocsin.retry import backoff
from tocsin.settings import Settings

RETRY_DELAY_CAP = 5.0


@dataclass
class Proposal:
    """What responding to a group of alerts would do: a new incident, or alerts joining an open one."""

    playbook: Playbook
    key: str
    alerts: list[Alert]
    joins: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    duties: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def level(self) -> Level:
        return max(alert.level for alert in self.alerts)


@dataclass
class Triage:
    proposals: list[Proposal] = field(default_factory=list)
    unmatched: list[Alert] = field(default_factory=list)
    already_handled: dict[str, str] = field(default_factory=dict)  # alert id -> incident id


@dataclass
class RunSummary:
    opened: list[str] = field(default_factory=list)
    joined: int = 0
    steps: dict[str, int] = field(default_factory=dict)


class ResponseEngine:
    """Matches alerts to playbooks (the plan's order), deduplicates into incidents and runs steps."""

    def __init__(self, catalog: Catalog, settings: Settings, journal: Journal | None = None) -> None:
        self.catalog, self.settings, self.journal = catalog, settings, journal

    # planning ----------------------------------------------------------------------------------

    def match(self, alert: Alert) -> Playbook | None:
        return next((p for p in self.catalog.enabled() if p.trigger.matches(alert)), None)

    def triage(self, alerts: list[Alert], playbook: Playbook | None = None) -> Triage:
        """Group alerts into proposals by playbook (``playbook`` forces one) and dedup key within the window.

        Nothing is written.
        """
        triage = Triage()
        window = timedelta(seconds=self.settings.response.dedup_window)
        by_key: dict[str, Proposal] = {}
        for alert in sorted(alerts, key=lambda a: a.timestamp):
            known = self.journal.incident_for_alert(alert.id) if self.journal else None
            if known or any(alert.id == a.id for p in triage.proposals for a in p.alerts):
                triage.already_handled[alert.id] = known or "this run"
                continue
            chosen = playbook or self.match(alert)
            if chosen is None:
                triage.unmatched.append(alert)
                continue
            key = incident_key(chosen, alert)
            current = by_key.get(key)
            if current and alert.timestamp - current.alerts[-1].timestamp <= window:
                current.alerts.append(alert)
                continue
            since = iso(alert.timestamp - window)
            joins = self.journal.open_incident_for(key, since) if self.journal else None
            proposal = Proposal(chosen, key, [alert], joins)
            by_key[key] = proposal
            triage.proposals.append(proposal)
        for proposal in triage.proposals:
            if proposal.joins is None:
                self._render(proposal)
        return triage

    def _render(self, proposal: Proposal) -> None:
        opened = datetime.now(UTC)
        proposal.duties = [
            {
                "notify": duty.notify,
                "deadline_text": duty.deadline_text,
                "template": duty.template,
                "due": iso(opened + timedelta(seconds=duty.within)) if duty.within else None,
            }
            for duty in self.catalog.plan.breach_notification
            if duty.applies_when == "always" or proposal.playbook.personal_data
        ]
        first = proposal.alerts[0]
        incident = {
            "id": NEW_INCIDENT,
            "level": proposal.level.name,
            "opened_at": iso(opened),
            "first_seen": first_seen(first.document()),
            "duties": proposal.duties,
        }
        context = self._context(first.document(), [a.document() for a in proposal.alerts], incident, {})
        for name, text in proposal.playbook.inputs.items():
            try:
                proposal.inputs[name] = render(text, context)
            except RenderError:
                proposal.inputs[name] = ""  # the steps that need it then say they cannot run
        context["inputs"] = proposal.inputs
        for stage, steps in (("main", proposal.playbook.steps), ("rollback", proposal.playbook.rollback)):
            proposal.steps += [self._render_step(step, stage, context) for step in steps]

    def _render_step(self, step: Step, stage: str, context: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": step.id,
            "stage": stage,
            "action": step.action,
            "description": step.description,
            "requires_approval": step.requires_approval,
            "timeout": step.timeout,
            "retries": step.retries,
            "on_failure": step.on_failure,
            "status": PENDING,
            "params": {},
        }
        try:
            if step.when is not None and not evaluate(step.when, context):
                return {**row, "status": SKIPPED, "plan": f"skipped: {step.when} is false"}
            row["params"] = render_value(step.with_, context)
            action = ACTIONS[step.action]
            ctx = self._step_context(NEW_INCIDENT, step.id, step.timeout, None)
            row["plan"] = action.plan(action.params.model_validate(row["params"]), ctx)
        except (RenderError, ResponderError) as exc:
            row["plan"] = f"cannot run: {exc}"
        except ValidationError as exc:
            row["plan"] = f"cannot run: {validation_problems(exc)}"
        if row["plan"].startswith("cannot run: ") and not step.required:
            return {**row, "status": SKIPPED, "plan": f"skipped: {row['plan']}"}
        return row

    def _context(
        self,
        alert: dict[str, Any],
        alerts: list[dict[str, Any]],
        incident: dict[str, Any],
        inputs: dict[str, Any],
    ) -> dict[str, Any]:
        """What templates see. Alert fields are values here, never template source."""
        plan = self.catalog.plan
        return {
            "alert": alert,
            "alerts": alerts,
            "incident": incident,
            "inputs": inputs,
            "severity": plan.severities[incident["level"]].model_dump(),
            "phases": [phase.model_dump() for phase in plan.phases],
            "settings": {
                "user_email_domain": self.settings.response.user_email_domain,
                "webhook_configured": bool(self.settings.webhook.url),
            },
        }

    def _step_context(
        self, incident_id: str, step_id: str, timeout: int, record: dict[str, Any] | None
    ) -> StepContext:
        template_context: dict[str, Any] = {}
        if record is not None:
            template_context = self._context(record["alerts"][0], record["alerts"], record, record["inputs"])
            template_context["actions"] = [
                s for s in record["steps"] if s["status"] == DONE and s["stage"] == "main"
            ]
            template_context["record"] = record
        case: IncidentCase | None = self.journal
        return StepContext(incident_id, step_id, self.settings, case, timeout, template_context)  # type: ignore[arg-type]

    # acting ------------------------------------------------------------------------------------

    def respond(self, triage: Triage) -> RunSummary:
        """Open (or join) incidents for every proposal and run the new incidents' playbooks."""
        journal = self._journal()
        summary = RunSummary()
        for proposal in triage.proposals:
            if proposal.joins:
                for alert in proposal.alerts:
                    journal.attach_alert(proposal.joins, alert.document())
                summary.joined += len(proposal.alerts)
                continue
            first, *rest = proposal.alerts
            incident_id = journal.open_incident(
                dedup_key=proposal.key,
                playbook=proposal.playbook.id,
                title=first.message,
                level=proposal.level.name,
                alert=first.document(),
                inputs=proposal.inputs,
                duties=proposal.duties,
                steps=proposal.steps,
            )
            for alert in rest:
                journal.attach_alert(incident_id, alert.document())
            summary.opened.append(incident_id)
        for incident_id in summary.opened:
            self.run(incident_id, summary)
        return summary

    def run(self, incident_id: str, summary: RunSummary | None = None) -> str:
        """Run every main step not yet done (resume after a crash, a failure or an approval); return the status."""
        journal = self._journal()
        incident = journal.incident(incident_id)
        if incident["status"] == "closed":
            raise JournalError(f"{incident['id']} is closed")
        summary = summary or RunSummary()
        for step in journal.steps(incident["id"], "main"):
            if step.status in (DONE, SKIPPED):
                continue
            if step.requires_approval and not step.approved_by:
                if step.status != WAITING:
                    journal.mark(step, WAITING)
                summary.steps[WAITING] = summary.steps.get(WAITING, 0) + 1
                continue
            outcome = self._execute(step.incident_id, step.step_id)
            summary.steps[outcome] = summary.steps.get(outcome, 0) + 1
            if outcome == FAILED and step.on_failure == "rollback":
                self.rollback(incident["id"])
                break
            if outcome == FAILED and step.on_failure == "stop":
                break
        return self._settle(incident["id"])

    def rollback(self, incident_id: str) -> str:
        """Run the playbook's rollback steps (unblock, unlock) not yet done."""
        journal = self._journal()
        for step in journal.steps(incident_id, "rollback"):
            if step.status not in (DONE, SKIPPED):
                self._execute(incident_id, step.step_id)
        status = self._settle(incident_id)
        self.refresh_reports(incident_id)
        return status

    def skip(self, incident_id: str, step_id: str, reason: str) -> None:
        """A human decides a step will not run (with the reason); the rest of the playbook goes on."""
        journal = self._journal()
        step = journal.step(incident_id, step_id)
        if step.status in (DONE, RUNNING):
            raise JournalError(
                f"{incident_id} step {step_id} is {step.status}; only a step not yet run can be skipped"
            )
        journal.mark(step, SKIPPED, error=f"by {journal.actor}: {reason}")

    def refresh_reports(self, incident_id: str) -> list[str]:
        """Write the incident's reports again (after a state change), where the report step already ran."""
        journal = self._journal()
        refreshed = []
        for step in journal.steps(incident_id):
            if step.action == "report.incident" and step.status == DONE:
                action = ACTIONS[step.action]
                ctx = self._step_context(
                    incident_id, step.step_id, step.timeout, journal.incident_record(incident_id)
                )
                try:
                    action.run(action.params.model_validate(step.params), ctx)
                except (ResponderError, RenderError, ValidationError) as exc:
                    journal.add_timeline(incident_id, "report", f"report not regenerated: {exc}")
                    continue
                refreshed.append(step.step_id)
        return refreshed

    def _execute(self, incident_id: str, step_id: str) -> str:
        journal = self._journal()
        step = journal.step(incident_id, step_id)
        action = ACTIONS.get(step.action)
        if action is None:
            journal.mark(step, FAILED, error=f"unknown action {step.action}")
            return FAILED
        try:
            params = action.params.model_validate(step.params)
        except ValidationError as exc:
            journal.mark(step, FAILED, error=validation_problems(exc))
            return FAILED
        error = ""
        for attempt in range(step.retries + 1):
            journal.mark(step, RUNNING)
            ctx = self._step_context(incident_id, step_id, step.timeout, journal.incident_record(incident_id))
            try:
                result = action.run(params, ctx)
            except (ResponderError, JournalError, RenderError) as exc:
                error = str(exc)
            except Exception as exc:  # a responder bug must not leave the step 'running' forever
                error = f"{type(exc).__name__}: {exc}"
            else:
                journal.mark(step, DONE, result=result)
                return DONE
            if attempt < step.retries:
                time.sleep(backoff(attempt + 1, first=1.0, cap=RETRY_DELAY_CAP))
        journal.mark(step, FAILED, error=error)
        return FAILED

    def _settle(self, incident_id: str) -> str:
        """Derive the incident's status from its steps and record it when it changed."""
        journal = self._journal()
        states = {step.status for step in journal.steps(incident_id, "main")}
        status = (
            "failed"
            if FAILED in states
            else "waiting-approval"
            if WAITING in states
            else "open"
            if states & {PENDING, RUNNING}
            else "responded"
        )
        if journal.incident(incident_id)["status"] not in (status, "closed"):
            journal.set_status(incident_id, status)
            self.refresh_reports(incident_id)
        return status

    def _journal(self) -> Journal:
        if self.journal is None:
            raise JournalError("no case database to act on")
        return self.journal


def incident_key(playbook: Playbook, alert: Alert) -> str:
    """What makes alerts one incident: the playbook and the dedup values the alert has.

    A missing value is never part of a key (``user.name=None`` would merge unrelated alerts);
    without any dedup value the alert's group-by values decide, and failing those, the alert itself.
    """
    values = [f"{name}={value}" for name in playbook.dedup if (value := alert.entity(name)) is not None]
    if not values:
        values = [
            f"{name}={value}" for name, value in sorted((alert.group_by or {}).items()) if value is not None
        ]
    return playbook.id + "|" + "|".join(values or [f"alert={alert.id}"])


def first_seen(alert: dict[str, Any]) -> str:
    """When the activity behind an alert began: a correlation's window start, else its time."""
    return (alert.get("window") or {}).get("start") or alert["@timestamp"]
