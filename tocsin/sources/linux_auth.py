"""What Linux authentication programs say, as ECS fields.

Each classifier takes the message part of a syslog line and returns the ECS
fields it implies (empty when the message is not one it knows). Conventions:

* ``event.type: start`` marks the record of an authentication *attempt* and
  its outcome (sshd's ``Failed password``/``Accepted publickey``, a PAM
  failure logged by a program that logs nothing else); ``event.type: info``
  marks related notices (``Invalid user``, PAM echoing a result sshd already
  logged). Counting attempts means counting ``start`` events, so one SSH
  attempt is never counted twice.
* Field names follow ECS, plus Filebeat's ``system.auth.*`` where ECS has none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_IP = r"(?P<ip>[0-9a-fA-F:.]*[0-9a-fA-F])"

_SSHD = [
    (
        ("Failed", "Accepted"),
        re.compile(
            r"^(?P<event>Failed|Accepted) (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>.*?) from "
            + _IP
            + r" port (?P<port>\d+)(?: ssh2)?(?:: (?P<signature>.+))?$"
        ),
        "ssh-login",
    ),
    (
        ("Invalid",),
        re.compile(r"^Invalid user (?P<user>.*?) from " + _IP + r"(?: port (?P<port>\d+))?\s*$"),
        "ssh-invalid-user",
    ),
    (
        ("error",),
        re.compile(
            r"^error: maximum authentication attempts exceeded for (?P<invalid>invalid user )?(?P<user>.*?) from "
            + _IP
            + r" port (?P<port>\d+)"
        ),
        "ssh-max-attempts-exceeded",
    ),
    (
        ("Connection", "Disconnected"),
        re.compile(
            r"^(?:Connection closed|Disconnected) (?:by|from) (?:(?:invalid |authenticating )?user (?P<user>\S+) )?"
            + _IP
            + r"(?: port (?P<port>\d+))?"
        ),
        "ssh-disconnect",
    ),
    (
        ("Received",),
        re.compile(r"^Received disconnect from " + _IP + r"(?: port (?P<port>\d+))?"),
        "ssh-disconnect",
    ),
    (("Did",), re.compile(r"^Did not receive identification string from " + _IP), "ssh-no-identification"),
    (
        ("reverse",),
        re.compile(r"^reverse mapping checking getaddrinfo for \S+ \[" + _IP + r"\] failed"),
        "ssh-reverse-mapping-failed",
    ),
]

_PAM_FAILURE = re.compile(
    r"^(?:pam_unix\((?P<service>[^:)]+):auth\): )?authentication failure; logname=(?P<logname>\S*) uid=(?P<uid>\d*) "
    r"euid=\d* tty=(?P<tty>\S*) ruser=(?P<ruser>\S*) rhost=(?P<rhost>\S*)(?:\s+user=(?P<user>\S+))?"
)
_PAM_SESSION = re.compile(
    r"^(?:pam_unix\((?P<service>[^:)]+):session\): )?session (?P<state>opened|closed) for user (?P<user>\S+?)"
    r"(?:\(uid=\d+\))?(?: by (?P<by>\S*?)(?:\(uid=(?P<uid>\d+)\))?)?\s*$"
)
_SUDO_COMMAND = re.compile(
    r"^\s*(?P<user>\S+) : (?:(?P<failures>\d+) incorrect password attempts? ; )?"
    r"(?:(?P<error>[^;]+?) ; )?TTY=(?P<tty>\S+) ; PWD=(?P<pwd>.*?) ; USER=(?P<target>\S+) ;"
    r"(?: GROUP=\S+ ;)?(?: TSID=\S+ ;)?(?: ENV=.*? ;)? COMMAND=(?P<command>.*)$"
)
_SU = re.compile(
    r"^(?P<failed>FAILED SU|FAILED su|\+|-|Successful su|)\s*\(?to (?P<target>\S+?)\)? (?P<user>\S+) on (?P<tty>\S+)"
)
_SU_SHADOW = re.compile(r"^(?P<result>FAILED|Successful) su for (?P<target>\S+) by (?P<user>\S+)")
_LOCAL_TTY = re.compile(r"^(?:/dev/)?(?:tty|pts/|console|ttyS)\S*$")
_LOGIN_FAILED = re.compile(
    r"^FAILED LOGIN (?:\(\d+\) |\d+ )?(?:on '?(?P<tty1>[^' ]+)'? )?FROM '?(?P<from>[^' ]*)'? FOR '?(?P<user>[^', ]+)'?"
)
_LOGIN_ROOT = re.compile(r"^ROOT LOGIN ON (?P<tty>\S+)(?: FROM (?P<from>\S+))?")
_VSFTPD = re.compile(r'^\[(?P<user>[^\]]*)\] (?P<result>OK|FAIL) LOGIN: Client "(?:::ffff:)?(?P<ip>[^"]+)"')
_FTPD_CONNECTION = re.compile(r"^connection from (?P<ip>[0-9.]+) \((?P<host>[^)]*)\)")
_FTPD_LOGIN = re.compile(
    r"^(?P<anon>ANONYMOUS )?FTP LOGIN (?P<result>FAILED )?FROM (?P<host>\S+?)(?: \[(?P<ip>[0-9.]+)\])?,?\s+(?P<user>\S+)"
)

Fields = dict[str, Any]
#: A program's classifier: (message, logged through PAM) -> ECS fields.
Classifier = Callable[[str, bool], Fields]


_DOTTED = {"user__name": "user.name", "user__effective__name": "user.effective.name"}
_ADDRESS = re.compile(r"[0-9.]+|[0-9a-fA-F]*:[0-9a-fA-F:.]+")


def _auth(action: str, outcome: str, kind: str = "start", **extra: Any) -> Fields:
    """An authentication record; extra ECS fields are keyword arguments with ``__`` for dots."""
    fields: Fields = {
        "event.category": "authentication",
        "event.type": kind,
        "event.action": action,
        "event.outcome": outcome,
    }
    for key, value in extra.items():
        if value:
            fields[_DOTTED.get(key) or key.replace("__", ".")] = value
    return fields


def _source(value: str | None) -> Fields:
    """ECS source fields for an address that may be an IP or a host name."""
    if not value:
        return {}
    if _ADDRESS.fullmatch(value):
        return {"source.ip": value, "source.address": value}
    return {"source.domain": value, "source.address": value}


def _pam_failure(match: re.Match[str], program: str, echoes_daemon: bool) -> Fields:
    user = match["user"] or match["ruser"] or None
    fields = _auth(
        "pam-authentication-failure",
        "failure",
        kind="info" if echoes_daemon else "start",
        user__name=user,
        system__auth__pam__service=match["service"] or program,
    )
    fields.update(_source(match["rhost"]))
    return fields


def _pam_session(match: re.Match[str]) -> Fields:
    return {
        "event.category": "session",
        "event.type": "start" if match["state"] == "opened" else "end",
        "event.action": f"session-{match['state']}",
        "event.outcome": "success",
        "user.name": match["user"],
    }


#: sshd patterns by the first word of the messages they match: each line tries only those.
_SSHD_BY_WORD: dict[str, list[tuple[re.Pattern[str], str]]] = {}
for _words, _pattern, _action in _SSHD:
    for _word in _words:
        _SSHD_BY_WORD.setdefault(_word, []).append((_pattern, _action))


def classify_sshd(message: str, pam_style: bool) -> Fields:
    """sshd's own messages; PAM lines logged through sshd echo sshd's own result."""
    for pattern, action in _SSHD_BY_WORD.get(message.split(" ", 1)[0].rstrip(":"), ()):
        match = pattern.match(message)
        if not match:
            continue
        groups = match.groupdict()
        fields: Fields = {"event.action": action}
        if action == "ssh-login":
            success = groups["event"] == "Accepted"
            fields = _auth(
                "ssh-login",
                "success" if success else "failure",
                user__name=groups["user"],
                system__auth__ssh__event=groups["event"],
                system__auth__ssh__method=groups["method"],
                system__auth__ssh__signature=groups["signature"],
            )
            if groups["invalid"]:
                fields["user.invalid"] = True
        elif action == "ssh-invalid-user":
            fields = _auth("ssh-invalid-user", "failure", kind="info", user__name=groups["user"])
            fields["user.invalid"] = True
        elif action == "ssh-max-attempts-exceeded":
            fields = _auth(action, "failure", kind="info", user__name=groups["user"])
        else:
            fields["event.category"] = "network"
            if groups.get("user"):
                fields["user.name"] = groups["user"]
        fields.update(_source(groups["ip"]))
        if groups.get("port"):
            fields["source.port"] = int(groups["port"])
        return fields
    return _pam(message, "sshd", echoes_daemon=not pam_style)


def _pam(message: str, program: str, echoes_daemon: bool = False) -> Fields:
    match = _PAM_FAILURE.match(message)
    if match:
        return _pam_failure(match, program, echoes_daemon)
    match = _PAM_SESSION.match(message)
    if match:
        return _pam_session(match)
    return {}


def classify_sudo(message: str, pam_style: bool) -> Fields:
    match = _SUDO_COMMAND.match(message)
    if match:
        failures = match["failures"]
        fields: Fields = {
            "event.category": "process",
            "event.type": "start",
            "event.action": "sudo-command",
            "event.outcome": "failure" if (failures or match["error"]) else "success",
            "user.name": match["user"],
            "user.effective.name": match["target"],
            "process.command_line": match["command"],
            "process.working_directory": match["pwd"],
            "process.tty.name": match["tty"],
        }
        if failures:
            fields.update(_auth("sudo-password-failure", "failure", user__name=match["user"]))
            fields["system.auth.sudo.failures"] = int(failures)
        return fields
    return _pam(message, "sudo", echoes_daemon=True)


def classify_su(message: str, pam_style: bool) -> Fields:
    """util-linux ``(to root) alice on pts/0`` and shadow-utils ``FAILED su for root by alice``."""
    match = _SU_SHADOW.match(message)
    if match:
        outcome = "failure" if match["result"] == "FAILED" else "success"
        return _auth("su", outcome, user__name=match["user"], user__effective__name=match["target"])
    match = _SU.match(message)
    if match:
        failed = match["failed"].upper().startswith("FAILED") or match["failed"] == "-"
        return _auth(
            "su",
            "failure" if failed else "success",
            user__name=match["user"],
            user__effective__name=match["target"],
            process__tty__name=match["tty"],
        )
    return _pam(message, "su")


def classify_login(message: str, pam_style: bool) -> Fields:
    """login(1); without a remote host it writes the tty after FROM, which is no source."""
    match = _LOGIN_FAILED.match(message)
    if match:
        fields = _auth("login", "failure", user__name=match["user"])
        origin = match["from"]
        if origin and _LOCAL_TTY.match(origin):
            fields["process.tty.name"] = origin.removeprefix("/dev/")
        else:
            fields.update(_source(origin))
        return fields
    match = _LOGIN_ROOT.match(message)
    if match:
        fields = _auth("login", "success", user__name="root", process__tty__name=match["tty"])
        fields.update(_source(match["from"]))
        return fields
    return _pam(message, "login")


def classify_vsftpd(message: str, pam_style: bool) -> Fields:
    match = _VSFTPD.match(message)
    if match:
        fields = _auth(
            "ftp-login", "success" if match["result"] == "OK" else "failure", user__name=match["user"]
        )
        fields.update(_source(match["ip"]))
        return fields
    return _pam(message, "vsftpd", echoes_daemon=True)


def classify_ftpd(message: str, pam_style: bool) -> Fields:
    match = _FTPD_CONNECTION.match(message)
    if match:
        fields: Fields = {
            "event.category": "network",
            "event.type": "connection",
            "event.action": "ftp-connection",
        }
        fields.update(_source(match["ip"]))
        if match["host"]:
            fields["source.domain"] = match["host"]
        return fields
    match = _FTPD_LOGIN.match(message)
    if match:
        user = "anonymous" if match["anon"] else match["user"]
        fields = _auth("ftp-login", "failure" if match["result"] else "success", user__name=user)
        fields.update(_source(match["ip"] or match["host"]))
        return fields
    return _pam(message, "ftpd")


def classify_klogind(message: str, pam_style: bool) -> Fields:
    if message.startswith("Kerberos authentication failed"):
        return _auth("kerberos-login", "failure")
    if message.startswith("Authentication failed from"):
        fields = _auth("kerberos-login", "failure")
        fields.update(_source(message.split()[3].rstrip(":")))
        return fields
    return {}


@dataclass(frozen=True)
class PamOnly:
    """Any other program: only PAM's generic messages are understood, for ``program``."""

    program: str

    def __call__(self, message: str, pam_style: bool) -> Fields:
        return _pam(message, self.program)


#: Program name -> (classifier, Sigma services the program's lines belong to).
PROGRAMS: dict[str, tuple[Classifier, tuple[str, ...]]] = {
    "sshd": (classify_sshd, ("sshd", "auth")),
    "sudo": (classify_sudo, ("sudo", "auth")),
    "su": (classify_su, ("auth",)),
    "login": (classify_login, ("auth",)),
    "vsftpd": (classify_vsftpd, ("vsftpd", "auth")),
    "ftpd": (classify_ftpd, ("auth",)),
    "proftpd": (classify_ftpd, ("auth",)),
    "klogind": (classify_klogind, ("auth",)),
    "cron": (PamOnly("cron"), ("cron",)),
    "CRON": (PamOnly("cron"), ("cron",)),
}
