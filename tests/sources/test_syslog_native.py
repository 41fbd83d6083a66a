"""The native syslog reader (``native/src/syslog.rs``) against ``SyslogParser.parse``, its oracle.

The reader splits headers and classifies sshd's, sudo's and PAM's messages itself, from
``linux_auth``'s regular expressions; every line it takes must give the event ``parse`` gives
(``assert_same`` compares fields, documents, identities and counts). Lines are generated around the
shapes those programs write, with hostile user names, addresses, ports and headers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shared
from tests.engine.test_batches_match_events import EDGE_LINES, assert_same
from tocsin.sources import ParseOptions
from tocsin.sources.native import NATIVE
from tocsin.sources.syslog_columns import _reader

pytestmark = pytest.mark.skipif(
    NATIVE is None, reason="the native reader is not built (pip install ./native, needs cargo)"
)

TOKEN = st.text(st.sampled_from("abz09._-$:()[]\t é"), max_size=10)
USER = st.one_of(st.sampled_from(["root", "alice", "invalid user bob", "a b", ""]), TOKEN)
ADDRESS = st.one_of(
    st.sampled_from(["10.0.0.1", "::1", "fe80::1%eth0", "2001:db8::7", "host.example", "1.2.3", "a", ""]),
    st.text(st.sampled_from("0123456789abcdefABCDEF:.g"), min_size=1, max_size=12),
)
PORT = st.one_of(
    st.sampled_from(["22", "0022", "99999999999999999999999", ""]), st.integers(0, 70000).map(str)
)
MESSAGES = [
    "Failed password for {invalid}{user} from {ip} port {port} ssh2",
    "Failed publickey for {user} from {ip} port {port} ssh2: RSA SHA256:{token}",
    "Accepted {token} for {user} from {ip} port {port}{ssh2}",
    "Invalid user {user} from {ip}{port_clause}{space}",
    "error: maximum authentication attempts exceeded for {invalid}{user} from {ip} port {port} ssh2 [preauth]",
    "Connection closed by {state}user {user} {ip} port {port} [preauth]",
    "Disconnected from {state}user {user} {ip}{port_clause}",
    "Connection closed by {ip}{port_clause}",
    "Received disconnect from {ip}{port_clause}:11: Bye Bye [preauth]",
    "Did not receive identification string from {ip}{port_clause}",
    "reverse mapping checking getaddrinfo for {token} [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!",
    "{pam}authentication failure; logname={token} uid={port} euid=0 tty={token} ruser={user} rhost={ip}{space}user={user}",
    "{pam}authentication failure; logname= uid=0 euid=0 tty=ssh ruser={token} rhost={ip}",
    "{pam}session {opened} for user {user}(uid={port}) by {token}(uid=0)",
    "{pam}session {opened} for user {user}{space}",
    "{space}{user} : {failures}TTY={token} ; PWD={token} ; USER={user} ;{env} COMMAND={token}",
    "{space}{user} : {failures}{token} ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
    "{token} {user} {ip}",
]
PROGRAMS = ["sshd", "sudo", "CRON", "cron", "su", "login", "vsftpd", "klogind", "systemd-logind", "sshd(pam_unix)",
            "sudo(x)", "(x)", "x(", "foo"]  # fmt: skip


@st.composite
def messages(draw: st.DrawFn) -> str:
    template = draw(st.sampled_from(MESSAGES))
    return template.format(
        user=draw(USER),
        ip=draw(ADDRESS),
        port=draw(PORT),
        token=draw(TOKEN),
        invalid=draw(st.sampled_from(["", "invalid user "])),
        state=draw(st.sampled_from(["", "invalid ", "authenticating "])),
        ssh2=draw(st.sampled_from(["", " ssh2", " ssh2: ED25519 SHA256:x", " ssh2:"])),
        port_clause=draw(st.sampled_from(["", " port 22", " port ", " port 0x1"])),
        space=draw(st.sampled_from(["", " ", "  ", "\t"])),
        pam=draw(st.sampled_from(["", "pam_unix(sshd:auth): ", "pam_unix(sudo:session): ", "pam_unix(x"])),
        opened=draw(st.sampled_from(["opened", "closed", "started"])),
        failures=draw(
            st.sampled_from(["", "3 incorrect password attempts ; ", "1 incorrect password attempt ; "])
        ),
        env=draw(st.sampled_from(["", " GROUP=wheel ;", " ENV=A=b ;", " TSID=1 ;"])),
    )


def mostly(usual: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """One of the usual values four times in five, else an odd one."""
    return st.one_of(*[st.sampled_from(usual)] * 4, st.sampled_from(odd))


@st.composite
def lines(draw: st.DrawFn) -> str:
    pri = draw(mostly(["", "<38>", "<86>"], ["<0>", "<191>", "<192>", "<999>", "<1234>", "<>"]))
    stamp = draw(mostly(["Jan  5", "Feb 28", "Dec 31", "Mar 5"], ["Feb 29", "Apr 05", "Jan 32", "jan  5"]))
    clock = draw(mostly(["10:00:00", "23:59:59"], ["99:99:99", "1:00:00"]))
    fraction = draw(mostly([""], [".123", ".", ".1x"]))
    host = draw(mostly(["web-01", "h"], ["a:b", "[x]", "h\tx"]))
    program = draw(st.sampled_from(PROGRAMS))
    pid = draw(mostly(["", "[123]"], ["[0042]", "[]", "[1a]", "["]))
    colon = draw(mostly([": "], [":", ":  ", " ", ":\t"]))
    message = draw(mostly_messages)
    ending = draw(mostly([""], ["\r", "\r\r", " "]))
    text = f"{pri}{stamp} {clock}{fraction} {host} {program}{pid}{colon}{message}"
    return text.replace("\n", " ").replace("\r", " ") + ending


mostly_messages = st.one_of(messages(), messages(), messages(), st.text(max_size=30))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(lines(), lines(), lines(), st.sampled_from(["", " \t", "\r"])), min_size=1, max_size=25
    )
)
def test_native_batches_are_the_events_of_parse(generated: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "auth.log"
        path.write_text("\n".join(generated) + "\n", encoding="utf-8")
        assert_same(path)


def test_the_reader_takes_the_usual_lines() -> None:
    """The lines of the shared sample the reader can take (printable ASCII, an RFC 3164 header and a
    program tag; no "message repeated"; sshd, sudo, PAM-only programs) it does take: the property
    test above compares what it took."""
    sample = shared("authlogs/OpenSSH_2k.log").read_text(encoding="utf-8").splitlines()
    expected = [line for line in sample if "message repeated" not in line]
    assert sum(_reader().read(sample, 1 << 20)[0]) == len(expected) > 1900
    other = [line for line in EDGE_LINES if "message repeated" not in line and line.isascii()]
    assert sum(_reader().read(other, 1 << 20)[0]) >= 8


def test_blank_long_and_crlf_lines_are_counted_as_parse_counts_them(tmp_path: Path) -> None:
    """Blank lines are no records, lines past the bound are skipped and counted, a line's CR is no
    part of it: the reader's states give the same counts and events as ``parse``."""
    line = "Jan  5 10:00:00 web-01 sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2"
    lines = [line, "", "  \t", line + "\r", line + " " + "x" * 200, line + "\r\r", "\x0b", line] * 40
    path = tmp_path / "auth.log"
    path.write_text("\n".join(lines), encoding="utf-8")  # the last line without its newline
    options = ParseOptions(max_record_bytes=150)
    assert_same(path, options)
    states = _reader().read([line, "", line + "\r", line + "x" * 200], 150)[0]
    assert list(states) == [1, 2, 1, 3]


def test_blocks_of_a_large_input_are_read_as_parse_reads_them(tmp_path: Path) -> None:
    """An input of several blocks, batched across their ends, with over-long lines (some dropped
    where a block ends inside them, which leaves a gap in the numbering) and a block that is not
    UTF-8 (read line by line): the same events, identities and counts as ``parse``."""
    line = b"Jan  5 10:00:00 web-01 sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2"
    data, boundary = bytearray(), 1 << 20  # the reader's blocks: inputs._BLOCK
    while len(data) < 3.5 * boundary:
        if boundary - 400 <= len(data) <= boundary - 200:  # a long line the block ends inside
            data += line + b" " + b"x" * 600 + b"\n"
            boundary += 1 << 20
        elif len(data) % 7 == 0:
            data += line + b" " + b"y" * 300 + b"\n"  # over the bound, within a block
        else:
            data += line + b" %d\n" % len(data)
    lines = bytes(data).split(b"\n")
    lines[len(lines) // 2] = b"Jan  5 10:00:00 web-01 sshd[1]: Invalid user caf\xe9 from 10.0.0.1"
    path = tmp_path / "auth.log"
    path.write_bytes(b"\n".join(lines))
    assert path.stat().st_size > 3 << 20
    assert_same(path, ParseOptions(max_record_bytes=150))
