"""Mass export through the API from a taken-over account."""

from __future__ import annotations

from tocsin.simulate.formats import platform
from tocsin.simulate.formats.auth0 import CUSTOMERS_PER_USER, customer
from tocsin.simulate.simulation import Simulation

MASS_EXPORT = "Mass Export Through The API"


def api_mass_export(simulation: Simulation) -> None:
    simulation.background("platform")
    rng, world = simulation.rng, simulation.world
    customers = len(world.users) * CUSTOMERS_PER_USER
    for slot in range(simulation.settings.instances(2)):
        victim = customer(world.seed, rng.randrange(customers))
        user, attacker = platform.identity(victim), world.attacker(rng)
        attack = simulation.account_attack(
            "T1530",
            "A taken-over account exports record after record",
            [MASS_EXPORT],
            attacker.ip,
            [victim.email],
        )
        time = simulation.moment(0, 24, slot)
        attack.emit_all(
            [platform.login(time, user, attacker.ip, attacker.user_agent, platform.new_session(rng))]
        )
        for _ in range(rng.randint(25, 60)):
            time += rng.uniform(20, 60)
            attack.emit_all(
                [
                    platform.export(
                        time, user, attacker.ip, attacker.user_agent, rng.randint(50_000, 4_000_000)
                    )
                ]
            )
