"""The action registry: every name a playbook step may use, bound to the responder that carries it out.

One literal, read here: an action exists because it is listed, not because a module was imported.
"""

from __future__ import annotations

from tocsin.respond.actions.base import Action
from tocsin.respond.actions.case import AttachEvidence, TimelineEntry, UpdateCase
from tocsin.respond.actions.firewall import BlockIp
from tocsin.respond.actions.identity import (
    DisableAccount,
    ForcePasswordReset,
    RequireMfaReenrolment,
    RevokeSessions,
)
from tocsin.respond.actions.notify import Email, Webhook
from tocsin.respond.actions.report import IncidentReport

ACTIONS: dict[str, Action] = {
    # send an e-mail rendered from a template (first line: Subject: …)
    "notify.email": Action(Email),
    # POST a JSON message (plain, Slack or Teams payload)
    "notify.webhook": Action(Webhook),
    # drop traffic from a source address for a time, and undo it
    "firewall.block_ip": Action(BlockIp),
    "firewall.unblock_ip": Action(BlockIp, undo=True),
    # lock the account, and unlock it
    "identity.disable_account": Action(DisableAccount),
    "identity.enable_account": Action(DisableAccount, undo=True),
    # end the account's sessions
    "identity.revoke_sessions": Action(RevokeSessions),
    # make the current password unusable until reset
    "identity.force_password_reset": Action(ForcePasswordReset),
    # revoke the enrolled second factor
    "identity.require_mfa_reenrolment": Action(RequireMfaReenrolment),
    # set the incident's status and add a note
    "case.update": Action(UpdateCase),
    # add a timeline entry
    "case.timeline": Action(TimelineEntry),
    # copy evidence into the incident folder with a SHA-256 manifest
    "case.attach_evidence": Action(AttachEvidence),
    # write the incident report and draft the communications for review
    "report.incident": Action(IncidentReport),
}
