"""The stateful detector kinds, by the name a rule's ``stateful.kind`` gives."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tocsin.detectors.stateful.base import Detector


def detector_class(kind: str) -> type[Detector] | None:
    """The detector of ``kind``, None for an unknown kind."""
    # Imported here, not above: the detectors import the rule spec, which imports this module.
    from tocsin.detectors.stateful.reporters import CoordinatedReporters
    from tocsin.detectors.stateful.sequence import ChangeThenUnusualLogin, UnusualLoginThenChange
    from tocsin.detectors.stateful.travel import ImpossibleTravel
    from tocsin.detectors.stateful.walk import SequentialObjectWalk

    kinds: dict[str, type[Detector]] = {
        detector.kind: detector
        for detector in (
            ImpossibleTravel,
            UnusualLoginThenChange,
            ChangeThenUnusualLogin,
            CoordinatedReporters,
            SequentialObjectWalk,
        )
    }
    return kinds.get(kind)
