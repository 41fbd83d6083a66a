"""Running ``tocsin watch`` as a real process, and waiting for what it does without blind sleeps."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tocsin.detectors.sigma.ruleset import builtin_rules_path

AUTH_RULES = builtin_rules_path() / "authentication"


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def syslog_stamp() -> str:
    return datetime.now(UTC).strftime("%b %e %H:%M:%S")


class Watcher:
    """One ``tocsin watch`` process over ``logs`` with state in ``state``; alerts appended to ``alerts``."""

    def __init__(
        self, root: Path, *extra: str, prefix: tuple[str, ...] = (), follow_logs: bool = True
    ) -> None:
        self.prefix, self.follow_logs = prefix, follow_logs
        self.logs = root / "logs"
        self.state = root / "state"
        self.alerts = root / "alerts.jsonl"
        self.stderr = root / "watch.log"
        self.logs.mkdir(exist_ok=True)
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            *self.prefix, sys.executable, "-m", "tocsin", "watch", *([str(self.logs)] if self.follow_logs else []),
            "--state", str(self.state),
            "--no-builtin-rules", "--rules", str(AUTH_RULES), "-o", str(self.alerts),
            "--min-level", "medium", "--batch-delay", "0.05", "--log-level", "debug", *self.extra,
        ]  # fmt: skip
        with open(self.stderr, "ab") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        wait_for(lambda: self._started(), what="watch to start")

    def _started(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"watch exited with {self.process.returncode}: {self.stderr.read_text()[-2000:]}"
            )
        return (self.state / "status.json").exists() and "watch started" in self.stderr.read_text()

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(10)

    def stop(self) -> int:
        self.signal(signal.SIGTERM)
        assert self.process is not None
        return self.process.wait(20)

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        path = self.state / "state.db"
        if not path.exists():
            return []
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return connection.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []  # tables not created yet
        finally:
            connection.close()

    def committed_raw(self) -> list[str]:
        """Every event line the watch committed (its ledger: one row per commit of an event, so a duplicate shows)."""
        return [row[0] for row in self.query("SELECT raw FROM watch_events")]

    def delivered(self) -> list[dict[str, Any]]:
        if not self.alerts.exists():
            return []
        return [json.loads(line) for line in self.alerts.read_text().splitlines() if line.strip()]


class HookServer(ThreadingHTTPServer):
    """A webhook endpoint on 127.0.0.1:``port`` recording each JSON POST (path, headers, body)."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _HookHandler)
        self.posts: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _HookHandler(BaseHTTPRequestHandler):
    server: HookServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        self.server.posts.append({"path": self.path, "headers": dict(self.headers), "json": body})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
