"""Session hijacking: a stolen session cookie or refresh token replayed from the attacker's machine."""

from __future__ import annotations

from tocsin.simulate.formats import entra, okta
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import guid

REUSE = "Session Used From A Second Address"


def session_hijack(simulation: Simulation) -> None:
    simulation.background("okta", "entra")
    rng = simulation.rng
    for slot in range(simulation.settings.instances(2)):
        attacker, victim, time = simulation.impersonation(slot)
        session = okta.new_session(rng)
        attack = simulation.account_attack(
            "T1539",
            "Okta session cookie stolen by an infostealer, replayed for SSO",
            [REUSE],
            attacker.ip,
            [victim.email],
        )
        simulation.records.extend(okta.sign_in(rng, time, victim, *victim.origin, session))
        time += rng.uniform(5, 40) * 60
        for _ in range(rng.randint(2, 5)):
            sso = okta.event(
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
            attack.emit_all([sso])
            time += rng.uniform(30, 400)

        attacker, victim, time = simulation.impersonation(slot + 1)
        session = guid(rng)
        attack = simulation.account_attack(
            "T1550.001",
            "Entra ID refresh token stolen (adversary-in-the-middle), replayed",
            [REUSE],
            attacker.ip,
            [victim.email],
        )
        simulation.records.append(entra.sign_in(rng, time, victim, *victim.origin, session))
        time += rng.uniform(5, 40) * 60
        for _ in range(rng.randint(2, 6)):
            refresh = entra.sign_in(
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
            attack.emit_all([refresh])
            time += rng.uniform(60, 600)
