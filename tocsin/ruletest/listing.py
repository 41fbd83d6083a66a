"""``tocsin rules list``: the rules with their ATT&CK tactics and techniques, and coverage counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tocsin.detectors.sigma.ruleset import load_rules

TACTICS = (
    "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
    "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
    "collection", "command-and-control", "exfiltration", "impact",
)  # fmt: skip


@dataclass
class ListedRule:
    id: str
    title: str
    level: str
    kind: str
    tactics: list[str]
    techniques: list[str]
    source: str
    alerts: bool


@dataclass
class Listing:
    rules: list[ListedRule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def tactic_coverage(self) -> Counter[str]:
        return Counter(tactic for rule in self.rules if rule.alerts for tactic in rule.tactics)

    def technique_coverage(self) -> Counter[str]:
        return Counter(technique for rule in self.rules if rule.alerts for technique in rule.techniques)


def attack_tags(tags: list[str]) -> tuple[list[str], list[str]]:
    """(tactics, techniques) of Sigma tags: ``attack.credential-access``, ``attack.t1110.001``."""
    tactics, techniques = [], []
    for tag in tags:
        namespace, _, name = tag.lower().partition(".")
        if namespace != "attack":
            continue
        name = name.replace("_", "-")
        if name.startswith("t") and name[1:2].isdigit():
            techniques.append(name.upper())
        elif name in TACTICS:
            tactics.append(name)
    return tactics, techniques


def list_rules(paths: list[Path], include_building_blocks: bool = False) -> Listing:
    ruleset = load_rules(paths)
    listing = Listing(errors=[f"{error.source}: {error.reason}" for error in ruleset.errors])
    entries = [(rule.info, rule.emits_alerts) for rule in ruleset.detections]
    entries += [(rule.info, True) for rule in [*ruleset.correlations, *ruleset.stateful]]
    for info, alerts in entries:
        if not alerts and not include_building_blocks:
            continue
        tactics, techniques = attack_tags(info.tags)
        listing.rules.append(
            ListedRule(info.id, info.title, info.level.name, info.type, tactics, techniques, info.source or "", alerts)
        )
    listing.rules.sort(key=lambda rule: (rule.tactics[:1] or ["~"], rule.title))
    return listing
