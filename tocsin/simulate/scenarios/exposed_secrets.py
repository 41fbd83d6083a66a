"""Secrets and backups left on the web server, fetched from outside."""

from __future__ import annotations

from tocsin.simulate.formats import webaccess
from tocsin.simulate.simulation import Simulation

FETCHED = "Secret Or Backup File Fetched From Outside"
#: (path, size) of files left behind; each attack fetches some of them (and probes for others).
_LEFT = (
    ("/.env", 812),
    ("/.git/config", 263),
    ("/.git/HEAD", 23),
    ("/backup/shop-2026-02-28.sql", 48_213_904),
    ("/db.sql.gz", 9_880_112),
    ("/config.php.bak", 2_410),
    ("/server-status", 5_120),
)
_ABSENT = ("/.aws/credentials", "/wp-config.php.bak", "/.svn/entries", "/dump.sql")


def exposed_secrets(simulation: Simulation) -> None:
    simulation.background("web")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(3)):
        attacker = world.attacker(rng)
        attack = simulation.attack(
            "T1552.001", "Leftover secrets and backups downloaded", [FETCHED], **{"source.ip": [attacker.ip]}
        )
        time = simulation.moment(0, 24, slot)
        for path in rng.sample(_ABSENT, rng.randint(0, 3)):
            attack.emit_all([webaccess.access(time, attacker.ip, "GET", path, 404, attacker.user_agent, 153)])
            time += rng.uniform(0.5, 4)
        for path, size in rng.sample(_LEFT, rng.randint(1, 3)):
            attack.emit_all(
                [webaccess.access(time, attacker.ip, "GET", path, 200, attacker.user_agent, size)]
            )
            time += rng.uniform(0.5, 20)
