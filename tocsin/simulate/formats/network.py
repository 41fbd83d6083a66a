"""The office gateway capture: workstations resolving names and fetching over plain HTTP."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from random import Random

from scapy.layers.dns import DNS, DNSQR, DNSRR

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import HOUR, Day, logins
from tocsin.simulate.formats.packets import tcp_connection, udp
from tocsin.simulate.records import Record

STREAM = "network"
RESOLVER = "10.20.0.53"
NAMES = (
    "outlook.office365.com",
    "teams.microsoft.com",
    "login.microsoftonline.com",
    "northwind.okta.com",
    "slack.com",
    "edgeapi.slack.com",
    "www.google.com",
    "drive.google.com",
    "github.com",
    "api.github.com",
    "northwind.atlassian.net",
    "zoom.us",
    "clients4.google.com",
    "fonts.gstatic.com",
    "update.googleapis.com",
    "s3.eu-central-1.amazonaws.com",
    "www.bbc.co.uk",
    "en.wikipedia.org",
    "stackoverflow.com",
    "cdn.jsdelivr.net",
    "ocsp.digicert.com",
)
#: Plain-HTTP fetches every desktop makes: (host, address, request path, response size).
FETCHES = (
    ("connectivitycheck.gstatic.com", "142.250.185.99", "/generate_204", 0),
    (
        "ctldl.windowsupdate.com",
        "93.184.221.240",
        "/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
        6_400,
    ),
    ("archive.ubuntu.com", "185.125.190.36", "/ubuntu/dists/noble-updates/InRelease", 126_000),
    ("detectportal.firefox.com", "34.107.221.82", "/canonical.html", 90),
)
#: Share of office workstations on the captured segment.
CAPTURED = 0.35


def lookup(rng: Random, time: float, host: str, name: str, answer: str) -> list[Record]:
    """An A query to the office resolver and its answer."""
    port, ident = rng.randint(49152, 65535), rng.getrandbits(16)
    query = DNS(id=ident, rd=1, qd=DNSQR(qname=name))
    response = DNS(
        id=ident, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=300, rdata=answer)
    )
    delay = rng.uniform(0.002, 0.04)
    return [
        udp(STREAM, time, host, port, RESOLVER, 53, query),
        udp(STREAM, time + delay, RESOLVER, 53, host, port, response),
    ]


def fetch(rng: Random, time: float, host: str, agent: str) -> list[Record]:
    """A plain-HTTP GET (after resolving the name) and its response."""
    name, address, path, size = rng.choice(FETCHES)
    records = lookup(rng, time, host, name, address)
    request = f"GET {path} HTTP/1.1\r\nHost: {name}\r\nUser-Agent: {agent}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    body = rng.randbytes(size)
    status = "204 No Content" if size == 0 else "200 OK"
    response = (
        f"HTTP/1.1 {status}\r\nContent-Length: {size}\r\nContent-Type: application/octet-stream\r\n"
        f"Connection: close\r\n\r\n"
    ).encode() + body
    return records + tcp_connection(
        rng,
        STREAM,
        time + 0.05,
        host,
        rng.randint(49152, 65535),
        address,
        80,
        [(True, request.encode()), (False, response)],
    )


def network_background(context: Background, day: Day) -> Iterable[Activity]:
    """Captured workstations: a burst of lookups at sign-in, then a few lookups and fetches an hour."""
    rng = context.rng
    for login in logins(context.world, rng, day, context.trips):
        user = login.user
        if login.ip != user.office_ip or int(user.workstation.rsplit(".", 1)[1]) % 100 >= CAPTURED * 100:
            continue
        host = user.workstation
        for _ in range(rng.randint(3, 8)):
            time = login.time + rng.uniform(0, 60)
            yield time, partial(_random_lookup, rng, time, host)
        time = login.time + rng.uniform(5, 120)
        yield time, partial(fetch, rng, time, host, user.user_agent)
        for hour in range(1, 8):
            for _ in range(rng.randint(0, 2)):
                time = login.time + (hour + rng.random()) * HOUR
                yield time, partial(_random_lookup, rng, time, host)


def _random_lookup(rng: Random, time: float, host: str) -> list[Record]:
    """A lookup of a random name (drawn when the record is written)."""
    return lookup(rng, time, host, rng.choice(NAMES), _address(rng))


def _address(rng: Random) -> str:
    return f"{rng.choice((13, 20, 52, 104, 140, 151, 172))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
