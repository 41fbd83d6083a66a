"""What a scenario is; ``tocsin.simulate.scenarios.SCENARIOS`` names them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tocsin.simulate.simulation import Simulation


@dataclass(frozen=True)
class Scenario:
    """A named attack scenario: ``plan`` adds its attacks and background sources to a simulation."""

    name: str
    description: str
    plan: Callable[[Simulation], None]
