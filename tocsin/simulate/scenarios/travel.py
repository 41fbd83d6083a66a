"""Impossible travel: the user signs in at home and, shortly after, "from" another continent."""

from __future__ import annotations

from tocsin.simulate.formats import entra, okta
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import guid

TRAVEL = "Impossible Travel"


def impossible_travel(simulation: Simulation) -> None:
    simulation.background("okta", "entra")
    rng = simulation.rng
    for slot in range(simulation.settings.instances(2)):
        attacker, victim, time = simulation.impersonation(slot)
        attack = simulation.account_attack(
            "T1078",
            "Okta sign-in with stolen credentials from abroad, an hour after the user's",
            [TRAVEL],
            attacker.ip,
            [victim.email],
        )
        simulation.records.extend(okta.sign_in(rng, time, victim, *victim.origin, okta.new_session(rng)))
        time += rng.uniform(20, 90) * 60
        attack.emit_all(list(okta.sign_in(rng, time, victim, *attacker.origin, okta.new_session(rng))))

        attacker, victim, time = simulation.impersonation(slot + 1)
        attack = simulation.account_attack(
            "T1078",
            "Entra ID sign-in with a stolen password from abroad, soon after the user's",
            [TRAVEL],
            attacker.ip,
            [victim.email],
        )
        simulation.records.append(entra.sign_in(rng, time, victim, *victim.origin, guid(rng)))
        time += rng.uniform(20, 120) * 60
        attack.emit_all([entra.sign_in(rng, time, victim, *attacker.origin, guid(rng))])
