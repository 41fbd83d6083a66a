"""The action registry: one literal, every undo bound to a responder that can undo."""

from __future__ import annotations

import re

from tocsin.respond.actions.base import Responder
from tocsin.respond.actions.registry import ACTIONS


def test_every_undo_action_runs_a_rollback_of_its_own() -> None:
    undoable = {name for name, action in ACTIONS.items() if action.undo}
    assert undoable == {"firewall.unblock_ip", "identity.enable_account"}
    for name in undoable:
        assert ACTIONS[name].responder.rollback is not Responder.rollback, name


def test_action_names_are_family_dot_verb() -> None:
    assert all(re.fullmatch(r"[a-z]+\.[a-z_]+", name) for name in ACTIONS)
