"""A platform session token stolen (an infostealer, a leaked log) and replayed from another network."""

from __future__ import annotations

from tocsin.simulate.formats import platform
from tocsin.simulate.formats.auth0 import CUSTOMERS_PER_USER, customer
from tocsin.simulate.simulation import Simulation

SECOND_ADDRESS = "Session Used From A Second Address"
SECOND_CLIENT = "Session Used With A Second Client"


def session_token_reuse(simulation: Simulation) -> None:
    simulation.background("platform")
    rng, world = simulation.rng, simulation.world
    customers = len(world.users) * CUSTOMERS_PER_USER
    for slot in range(simulation.settings.instances(2)):
        for spoofed in (False, True):
            index = rng.randrange(customers)
            victim = customer(world.seed, index)
            home, user = platform.origin(victim, index), platform.identity(victim)
            attacker = world.attacker(rng)
            agent = victim.agent if spoofed else attacker.user_agent
            attack = simulation.account_attack(
                "T1550.004",
                "Stolen session token replayed from another network"
                + (" with the victim's User-Agent" if spoofed else " by a script"),
                [SECOND_ADDRESS] if spoofed else [SECOND_ADDRESS, SECOND_CLIENT],
                attacker.ip,
                [victim.email],
            )
            time = simulation.moment(0, 24, 2 * slot + int(spoofed))
            session = platform.new_session(rng)
            simulation.records.append(platform.login(time, user, home, victim.agent, session))
            simulation.records.append(
                platform.refresh(time + rng.uniform(300, 900), user, home, victim.agent, session)
            )
            time += rng.uniform(15, 40) * 60
            for _ in range(rng.randint(2, 5)):
                attack.emit_all([platform.refresh(time, user, attacker.ip, agent, session)])
                time += rng.uniform(60, 400)
