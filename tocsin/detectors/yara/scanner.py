"""Running compiled YARA rules over payloads and files, producing alerts with masked matches."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yara

from tocsin.credentials import mask
from tocsin.detectors.yara.compiler import EXTERNALS
from tocsin.model.alert import Alert, Level, RuleInfo, alert_id
from tocsin.sources.base import InputSource
from tocsin.sources.pcap.payloads import Payload

#: Matched strings listed per alert, at most.
MAX_MATCHES = 20
_SCORE_LEVELS = ((90, Level.critical), (70, Level.high), (40, Level.medium), (0, Level.low))


@dataclass
class YaraLimits:
    timeout: int = 30
    max_file_bytes: int = 256 << 20


@dataclass
class YaraScanner:
    """Scans payloads and files; ``stats`` counts what was scanned, skipped or timed out."""

    rules: yara.Rules
    limits: YaraLimits = field(default_factory=YaraLimits)
    stats: Counter[str] = field(default_factory=Counter)

    def scan_payload(self, payload: Payload) -> list[Alert]:
        name = payload.name
        externals = {
            **EXTERNALS,
            "filename": name or payload.kind,
            "extension": Path(name).suffix.lower() if name else "",
            "filetype": payload.kind,
        }
        matches = self._match(externals, data=payload.data)
        self.stats["payloads scanned"] += 1
        self.stats["payload bytes scanned"] += len(payload.data)
        target: dict[str, Any] = {
            "kind": payload.kind,
            "input": payload.input,
            "flow_id": payload.flow_id,
            "stream_offset": payload.offset,
        }
        if payload.part is not None:
            target["part"] = payload.part
        if name:
            target["file"] = {"name": name}
        entities = {
            "source": {"ip": payload.source_ip, "port": payload.source_port},
            "host": None,
        }
        what = f'{payload.kind} "{name}"' if name else payload.kind
        where = f"{what} {payload.source_ip}:{payload.source_port} → {payload.destination_ip}:{payload.destination_port}"
        key = f"{payload.input}\0{payload.flow_id}\0{payload.kind}\0{payload.offset}"
        if payload.part is not None:
            key += f"\0{payload.part}"
        alerts = [self._alert(match, payload.timestamp, key, where, target, entities) for match in matches]
        return [alert for alert in alerts if alert is not None]

    def scan_file(self, source: InputSource) -> list[Alert]:
        """Scan a plain file (from disk, or the stream of an archive member, within the size limit)."""
        path = source.path
        name = source.name
        externals = {
            **EXTERNALS,
            "filename": Path(name).name,
            "filepath": name,
            "extension": Path(name).suffix.lower(),
            "filetype": "",
            "owner": _owner(path),
        }
        if path is not None:
            if path.stat().st_size > self.limits.max_file_bytes:
                self.stats["files larger than the YARA size limit (not scanned)"] += 1
                return []
            matches = self._match(externals, filepath=str(path))
        else:
            with source.open() as stream:
                data = stream.read(self.limits.max_file_bytes + 1)
            if len(data) > self.limits.max_file_bytes:
                self.stats["files larger than the YARA size limit (not scanned)"] += 1
                return []
            matches = self._match(externals, data=data)
        self.stats["files scanned"] += 1
        timestamp = source.mtime or 0.0
        alerts = [
            self._alert(match, timestamp, name, name, {"kind": "file", "path": name}, {}) for match in matches
        ]
        return [alert for alert in alerts if alert is not None]

    def _match(self, externals: dict[str, str], **target: Any) -> list[yara.Match]:
        try:
            return self.rules.match(externals=externals, timeout=self.limits.timeout, **target)
        except yara.TimeoutError:
            self.stats["YARA scans timed out"] += 1
        except yara.Error as exc:
            self.stats[f"YARA scan error: {exc}"] += 1
        return []

    def _alert(self, match: yara.Match, timestamp: float, target_key: str, where: str,
               target: dict[str, Any], entities: dict[str, Any]) -> Alert | None:  # fmt: skip
        """The alert for one match; None when a rule's ``luhn_min`` check rejects it."""
        meta = dict(match.meta)
        found: list[dict[str, Any]] = []
        for string in match.strings:
            for instance in string.instances:
                if len(found) >= MAX_MATCHES:
                    break
                found.append({
                    "identifier": string.identifier,
                    "offset": instance.offset + target.get("stream_offset", 0),
                    "length": instance.matched_length,
                    "data": mask(bytes(instance.matched_data)),
                })  # fmt: skip
        rule_id = str(meta.get("id") or f"{match.namespace}.{match.rule}")
        if "luhn_min" in meta:
            valid = sum(luhn_valid(bytes(i.matched_data)) for s in match.strings for i in s.instances)
            if valid < int(meta["luhn_min"]):
                return None
            meta["luhn_valid"] = valid
        title = rule_title(match.rule, meta)
        info = RuleInfo(
            id=rule_id,
            title=title,
            level=_level(meta),
            tags=list(match.tags),
            type="yara",
            description=str(meta["description"]) if "description" in meta else None,
            source=match.namespace,
        )
        first = found[0]["offset"] if found else 0
        return Alert(
            id=alert_id("yara", rule_id, target_key, str(first)),
            timestamp=datetime.fromtimestamp(timestamp, UTC),
            rule=info,
            event_count=1,
            message=f"{title}: YARA rule {match.rule} matched {where}",
            details={
                "yara": {"namespace": match.namespace, "meta": meta, "matches": found},
                "target": target,
            },
            **{name: value for name, value in entities.items() if value},
        )


def luhn_valid(data: bytes) -> bool:
    """Whether the digits of ``data`` form a number passing the Luhn check (card numbers)."""
    digits = [int(c) for c in data.decode("ascii", "ignore") if c.isdigit()]
    if len(digits) < 12:
        return False
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def rule_title(identifier: str, meta: dict[str, Any]) -> str:
    """A YARA rule's title: its ``title`` meta (the built-in rules have one), else its identifier."""
    return str(meta.get("title") or identifier)


def _level(meta: dict[str, Any]) -> Level:
    """From a ``severity``/``level`` name, or a signature-base ``score`` (0-100); medium otherwise."""
    for key in ("severity", "level"):
        value = str(meta.get(key, "")).lower()
        if value in Level.__members__:
            return Level[value]
    try:
        score = int(meta["score"])
    except (KeyError, TypeError, ValueError):
        return Level.medium
    return next(level for floor, level in _SCORE_LEVELS if score >= floor)


def _owner(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        import pwd

        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return ""
