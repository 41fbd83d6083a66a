"""OpenSSH on the bastion host, as rsyslog writes it (RFC 3339 timestamps)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from random import Random

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import Day, logins
from tocsin.simulate.records import Record, iso_us
from tocsin.simulate.world import token

HOST = "bastion-1"
STREAM = "sshd"


def line(time: float, pid: int, message: str) -> Record:
    return Record(time, STREAM, f"{iso_us(time)} {HOST} sshd[{pid}]: {message}")


def password_guess(rng: Random, time: float, ip: str, user: str, known_user: bool) -> Iterator[Record]:
    """One guessed password on its own connection, as sshd logs it."""
    pid, port = rng.randint(20000, 65000), rng.randint(32768, 60999)
    if not known_user:
        yield line(time, pid, f"Invalid user {user} from {ip} port {port}")
        time += rng.uniform(0.05, 0.3)
    yield line(
        time,
        pid,
        "pam_unix(sshd:auth): check pass; user unknown"
        if not known_user
        else f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}",
    )
    time += rng.uniform(1.5, 2.5)
    invalid = "" if known_user else "invalid user "
    yield line(time, pid, f"Failed password for {invalid}{user} from {ip} port {port} ssh2")
    time += rng.uniform(0.1, 0.6)
    state = "authenticating" if known_user else "invalid"
    yield line(time, pid, f"Connection closed by {state} user {user} {ip} port {port} [preauth]")


def session(rng: Random, time: float, ip: str, user: str, uid: int, minutes: float) -> Iterator[Record]:
    """A key-based login and, ``minutes`` later, its logout."""
    pid, port = rng.randint(20000, 65000), rng.randint(32768, 60999)
    fingerprint = token(rng, 43)
    yield line(
        time, pid, f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{fingerprint}"
    )
    yield line(
        time + 0.02, pid, f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)"
    )
    end = time + minutes * 60
    yield line(end, pid, f"Received disconnect from {ip} port {port}:11: disconnected by user")
    yield line(end + 0.001, pid, f"Disconnected from user {user} {ip} port {port}")
    yield line(end + 0.003, pid, f"pam_unix(sshd:session): session closed for user {user}")


def ssh_background(context: Background, day: Day) -> Iterable[Activity]:
    """Engineers opening sessions on the bastion; monitoring probing the port."""
    rng = context.rng
    for login in logins(context.world, rng, day, context.trips):
        if not login.user.engineer:
            continue
        uid = 1000 + context.world.users.index(login.user)
        for _ in range(rng.choice((1, 1, 2, 3))):
            start = login.time + rng.uniform(60, 5 * 3600)
            minutes = rng.expovariate(1 / 25)
            yield start, partial(session, rng, start, login.ip, login.user.login, uid, minutes)
    for hour in range(0, 24, 4):
        start = day.start + hour * 3600 + rng.uniform(0, 600)
        yield start, partial(_scanner_probe, rng, start)


def _scanner_probe(rng: Random, time: float) -> list[Record]:
    """A pre-authentication disconnect (its random numbers drawn when the record is written)."""
    return [
        line(
            time,
            rng.randint(20000, 65000),
            f"Connection closed by 10.20.0.5 port {rng.randint(40000, 60000)} [preauth]",
        )
    ]
