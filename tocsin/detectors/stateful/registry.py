"""The stateful detector kinds, by the name a rule's ``stateful.kind`` gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tocsin.detectors.stateful.base import Detector

D = TypeVar("D", bound="type[Detector]")
_KINDS: dict[str, type[Detector]] = {}


def register(detector: D) -> D:
    """Class decorator: make a detector available under its ``kind``."""
    _KINDS[detector.kind] = detector
    return detector


def detector_class(kind: str) -> type[Detector] | None:
    """The detector of ``kind`` (the built-in kinds are imported on first use)."""
    from tocsin.detectors.stateful import reporters, sequence, travel  # noqa: F401  (they register)

    return _KINDS.get(kind)
