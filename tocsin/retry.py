"""Exponential backoff: how long to wait before trying something again, the one rule for every retry."""

from __future__ import annotations

#: Doubling stops here: ``2.0 ** 64`` times any sensible first pause is far above every cap.
_MAX_DOUBLINGS = 64


def backoff(attempt: int, first: float, cap: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first): ``first``, doubled on each
    further retry, never more than ``cap``. Any count of failures is safe (no float overflow)."""
    return min(cap, first * 2.0 ** min(max(attempt - 1, 0), _MAX_DOUBLINGS))
