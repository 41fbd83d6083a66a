"""Password spraying: one or two common passwords tried once against many accounts, low and slow."""

from __future__ import annotations

from tocsin.simulate.daily import HOUR
from tocsin.simulate.formats import auth0, entra, sshd
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import guid

SPRAYING = "Password Spraying From One Source"
SSH_NAMES = (
    "admin",
    "test",
    "oracle",
    "postgres",
    "ubuntu",
    "git",
    "jenkins",
    "deploy",
    "ftpuser",
    "support",
    "user",
    "guest",
    "hadoop",
    "minecraft",
    "nagios",
    "pi",
    "docker",
    "ansible",
    "backup",
    "web",
    "mysql",
    "tomcat",
    "elastic",
    "dev",
    "steam",
    "teamspeak",
    "zabbix",
    "www",
    "info",
    "sales",
)


def password_spraying(simulation: Simulation) -> None:
    simulation.background("entra", "sshd", "auth0")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(1)):
        attacker = world.attacker(rng)
        victims = rng.sample(world.users, min(len(world.users), rng.randint(15, 30)))
        attack = simulation.account_attack(
            "T1110.003",
            "Entra ID spray of a seasonal password across employees",
            [SPRAYING],
            attacker.ip,
            [v.email for v in victims],
        )
        time = simulation.moment(1, 22, slot)
        step = rng.uniform(40, 55) * 60 / len(victims)
        for victim in victims:
            attack.emit_all([entra.sign_in(rng, time, victim, *attacker.origin, guid(rng), 50126, None)])
            time += step * rng.uniform(0.6, 1.4)

        attacker = world.attacker(rng)
        names = rng.sample(SSH_NAMES, rng.randint(15, 25))
        attack = simulation.account_attack(
            "T1110.003", "SSH sweep of common account names", [SPRAYING], attacker.ip, names
        )
        time = simulation.moment(0, 23, slot + 1)
        for name in names:
            attack.emit_all(list(sshd.password_guess(rng, time, attacker.ip, name, False)))
            time += rng.uniform(60, 180)

        attacker = world.attacker(rng)
        customers = len(world.users) * auth0.CUSTOMERS_PER_USER
        people = [
            auth0.customer(world.seed, index) for index in rng.sample(range(customers), rng.randint(15, 25))
        ]
        attack = simulation.account_attack(
            "T1110.003",
            "Auth0 spray across customer accounts",
            [SPRAYING],
            attacker.ip,
            [p.email for p in people],
        )
        time = simulation.moment(0, 22, slot + 2)
        for person in people:
            attack.emit_all(
                [auth0.log(rng, time, "fp", person.email, attacker.ip, attacker.user_agent, person.user_id)]
            )
            time += rng.uniform(0.03, 0.06) * HOUR
