"""Captured secrets are never written in clear: a masked form and a keyed fingerprint stand in for them.

``mask("correct horse")`` is ``c****e``: it shows neither the length nor more than
one character at each end of a long secret, and nothing of a short one. The
fingerprint is an HMAC-SHA-256 under a per-install key (``fingerprint.key``, 0600,
beside the configuration), so two sightings of the same secret match while a
word list cannot recover it from the fingerprint alone. ``--reveal-secrets``
(forensics) adds the clear value next to them. :func:`redact` takes tokens and
passwords out of whole log lines before they are stored (``--db``, watch state).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Prefix of every secret fingerprint, naming the algorithm.
HASH_PREFIX = "hmac-sha256:"
#: Where the fingerprint key lives (default: beside the configuration, ``~/.config/tocsin``).
KEY_FILE_ENV = "TOCSIN_FINGERPRINT_KEY_FILE"
_KEY_BYTES = 32


def mask(secret: str | bytes) -> str:
    """``c****e`` for secrets of 12 characters or more, ``****`` for shorter ones."""
    text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
    if len(text) >= 12:
        return f"{text[0]}****{text[-1]}"
    return "****"


def key_path() -> Path:
    """The fingerprint key file: ``$TOCSIN_FINGERPRINT_KEY_FILE``, else ``~/.config/tocsin/fingerprint.key``."""
    configured = os.environ.get(KEY_FILE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tocsin" / "fingerprint.key"


@cache
def fingerprint_key() -> bytes:
    """The per-install key, created (32 random bytes, mode 0600 in a 0700 folder) on first use.

    When it can be neither read nor created, a key for this process only is used and a warning
    says that its fingerprints will not match other runs'.
    """
    path = key_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)  # a key others can read is no key: take it back
            key = path.read_bytes()
            if len(key) >= 16:
                return key
            raise OSError(f"{path}: shorter than 16 bytes") from None
        key = secrets.token_bytes(_KEY_BYTES)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(key)
        return key
    except OSError as exc:
        log.warning("fingerprint key unavailable (%s): fingerprints of this run match no other run's", exc)
        return secrets.token_bytes(_KEY_BYTES)


def secret_hash(secret: str | bytes) -> str:
    """The keyed fingerprint of a secret: matches equal secrets, does not show them."""
    data = secret.encode("utf-8", "surrogateescape") if isinstance(secret, str) else secret
    return HASH_PREFIX + hmac.new(fingerprint_key(), data, hashlib.sha256).hexdigest()[:32]


# Secrets inside log lines, as the built-in YARA secret rules know them: the value is group "secret".
_TOKENS = re.compile(
    r"(?P<secret>\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b"
    r"|\bxox[abposr]-[0-9A-Za-z-]{10,}|\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|hooks\.slack\.com/services/[A-Za-z0-9/]{20,})"
    r"|(?:AccountKey=|aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?)(?P<key>[A-Za-z0-9/+=]{40,88})"
    r"|\b[a-z][a-z0-9+.-]{1,15}://[^/\s:@\"']{1,64}:(?P<url_password>[^/\s@\"']{1,64})@"
    r"|(?:^|[?&\s\"])(?:pass|passwd|password|pwd|pword|token|secret|api_?key)=(?P<form>[^&\s\"]{3,})"
    r"|\b[Bb]earer\s+(?P<bearer>[A-Za-z0-9._~+/=-]{16,})"
    r"|authorization[\"']?\s*[:=]\s*[\"']?Basic\s+(?P<basic>[A-Za-z0-9+/]{4,}={0,2})",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with every token or password it carries replaced by ``****`` and its fingerprint."""
    if not _TOKENS.search(text):
        return text

    def replace(match: re.Match[str]) -> str:
        name = match.lastgroup or "secret"
        start, end = match.span(name)
        value = match[name]
        whole_start = match.start()
        return f"{match.string[whole_start:start]}****({secret_hash(value)}){match.string[end : match.end()]}"

    return _TOKENS.sub(replace, text)


def secret_fields(secret: str | bytes, kind: str, reveal: bool, prefix: str = "credential") -> dict[str, Any]:
    """The event fields describing a captured secret: kind, masked form, hash (and value if revealed)."""
    fields: dict[str, Any] = {
        f"{prefix}.kind": kind,
        f"{prefix}.masked": mask(secret),
        f"{prefix}.hash": secret_hash(secret),
    }
    if reveal:
        fields[f"{prefix}.value"] = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
    return fields


def annotate_credential_alerts(alerts: list[Any], events: list[Any]) -> None:
    """Give alerts raised by an event that carries a captured secret its masked form and hash.

    Only events with a secret are hashed for their id, so batches without one cost nothing.
    """
    if not alerts:
        return
    secrets = {event.id: event for event in events if "credential.masked" in event.fields}
    if not secrets:
        return
    for alert in alerts:
        event = secrets.get(alert.evidence[0]) if len(alert.evidence) == 1 else None
        if event is None:
            continue
        credential = {
            key.removeprefix("credential."): value
            for key, value in event.fields.items()
            if key.startswith("credential.")
        }
        credential["user"] = event.fields.get("user.name")
        credential["protocol"] = event.fields.get("network.protocol")
        alert.details = {**(alert.details or {}), "credential": credential}
        alert.message += f" (password {credential['masked']}, {credential['hash']})"
