"""Attack simulation: realistic, labelled logs and captures for each scenario, with their ground truth.

A scenario (``scenarios/``) plants attack instances in a simulated organisation (``world``) whose
benign background (``background`` and the per-format modules in ``formats/``) follows daily
cycles. ``simulation.generate`` writes the files in the vendors' own formats, in time order,
and ``ground_truth.json`` (``truth``) naming the records of each attack. ``scenarios.SCENARIOS``
names the scenarios.
"""

from importlib.util import find_spec

from tocsin import MissingExtra

if find_spec("scapy") is None:  # checked, not imported: only what builds packets imports it
    raise MissingExtra("tocsin simulate and evaluate need the lab extra: pip install 'tocsin[lab]'")
