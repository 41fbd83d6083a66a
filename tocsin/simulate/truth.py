"""``ground_truth.json``: which records of a scenario's files belong to which attack.

Records are named by file and number, exactly as tocsin's parsers number them in ``Event.offset``:
the 1-based line of a log file, the 1-based packet of a capture. Every event a parser derives
from a labelled record (for a capture, from a labelled packet: each flow, DNS, HTTP or login
event carries the number of one of its packets) belongs to that attack.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TRUTH_FILE = "ground_truth.json"
LOGS_DIR = "logs"


@dataclass
class AttackTruth:
    """One attack instance and the records it produced."""

    id: str
    technique: str
    summary: str
    expected_rules: list[str]
    attacker: dict[str, list[str]]
    start: str = ""
    end: str = ""
    #: File (relative to ``logs/``) → numbers of the records that belong to the attack.
    records: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class FileTruth:
    """One generated file: tocsin's format for it, its record unit and how many records it holds."""

    format: str
    unit: str
    records: int


@dataclass
class GroundTruth:
    """Everything ``tocsin evaluate`` needs to score a scan of one scenario's ``logs/``."""

    scenario: str
    description: str
    seed: int
    scale: float
    start: str
    end: str
    files: dict[str, FileTruth]
    attacks: list[AttackTruth]

    def save(self, directory: Path) -> None:
        text = json.dumps(asdict(self), indent=1, sort_keys=False)
        (directory / TRUTH_FILE).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> GroundTruth:
        data: dict[str, Any] = json.loads((directory / TRUTH_FILE).read_text(encoding="utf-8"))
        data["files"] = {name: FileTruth(**value) for name, value in data["files"].items()}
        data["attacks"] = [AttackTruth(**value) for value in data["attacks"]]
        return cls(**data)
