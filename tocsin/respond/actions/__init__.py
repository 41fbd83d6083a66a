"""Responders: the actions playbooks take (notify, block, disable accounts), each with plan, execute and rollback.

Importing this package registers every action in ``ACTIONS``.
"""

from tocsin.respond.actions import case, firewall, identity, notify, report
from tocsin.respond.actions.base import ACTIONS

__all__ = ["ACTIONS", "case", "firewall", "identity", "notify", "report"]
