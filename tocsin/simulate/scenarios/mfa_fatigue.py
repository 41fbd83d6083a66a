"""MFA fatigue: an attacker with the password sends push after push until the user gives in."""

from __future__ import annotations

from tocsin.simulate.formats import duo, entra, okta
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import guid

EXPECTED = ["MFA Push Bombing", "MFA Push Denied Then Approved"]


def mfa_fatigue(simulation: Simulation) -> None:
    simulation.background("okta", "duo", "entra")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(1)):
        attacker, victim = world.attacker(rng), rng.choice(world.users)
        attack = simulation.account_attack(
            "T1621", "Okta Verify push bombing, approved in the end", EXPECTED, attacker.ip, [victim.email]
        )
        time = simulation.moment(17, 23, slot)
        session = okta.new_session(rng)
        args = (victim, *attacker.origin)
        attack.emit_all([okta.event(rng, time, "user.session.start", *args, session=session)])
        for number in range(rng.randint(4, 10)):
            time += rng.uniform(25, 50)
            attack.emit_all([okta.push(rng, time, "sent", *args, session)])
            time += rng.uniform(3, 15)
            if number < 3 or rng.random() < 0.8:
                attack.emit_all([okta.push(rng, time, "denied", *args, session)])
        time += rng.uniform(20, 40)
        attack.emit_all(
            [
                okta.push(rng, time, "sent", *args, session),
                okta.push(rng, time + rng.uniform(3, 10), "approved", *args, session),
            ]
        )

        attacker, victim = world.attacker(rng), rng.choice(world.users)
        attack = simulation.account_attack(
            "T1621", "Duo push bombing on the VPN, approved in the end", EXPECTED, attacker.ip, [victim.email]
        )
        time = simulation.moment(0, 6, slot + 1)
        for _ in range(rng.randint(4, 9)):
            attack.emit_all(
                [duo.push(rng, time, victim, attacker.ip, attacker.city, rng.choice(("denied", "timeout")))]
            )
            time += rng.uniform(30, 70)
        attack.emit_all([duo.push(rng, time, victim, attacker.ip, attacker.city, "approved")])

        attacker, victim = world.attacker(rng), rng.choice(world.users)
        attack = simulation.account_attack(
            "T1621",
            "Entra ID sign-ins with the stolen password until a push is approved",
            EXPECTED,
            attacker.ip,
            [victim.email],
        )
        time = simulation.moment(18, 23, slot + 2)
        for _ in range(rng.randint(3, 7)):
            attack.emit_all(
                [
                    entra.sign_in(
                        rng,
                        time,
                        victim,
                        *attacker.origin,
                        guid(rng),
                        500121,
                        rng.choice(("denied", "timeout")),
                    )
                ]
            )
            time += rng.uniform(40, 80)
        attack.emit_all([entra.sign_in(rng, time, victim, *attacker.origin, guid(rng))])
