"""Which events of a scan belong to which attack, from the ground truth's file and record numbers."""

from __future__ import annotations

from pathlib import Path

from tocsin.model.event import Event
from tocsin.simulate.truth import GroundTruth


class EventLabels:
    """Fed every event of a scan (``observe``), it remembers the ids (and flows) of labelled ones."""

    def __init__(self, truth: GroundTruth, logs: Path) -> None:
        self.root = logs.absolute()
        self._records: dict[tuple[str, int], str] = {
            (path, number): attack.id
            for attack in truth.attacks
            for path, numbers in attack.records.items()
            for number in numbers
        }
        #: Event id → attack id, for the labelled events seen.
        self.events: dict[str, str] = {}
        #: Community ID of a flow → attack ids whose events belong to it (content alerts name flows).
        self.flows: dict[str, set[str]] = {}
        self.seen: set[tuple[str, int]] = set()

    def observe(self, events: list[Event]) -> None:
        for event in events:
            key = (Path(event.input).relative_to(self.root).as_posix(), _number(event.offset))
            attack = self._records.get(key)
            if attack is None:
                continue
            self.seen.add(key)
            self.events[event.id] = attack
            flow = event.fields.get("network.community_id")
            if flow:
                self.flows.setdefault(flow, set()).add(attack)

    @property
    def unmatched(self) -> set[tuple[str, int]]:
        """Labelled records no parser turned into an event (a parser gap, or a record with no event)."""
        return set(self._records) - self.seen


def _number(offset: str) -> int:
    """The record number in ``Event.offset``: a line (``12``, ``12#1`` for repeats) or ``packet 12``."""
    text = offset.removeprefix("packet ").split("#", 1)[0]
    return int(text) if text.isdigit() else -1
