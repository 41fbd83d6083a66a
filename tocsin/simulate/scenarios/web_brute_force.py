"""Password guessing through the web login form, seen in the nginx access log."""

from __future__ import annotations

from tocsin.simulate.formats import webaccess
from tocsin.simulate.simulation import Simulation

FAILURES = "Web Login Failures From One Source"
THEN_SUCCESS = "Web Login Brute Force Then Success"


def web_brute_force(simulation: Simulation) -> None:
    simulation.background("web")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(1)):
        for succeeds in (True, False):
            attacker = world.attacker(rng)
            attack = simulation.attack(
                "T1110.001",
                "POST /login guessing" + (", until a password works" if succeeds else ""),
                [FAILURES, THEN_SUCCESS] if succeeds else [FAILURES],
                **{"source.ip": [attacker.ip]},
            )
            time = simulation.moment(0, 24, 2 * slot + int(not succeeds))
            for _ in range(rng.randint(15, 60)):
                attack.emit_all([webaccess.web_login(time, attacker.ip, attacker.user_agent, False)])
                time += rng.uniform(2, 15)
            if succeeds:
                attack.emit_all([webaccess.web_login(time, attacker.ip, attacker.user_agent, True)])
