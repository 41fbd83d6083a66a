"""Session hijacking: a stolen session cookie or refresh token replayed from the attacker's machine."""

from __future__ import annotations

from tocsin.simulate.formats import entra, okta
from tocsin.simulate.registry import scenario
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import guid, token

REUSE = "Session Used From A Second Address"


@scenario(
    "session_hijack", "A stolen session replayed from a second address (Okta SSO, Entra ID token refresh)"
)
def session_hijack(simulation: Simulation) -> None:
    simulation.background("okta", "entra")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(2)):
        attacker, time = world.attacker(rng), simulation.moment(7, 15, slot)
        victim = simulation.victim(time)
        home = victim.office_ip or victim.home_ip
        session = "102" + token(rng, 22)
        attack = simulation.attack(
            "T1539",
            "Okta session cookie stolen by an infostealer, replayed for SSO",
            [REUSE],
            **{"source.ip": [attacker.ip], "user.name": [victim.email]},
        )
        simulation.records.extend(
            okta.sign_in(rng, time, victim, home, victim.city, victim.user_agent, session)
        )
        time += rng.uniform(5, 40) * 60
        for _ in range(rng.randint(2, 5)):
            attack.emit_all(
                [
                    okta.event(
                        rng,
                        time,
                        "user.authentication.sso",
                        victim,
                        attacker.ip,
                        attacker.city,
                        victim.user_agent,
                        session=session,
                        app=rng.choice(okta.APPS),
                    )
                ]
            )
            time += rng.uniform(30, 400)

        attacker, time = world.attacker(rng), simulation.moment(7, 15, slot + 1)
        victim = simulation.victim(time)
        home = victim.office_ip or victim.home_ip
        session = guid(rng)
        attack = simulation.attack(
            "T1550.001",
            "Entra ID refresh token stolen (adversary-in-the-middle), replayed",
            [REUSE],
            **{"source.ip": [attacker.ip], "user.name": [victim.email]},
        )
        simulation.records.append(
            entra.sign_in(rng, time, victim, home, victim.city, victim.user_agent, session)
        )
        time += rng.uniform(5, 40) * 60
        for _ in range(rng.randint(2, 6)):
            attack.emit_all(
                [
                    entra.sign_in(
                        rng,
                        time,
                        victim,
                        attacker.ip,
                        attacker.city,
                        victim.user_agent,
                        session,
                        mfa=None,
                        interactive=False,
                    )
                ]
            )
            time += rng.uniform(60, 600)
