"""The webhook alert sink of ``tocsin watch``: one JSON POST per alert, never blocking the loop.

``write`` puts the alert on a bounded in-memory queue that a background thread posts
from (with ``tocsin.responders.http.request_json``: TLS verified, bearer token, the alert
id as ``Idempotency-Key``). When the endpoint is slow or down the alerts that do not fit
in the queue, and those whose POST failed, are appended to a spool file in the state
directory; the thread replays it, oldest first, with a growing pause between attempts,
and the spool survives restarts. Memory is bounded by ``queue_size``; the spool by
``spool_limit`` bytes (beyond it new alerts are dropped and counted, with an error log).

The URL is never logged or written to the spool: webhook paths often carry secrets.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import threading
from pathlib import Path
from typing import Any

from tocsin.models import Alert
from tocsin.responders.base import ResponderError
from tocsin.responders.http import redacted, request_json

log = logging.getLogger("tocsin.watch")

SPOOL = "webhook.spool"
REPLAY = "webhook.replay"


class WebhookSink:
    def __init__(
        self,
        url: str,
        state_dir: Path,
        *,
        kind: str = "json",
        token: str = "",
        ca_file: str = "",
        timeout: float = 10,
        queue_size: int = 256,
        spool_limit: int = 256 << 20,
        retry_first: float = 0.5,
        retry_max: float = 60.0,
    ) -> None:
        if kind not in ("json", "slack", "teams"):
            raise ValueError(f"webhook.format = {kind!r}: choose json, slack or teams")
        self.url, self.kind, self.token, self.ca_file, self.timeout = url, kind, token, ca_file, timeout
        self.endpoint = redacted(url)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.spool = state_dir / SPOOL
        self.replay = state_dir / REPLAY
        self.spool_limit = spool_limit
        self.retry_first, self.retry_max = retry_first, retry_max
        self.queue: queue.Queue[str] = queue.Queue(queue_size)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.counters = {"posted": 0, "spooled": 0, "failed_posts": 0, "dropped": 0}
        self.thread = threading.Thread(target=self._run, name="tocsin-webhook", daemon=True)
        self.thread.start()
        log.info("webhook sink", extra={"fields": {"endpoint": self.endpoint, "format": kind}})

    # -- the caller's side ------------------------------------------------------------------

    def write(self, alert: Alert) -> None:
        line = json.dumps(alert.document(), separators=(",", ":"))
        with self.lock:  # once anything is spooled, later alerts queue behind it on disk: order is kept
            if not self._backlog():
                try:
                    self.queue.put_nowait(line)
                    return
                except queue.Full:
                    pass
            self._spool([line])

    def close(self, wait: float = 5.0) -> None:
        """Stop the thread (after at most ``wait`` s); whatever is still queued goes to the spool."""
        self.stopping.set()
        self.thread.join(wait)
        with self.lock:
            self._spool(self._drain())

    # -- spool -------------------------------------------------------------------------------

    def _backlog(self) -> bool:
        return self.spool.exists() or self.replay.exists()

    def _drain(self) -> list[str]:
        lines = []
        while True:
            try:
                lines.append(self.queue.get_nowait())
            except queue.Empty:
                return lines

    def _spool(self, lines: list[str], front: bool = False) -> None:
        """Under the lock: append to the spool (or put before it), within its size limit."""
        if not lines:
            return
        size = self.spool.stat().st_size if self.spool.exists() else 0
        kept = []
        for line in lines:
            if size + len(line) + 1 > self.spool_limit:
                self.counters["dropped"] += 1
                log.error(
                    "webhook spool full, alert dropped",
                    extra={"fields": {"alert": json.loads(line).get("id")}},
                )
                continue
            size += len(line) + 1
            kept.append(line)
        if not kept:
            return
        target = self.spool.with_name(SPOOL + ".tmp") if front else self.spool
        with open(target, "a" if target == self.spool else "w", encoding="utf-8") as stream:
            stream.write("".join(line + "\n" for line in kept))
            if front and self.spool.exists():  # older than what was spooled meanwhile: goes first
                with open(self.spool, encoding="utf-8") as newer:
                    shutil.copyfileobj(newer, stream)
            stream.flush()
            os.fsync(stream.fileno())
        if front:
            os.replace(target, self.spool)
        self.counters["spooled"] += len(kept)

    # -- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        pause = 0.0
        while not self.stopping.is_set():
            if pause and self.stopping.wait(pause):
                break
            if self._replay():
                try:
                    line = self.queue.get(timeout=0.2)
                except queue.Empty:
                    pause = 0.0
                    continue
                if self._post(line):
                    pause = 0.0
                    continue
                with self.lock:  # the endpoint is down: this alert and the queue wait on disk
                    self._spool([line, *self._drain()], front=True)
            pause = min(self.retry_max, max(self.retry_first, pause * 2))

    def _replay(self) -> bool:
        """Post the spooled alerts, oldest first; False when the endpoint failed (the rest stays)."""
        with self.lock:
            if not self.replay.exists():
                if not self.spool.exists():
                    return True
                self._spool(self._drain(), front=True)  # queued before the spool began: older
                os.replace(self.spool, self.replay)
        with open(self.replay, encoding="utf-8") as stream:
            while line := stream.readline():
                if self.stopping.is_set() or not self._post(line.rstrip("\n")):
                    remaining = self.replay.with_name(REPLAY + ".tmp")
                    with open(remaining, "w", encoding="utf-8") as rest:
                        rest.write(line)
                        while chunk := stream.read(1 << 16):
                            rest.write(chunk)
                    os.replace(remaining, self.replay)
                    return False
        with self.lock:
            self.replay.unlink()
        log.info("webhook spool replayed", extra={"fields": {"endpoint": self.endpoint}})
        return True

    def _post(self, line: str) -> bool:
        document = json.loads(line)
        try:
            request_json(
                "POST",
                self.url,
                _payload(self.kind, document),
                token=self.token,
                ca_file=self.ca_file,
                timeout=self.timeout,
                headers={"Idempotency-Key": str(document.get("id", ""))},
            )
        except ResponderError as exc:  # its message names the endpoint redacted, never the URL
            self.counters["failed_posts"] += 1
            log.warning("webhook post failed, alert spooled", extra={"fields": {"error": str(exc)}})
            return False
        self.counters["posted"] += 1
        return True


def _payload(kind: str, document: dict[str, Any]) -> dict[str, Any]:
    """The alert document itself, or a Slack / Teams message about it."""
    if kind == "json":
        return document
    rule = document.get("rule", {})
    title = f"[{rule.get('level', '')}] {rule.get('title', 'alert')}"
    text = str(document.get("message") or document.get("summary") or "")
    line = f"{title} ({document.get('id', '')})"
    if kind == "slack":
        return {"text": f"*{line}*\n{text}"}
    return {"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": line, "title": line,
            "text": text}  # fmt: skip
