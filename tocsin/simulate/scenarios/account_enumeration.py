"""Account enumeration: which e-mail addresses have an account, through the login API and the lookup endpoint."""

from __future__ import annotations

from tocsin.simulate.formats import platform, webaccess
from tocsin.simulate.formats.auth0 import CUSTOMERS_PER_USER, MAIL_DOMAINS, customer
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import token

BY_LOGIN = "Account Enumeration Through Login Failures"
BY_LOOKUP = "Account Enumeration Through An Account Lookup Endpoint"


def account_enumeration(simulation: Simulation) -> None:
    simulation.background("platform", "web")
    rng, world = simulation.rng, simulation.world
    customers = len(world.users) * CUSTOMERS_PER_USER
    letters = "abcdefghijklmnopqrstuvwxyz"
    for slot in range(simulation.settings.instances(1)):
        attacker = world.attacker(rng)
        attack = simulation.attack(
            "T1589.001",
            "Login attempts with a list of e-mail addresses",
            [BY_LOGIN],
            **{"source.ip": [attacker.ip]},
        )
        time = simulation.moment(0, 24, 2 * slot)
        for _ in range(rng.randint(25, 60)):
            if rng.random() < 0.15:
                user: tuple[str, str | None] = platform.identity(
                    customer(world.seed, rng.randrange(customers))
                )
                reason = "bad_password"
            else:
                user = (f"{token(rng, rng.randint(5, 9), letters)}@{rng.choice(MAIL_DOMAINS)}", None)
                reason = "unknown_user"
            attack.emit_all([platform.login(time, user, attacker.ip, attacker.user_agent, None, reason)])
            time += rng.uniform(3, 12)

        attacker = world.attacker(rng)
        attack = simulation.attack(
            "T1589.001",
            "The account lookup endpoint walked with a list of addresses: 404 tells who has no account",
            [BY_LOOKUP],
            **{"source.ip": [attacker.ip]},
        )
        time = simulation.moment(0, 24, 2 * slot + 1)
        for _ in range(rng.randint(30, 80)):
            known = rng.random() < 0.2
            email = (
                customer(world.seed, rng.randrange(customers)).email
                if known
                else f"{token(rng, rng.randint(5, 9), letters)}@{rng.choice(MAIL_DOMAINS)}"
            )
            query = "email=" + email.replace("@", "%40")
            record = webaccess.access(
                time,
                attacker.ip,
                "GET",
                "/api/v1/users/lookup",
                200 if known else 404,
                attacker.user_agent,
                61 if known else 38,
                query,
            )
            attack.emit_all([record])
            time += rng.uniform(1, 8)
