"""``tocsin rules list``: the rules with their ATT&CK tactics and techniques, and coverage counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yara

from tocsin.detectors.sigma.ruleset import RuleSelection, load_rules
from tocsin.detectors.yara.compiler import EXTERNALS
from tocsin.detectors.yara.compiler import rule_files as yara_rule_files
from tocsin.detectors.yara.scanner import _level as yara_level
from tocsin.detectors.yara.scanner import rule_title

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
    #: ``product/service/category`` of a single-event Sigma rule; empty for the others.
    logsource: str = ""


@dataclass
class Listing:
    rules: list[ListedRule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Rules the rule-pack filters left out, by reason.
    left_out: dict[str, int] = field(default_factory=dict)

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


def list_rules(
    paths: list[Path],
    include_building_blocks: bool = False,
    yara_paths: list[Path] | None = None,
    selection: RuleSelection | None = None,
) -> Listing:
    """Sigma, correlation and stateful rules under ``paths`` that ``selection`` keeps, and YARA rules
    under ``yara_paths`` (default: the YARA files under ``paths``)."""
    ruleset = load_rules(paths, selection=selection)
    listing = Listing(
        errors=[f"{error.source}: {error.reason}" for error in ruleset.errors],
        left_out=dict(ruleset.left_out),
    )
    entries = [
        (rule.info, rule.emits_alerts, "/".join(filter(None, (rule.product, rule.service, rule.category))))
        for rule in ruleset.detections
    ]
    entries += [(rule.info, True, "") for rule in ruleset.correlations]
    entries += [(rule.info, True, "") for rule in ruleset.stateful]
    for info, alerts, logsource in entries:
        if not alerts and not include_building_blocks:
            continue
        tactics, techniques = attack_tags(info.tags)
        listing.rules.append(
            ListedRule(
                info.id,
                info.title,
                info.level.name,
                info.type,
                tactics,
                techniques,
                info.source or "",
                alerts,
                logsource,
            )
        )
    listing.rules += _yara_rules(yara_paths if yara_paths is not None else paths, listing.errors)
    listing.rules.sort(key=lambda rule: (rule.tactics[:1] or ["~"], rule.title))
    return listing


def _yara_rules(paths: list[Path], errors: list[str]) -> list[ListedRule]:
    """YARA rules listed as their alerts name them: the rule identifier, level from its meta."""
    listed = []
    for file in yara_rule_files(paths):
        try:
            compiled = yara.compile(filepath=str(file), externals=EXTERNALS)
        except yara.Error as exc:
            errors.append(f"{file}: {exc}")
            continue
        for rule in compiled:
            meta = dict(rule.meta)
            tactics, techniques = attack_tags(
                [f"attack.{tag}" for tag in rule.tags] + str(meta.get("attack", "")).split()
            )
            listed.append(ListedRule(
                str(meta.get("id") or f"{file.stem}.{rule.identifier}"), rule_title(rule.identifier, meta), yara_level(meta).name,
                "yara", tactics, techniques, str(file), True,
            ))  # fmt: skip
    return listed


def as_json(listing: Listing) -> dict[str, Any]:
    """The listing for scripts: every rule, coverage counts and what could not be loaded."""
    return {
        "rules": [asdict(rule) for rule in listing.rules],
        "coverage": {
            "tactics": dict(listing.tactic_coverage()),
            "techniques": dict(listing.technique_coverage()),
        },
        "errors": listing.errors,
    }


def navigator_layer(listing: Listing, name: str = "tocsin rules") -> dict[str, Any]:
    """An ATT&CK Navigator layer (format 4.5): each covered technique scored by its alerting rules."""
    titles: dict[str, list[str]] = {}
    for rule in listing.rules:
        if rule.alerts:
            for technique in rule.techniques:
                titles.setdefault(technique, []).append(rule.title)
    top = max((len(rules) for rules in titles.values()), default=1)
    return {
        "name": name,
        "versions": {"layer": "4.5", "navigator": "5.1.0", "attack": "16"},
        "domain": "enterprise-attack",
        "description": f"{sum(1 for r in listing.rules if r.alerts)} alerting rules covering {len(titles)} techniques",
        "techniques": [
            {
                "techniqueID": technique,
                "score": len(rules),
                "comment": "; ".join(sorted(set(rules))),
                "enabled": True,
                "showSubtechniques": True,
            }
            for technique, rules in sorted(titles.items())
        ],
        "gradient": {"colors": ["#ffe766", "#ff6666"], "minValue": 1, "maxValue": top},
        "legendItems": [],
        "showTacticRowBackground": False,
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
    }
