"""The platform's nginx access log, as an ECS JSON Lines export (``event.dataset: nginx.access``).

ECS rather than nginx's text format, so scoring does not depend on a text-log reader: the generic
JSON reader routes these records to Sigma ``category: webserver``. Logins through ``POST /login``
are ``event.action: web-login`` with the outcome read from the status, as access-log readers
classify them. The background holds the look-alikes: customers browsing (a stray 404 now and
then, a wrong password, a sign-up form checking a few names), the university NAT address, a
search engine crawling the catalogue page by page, and the monitoring probe reading
``/server-status`` from inside every five minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from random import Random
from typing import Any

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import HOUR, Day
from tocsin.simulate.formats.auth0 import CUSTOMERS_PER_USER, customer
from tocsin.simulate.formats.platform import customer_visits
from tocsin.simulate.records import Record, iso_ms
from tocsin.simulate.world import token

STREAM = "web"
MONITOR_IP = "10.0.0.5"
CRAWLER = ("66.249.66.1", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
_PAGES = ("/", "/products", "/cart", "/account", "/help", "/search")
_ASSETS = ("/static/app.js", "/static/app.css", "/static/logo.svg")


def access(
    time: float,
    ip: str,
    method: str,
    path: str,
    status: int,
    agent: str,
    size: int,
    query: str | None = None,
    user: str | None = None,
) -> Record:
    """One access-log record in ECS."""
    url: dict[str, Any] = {"path": path, "original": f"{path}?{query}" if query else path}
    if query:
        url["query"] = query
    event: dict[str, Any] = {"kind": "event", "dataset": "nginx.access", "category": ["web"]}
    if method == "POST" and path == "/login":
        event.update(
            category=["web", "authentication"],
            action="web-login",
            outcome="success" if status < 400 else "failure",
        )
    record: dict[str, Any] = {
        "@timestamp": iso_ms(time),
        "event": event,
        "source": {"ip": ip},
        "http": {"request": {"method": method}, "response": {"status_code": status, "body": {"bytes": size}}},
        "url": url,
        "user_agent": {"original": agent},
    }
    if user:
        record["user"] = {"name": user}
    return Record(time, STREAM, record)


def web_login(time: float, ip: str, agent: str, ok: bool, user: str | None = None) -> Record:
    """``POST /login``: a redirect on success, 401 on a wrong password."""
    return access(time, ip, "POST", "/login", 302 if ok else 401, agent, 154 if ok else 1320, user=user)


def browse(rng: Random, time: float, ip: str, agent: str, email: str) -> Iterator[Record]:
    """A customer visit: pages and assets, a login (now and then after a wrong password)."""
    yield access(time, ip, "GET", "/", 200, agent, 15_840)
    for asset in _ASSETS:
        time += rng.uniform(0.05, 0.4)
        yield access(time, ip, "GET", asset, 200, agent, 40_000 + len(asset) * 97)
    if rng.random() < 0.06:
        time += rng.uniform(5, 20)
        yield web_login(time, ip, agent, False)
    time += rng.uniform(5, 20)
    yield web_login(time, ip, agent, True, email)
    for _ in range(rng.randint(2, 10)):
        time += rng.uniform(3, 90)
        if rng.random() < 0.03:
            yield access(time, ip, "GET", f"/products/{rng.randint(1, 99_999)}", 404, agent, 3_120)
        else:
            yield access(time, ip, "GET", rng.choice(_PAGES), 200, agent, rng.randint(9_000, 60_000))


def sign_up(rng: Random, time: float, ip: str, agent: str) -> Iterator[Record]:
    """A newcomer's sign-up form checks whether a few names are taken (404: free to use)."""
    for _ in range(rng.randint(1, 4)):
        name = token(rng, rng.randint(5, 9), "abcdefghijklmnopqrstuvwxyz")
        status = 404 if rng.random() < 0.7 else 200
        yield access(time, ip, "GET", "/api/v1/users/check-username", status, agent, 40, f"name={name}")
        time += rng.uniform(2, 15)


def crawl(rng: Random, time: float) -> Iterator[Record]:
    """The search engine walks the catalogue page by page (a retired page or two is gone)."""
    ip, agent = CRAWLER
    for page in range(1, rng.randint(150, 400)):
        time += rng.uniform(1, 6)
        status = 404 if rng.random() < 0.01 else 200
        yield access(time, ip, "GET", "/products", status, agent, rng.randint(20_000, 50_000), f"page={page}")


def probe(time: float) -> Iterator[Record]:
    """The monitoring system reads Apache-style status and health from inside."""
    yield access(time, MONITOR_IP, "GET", "/server-status", 200, "Zabbix", 4_210, "auto")
    yield access(time + 0.2, MONITOR_IP, "GET", "/healthz", 200, "Zabbix", 2)


def web_background(context: Background, day: Day) -> Iterable[Activity]:
    """Customer visits, a few sign-ups, the crawler's daily pass and the five-minute probe."""
    rng = context.rng
    customers = len(context.world.users) * CUSTOMERS_PER_USER
    for time, person, address in customer_visits(context, day):
        yield time, partial(browse, rng, time, address, person.agent, person.email)
    for _ in range(rng.randint(2, 6)):
        person = customer(context.world.seed, rng.randrange(customers))
        time = day.start + rng.uniform(8, 23) * HOUR
        yield time, partial(sign_up, rng, time, person.ip, person.agent)
    time = day.start + rng.uniform(1, 5) * HOUR
    yield time, partial(crawl, rng, time)
    for slot in range(288):
        time = day.start + slot * 300 + rng.uniform(0, 5)
        yield time, partial(probe, time)
