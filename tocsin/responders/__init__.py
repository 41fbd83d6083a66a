"""Responders: the actions playbooks take (notify, block, disable accounts), each with plan, execute and rollback."""
