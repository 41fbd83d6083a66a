"""Blocking source addresses: an nftables set with per-element timeouts, or a plain blocklist file."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tocsin.respond.actions.base import Params, Responder, ResponderError, StepContext
from tocsin.settings import FirewallSettings

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BlockParams(Params):
    ip: str
    ttl: int | None = None  # seconds; default firewall.default_ttl


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockIp(Responder):
    params = BlockParams

    def plan(self, params: BlockParams, ctx: StepContext) -> str:
        address, ttl = _address(params.ip, ctx.settings.firewall), _ttl(params, ctx)
        return f"block {address} for {ttl} s with {_backend(ctx.settings.firewall).describe()}"

    def execute(self, params: BlockParams, ctx: StepContext) -> dict[str, Any]:
        address = _address(params.ip, ctx.settings.firewall)
        _backend(ctx.settings.firewall).block(address, _ttl(params, ctx), ctx.timeout)
        return {"blocked": str(address), "ttl": _ttl(params, ctx)}

    def rollback(self, params: BlockParams, ctx: StepContext) -> dict[str, Any]:
        address = _address(params.ip, ctx.settings.firewall)
        _backend(ctx.settings.firewall).unblock(address, ctx.timeout)
        return {"unblocked": str(address)}


def _ttl(params: BlockParams, ctx: StepContext) -> int:
    return params.ttl or ctx.settings.firewall.default_ttl


def _address(text: str, settings: FirewallSettings) -> IpAddress:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise ResponderError(f"not an IP address: {text!r}") from None
    for network in settings.never_block:
        if address in ipaddress.ip_network(network):
            raise ResponderError(f"{address} is in firewall.never_block ({network})")
    return address


def _backend(settings: FirewallSettings) -> Nftables | BlocklistFile:
    if settings.backend == "nftables":
        return Nftables(settings.table, settings.netns)
    if settings.backend == "file":
        return BlocklistFile(Path(settings.blocklist_file))
    raise ResponderError(f"firewall.backend = {settings.backend!r}: choose nftables or file")


class Nftables:
    """A table of its own (``inet tocsin``) with one timeout set per address family, dropped on input and forward."""

    def __init__(self, table: str, netns: str) -> None:
        for value, what in ((table, "firewall.table"), (netns or "x", "firewall.netns")):
            if not _NAME.match(value):
                raise ResponderError(f"{what} = {value!r}: letters, digits, '_' and '-' only")
        self.table, self.netns = table, netns

    def describe(self) -> str:
        where = f" in network namespace {self.netns}" if self.netns else ""
        return f"nftables set inet {self.table}{where}"

    def block(self, address: IpAddress, ttl: int, timeout: float) -> None:
        self._ensure_table(timeout)
        self._nft(
            ["add", "element", "inet", self.table, _set(address), f"{{ {address} timeout {ttl}s }}"], timeout
        )

    def unblock(self, address: IpAddress, timeout: float) -> None:
        if self._nft(["list", "table", "inet", self.table], timeout, check=False).returncode != 0:
            return
        # Deleting an absent element fails; absent already means unblocked.
        self._nft(
            ["delete", "element", "inet", self.table, _set(address), f"{{ {address} }}"], timeout, check=False
        )

    def _ensure_table(self, timeout: float) -> None:
        if self._nft(["list", "table", "inet", self.table], timeout, check=False).returncode == 0:
            return
        drops = "ip saddr @blocked4 drop; ip6 saddr @blocked6 drop;"
        script = (
            f"table inet {self.table} {{\n"
            "  set blocked4 { type ipv4_addr; flags timeout; }\n"
            "  set blocked6 { type ipv6_addr; flags timeout; }\n"
            f"  chain input {{ type filter hook input priority filter - 10; policy accept; {drops} }}\n"
            f"  chain forward {{ type filter hook forward priority filter - 10; policy accept; {drops} }}\n"
            "}\n"
        )
        self._nft(["-f", "-"], timeout, stdin=script)

    def _nft(
        self, args: list[str], timeout: float, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        try:
            result = subprocess.run(
                [*prefix, "nft", *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ResponderError(
                f"{exc.filename} not found: install nftables (and iproute2 for netns)"
            ) from None
        except subprocess.TimeoutExpired:
            raise ResponderError(f"nft {' '.join(args[:2])} took longer than {timeout} s") from None
        if check and result.returncode != 0:
            raise ResponderError(
                f"nft {' '.join(args[:2])}: {result.stderr.strip().splitlines()[0] if result.stderr.strip() else result.returncode}"
            )
        return result


def _set(address: IpAddress) -> str:
    return "blocked4" if address.version == 4 else "blocked6"


class BlocklistFile:
    """One address per line, for firewalls that read a list (pf tables, ipset restore, cloud WAF imports).

    Expiries live in ``FILE.expiry.json`` beside it; expired addresses are dropped on every change.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.expiry_path = path.with_name(path.name + ".expiry.json")

    def describe(self) -> str:
        return f"blocklist file {self.path}"

    def block(self, address: IpAddress, ttl: int, timeout: float) -> None:
        entries = self._entries()
        until = datetime.now(UTC) + timedelta(seconds=ttl)
        entries[str(address)] = max(entries.get(str(address), ""), until.isoformat(timespec="seconds"))
        self._write(entries)

    def unblock(self, address: IpAddress, timeout: float) -> None:
        entries = self._entries()
        if entries.pop(str(address), None) is not None:
            self._write(entries)

    def _entries(self) -> dict[str, str]:
        try:
            entries: dict[str, str] = json.loads(self.expiry_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ResponderError(f"{self.expiry_path}: {exc}") from None
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return {ip: until for ip, until in entries.items() if until > now}

    def _write(self, entries: dict[str, str]) -> None:
        for path, text in (
            (self.expiry_path, json.dumps(entries, indent=1, sort_keys=True)),
            (self.path, "".join(f"{ip}\n" for ip in sorted(entries))),
        ):
            partial = path.with_name(path.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
