"""JSON over HTTP for webhook and SCIM responders: TLS verified, bearer token from configuration."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from tocsin.respond.actions.base import ResponderError


def redacted(url: str) -> str:
    """Scheme, host and port only: webhook paths often embed secrets (Slack, Teams)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…" if parts.netloc else "(no URL)"


def request_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str = "",
    ca_file: str = "",
    timeout: float = 10,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """Send ``body`` as JSON; return the status and the decoded JSON reply (None when empty)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ResponderError(f"{redacted(url)}: only http and https URLs are allowed")
    request = urllib.request.Request(
        url, method=method, headers={"Accept": "application/json", **(headers or {})}
    )
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=ca_file or None)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raise ResponderError(f"{method} {redacted(url)}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ResponderError(f"{method} {redacted(url)}: {reason}") from None
    try:
        return status, json.loads(payload) if payload.strip() else None
    except ValueError:
        return status, None
