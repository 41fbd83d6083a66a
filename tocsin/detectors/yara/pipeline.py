"""YARA inside a scan: compile once, scan capture payloads as they complete and plain files as they
are met, and hold the resulting alerts until the pipeline collects them."""

from __future__ import annotations

from pathlib import Path

from tocsin.detectors.yara.compiler import CompiledYara, builtin_yara_path, compile_rules
from tocsin.detectors.yara.scanner import YaraScanner
from tocsin.model.alert import Alert
from tocsin.sources.base import InputSource
from tocsin.sources.pcap.payloads import Payload, PayloadScanner


class ContentScan:
    """The YARA side of one scan run."""

    def __init__(self, compiled: CompiledYara, scan_files: bool) -> None:
        self.compiled = compiled
        self.scanner = YaraScanner(compiled.rules) if compiled.rules is not None else None
        self.scan_files = scan_files and self.scanner is not None
        self.alerts: list[Alert] = []

    @classmethod
    def load(cls, user_paths: list[Path], builtin: bool) -> ContentScan:
        """Built-in rules (unless disabled) plus the user's; files are scanned only when the user gave rules."""
        paths = ([builtin_yara_path()] if builtin else []) + list(user_paths)
        return cls(compile_rules(paths), scan_files=bool(user_paths))

    @property
    def payload_scanner(self) -> PayloadScanner | None:
        """What captures hand their payloads to (``ParseOptions.payload_scanner``); None without rules."""
        return self._payload if self.scanner is not None else None

    def _payload(self, payload: Payload) -> None:
        assert self.scanner is not None
        self.alerts += self.scanner.scan_payload(payload)

    def scan_file(self, source: InputSource) -> None:
        if self.scanner is not None and self.scan_files:
            try:
                self.alerts += self.scanner.scan_file(source)
            except OSError as exc:
                self.scanner.stats[f"file not scanned: {exc.strerror or exc}"] += 1

    def take_alerts(self) -> list[Alert]:
        alerts, self.alerts = self.alerts, []
        return alerts
