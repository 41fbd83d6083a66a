"""A full disk pauses ``tocsin watch`` instead of stopping it.

The state database (also the case database), the alerts file and the webhook spool can each
hit a full disk (``ENOSPC``, a quota, or SQLite's "database or disk is full"). The service then
rolls back what it had not committed, says so once, and retries after a bounded backoff; when
the disk has room again it says so once more and goes on from the last committed offset.
"""

from __future__ import annotations

import logging
import time


class DiskFullPause:
    """The pause of one full-disk episode: reported once, retried after 0.5, 1, 2 ... ``longest`` s."""

    def __init__(self, log: logging.Logger, first: float = 0.5, longest: float = 10.0) -> None:
        self.log = log
        self.first, self.longest = first, longest
        self.since: float | None = None
        self.delay = 0.0
        self.retry_at = 0.0
        self.retries = 0

    @property
    def paused(self) -> bool:
        return self.since is not None

    def due(self) -> bool:
        """Whether it is time to try writing again (always, when not paused)."""
        return self.since is None or time.monotonic() >= self.retry_at

    def failed(self, exc: BaseException, where: str) -> None:
        """A write failed on a full disk: pause (reported at the first failure only), back off."""
        if self.since is None:
            self.since = time.monotonic()
            self.delay = self.first
            self.log.warning(
                "disk full: paused, nothing is lost; retrying until there is room again",
                extra={"fields": {"writing": where, "error": str(exc)}},
            )
        else:
            self.retries += 1
            self.delay = min(self.longest, self.delay * 2)
            self.log.debug("disk still full", extra={"fields": {"writing": where, "retry_in": self.delay}})
        self.retry_at = time.monotonic() + self.delay

    def succeeded(self) -> None:
        """A write went through: end the pause (reported once) and reset the backoff."""
        if self.since is None:
            return
        self.log.warning(
            "disk has room again: resumed from the last committed offset",
            extra={
                "fields": {"paused_seconds": round(time.monotonic() - self.since, 1), "retries": self.retries}
            },
        )
        self.since, self.retries = None, 0
