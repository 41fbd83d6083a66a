"""Shipping documents: bulk with retries, a dead-letter file, and a disk spool.

Every document has a deterministic ``_id`` (the event's or alert's own id) and
is sent with ``op_type: create``, so sending it again can never duplicate it:
the cluster answers 409 and the document counts as already present. What
happens to each document:

* accepted (201) or already present (409): done;
* 429 or 5xx: retried with exponential backoff, then spooled;
* any other rejection (a mapping conflict, a missing ``@timestamp``...): written
  with the cluster's reason to the dead-letter file, never silently dropped;
* the cluster unreachable (or refusing the credentials): spooled, and so is
  everything after it in this run, without further attempts.

The spool is replayed at the start of the next run that ships.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tocsin.elastic import ALERTS_STREAM, EVENTS_STREAM
from tocsin.elastic.client import ElasticError, ElasticSettings, describe
from tocsin.elastic.cluster import CLUSTER_ERRORS, Cluster
from tocsin.model.alert import Alert
from tocsin.model.event import Event
from tocsin.retry import backoff

Action = dict[str, Any]
TRANSIENT = {429, 500, 502, 503, 504}
CONFLICT = 409


def event_action(event: Event) -> Action:
    """The bulk action for an event; ``tocsin.epoch`` keeps the exact time (``@timestamp`` has ms)."""
    document = event.to_document()
    if event.timestamp is not None:
        document["tocsin"]["epoch"] = event.timestamp
    return {"_op_type": "create", "_index": EVENTS_STREAM, "_id": event.id, "_source": document}


def alert_action(alert: Alert) -> Action:
    """The bulk action for an alert (ECS ``event.kind: alert``)."""
    document = {**alert.document(), "event": {"kind": "alert"}}
    return {"_op_type": "create", "_index": ALERTS_STREAM, "_id": alert.id, "_source": document}


@dataclass
class ShipStats:
    """What happened to the documents of a run."""

    shipped: int = 0
    present: int = 0
    retried: int = 0
    dead_lettered: int = 0
    spooled: int = 0
    replayed: int = 0

    def __str__(self) -> str:
        line = (
            f"shipped {self.shipped:,}, retried {self.retried:,}, dead-lettered {self.dead_lettered:,}, "
            f"spooled {self.spooled:,}"
        )
        if self.present:
            line += f", already present {self.present:,}"
        if self.replayed:
            line += f" (replayed {self.replayed:,} from the spool)"
        return line


class Spool:
    """Actions that could not be delivered, as JSON Lines files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._file: IO[str] | None = None
        self._path: Path | None = None

    def append(self, actions: Iterable[Action]) -> int:
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            self._path = self.directory / f"spool-{stamp}-{os.getpid()}.jsonl"
            self._file = self._path.open("a", encoding="utf-8")
        count = 0
        for action in actions:
            self._file.write(json.dumps(action, separators=(",", ":"), default=str) + "\n")
            count += 1
        self._file.flush()
        return count

    def files(self) -> list[Path]:
        """Spool files, oldest first, except the one this run is still writing."""
        if not self.directory.is_dir():
            return []
        return sorted(path for path in self.directory.glob("spool-*.jsonl") if path != self._path)

    @staticmethod
    def read(path: Path) -> list[Action]:
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]

    @staticmethod
    def rewrite(path: Path, actions: list[Action]) -> None:
        temporary = path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for action in actions:
                out.write(json.dumps(action, separators=(",", ":"), default=str) + "\n")
        temporary.replace(path)

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            self._path = None

    @property
    def pending(self) -> int:
        """Actions waiting in the spool (this run's included)."""
        if not self.directory.is_dir():
            return 0
        return sum(1 for path in self.directory.glob("spool-*.jsonl") for _ in path.open(encoding="utf-8"))


class Shipper:
    """Delivers actions to the cluster; nothing handed to it is lost (see module doc)."""

    def __init__(
        self, cluster: Cluster, settings: ElasticSettings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.cluster = cluster
        self.settings = settings
        self.sleep = sleep
        self.stats = ShipStats()
        self.spool = Spool(settings.state_dir / "spool")
        self.dead_letter_path = settings.state_dir / "dead-letter.jsonl"
        self.offline_reason: str | None = None

    def send(self, actions: list[Action]) -> None:
        """Deliver ``actions``; what cannot be delivered now goes to the spool."""
        if not actions:
            return
        leftover = actions if self.offline_reason else self._deliver(actions)
        self.stats.spooled += self.spool.append(leftover)

    def replay(self) -> None:
        """Re-send every spooled action of earlier runs; a file is removed once all of it is settled."""
        for path in self.spool.files():
            if self.offline_reason:
                return
            actions = Spool.read(path)
            leftover = self._deliver(actions)
            self.stats.replayed += len(actions) - len(leftover)
            if leftover:
                Spool.rewrite(path, leftover)
            else:
                path.unlink()

    def close(self) -> None:
        self.spool.close()

    def _deliver(self, actions: list[Action]) -> list[Action]:
        """Ship with retries; returns the actions still undelivered (transient failures, outage)."""
        pending = actions
        for attempt in range(self.settings.max_retries + 1):
            if attempt:
                self.sleep(backoff(attempt, first=0.5, cap=30.0))
                self.stats.retried += len(pending)
            transient, unsent = self._bulk(pending)
            if unsent:
                return transient + unsent
            if not transient:
                return []
            pending = transient
        return pending

    def _bulk(self, actions: list[Action]) -> tuple[list[Action], list[Action]]:
        """One pass over ``actions``: (transient failures, never answered because of an outage)."""
        by_id = {action["_id"]: action for action in actions}
        settled: set[str] = set()
        transient: list[Action] = []
        try:
            for ok, item in self._stream(actions):
                info = next(iter(item.values()))
                action = by_id[info["_id"]]
                status = info.get("status")
                if "exception" in info:  # the whole request failed, not this document
                    if status in (401, 403):
                        self.offline_reason = describe(info["exception"], self.settings)
                    transient.append(action)
                elif ok:
                    self.stats.shipped += 1
                elif status == CONFLICT:
                    self.stats.present += 1
                elif status in TRANSIENT:
                    transient.append(action)
                else:
                    self._dead_letter(action, status, info.get("error"))
                settled.add(info["_id"])
        except CLUSTER_ERRORS as exc:
            self.offline_reason = describe(exc, self.settings)
            return transient, [action for action in actions if action["_id"] not in settled]
        if self.offline_reason:
            return [], transient
        return transient, []

    def _stream(self, actions: list[Action]) -> Iterator[tuple[bool, dict[str, Any]]]:
        return self.cluster.streaming_bulk(
            actions,
            chunk_size=self.settings.chunk_size,
            max_chunk_bytes=self.settings.chunk_bytes,
            max_retries=0,
            raise_on_error=False,
            raise_on_exception=False,
        )

    def _dead_letter(self, action: Action, status: int | None, error: Any) -> None:
        self.settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        record = {
            "time": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "index": action["_index"],
            "id": action["_id"],
            "status": status,
            "reason": _reason(error),
            "document": action["_source"],
        }
        with self.dead_letter_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self.stats.dead_lettered += 1


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()
        cause = error.get("caused_by")
        return f"{reason} (caused by {_reason(cause)})" if cause else reason
    return str(error)


class ScanShipper:
    """The ``scan --to-es`` sink: each batch's events and alerts, spool replayed first."""

    def __init__(self, shipper: Shipper) -> None:
        self.shipper = shipper

    def start(self, template: str = "logs-tocsin.events") -> None:
        """Replay the spool; refuse to write into a cluster ``es setup`` has not prepared."""
        try:
            ready = self.shipper.cluster.has_index_template(template)
        except CLUSTER_ERRORS as exc:
            self.shipper.offline_reason = describe(exc, self.shipper.settings)
            return
        if not ready:
            raise ElasticError(
                f"{self.shipper.settings.where} has no tocsin templates: run tocsin es setup first"
            )
        self.shipper.replay()

    def write(self, events: list[Event], alerts: list[Alert]) -> None:
        self.shipper.send([event_action(event) for event in events] + [alert_action(a) for a in alerts])

    def close(self) -> ShipStats:
        self.shipper.close()
        return self.shipper.stats
