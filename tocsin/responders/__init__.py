"""Responders: the actions playbooks take (notify, block, disable accounts), each with plan, execute and rollback.

Importing this package registers every action in ``ACTIONS``.
"""

from tocsin.responders import case, firewall, identity, notify, report
from tocsin.responders.base import ACTIONS

__all__ = ["ACTIONS", "case", "firewall", "identity", "notify", "report"]
