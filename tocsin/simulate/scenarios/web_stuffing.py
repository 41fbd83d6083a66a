"""Credential stuffing against the platform's login API: a combo list through a proxy pool, one tool."""

from __future__ import annotations

from tocsin.simulate.formats import platform
from tocsin.simulate.formats.auth0 import CUSTOMERS_PER_USER, MAIL_DOMAINS, customer
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import ATTACKER_CITIES, token

STUFFING = "Credential Stuffing"
SHARED = "Credential Stuffing With A Shared TLS Fingerprint"
TOOL = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36 python-requests/2.31"


def web_credential_stuffing(simulation: Simulation) -> None:
    simulation.background("platform")
    rng, world = simulation.rng, simulation.world
    customers = len(world.users) * CUSTOMERS_PER_USER
    for slot in range(simulation.settings.instances(1)):
        for fast in (True, False):
            pool = [world.attacker(rng, rng.choice(ATTACKER_CITIES)) for _ in range(rng.randint(12, 30))]
            if not fast:
                pool = pool[: rng.randint(6, 9)]
            attack = simulation.attack(
                "T1110.004",
                "Platform logins with a combo list through proxies, "
                + ("a burst" if fast else "low and slow, one TLS fingerprint"),
                [STUFFING, SHARED] if fast else [SHARED],
                **{"source.ip": [proxy.ip for proxy in pool]},
            )
            time = simulation.moment(0, 24, 2 * slot + (0 if fast else 1))
            for _ in range(rng.randint(40, 90) if fast else rng.randint(20, 26)):
                proxy = rng.choice(pool)
                if rng.random() < 0.3:
                    person = customer(world.seed, rng.randrange(customers))
                    user: tuple[str, str | None] = platform.identity(person)
                    reason = None if rng.random() < 0.04 else "bad_password"
                else:
                    name = (
                        f"{token(rng, rng.randint(5, 10), 'abcdefghijklmnopqrstuvwxyz')}{rng.randint(1, 99)}"
                    )
                    user, reason = (f"{name}@{rng.choice(MAIL_DOMAINS)}", None), "unknown_user"
                session = None if reason else platform.new_session(rng)
                attack.emit_all([platform.login(time, user, proxy.ip, TOOL, session, reason)])
                time += rng.uniform(2, 12) if fast else rng.uniform(40, 75)
