"""Finding 2: log content, rule file names and archive member names never become Rich markup or
terminal control sequences in the table, the summary or the "rejected rule" lines."""

from __future__ import annotations

import zipfile

from tests.hostile.conftest import Tocsin

HOSTILE_USER = "[/bold]x\x1b[2J[link=http://evil.example]y\x1b]8;;http://evil.example\x1b\\z"


def _sshd_failures(user: str) -> str:
    return "".join(
        f"Dec 10 10:{i:02d}:01 LabSZ sshd[{100 + i}]: Failed password for invalid user {user} "
        f"from 203.0.113.5 port {40000 + i} ssh2\n"
        for i in range(12)
    )


def test_markup_and_escape_sequences_are_shown_not_interpreted(tocsin: Tocsin) -> None:
    log = tocsin.cwd / "auth.log"
    log.write_text(_sshd_failures(HOSTILE_USER))
    rules = tocsin.cwd / "rules"
    rules.mkdir()
    (rules / "[link=https:evil.example]bad\x1b[31m.yml").write_text("title: [/red]\ndetection: {}\n")
    with zipfile.ZipFile(tocsin.cwd / "logs.zip", "w") as archive:
        archive.writestr("[/bold]\x1b[2Jmember.log", b"\x00\x01binary")
    tocsin.env.update(FORCE_COLOR="1", COLUMNS="400")  # styles on, as on a terminal

    result = tocsin.run("scan", "auth.log", "logs.zip", "--rules", "rules", "--format", "table")
    output = result.stdout + result.stderr
    assert "Brute Force" in result.stdout
    assert "[/bold]x" in result.stdout and "\\x1b[2J" in result.stdout  # shown as written
    assert "\x1b[2J" not in output and "\x1b]8;" not in output  # never sent: no clear screen, no link
    assert "rejected" in result.stderr and "[link=https:evil.example]bad\\x1b[31m.yml" in result.stderr
    assert "[/bold]\\x1b[2Jmember.log" in result.stderr  # a zip member name, in the "not read" line
    assert "Traceback" not in output and "MarkupError" not in output
