"""Scraping through the API: one token walks sequential record ids, from one address or a proxy
pool, fast, or slowly enough to stay under the distinct-object thresholds."""

from __future__ import annotations

from tocsin.simulate.formats import platform
from tocsin.simulate.formats.auth0 import CUSTOMERS_PER_USER, customer
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import token

BY_TOKEN = "API Objects Scraped With One Token"
BY_SOURCE = "API Objects Scraped From One Source"
IN_SEQUENCE = "API Objects Read In Sequence"


def api_scraping(simulation: Simulation) -> None:
    simulation.background("platform")
    rng, world = simulation.rng, simulation.world
    customers = len(world.users) * CUSTOMERS_PER_USER
    for slot in range(simulation.settings.instances(1)):
        for rotating in (False, True):
            user = platform.identity(customer(world.seed, rng.randrange(customers)))
            pool = [world.attacker(rng) for _ in range(rng.randint(10, 20) if rotating else 1)]
            attack = simulation.attack(
                "T1213",
                "An API token walking sequential customer ids" + (" through proxies" if rotating else ""),
                [BY_TOKEN, IN_SEQUENCE] if rotating else [BY_TOKEN, BY_SOURCE, IN_SEQUENCE],
                **{"source.ip": [proxy.ip for proxy in pool], "user.name": [user[0]]},
            )
            api_token = "tok-" + token(rng, 12)
            time = simulation.moment(0, 24, 2 * slot + int(rotating))
            first = rng.randrange(100_000, 900_000)
            for number in range(first, first + rng.randint(150, 400)):
                proxy = rng.choice(pool)
                attack.emit_all(
                    [platform.read(time, user, proxy.ip, proxy.user_agent, api_token, "customer", number)]
                )
                time += rng.uniform(0.2, 2.5)

        user = platform.identity(customer(world.seed, rng.randrange(customers)))
        attacker = world.attacker(rng)
        attack = simulation.account_attack(
            "T1213",
            "A token walking customer ids slowly, one every half minute",
            [IN_SEQUENCE],
            attacker.ip,
            [user[0]],
        )
        api_token, time = "tok-" + token(rng, 12), simulation.moment(0, 24, 2 * slot + 2)
        first = rng.randrange(100_000, 900_000)
        for number in range(first, first + rng.randint(30, 80)):
            attack.emit_all(
                [platform.read(time, user, attacker.ip, attacker.user_agent, api_token, "customer", number)]
            )
            time += rng.uniform(15, 60)
