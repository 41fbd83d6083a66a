"""Credential stuffing: leaked username/password pairs replayed through a pool of residential proxies."""

from __future__ import annotations

from tocsin.simulate.formats import auth0, okta
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import ATTACKER_CITIES, User, token

STUFFING = "Credential Stuffing"


def credential_stuffing(simulation: Simulation) -> None:
    simulation.background("okta", "auth0")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(1)):
        proxies = [world.attacker(rng, rng.choice(ATTACKER_CITIES)) for _ in range(rng.randint(15, 30))]
        employees = rng.sample(world.users, min(len(world.users), rng.randint(8, 15)))
        leaked = [
            f"{token(rng, rng.randint(4, 8), 'abcdefghijklmnopqrstuvwxyz')}.{token(rng, 5, 'abcdefghijklmnopqrstuvwxyz')}"
            for _ in range(rng.randint(20, 40))
        ]
        attack = simulation.attack(
            "T1110.004",
            "Okta sign-ins with a leaked combo list",
            [STUFFING],
            **{"source.ip": [p.ip for p in proxies]},
        )
        time = simulation.moment(0, 24, slot)
        targets: list[User | str] = [*employees, *(f"{name}@northwind-labs.com" for name in leaked)]
        rng.shuffle(targets)
        for target in targets:
            proxy = rng.choice(proxies)
            reason = "VERIFICATION_ERROR" if isinstance(target, str) else "INVALID_CREDENTIALS"
            attack.emit_all(
                [
                    okta.event(
                        rng,
                        time,
                        "user.session.start",
                        target,
                        proxy.ip,
                        proxy.city,
                        proxy.user_agent,
                        "FAILURE",
                        reason,
                        "unknown",
                    )
                ]
            )
            time += rng.uniform(5, 15)

        proxies = [world.attacker(rng, rng.choice(ATTACKER_CITIES)) for _ in range(rng.randint(20, 40))]
        attack = simulation.attack(
            "T1110.004",
            "Auth0 logins with a leaked combo list, a few of them valid",
            [STUFFING],
            **{"source.ip": [p.ip for p in proxies]},
        )
        time = simulation.moment(0, 24, slot + 1)
        customers = len(world.users) * auth0.CUSTOMERS_PER_USER
        for _ in range(rng.randint(60, 140)):
            proxy = rng.choice(proxies)
            if rng.random() < 0.3:
                person = auth0.customer(world.seed, rng.randrange(customers))
                code = "s" if rng.random() < 0.05 else "fp"
                record = auth0.log(rng, time, code, person.email, proxy.ip, proxy.user_agent, person.user_id)
            else:
                email = f"{token(rng, rng.randint(5, 10), 'abcdefghijklmnopqrstuvwxyz')}{rng.randint(1, 99)}@{rng.choice(auth0.MAIL_DOMAINS)}"
                record = auth0.log(rng, time, "fu", email, proxy.ip, proxy.user_agent)
            attack.emit_all([record])
            time += rng.uniform(1, 6)
