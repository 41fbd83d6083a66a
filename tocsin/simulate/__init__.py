"""Attack simulation: realistic, labelled logs and captures for each scenario, with their ground truth.

A scenario (``scenarios/``) plants attack instances in a simulated organisation (``world``) whose
benign background (``background`` and the per-format modules in ``formats/``) follows daily
cycles. ``simulation.generate`` writes the files in the vendors' own formats, in time order,
and ``ground_truth.json`` (``truth``) naming the records of each attack.
"""

from tocsin.simulate import formats as _formats  # noqa: F401
from tocsin.simulate import scenarios as _scenarios  # noqa: F401
from tocsin.simulate.registry import SCENARIOS, Scenario, scenario
from tocsin.simulate.simulation import DEFAULT_START, Settings, generate

__all__ = ["DEFAULT_START", "SCENARIOS", "Scenario", "Settings", "generate", "scenario"]
