"""Password-reset abuse: resets for many accounts, a reset-mail flood, and a takeover through the reset flow."""

from __future__ import annotations

from tocsin.simulate.daily import DAY
from tocsin.simulate.formats import platform
from tocsin.simulate.formats.auth0 import CUSTOMERS_PER_USER, customer
from tocsin.simulate.records import Record
from tocsin.simulate.simulation import Simulation

MANY = "Password Reset Requests For Many Accounts From One Source"
FLOOD = "Password Reset Requests Flooding One Account"
TAKEOVER = "Password Reset Then Login From A New Network"


def _reset(time: float, user: tuple[str, str | None], ip: str, agent: str) -> Record:
    return platform.event(
        time,
        "password_reset_request",
        user,
        ip,
        agent,
        request=platform.request("POST", "/api/v1/password/forgot", 200),
    )


def password_reset_abuse(simulation: Simulation) -> None:
    simulation.background("platform")
    rng, world = simulation.rng, simulation.world
    customers = len(world.users) * CUSTOMERS_PER_USER
    for slot in range(simulation.settings.instances(1)):
        attacker = world.attacker(rng)
        attack = simulation.attack(
            "T1589.001",
            "Reset requests for a list of accounts from one address",
            [MANY],
            **{"source.ip": [attacker.ip]},
        )
        time = simulation.moment(0, 24, 3 * slot)
        for _ in range(rng.randint(12, 30)):
            user = platform.identity(customer(world.seed, rng.randrange(customers)))
            attack.emit_all([_reset(time, user, attacker.ip, attacker.user_agent)])
            time += rng.uniform(5, 25)

        victim = customer(world.seed, rng.randrange(customers))
        pool = [world.attacker(rng) for _ in range(3)]
        attack = simulation.account_attack(
            "T1110", "A reset-mail flood on one account", [FLOOD], pool[0].ip, [victim.email]
        )
        time = simulation.moment(0, 24, 3 * slot + 1)
        for _ in range(rng.randint(8, 20)):
            proxy = rng.choice(pool)
            attack.emit_all([_reset(time, platform.identity(victim), proxy.ip, proxy.user_agent)])
            time += rng.uniform(10, 35)

        index = rng.randrange(customers)
        victim = customer(world.seed, index)
        home, user = platform.origin(victim, index), platform.identity(victim)
        attacker = world.attacker(rng)
        attack = simulation.account_attack(
            "T1078",
            "Takeover through the reset flow (a hijacked mailbox): reset, then a login from abroad",
            [TAKEOVER],
            attacker.ip,
            [victim.email],
        )
        time = simulation.moment(7, 20, 3 * slot + 2)
        for days in (3, 2, 1):  # the owner's own logins before
            simulation.records.append(
                platform.login(time - days * DAY, user, home, victim.agent, platform.new_session(rng))
            )
        attack.emit_all([_reset(time, user, attacker.ip, attacker.user_agent)])
        time += rng.uniform(60, 600)
        attack.emit_all(
            [platform.event(time, "password_reset_complete", user, attacker.ip, attacker.user_agent)]
        )
        time += rng.uniform(30, 900)
        attack.emit_all(
            [platform.login(time, user, attacker.ip, attacker.user_agent, platform.new_session(rng))]
        )
