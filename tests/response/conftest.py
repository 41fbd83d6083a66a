"""Real parts for response tests: an aiosmtpd server, an HTTP server (webhooks and a SCIM 2.0 Users
endpoint), a network namespace with nftables, and the ``tocsin`` command run as a process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

PROBE = """
import socket, sys
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(64)
for source in sys.argv[1:]:
    client = socket.socket(); client.settimeout(0.5); client.bind((source, 0))
    try:
        client.connect(server.getsockname()); print(source, "open")
    except OSError:
        print(source, "blocked")
    client.close()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping every delivered message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox = field(default_factory=Mailbox)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


class Recorder(ThreadingHTTPServer):
    """Webhook posts under /hook; a SCIM 2.0 Users resource under /scim/v2."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.posts: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.authorizations: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add_user(self, name: str) -> dict[str, Any]:
        user = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": uuid.uuid4().hex,
            "userName": name,
            "active": True,
        }
        self.users[user["id"]] = user
        return user


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: Any = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")

    def do_POST(self) -> None:
        self.server.posts.append({"path": self.path, "headers": dict(self.headers), "json": self._body()})
        self._reply(200, {"ok": True})

    def do_GET(self) -> None:
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        if not self.path.startswith("/scim/v2/Users?filter="):
            return self._reply(404, {"detail": "not found"})
        from urllib.parse import unquote

        wanted = unquote(self.path.split("=", 1)[1]).split('"')[1]
        found = [u for u in self.server.users.values() if u["userName"] == wanted]
        self._reply(
            200,
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": len(found),
                "Resources": found,
            },
        )

    def do_PATCH(self) -> None:
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        user = self.server.users.get(self.path.rsplit("/", 1)[-1])
        if user is None:
            return self._reply(404, {"detail": "no such user"})
        for operation in self._body()["Operations"]:
            user[operation["path"]] = operation["value"]
        self._reply(200, user)


@pytest.fixture
def http() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@dataclass
class Namespace:
    """A network namespace with addresses on its loopback, for sending packets through nftables."""

    name: str

    def probe(self, *sources: str) -> dict[str, str]:
        result = subprocess.run(
            ["ip", "netns", "exec", self.name, sys.executable, "-c", PROBE, *sources],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return dict(line.split() for line in result.stdout.splitlines())

    def nft(self, *args: str) -> str:
        return subprocess.run(
            ["ip", "netns", "exec", self.name, "nft", *args], capture_output=True, text=True, check=True
        ).stdout


def netns_or_skip(addresses: list[str]) -> Iterator[Namespace]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (apt-get install -y nftables iproute2)")
    name = f"tocsin-test-{uuid.uuid4().hex[:8]}"
    created = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if created.returncode != 0:
        pytest.skip(f"the kernel refused a network namespace: {created.stderr.strip()}")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        for address in addresses:
            subprocess.run(
                ["ip", "netns", "exec", name, "ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True
            )
        listed = subprocess.run(
            ["ip", "netns", "exec", name, "nft", "list", "ruleset"], capture_output=True, text=True
        )
        if listed.returncode != 0:
            pytest.skip(f"nftables unavailable in this kernel: {listed.stderr.strip()}")
        yield Namespace(name)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@dataclass
class Tocsin:
    """The ``tocsin`` command in a scratch folder with its own configuration environment."""

    cwd: Path
    env: dict[str, str]

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tocsin", *args]

    def run(self, *args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args), cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=120
        )
        if check is not None:
            assert result.returncode == check, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def db(self) -> Path:
        return self.cwd / "cases.db"


@pytest.fixture
def tocsin(tmp_path: Path) -> Tocsin:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOCSIN_")}
    env.update(
        HOME=str(tmp_path),
        TOCSIN_RESPONSE_DB=str(tmp_path / "cases.db"),
        TOCSIN_RESPONSE_OUTPUT_DIR=str(tmp_path / "incidents"),
        TOCSIN_SMTP_SECURITY="none",  # aiosmtpd on loopback speaks plain SMTP
        TOCSIN_SMTP_HOST="127.0.0.1",
        TOCSIN_FIREWALL_BACKEND="file",
        TOCSIN_FIREWALL_BLOCKLIST_FILE=str(tmp_path / "blocklist.txt"),
    )
    return Tocsin(tmp_path, env)


def write_alerts(path: Path, alerts: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(alert) + "\n" for alert in alerts), encoding="utf-8")
    return path


def alert(**fields: Any) -> dict[str, Any]:
    """A minimal alert document; ``fields`` override or add."""
    document = {
        "id": uuid.uuid4().hex[:24],
        "@timestamp": "2025-12-10T10:00:00Z",
        "rule": {
            "id": "test-rule",
            "title": "Test Rule",
            "level": "high",
            "tags": ["attack.t1110.001"],
            "type": "correlation",
        },
        "event_count": 12,
        "message": "Test Rule: 12 events",
    }
    document.update(fields)
    return document
