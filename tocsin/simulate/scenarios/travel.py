"""Impossible travel: the user signs in at home and, shortly after, "from" another continent."""

from __future__ import annotations

from tocsin.simulate.formats import entra, okta
from tocsin.simulate.registry import scenario
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import guid, token

TRAVEL = "Impossible Travel"


@scenario(
    "impossible_travel",
    "A successful sign-in from another continent shortly after the user's own (Okta, Entra ID)",
)
def impossible_travel(simulation: Simulation) -> None:
    simulation.background("okta", "entra")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(2)):
        attacker, time = world.attacker(rng), simulation.moment(7, 15, slot)
        victim = simulation.victim(time)
        home = victim.office_ip or victim.home_ip
        attack = simulation.attack(
            "T1078",
            "Okta sign-in with stolen credentials from abroad, an hour after the user's",
            [TRAVEL],
            **{"source.ip": [attacker.ip], "user.name": [victim.email]},
        )
        simulation.records.extend(
            okta.sign_in(rng, time, victim, home, victim.city, victim.user_agent, "102" + token(rng, 22))
        )
        time += rng.uniform(20, 90) * 60
        attack.emit_all(
            list(
                okta.sign_in(
                    rng, time, victim, attacker.ip, attacker.city, attacker.user_agent, "102" + token(rng, 22)
                )
            )
        )

        attacker, time = world.attacker(rng), simulation.moment(7, 15, slot + 1)
        victim = simulation.victim(time)
        home = victim.office_ip or victim.home_ip
        attack = simulation.attack(
            "T1078",
            "Entra ID sign-in with a stolen password from abroad, soon after the user's",
            [TRAVEL],
            **{"source.ip": [attacker.ip], "user.name": [victim.email]},
        )
        simulation.records.append(
            entra.sign_in(rng, time, victim, home, victim.city, victim.user_agent, guid(rng))
        )
        time += rng.uniform(20, 120) * 60
        attack.emit_all(
            [entra.sign_in(rng, time, victim, attacker.ip, attacker.city, attacker.user_agent, guid(rng))]
        )
