"""Account containment on local Linux accounts or a SCIM 2.0 identity provider.

Local: ``usermod``, ``passwd``, ``pkill``. SCIM: the provisioning API Okta, Entra ID and most
identity providers accept, with its bearer token from the configuration (0600 file or environment).
"""

from __future__ import annotations

import pwd
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tocsin.respond.actions.base import Params, Responder, ResponderError, StepContext
from tocsin.respond.actions.http import request_json
from tocsin.settings import ScimSettings

_LOCAL_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_SCIM_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,254}$")
_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class AccountParams(Params):
    user: str
    backend: str = ""  # local or scim; default response.identity_backend


class _AccountAction(Responder):
    """An identity operation, dispatched to the backend by its name (``verb``)."""

    params = AccountParams
    verb: str
    reverse: str = ""

    def plan(self, params: AccountParams, ctx: StepContext) -> str:
        backend = _backend(params, ctx)
        return f"{self.verb.replace('_', ' ')} {backend.check(params.user)} ({backend.name})"

    def execute(self, params: AccountParams, ctx: StepContext) -> dict[str, Any]:
        return _apply(self.verb, params, ctx)

    def rollback(self, params: AccountParams, ctx: StepContext) -> dict[str, Any]:
        return _apply(self.reverse, params, ctx)


class DisableAccount(_AccountAction):
    verb, reverse = "disable", "enable"


class RevokeSessions(_AccountAction):
    verb = "revoke_sessions"


class ForcePasswordReset(_AccountAction):
    verb = "force_password_reset"


class RequireMfaReenrolment(_AccountAction):
    verb = "require_mfa_reenrolment"


def _apply(verb: str, params: AccountParams, ctx: StepContext) -> dict[str, Any]:
    backend = _backend(params, ctx)
    getattr(backend, verb)(backend.check(params.user))
    return {"user": params.user, "backend": backend.name, "done": verb}


def _backend(params: AccountParams, ctx: StepContext) -> LocalAccounts | ScimAccounts:
    name = params.backend or ctx.settings.response.identity_backend
    if name == "local":
        return LocalAccounts(ctx.settings.response.protected_accounts, ctx.timeout)
    if name == "scim":
        return ScimAccounts(ctx.settings.scim, ctx.timeout)
    raise ResponderError(f"identity backend {name!r}: choose local or scim")


class LocalAccounts:
    name = "local"

    def __init__(self, protected: list[str], timeout: float) -> None:
        self.protected, self.timeout = set(protected), timeout

    def check(self, user: str) -> str:
        if not _LOCAL_NAME.match(user):
            raise ResponderError(f"not a valid local account name: {user!r}")
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise ResponderError(f"no local account {user!r}") from None
        if user in self.protected or entry.pw_uid < 1000:
            raise ResponderError(f"{user} is a protected or system account (uid {entry.pw_uid}); act by hand")
        return user

    def disable(self, user: str) -> None:
        self._run(["usermod", "--lock", "--expiredate", "1", user])

    def enable(self, user: str) -> None:
        self._run(["usermod", "--unlock", "--expiredate", "", user])

    def revoke_sessions(self, user: str) -> None:
        # pkill exits 1 when the user has no process left: nothing to end is success.
        self._run(["pkill", "--signal", "KILL", "--uid", user], ok=(0, 1))

    def force_password_reset(self, user: str) -> None:
        self._run(["passwd", "--expire", user])

    def require_mfa_reenrolment(self, user: str) -> None:
        secret = Path(pwd.getpwnam(user).pw_dir) / ".google_authenticator"
        secret.unlink(missing_ok=True)

    def _run(self, args: list[str], ok: tuple[int, ...] = (0,)) -> None:
        try:
            result = subprocess.run(args, capture_output=True, text=True, timeout=self.timeout, check=False)
        except FileNotFoundError:
            raise ResponderError(f"{args[0]} not found") from None
        except subprocess.TimeoutExpired:
            raise ResponderError(f"{args[0]} took longer than {self.timeout} s") from None
        if result.returncode not in ok:
            raise ResponderError(f"{args[0]}: {result.stderr.strip() or f'exit {result.returncode}'}")


class ScimAccounts:
    name = "scim"

    def __init__(self, settings: ScimSettings, timeout: float) -> None:
        if not settings.url:
            raise ResponderError("no SCIM endpoint: set scim.url (token in scim.token or TOCSIN_SCIM__TOKEN)")
        self.settings, self.timeout = settings, min(timeout, settings.timeout)

    def check(self, user: str) -> str:
        if not _SCIM_NAME.match(user):
            raise ResponderError(f"not a valid SCIM userName: {user!r}")
        return user

    def disable(self, user: str) -> None:
        self._patch(user, [{"op": "replace", "path": "active", "value": False}])

    def enable(self, user: str) -> None:
        self._patch(user, [{"op": "replace", "path": "active", "value": True}])

    def force_password_reset(self, user: str) -> None:
        # SCIM has no "must change" flag; a random password nobody knows forces the reset flow.
        self._patch(user, [{"op": "replace", "path": "password", "value": secrets.token_urlsafe(32)}])

    def revoke_sessions(self, user: str) -> None:
        raise ResponderError(
            "SCIM 2.0 has no session revocation; disable the account or use the provider's API"
        )

    def require_mfa_reenrolment(self, user: str) -> None:
        raise ResponderError("SCIM 2.0 has no MFA factor resource; reset factors in the provider's console")

    def _patch(self, user: str, operations: list[dict[str, Any]]) -> None:
        user_id = self._user_id(user)
        self._call(
            "PATCH", f"/Users/{quote(user_id, safe='')}", {"schemas": [_PATCH], "Operations": operations}
        )

    def _user_id(self, user: str) -> str:
        escaped = user.replace("\\", "\\\\").replace('"', '\\"')
        query = quote(f'userName eq "{escaped}"')
        _, found = self._call("GET", f"/Users?filter={query}", None)
        resources = (found or {}).get("Resources") or []
        if len(resources) != 1:
            raise ResponderError(f"SCIM: {len(resources)} users named {user!r}")
        return str(resources[0]["id"])

    def _call(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        return request_json(
            method,
            self.settings.url.rstrip("/") + path,
            body,
            token=self.settings.token.get_secret_value(),
            ca_file=self.settings.ca_file,
            timeout=self.timeout,
            content_type="application/scim+json",
        )
