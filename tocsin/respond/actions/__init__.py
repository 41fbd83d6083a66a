"""Responders: the actions playbooks take (notify, block, disable accounts), each with plan, execute and rollback.

Which action names exist is ``registry.ACTIONS``; importing a responder module registers nothing.
"""
