"""Captured secrets are never written in clear: a masked form and a hash stand in for them.

``mask("password")`` is ``pa****rd``: enough to recognise a value an analyst
already knows, too little to use it. The hash lets two sightings of the same
secret be matched without storing it. ``--reveal-secrets`` (forensics) adds
the clear value next to them.
"""

from __future__ import annotations

import hashlib
from typing import Any

#: Prefix of every secret hash, naming the algorithm.
HASH_PREFIX = "sha256:"


def mask(secret: str | bytes) -> str:
    """``pa****rd`` for long secrets, ``p****d`` for short ones, ``****`` for tiny ones."""
    text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
    if len(text) >= 8:
        return f"{text[:2]}****{text[-2:]}"
    if len(text) >= 5:
        return f"{text[0]}****{text[-1]}"
    return "****"


def secret_hash(secret: str | bytes) -> str:
    """A truncated SHA-256 of the secret: matches equal secrets, does not show them."""
    data = secret.encode("utf-8", "surrogateescape") if isinstance(secret, str) else secret
    return HASH_PREFIX + hashlib.sha256(data).hexdigest()[:32]


def secret_fields(secret: str | bytes, kind: str, reveal: bool, prefix: str = "credential") -> dict[str, Any]:
    """The event fields describing a captured secret: kind, masked form, hash (and value if revealed)."""
    fields: dict[str, Any] = {
        f"{prefix}.kind": kind,
        f"{prefix}.masked": mask(secret),
        f"{prefix}.hash": secret_hash(secret),
    }
    if reveal:
        fields[f"{prefix}.value"] = (
            secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
        )
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
