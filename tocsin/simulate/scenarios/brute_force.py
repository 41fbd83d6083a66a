"""Password guessing against one account: on the SSH bastion, Okta, Auth0, and in clear over FTP and HTTP."""

from __future__ import annotations

import base64

from tocsin.simulate.formats import auth0, okta, sshd
from tocsin.simulate.formats.packets import Exchange, tcp_connection
from tocsin.simulate.simulation import Attack, Simulation

BY_SOURCE = "Brute Force From One Source"
BY_ACCOUNT = "Brute Force Against One Account"
CLEARTEXT = "Cleartext Credentials On The Wire"
PASSWORDS = (
    "123456",
    "password",
    "admin123",
    "qwerty",
    "letmein",
    "Welcome1",
    "P@ssw0rd",
    "changeme",
    "root",
    "toor",
    "dragon",
    "111111",
    "Summer2025",
    "abc123",
    "passw0rd",
    "master",
    "admin",
    "1q2w3e4r",
)
FTP_SERVER, ADMIN_UI = "10.20.0.21", "10.20.0.1"


def _connect(
    attack: Attack, time: float, attacker: str, server: str, port: int, exchanges: list[Exchange]
) -> float:
    """Plant a connection from ``attacker`` (an outside host) to ``server``; return its last frame's time."""
    rng = attack.simulation.rng
    records = tcp_connection(
        rng,
        "network",
        time,
        attacker,
        rng.randint(32768, 60999),
        server,
        port,
        exchanges,
        client_internal=False,
    )
    attack.emit_all(records)
    return records[-1].time


def brute_force(simulation: Simulation) -> None:
    simulation.background("sshd", "okta", "auth0", "network")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(1)):
        attacker = world.attacker(rng)
        attack = simulation.account_attack(
            "T1110.001",
            "SSH password guessing against root on the bastion",
            [BY_SOURCE, BY_ACCOUNT],
            attacker.ip,
            ["root"],
        )
        time = simulation.moment(0, 6, slot)
        for _ in range(rng.randint(40, 120)):
            attack.emit_all(list(sshd.password_guess(rng, time, attacker.ip, "root", True)))
            time += rng.uniform(4, 12)

        attacker = world.attacker(rng)
        victim = rng.choice(world.users)
        attack = simulation.account_attack(
            "T1110.001",
            "Okta password guessing against one employee",
            [BY_SOURCE, BY_ACCOUNT],
            attacker.ip,
            [victim.email],
        )
        time = simulation.moment(1, 23, slot + 1)
        for _ in range(rng.randint(15, 30)):
            attack.emit_all(
                [
                    okta.event(
                        rng,
                        time,
                        "user.session.start",
                        victim,
                        *attacker.origin,
                        "FAILURE",
                        "INVALID_CREDENTIALS",
                        "unknown",
                    )
                ]
            )
            time += rng.uniform(10, 30)

        attacker = world.attacker(rng)
        person = auth0.customer(world.seed, rng.randrange(len(world.users) * auth0.CUSTOMERS_PER_USER))
        attack = simulation.account_attack(
            "T1110.001",
            "Auth0 password guessing until brute-force protection blocks the account",
            [BY_SOURCE, BY_ACCOUNT, "Login Attempt On A Disabled Or Locked Account"],
            attacker.ip,
            [person.email],
        )
        time = simulation.moment(0, 24, slot + 2)
        for _ in range(10):
            attack.emit_all(
                [auth0.log(rng, time, "fp", person.email, attacker.ip, attacker.user_agent, person.user_id)]
            )
            time += rng.uniform(3, 20)
        for _ in range(rng.randint(2, 6)):
            attack.emit_all(
                [
                    auth0.log(
                        rng, time, "limit_wc", person.email, attacker.ip, attacker.user_agent, person.user_id
                    )
                ]
            )
            time += rng.uniform(3, 20)

        attacker = world.attacker(rng)
        attack = simulation.account_attack(
            "T1110.001",
            "FTP password guessing against the backup account, in clear",
            [BY_SOURCE, BY_ACCOUNT, CLEARTEXT],
            attacker.ip,
            ["backup"],
        )
        time = simulation.moment(0, 24, slot + 3)
        for _ in range(rng.randint(5, 9)):  # three tries per connection, then the server hangs up
            exchanges: list[Exchange] = [(False, b"220 (vsFTPd 3.0.5)\r\n")]
            for _ in range(3):
                exchanges += [
                    (True, b"USER backup\r\n"),
                    (False, b"331 Please specify the password.\r\n"),
                    (True, f"PASS {rng.choice(PASSWORDS)}\r\n".encode()),
                    (False, b"530 Login incorrect.\r\n"),
                ]
            time = _connect(attack, time, attacker.ip, FTP_SERVER, 21, exchanges) + rng.uniform(1, 4)

        attacker = world.attacker(rng)
        attack = simulation.account_attack(
            "T1110.001",
            "HTTP Basic password guessing against the router's admin page",
            [BY_SOURCE, BY_ACCOUNT, CLEARTEXT],
            attacker.ip,
            ["admin"],
        )
        time = simulation.moment(0, 24, slot + 4)
        for _ in range(rng.randint(12, 25)):
            credentials = base64.b64encode(f"admin:{rng.choice(PASSWORDS)}".encode()).decode()
            request = (
                f"GET /cgi-bin/luci HTTP/1.1\r\nHost: {ADMIN_UI}\r\nAuthorization: Basic {credentials}\r\n"
                f"User-Agent: {attacker.user_agent}\r\n\r\n"
            ).encode()
            response = (
                b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="LuCI"\r\nContent-Length: 0\r\n'
                b"Connection: close\r\n\r\n"
            )
            time = _connect(attack, time, attacker.ip, ADMIN_UI, 80, [(True, request), (False, response)])
            time += rng.uniform(0.5, 3)
