"""The webhook alert sink of ``tocsin watch``: one JSON POST per alert, never blocking the loop.

``write`` appends the alert to a spool file in the state directory and fsyncs it, so once
the watch marks an alert delivered it is on disk and survives even a SIGKILL; a background
thread posts the spool oldest first (with ``tocsin.respond.actions.http.request_json``: TLS
verified, bearer token, the alert id as ``Idempotency-Key``). To post, the thread renames
the spool to a replay file (new alerts start a new spool) and records in a position file how
far it got after each POST, so a restart resumes after the last alert posted. When the
endpoint fails it waits, with a pause growing from ``retry_first`` to ``retry_max``, and
tries again. Memory holds no alerts at all; the spool is capped at ``spool_limit`` bytes
(beyond it new alerts are dropped and counted, with an error log).

The URL is never logged or written to disk: webhook paths often carry secrets.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from tocsin.model.alert import Alert
from tocsin.respond.actions.base import ResponderError
from tocsin.respond.actions.http import redacted, request_json
from tocsin.retry import backoff
from tocsin.watch.delivery import append_whole

log = logging.getLogger("tocsin.watch")

SPOOL = "webhook.spool"
REPLAY = "webhook.replay"
POSITION = "webhook.replay.pos"


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
        self.position = state_dir / POSITION
        self.spool_limit = spool_limit
        self.retry_first, self.retry_max = retry_first, retry_max
        self.lock = threading.Lock()
        self.written = threading.Event()
        self.stopping = threading.Event()
        self.counters = {"posted": 0, "spooled": 0, "failed_posts": 0, "dropped": 0}
        self.thread = threading.Thread(target=self._run, name="tocsin-webhook", daemon=True)
        self.thread.start()
        log.info("webhook sink", extra={"fields": {"endpoint": self.endpoint, "format": kind}})

    # -- the caller's side ------------------------------------------------------------------

    def write(self, alert: Alert) -> None:
        """Spool the alert (durably); the thread posts it."""
        line = alert.json_text()
        with self.lock:
            if self._spooled_bytes() + len(line) + 1 > self.spool_limit:
                self.counters["dropped"] += 1
                log.error("webhook spool full, alert dropped", extra={"fields": {"alert": alert.id}})
                return
            descriptor = os.open(self.spool, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:  # on a full disk: no half-written line, and the watch pauses and writes it again
                append_whole(descriptor, (line + "\n").encode("utf-8"), sync=True)
            finally:
                os.close(descriptor)
            self.counters["spooled"] += 1
        self.written.set()

    def _spooled_bytes(self) -> int:
        """Bytes waiting on disk: the spool and the replay file the thread is posting from."""
        return sum(path.stat().st_size for path in (self.spool, self.replay) if path.exists())

    def close(self, wait: float = 5.0) -> None:
        """Stop the thread (after at most ``wait`` s); what is not posted stays spooled for the next run."""
        self.stopping.set()
        self.written.set()
        self.thread.join(wait)

    # -- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            if failures and self.stopping.wait(backoff(failures, self.retry_first, self.retry_max)):
                break
            try:
                replayed = self._replay()
            except OSError as exc:  # a full disk under the position file: posted again later (same id)
                log.warning("webhook spool not readable or writable", extra={"fields": {"error": str(exc)}})
                replayed = False
            if replayed:
                failures = 0
                self.written.wait(0.5)
                self.written.clear()
            else:
                failures += 1

    def _replay(self) -> bool:
        """Post the spooled alerts, oldest first; False when the endpoint failed (the rest waits)."""
        with self.lock:
            if not self.replay.exists():
                if not self.spool.exists():
                    return True
                os.replace(self.spool, self.replay)
        done = int(self.position.read_text() or 0) if self.position.exists() else 0
        with open(self.replay, encoding="utf-8") as stream:
            stream.seek(done)
            while line := stream.readline():
                if self.stopping.is_set() or not self._post(line.rstrip("\n")):
                    return False
                self.position.write_text(str(stream.tell()))  # page cache: survives a SIGKILL
        self.position.unlink(missing_ok=True)  # first: a stale position must never skip a new replay
        self.replay.unlink()
        log.info("webhook spool posted", extra={"fields": {"endpoint": self.endpoint}})
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
            log.warning("webhook post failed, alert kept in the spool", extra={"fields": {"error": str(exc)}})
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
