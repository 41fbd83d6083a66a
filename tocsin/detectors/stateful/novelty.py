"""What makes a login's origin "new" for an account: its network and its user-agent family."""

from __future__ import annotations

import ipaddress
import re

from tocsin.memo import bounded_cache
from tocsin.model.event import Event

#: (pattern, family) for browsers and common clients, first match wins (Edge and Opera claim Chrome).
_CLIENTS = (
    (r"\bEdg(e|A|iOS)?/", "Edge"),
    (r"\bOPR/|\bOpera\b", "Opera"),
    (r"\bFirefox/|\bFxiOS/", "Firefox"),
    (r"\bChrome/|\bCriOS/|\bChromium/", "Chrome"),
    (r"\bSafari/", "Safari"),
    (r"\bMSIE |Trident/", "IE"),
    (r"^curl/", "curl"),
    (r"^Wget/", "Wget"),
    (r"python-requests|aiohttp|^Python", "Python"),
    (r"^Go-http-client", "Go"),
    (r"^okhttp", "okhttp"),
    (r"^Java/|Apache-HttpClient", "Java"),
    (r"PowerShell", "PowerShell"),
    (r"^aws-cli|^aws-sdk|^Boto3|^botocore", "AWS SDK"),
    (r"Okta ?Verify|OktaVerify", "Okta Verify"),
    (r"Microsoft Authenticator", "Microsoft Authenticator"),
)
_SYSTEMS = (
    (r"iPhone|iPad|iOS", "iOS"),
    (r"Android", "Android"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh|macOS", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux", "Linux"),
)
_COMPILED_CLIENTS = [(re.compile(pattern, re.IGNORECASE), name) for pattern, name in _CLIENTS]
_COMPILED_SYSTEMS = [(re.compile(pattern), name) for pattern, name in _SYSTEMS]


def source_key(event: Event) -> str | None:
    """The login's network: its autonomous system when known, else the IPv4 /24 or IPv6 /48."""
    number = event.fields.get("source.as.number")
    if isinstance(number, int) and not isinstance(number, bool):
        return f"AS{number}"
    ip = event.fields.get("source.ip")
    return network_of(str(ip)) if ip else None


@bounded_cache(entries=65536, longest=128)  # logins repeat their addresses: parse each once
def network_of(ip: str) -> str | None:
    """The IPv4 /24 or IPv6 /48 of an address, or None when it is not one."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@bounded_cache(entries=16384, longest=1024)  # and their clients
def agent_family(user_agent: str | None) -> str | None:
    """``Chrome on Windows``, ``curl``, ``Safari on iOS``: the client family, without versions."""
    if not user_agent:
        return None
    client = next((name for pattern, name in _COMPILED_CLIENTS if pattern.search(user_agent)), None)
    system = next((name for pattern, name in _COMPILED_SYSTEMS if pattern.search(user_agent)), None)
    if client is None:
        client = re.split(r"[/\s;(]", user_agent.strip(), maxsplit=1)[0][:40] or None
    if client and system:
        return f"{client} on {system}"
    return client or system


def event_agent(event: Event) -> str | None:
    """The user-agent family of an event (``user_agent.name`` when a source parsed it already)."""
    name = event.fields.get("user_agent.name")
    if name:
        system = event.fields.get("user_agent.os.name")
        return f"{name} on {system}" if system else str(name)
    return agent_family(event.fields.get("user_agent.original"))
