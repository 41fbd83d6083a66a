"""Attack simulation: realistic, labelled logs and captures for each scenario, with their ground truth.

A scenario (``scenarios/``) plants attack instances in a simulated organisation (``world``) whose
benign background (``background`` and the per-format modules in ``formats/``) follows daily
cycles. ``simulation.generate`` writes the files in the vendors' own formats, in time order,
and ``ground_truth.json`` (``truth``) naming the records of each attack. ``scenarios.SCENARIOS``
names the scenarios.
"""
