"""The scenario registry: each scenario is a function registered with ``@scenario``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tocsin.simulate.simulation import Simulation

#: Scenarios by name, filled by the ``@scenario`` decorator.
SCENARIOS: dict[str, Scenario] = {}


@dataclass(frozen=True)
class Scenario:
    """A named attack scenario: ``plan`` adds its attacks and background sources to a simulation."""

    name: str
    description: str
    plan: Callable[[Simulation], None]


def scenario(
    name: str, description: str
) -> Callable[[Callable[[Simulation], None]], Callable[[Simulation], None]]:
    """Function decorator registering a scenario under ``name``."""

    def register(plan: Callable[[Simulation], None]) -> Callable[[Simulation], None]:
        SCENARIOS[name] = Scenario(name, description, plan)
        return plan

    return register
