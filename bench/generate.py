"""Deterministic generator of a large, realistic Linux auth log and an Okta System Log.

Run it on its own to look at the data::

    python bench/generate.py --lines 100000 --out /tmp/authbench
    # writes /tmp/authbench/auth.log (RFC 3164 syslog) and /tmp/authbench/okta.jsonl

``auth.log`` is what a small central syslog server receives from a few Linux
hosts over a few days, time-ordered, busier in the afternoon than at night:

* a few hundred users logging in over SSH (publickey or password, now and then
  after one mistyped password), their PAM/logind session lines and logouts;
* sudo commands (a few with a wrong password), cron sessions, kernel (UFW) and
  systemd noise, and the internet's background SSH scanning;
* attacks, interleaved: brute-force bursts from a handful of addresses (root
  and dictionary user names, with the PAM, ``maximum authentication attempts``
  and ``[preauth]`` lines sshd writes), password-spraying sweeps (one address,
  many accounts, one try each) and successful logins after repeated failures.

``okta.jsonl`` holds ``user.session.start`` events for the same users (about
a tenth of the syslog line count), with a spraying and a brute-force attack
and a success after failures. The same ``--seed`` always gives the same
bytes; the syslog file's mtime is set to its last line so that tocsin's year
inference dates it as written.
"""

from __future__ import annotations

import argparse
import calendar
import heapq
import json
import math
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LINES = 1_000_000
DEFAULT_START = "2026-03-02"  # a Monday
DEFAULT_DAYS = 4
#: Okta records per syslog line.
OKTA_SHARE = 0.10


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "alice bob carol dave erin frank grace heidi ivan judy mallory nina oscar peggy rupert sybil trent "
    "victor walter xena yusuf zoe amir bea chen dmitri elena farah gus hana igor jana kofi lena marco "
    "noor olga pablo quinn rosa sami tara umar vera wei yara"
)
_LAST = _words("smith jones brown lee garcia kim patel muller rossi novak silva khan nguyen cohen ito")
_SERVICE_ACCOUNTS = ("deploy", "ansible", "backup", "git", "jenkins")
#: User names that attackers and scanners try.
_DICTIONARY = _words(
    "admin test user oracle postgres ubuntu guest support ftpuser pi mysql www-data nagios hadoop git "
    "jenkins minecraft teamspeak ts3 steam tomcat elastic redis docker deploy backup dev administrator "
    "webmaster info sales ftp mail operator student demo ec2-user centos azureuser vagrant ansible odoo "
    "zabbix sonar nexus gitlab-runner user1 test1 test2 admin1 server"
)
_SUDO_COMMANDS = (
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/systemctl status postgresql",
    "/usr/bin/apt update",
    "/usr/bin/apt install -y htop",
    "/usr/bin/journalctl -u sshd --since today",
    "/usr/bin/docker ps",
    "/usr/bin/docker compose up -d",
    "/usr/bin/tail -f /var/log/nginx/error.log",
    "/usr/sbin/ufw status",
    "/usr/bin/cat /etc/shadow",
    "/bin/bash",
    "/usr/bin/vim /etc/nginx/sites-available/default",
    "/usr/bin/certbot renew",
    "/usr/bin/kubectl get pods -A",
)
_CRON_USERS = (("root", 0), ("root", 0), ("root", 0), ("www-data", 33), ("backup", 34), ("postgres", 114))
_SYSTEMD_UNITS = (
    ("Starting", "Daily apt download activities..."),
    ("Finished", "Daily apt download activities."),
    ("Starting", "Cleanup of Temporary Directories..."),
    ("Finished", "Cleanup of Temporary Directories."),
    ("Starting", "Message of the Day..."),
    ("Finished", "Message of the Day."),
    ("Starting", "Rotate log files..."),
    ("Finished", "Rotate log files."),
    ("Started", "Discard unused blocks on filesystems from /etc/fstab."),
    ("Started", "Refresh fwupd metadata and update motd."),
)
_USER_AGENTS = (
    (
        "CHROME",
        "Mac OS X",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    ),
    (
        "FIREFOX",
        "Windows 10",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    ),
    (
        "EDGE",
        "Windows 10",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66",
    ),
    (
        "SAFARI",
        "iOS",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    ),
)
_CITIES = (
    ("Berlin", "Germany", "Berlin", "10115", 52.52, 13.405),
    ("Lyon", "France", "Auvergne-Rhone-Alpes", "69001", 45.764, 4.8357),
    ("Austin", "United States", "Texas", "73301", 30.2672, -97.7431),
    ("Toronto", "Canada", "Ontario", "M5H", 43.6532, -79.3832),
)
#: First octets of the public addresses attackers and scanners come from.
_PUBLIC_PREFIXES = (45, 61, 91, 103, 112, 116, 118, 122, 141, 159, 170, 183, 185, 193, 195, 218, 221, 222)


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    full_name: str
    ips: tuple[str, ...]


def _public_ip(rng: random.Random) -> str:
    return f"{rng.choice(_PUBLIC_PREFIXES)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _daily_intensity(epoch: float) -> float:
    """Activity relative to the daily mean: 0.4 at 02:00, 1.6 at 14:00 (mean 1)."""
    hour = (epoch % 86400) / 3600
    return 1.0 + 0.6 * math.cos(2 * math.pi * (hour - 14) / 24)


def make_users(rng: random.Random, count: int = 300) -> list[User]:
    names: set[str] = set()
    users: list[User] = []
    while len(users) < count:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        name = f"{first[0]}{last}" if rng.random() < 0.5 else f"{first}.{last[0]}"
        if name in names:
            continue
        names.add(name)
        office = f"10.{rng.randrange(1, 4)}.{rng.randrange(256)}.{rng.randrange(2, 254)}"
        home = _public_ip(rng) if rng.random() < 0.4 else None
        users.append(
            User(
                name,
                1001 + len(users),
                f"{first.title()} {last.title()}",
                (office, home) if home else (office,),
            )
        )
    for index, service in enumerate(_SERVICE_ACCOUNTS):
        users.append(User(service, 900 + index, service, ("10.0.0.10",)))
    return users


class _Timeline:
    """Lines pushed at any future time come out in time order (a heap keyed on time, then arrival)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str]] = []
        self._sequence = 0

    def push(self, epoch: float, text: str) -> None:
        self._sequence += 1
        heapq.heappush(self._heap, (epoch, self._sequence, text))

    def due(self, until: float) -> Iterator[tuple[float, str]]:
        heap = self._heap
        while heap and heap[0][0] <= until:
            epoch, _, text = heapq.heappop(heap)
            yield epoch, text


class AuthLog:
    """The syslog side: ``lines()`` yields ``(epoch, line)`` in time order, exactly ``count`` of them."""

    def __init__(self, count: int, start: float, days: float, seed: int) -> None:
        self.count = count
        self.start = start
        self.span = days * 86400
        self.rng = random.Random(seed)
        self.users = make_users(random.Random(seed))
        self.hosts = [
            ("bastion", True),
            ("web-01", True),
            ("web-02", False),
            ("db-01", False),
            ("ci-01", True),
        ]
        self.attackers = [_public_ip(self.rng) for _ in range(6)]
        self.timeline = _Timeline()
        self.pid = 20000
        self.session = 1000
        self._stamp_second = -1
        self._stamp = ""
        # Attacks are scheduled up front, proportional to the line count.
        self.attacks: list[tuple[float, str]] = sorted(
            [(self._random_time(), "brute_force") for _ in range(max(1, count // 10_000))]
            + [(self._random_time(), "spray") for _ in range(max(1, count // 200_000))]
            + [(self._random_time(), "success_after_failures") for _ in range(max(1, count // 250_000))]
        )

    def _random_time(self) -> float:
        return self.start + self.rng.uniform(0.02, 0.95) * self.span

    # -- output ------------------------------------------------------------------

    def lines(self) -> Iterator[tuple[float, str]]:
        rng = self.rng
        clock = self.start
        seconds_per_line = self.span / self.count
        episodes = (self._ssh_session, self._sudo, self._cron, self._noise, self._scanner)
        weights = (22, 20, 25, 18, 15)
        next_attack = 0
        written = 0
        while written < self.count:
            while next_attack < len(self.attacks) and self.attacks[next_attack][0] <= clock:
                getattr(self, "_" + self.attacks[next_attack][1])(clock)
                next_attack += 1
            produced = rng.choices(episodes, weights)[0](clock)
            for epoch, text in self.timeline.due(clock):
                yield epoch, self._stamp_for(epoch) + text
                written += 1
                if written >= self.count:
                    return
            clock += rng.expovariate(1.0) * produced * seconds_per_line / _daily_intensity(clock)

    def _stamp_for(self, epoch: float) -> str:
        second = int(epoch)
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp = time.strftime("%b %e %H:%M:%S ", time.gmtime(second))
        return self._stamp

    def _emit(self, epoch: float, host: str, tag: str, message: str) -> None:
        self.timeline.push(epoch, f"{host} {tag}: {message}")

    def _next_pid(self) -> int:
        self.pid = 20000 + (self.pid - 19999) % 4_000_000
        return self.pid

    def _port(self) -> int:
        return self.rng.randrange(32768, 61000)

    # -- ordinary activity ---------------------------------------------------------

    def _ssh_session(self, now: float) -> int:
        rng = self.rng
        user = rng.choice(self.users)
        host, new_pam = rng.choice(self.hosts)
        ip = rng.choice(user.ips)
        pid, port = self._next_pid(), self._port()
        sshd = f"sshd[{pid}]"
        t = now
        lines = 0
        if rng.random() < 0.05:  # a mistyped password first
            self._emit(
                t,
                host,
                sshd,
                f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                f"tty=ssh ruser= rhost={ip}  user={user.name}",
            )
            self._emit(t + 2, host, sshd, f"Failed password for {user.name} from {ip} port {port} ssh2")
            t += rng.uniform(4, 15)
            lines += 2
        if rng.random() < 0.75:
            key = rng.choice(("RSA", "ED25519", "ECDSA"))
            fingerprint = "".join(
                rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", k=43)
            )
            self._emit(
                t,
                host,
                sshd,
                f"Accepted publickey for {user.name} from {ip} port {port} ssh2: {key} SHA256:{fingerprint}",
            )
        else:
            self._emit(t, host, sshd, f"Accepted password for {user.name} from {ip} port {port} ssh2")
        self.session += 1
        session = self.session
        uid = f"(uid={user.uid})" if new_pam else ""
        self._emit(
            t, host, sshd, f"pam_unix(sshd:session): session opened for user {user.name}{uid} by (uid=0)"
        )
        self._emit(t, host, "systemd-logind[612]", f"New session {session} of user {user.name}.")
        self._emit(t, host, "systemd[1]", f"Started Session {session} of User {user.name}.")
        end = t + rng.lognormvariate(6.5, 1.2)  # a median of about 11 minutes
        self._emit(end, host, sshd, f"Received disconnect from {ip} port {port}:11: disconnected by user")
        self._emit(end, host, sshd, f"Disconnected from user {user.name} {ip} port {port}")
        self._emit(end, host, sshd, f"pam_unix(sshd:session): session closed for user {user.name}")
        self._emit(
            end, host, "systemd-logind[612]", f"Session {session} logged out. Waiting for processes to exit."
        )
        self._emit(end + 0.2, host, "systemd-logind[612]", f"Removed session {session}.")
        return lines + 9

    def _sudo(self, now: float) -> int:
        rng = self.rng
        user = rng.choice(self.users)
        host, new_pam = rng.choice(self.hosts)
        command = rng.choice(_SUDO_COMMANDS)
        tty = f"pts/{rng.randrange(6)}"
        context = f"TTY={tty} ; PWD=/home/{user.name} ; USER=root ; COMMAND={command}"
        padding = " " * rng.choice((3, 4))
        lines = 0
        if rng.random() < 0.03:
            self._emit(
                now,
                host,
                "sudo",
                f"pam_unix(sudo:auth): authentication failure; logname={user.name} "
                f"uid={user.uid} euid=0 tty=/dev/{tty} ruser={user.name} rhost=  "
                f"user={user.name}",
            )
            now += rng.uniform(3, 8)
            if rng.random() < 0.3:
                self._emit(
                    now, host, "sudo", f"{padding}{user.name} : 1 incorrect password attempt ; {context}"
                )
                return 2
            lines = 1
        self._emit(now, host, "sudo", f"{padding}{user.name} : {context}")
        by = f"{user.name}(uid={user.uid})"
        target = "root(uid=0)" if new_pam else "root"
        self._emit(now, host, "sudo", f"pam_unix(sudo:session): session opened for user {target} by {by}")
        self._emit(
            now + rng.expovariate(1 / 20),
            host,
            "sudo",
            "pam_unix(sudo:session): session closed for user root",
        )
        return lines + 3

    def _cron(self, now: float) -> int:
        host, new_pam = self.rng.choice(self.hosts)
        user, uid_number = self.rng.choice(_CRON_USERS)
        tag = f"CRON[{self._next_pid()}]"
        uid = f"(uid={uid_number})" if new_pam else ""
        self._emit(now, host, tag, f"pam_unix(cron:session): session opened for user {user}{uid} by (uid=0)")
        self._emit(
            now + self.rng.expovariate(1 / 5),
            host,
            tag,
            f"pam_unix(cron:session): session closed for user {user}",
        )
        return 2

    def _noise(self, now: float) -> int:
        rng = self.rng
        host, _ = rng.choice(self.hosts)
        if rng.random() < 0.6:
            uptime = now - self.start + 86400 * 37
            source = _public_ip(rng)
            port = rng.choice((23, 445, 3389, 5900, 8080, 6379, 2375))
            mac = "52:54:00:12:34:56:fe:54:00:ab:cd:ef:08:00"
            self._emit(
                now,
                host,
                "kernel",
                f"[{uptime:.6f}] [UFW BLOCK] IN=eth0 OUT= MAC={mac} SRC={source} "
                f"DST=10.0.1.{rng.randrange(2, 30)} LEN=44 TOS=0x00 PREC=0x00 "
                f"TTL={rng.randrange(40, 250)} ID={rng.randrange(65536)} PROTO=TCP "
                f"SPT={self._port()} DPT={port} WINDOW=1024 RES=0x00 SYN URGP=0",
            )
        elif rng.random() < 0.8:
            verb, unit = rng.choice(_SYSTEMD_UNITS)
            self._emit(now, host, "systemd[1]", f"{verb} {unit}")
        else:
            self._emit(
                now,
                host,
                "dbus-daemon[702]",
                "[system] Successfully activated service 'org.freedesktop.timedate1'",
            )
        return 1

    def _scanner(self, now: float) -> int:
        """The internet's background noise against an exposed sshd: one address, one connection."""
        rng = self.rng
        host, _ = rng.choice(self.hosts)
        ip, port = _public_ip(rng), self._port()
        sshd = f"sshd[{self._next_pid()}]"
        roll = rng.random()
        if roll < 0.35:
            self._emit(now, host, sshd, f"Connection closed by {ip} port {port} [preauth]")
            return 1
        if roll < 0.5:
            self._emit(now, host, sshd, f"Did not receive identification string from {ip} port {port}")
            return 1
        if roll < 0.7:
            self._emit(now, host, sshd, f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]")
            self._emit(now, host, sshd, f"Disconnected from {ip} port {port} [preauth]")
            return 2
        if roll < 0.8:
            self._emit(now, host, sshd, f"banner exchange: Connection from {ip} port {port}: invalid format")
            return 1
        return self._invalid_user_attempt(now, host, rng.choice(_DICTIONARY), ip)

    # -- attacks -----------------------------------------------------------------

    def _invalid_user_attempt(self, now: float, host: str, name: str, ip: str) -> int:
        sshd, port = f"sshd[{self._next_pid()}]", self._port()
        self._emit(now, host, sshd, f"Invalid user {name} from {ip} port {port}")
        self._emit(now, host, sshd, "pam_unix(sshd:auth): check pass; user unknown")
        self._emit(
            now,
            host,
            sshd,
            f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}",
        )
        self._emit(now + 2, host, sshd, f"Failed password for invalid user {name} from {ip} port {port} ssh2")
        self._emit(
            now + 2, host, sshd, f"Connection closed by invalid user {name} {ip} port {port} [preauth]"
        )
        return 5

    def _password_failure(self, now: float, host: str, name: str, ip: str, sshd: str, port: int) -> None:
        self._emit(
            now,
            host,
            sshd,
            f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
            f"tty=ssh ruser= rhost={ip}  user={name}",
        )
        self._emit(now + 2, host, sshd, f"Failed password for {name} from {ip} port {port} ssh2")

    def _brute_force(self, now: float) -> int:
        """One address hammering root and dictionary names for a few minutes."""
        rng = self.rng
        host, _ = rng.choice(self.hosts)
        ip = rng.choice(self.attackers)
        lines = 0
        for _ in range(rng.randrange(20, 150)):
            if rng.random() < 0.4:
                lines += self._invalid_user_attempt(now, host, rng.choice(_DICTIONARY), ip)
                now += rng.uniform(1, 6)
                continue
            sshd, port = f"sshd[{self._next_pid()}]", self._port()
            tries = rng.choice((1, 1, 3, 6))
            for attempt in range(tries):
                self._password_failure(now + 3 * attempt, host, "root", ip, sshd, port)
            end = now + 3 * tries
            if tries == 6:
                self._emit(
                    end,
                    host,
                    sshd,
                    f"error: maximum authentication attempts exceeded for root from {ip} "
                    f"port {port} ssh2 [preauth]",
                )
                self._emit(
                    end,
                    host,
                    sshd,
                    f"Disconnecting authenticating user root {ip} port {port}: "
                    f"Too many authentication failures [preauth]",
                )
                self._emit(
                    end,
                    host,
                    sshd,
                    f"PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh "
                    f"ruser= rhost={ip}  user=root",
                )
                lines += 3
            else:
                self._emit(
                    end,
                    host,
                    sshd,
                    f"Connection closed by authenticating user root {ip} port {port} [preauth]",
                )
                lines += 1
            lines += 2 * tries
            now = end + rng.uniform(0.5, 4)
        return lines

    def _spray(self, now: float) -> int:
        """One address, many accounts (real and guessed), one password each, spread over the better part of an hour."""
        rng = self.rng
        host, _ = rng.choice(self.hosts)
        ip = _public_ip(rng)
        names = rng.sample(_DICTIONARY, 30) + [user.name for user in rng.sample(self.users, 30)]
        rng.shuffle(names)
        known = {user.name for user in self.users}
        lines = 0
        for name in names:
            if name in known:
                sshd, port = f"sshd[{self._next_pid()}]", self._port()
                self._password_failure(now, host, name, ip, sshd, port)
                self._emit(
                    now + 2,
                    host,
                    sshd,
                    f"Connection closed by authenticating user {name} {ip} port {port} [preauth]",
                )
                lines += 3
            else:
                lines += self._invalid_user_attempt(now, host, name, ip)
            now += rng.uniform(20, 60)
        return lines

    def _success_after_failures(self, now: float) -> int:
        """A real account guessed: several failures, then a password login from the same address."""
        rng = self.rng
        host, new_pam = rng.choice(self.hosts)
        user = rng.choice(self.users)
        ip = rng.choice(self.attackers)
        for _ in range(rng.randrange(6, 12)):
            self._password_failure(now, host, user.name, ip, f"sshd[{self._next_pid()}]", self._port())
            now += rng.uniform(5, 30)
        pid, port = self._next_pid(), self._port()
        uid = f"(uid={user.uid})" if new_pam else ""
        self._emit(now, host, f"sshd[{pid}]", f"Accepted password for {user.name} from {ip} port {port} ssh2")
        self._emit(
            now,
            host,
            f"sshd[{pid}]",
            f"pam_unix(sshd:session): session opened for user {user.name}{uid} by (uid=0)",
        )
        self._emit(
            now + 40,
            host,
            "sudo",
            f"   {user.name} : TTY=pts/3 ; PWD=/home/{user.name} ; USER=root ; "
            f"COMMAND=/usr/bin/cat /etc/shadow",
        )
        return 3


class OktaLog:
    """The Okta side: ``records()`` yields System Log ``user.session.start`` events in time order."""

    def __init__(self, count: int, start: float, days: float, seed: int) -> None:
        self.count = count
        self.start = start
        self.span = days * 86400
        self.rng = random.Random(seed + 1)
        self.users = make_users(random.Random(seed))[: -len(_SERVICE_ACCOUNTS)]
        self.timeline = _Timeline()
        self.attacks = sorted(
            [
                (start + self.rng.uniform(0.05, 0.9) * self.span, kind)
                for kind in ("spray", "brute_force", "success_after_failures")
            ]
        )

    def records(self) -> Iterator[str]:
        rng = self.rng
        clock = self.start
        seconds_per_record = self.span / self.count
        next_attack = 0
        written = 0
        while written < self.count:
            while next_attack < len(self.attacks) and self.attacks[next_attack][0] <= clock:
                getattr(self, "_" + self.attacks[next_attack][1])(clock)
                next_attack += 1
            user = rng.choice(self.users)
            ip = user.ips[-1] if rng.random() < 0.5 else f"198.51.100.{user.uid % 250 + 1}"
            success = rng.random() > 0.04
            self._login(clock, user, ip, success)
            produced = 1
            if not success:  # retried a few seconds later
                self._login(clock + rng.uniform(5, 20), user, ip, True)
                produced = 2
            for _, text in self.timeline.due(clock):
                yield text
                written += 1
                if written >= self.count:
                    return
            clock += rng.expovariate(1.0) * produced * seconds_per_record / _daily_intensity(clock)

    def _login(self, epoch: float, user: User | str, ip: str, success: bool, attacker: bool = False) -> None:
        rng = self.rng
        name = user.name if isinstance(user, User) else user
        browser, os_name, agent = rng.choice(_USER_AGENTS[:1] if attacker else _USER_AGENTS)
        # A user logs in from their home city (a random city per login would be impossible travel).
        home = _CITIES[user.uid % len(_CITIES)] if isinstance(user, User) and not attacker else None
        city, country, state, postal, lat, lon = home or rng.choice(_CITIES)
        record = {
            "uuid": f"{rng.getrandbits(128):032x}",
            "published": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
            + f".{int(epoch * 1000) % 1000:03d}Z",
            "eventType": "user.session.start",
            "legacyEventType": "core.user_auth.login_success" if success else "core.user_auth.login_failed",
            "displayMessage": "User login to Okta",
            "severity": "INFO" if success else "WARN",
            "version": "0",
            "actor": {
                "id": f"00u{(user.uid if isinstance(user, User) else 0):06d}abcdef",
                "type": "User",
                "alternateId": f"{name}@example.com",
                "displayName": user.full_name if isinstance(user, User) else "unknown",
            },
            "client": {
                "ipAddress": ip,
                "device": "Computer",
                "zone": "null",
                "userAgent": {"browser": browser, "os": os_name, "rawUserAgent": agent},
                "geographicalContext": {
                    "city": city,
                    "country": country,
                    "state": state,
                    "postalCode": postal,
                    "geolocation": {"lat": lat, "lon": lon},
                },
            },
            "outcome": {"result": "SUCCESS"}
            if success
            else {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
            "authenticationContext": {
                "authenticationStep": 0,
                "externalSessionId": f"idx{rng.getrandbits(64):016x}",
            },
            "transaction": {"type": "WEB", "id": f"{rng.getrandbits(64):016x}", "detail": {}},
        }
        self.timeline.push(epoch, json.dumps(record, separators=(",", ":")))

    def _spray(self, now: float) -> None:
        ip = _public_ip(self.rng)
        for user in self.rng.sample(self.users, 60):
            self._login(now, user, ip, False, attacker=True)
            now += self.rng.uniform(5, 40)

    def _brute_force(self, now: float) -> None:
        ip, user = _public_ip(self.rng), self.rng.choice(self.users)
        for _ in range(40):
            self._login(now, user, ip, False, attacker=True)
            now += self.rng.uniform(2, 10)

    def _success_after_failures(self, now: float) -> None:
        ip, user = _public_ip(self.rng), self.rng.choice(self.users)
        for _ in range(8):
            self._login(now, user, ip, False, attacker=True)
            now += self.rng.uniform(5, 30)
        self._login(now, user, ip, True, attacker=True)


def generate(
    out: Path,
    lines: int,
    seed: int = 42,
    days: float = DEFAULT_DAYS,
    start: str = DEFAULT_START,
    okta_share: float = OKTA_SHARE,
    syslog_name: str = "auth.log",
    okta_name: str | None = "okta.jsonl",
) -> dict[str, Path]:
    """Write the syslog file (``lines`` lines) and, unless ``okta_name`` is None, the Okta file."""
    out.mkdir(parents=True, exist_ok=True)
    begin = float(calendar.timegm(time.strptime(start, "%Y-%m-%d")))
    written: dict[str, Path] = {}
    syslog_path = out / syslog_name
    last = begin
    with open(syslog_path, "w", encoding="utf-8") as handle:
        write = handle.write
        for epoch, text in AuthLog(lines, begin, days, seed).lines():
            write(text + "\n")
            last = epoch
    os.utime(syslog_path, (last, last))
    written["syslog"] = syslog_path
    if okta_name:
        okta_path = out / okta_name
        with open(okta_path, "w", encoding="utf-8") as handle:
            for text in OktaLog(max(1, int(lines * okta_share)), begin, days, seed).records():
                handle.write(text + "\n")
        written["okta"] = okta_path
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lines", type=int, default=DEFAULT_LINES, help="syslog lines (default: %(default)s)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--days", type=float, default=DEFAULT_DAYS, help="time span (default: %(default)s)")
    parser.add_argument("--start", default=DEFAULT_START, help="first day, YYYY-MM-DD (default: %(default)s)")
    args = parser.parse_args()
    started = time.perf_counter()
    for kind, path in generate(args.out, args.lines, args.seed, args.days, args.start).items():
        print(f"{kind}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    print(f"generated in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
