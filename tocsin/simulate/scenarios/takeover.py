"""Account takeover followed by data export: guessed into an account, then pulling its data out."""

from __future__ import annotations

from tocsin.simulate.formats import cloudtrail, workspace
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import token

AFTER_FAILURES = "Successful Authentication After Repeated Failures"


def account_takeover(simulation: Simulation) -> None:
    simulation.background("workspace", "cloudtrail")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(1)):
        attacker, victim = world.attacker(rng), rng.choice(world.users)
        attack = simulation.account_attack(
            "T1078",
            "Google account guessed, then Drive emptied by download",
            [AFTER_FAILURES, "Mass Download Or Export By One User"],
            attacker.ip,
            [victim.email],
        )
        time = simulation.moment(0, 24, slot)
        for _ in range(rng.randint(6, 9)):
            attack.emit_all([workspace.login(rng, time, victim, attacker.ip, success=False)])
            time += rng.uniform(20, 90)
        attack.emit_all([workspace.login(rng, time, victim, attacker.ip)])
        for _ in range(rng.randint(120, 250)):
            time += rng.uniform(4, 12)
            attack.emit_all([workspace.drive(rng, time, victim, attacker.ip, "download")])

        attacker = world.attacker(rng)
        victim = rng.choice([user for user in world.users if user.engineer])
        attack = simulation.account_attack(
            "T1098.001",
            "AWS console password guessed, new access key, bulk S3 reads",
            [AFTER_FAILURES, "New Access Key Followed By Bulk Reads"],
            attacker.ip,
            [victim.login],
        )
        time = simulation.moment(0, 24, slot + 1)
        for _ in range(rng.randint(6, 9)):
            attack.emit_all(
                [cloudtrail.console_login(rng, time, victim, attacker.ip, attacker.user_agent, False)]
            )
            time += rng.uniform(15, 60)
        attack.emit_all([cloudtrail.console_login(rng, time, victim, attacker.ip, attacker.user_agent, True)])
        time += rng.uniform(60, 300)
        console = cloudtrail.identity(victim, cloudtrail.access_key(rng))
        key, record = cloudtrail.create_access_key(
            rng, time, console, attacker.ip, attacker.user_agent, victim.login
        )
        attack.emit_all([record])
        who = cloudtrail.identity(victim, key)
        agent = "aws-cli/2.13.5 Python/3.11.4 Windows/10 exe/AMD64 prompt/off command/s3.cp"
        time += rng.uniform(300, 900)
        for _ in range(rng.randint(60, 200)):
            time += rng.uniform(1, 8)
            attack.emit_all(
                [
                    cloudtrail.get_object(
                        rng,
                        time,
                        who,
                        attacker.ip,
                        agent,
                        "nw-customer-data",
                        f"exports/customers-{token(rng, 8)}.parquet",
                    )
                ]
            )
