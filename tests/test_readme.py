"""The README's examples run: every shell line of its code blocks, on the shared samples.

Each command is run as written, with the file names it uses prepared in a scratch folder
from ../shared/data (``auth.log`` is the OpenSSH sample, ``incident.pcap`` an FTP brute force…).
A usage error (exit 2), a traceback or an internal error fails the test: the README and the
command line have drifted apart. Lines that need a cluster, root, the network or that run until
stopped are skipped, each with its reason, and the test says which.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SHARED, shared
from tests.response.conftest import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: The README's example id (an alert of the OpenSSH sample) and its placeholder for any alert id.
EXAMPLE_ALERT = "0724934c41"

#: Why some lines are not run here; the first matching pattern wins.
SKIPS = [
    (
        r"\bapt-get\b|\bpip install\b|python3 -m venv",
        "installs packages (network, root): CI runs it as .ci/run",
    ),
    (r"TOCSIN_ES_|\btocsin es\b|--to-es", "needs an Elasticsearch cluster (TOCSIN_ES_URL): tests/elastic"),
    (r"\btocsin watch (?!--status)", "runs until stopped: tests/watch run it as a process"),
    (r"\.evtx\b", "no EVTX sample in ../shared/data"),
    (r"^python bench/", "a benchmark of minutes, not a test"),
]
MY_RULE = """title: Archive Of A Database Directory Via Sudo
id: 1c8e0f5a-0000-4000-8000-00000000abcd
logsource: {product: linux, service: sudo}
detection:
    selection:
        process.command_line|contains|all: [tar, postgresql]
    condition: selection
level: medium
"""
#: Lines whose documented failure on the samples is the expected outcome: exit code and message.
EXPECTED_ERRORS = {
    # INC-1 of the samples is a credential attack: its playbook has no lock-account step.
    "tocsin incidents approve INC-1 lock-account": (2, "has no step 'lock-account'"),
    'tocsin incidents skip INC-1 lock-account --reason "already disabled in the IdP"': (
        2,
        "has no step 'lock-account'",
    ),
    "tocsin watch --status --state /var/lib/tocsin": (
        2,
        "no status in state",
    ),  # no watch ran in the scratch folder
}
#: README names and what stands for them in the scratch folder.
ALIASES = {"/var/log/auth.log": "auth.log", "/var/log/okta/": "logs/", "/var/lib/tocsin": "state"}


@dataclass
class Command:
    line: str  # as the README writes it (comment removed)
    argv: list[str]
    stdout_to: str | None = None


def shell_lines(text: str) -> list[str]:
    """Command lines of the README's untagged code blocks that hold shell commands."""
    blocks: list[str] = []
    language, body = None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if language is None:
                language, body = line[3:].strip(), []
            else:
                if not language:
                    blocks.append("\n".join(body))
                language = None
        elif language is not None:
            body.append(line)
    lines: list[str] = []
    for block in blocks:
        first = next((line for line in block.splitlines() if line.strip()), "")
        if not re.match(r"(tocsin|python3?|apt-get|export) ", first):
            continue  # sample output or a diagram
        lines += [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    return lines


def expand(line: str) -> list[str]:
    """``tocsin incidents list / show INC-1 / close INC-1`` is three commands."""
    code = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
    if " / " not in code:
        return [code]
    first, *rest = code.split(" / ")
    prefix = " ".join(first.split()[:2])
    return [first, *(f"{prefix} {alternative}" for alternative in rest)]


def parse(code: str, scratch: Path, ids: dict[str, str]) -> list[Command]:
    commands = []
    for part in code.split(" && "):
        words = shlex.split(re.sub(r"\s\[[^\]]*\]", "", part))  # optional syntax: [PATH…] [--format junit]
        stdout_to = None
        if ">" in words:
            at = words.index(">")
            stdout_to, words = words[at + 1].replace("~", str(scratch)), words[:at]
        argv = []
        for word in words:
            word = ALIASES.get(word, word)
            word = ids.get(word, word)
            if word.startswith("../shared/data/"):
                word = str(SHARED / word.removeprefix("../shared/data/"))
            argv.append(word)
        commands.append(Command(part, argv, stdout_to))
    return commands


def _prepare(scratch: Path) -> None:
    """The files the README's examples name, made of the shared samples."""
    (scratch / "tocsin").symlink_to(ROOT / "tocsin")
    shutil.copy(shared("authlogs/OpenSSH_2k.log"), scratch / "auth.log")
    shutil.copy(shared("cloud/okta.jsonl"), scratch / "okta.jsonl")
    for folder in ("logs", "incident"):
        (scratch / folder).mkdir()
        shutil.copy(scratch / "auth.log", scratch / folder / "auth.log")
        shutil.copy(scratch / "okta.jsonl", scratch / folder / "okta.jsonl")
    capture = shared("pcaps/ftp/bruteforce.pcap")
    for name in ("incident.pcapng", "incident.pcap", "capture.pcap"):
        shutil.copy(capture, scratch / name)
    (scratch / "my-rules").mkdir()
    (scratch / "my-rules" / "sudo_tar.yml").write_text(MY_RULE)
    (scratch / "sigma").mkdir()
    (scratch / "sigma" / "rules").symlink_to(shared("sigma/sigmahq"))
    (scratch / "signature-base").symlink_to(shared("yara/signature-base"))
    (scratch / "my.yar").write_text('rule tocsin_docs_ftp_user { strings: $u = "USER " condition: $u }\n')
    (scratch / ".local" / "share" / "bash-completion" / "completions").mkdir(parents=True)


def _run(command: Command, scratch: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = (
        [sys.executable, "-m", "tocsin", *command.argv[1:]] if command.argv[0] == "tocsin" else command.argv
    )
    if argv[0] == "man":
        env = {**env, "MANPAGER": "cat", "MANWIDTH": "100"}
        argv = ["man", "-l", *argv[1:]]
    result = subprocess.run(argv, cwd=scratch, env=env, capture_output=True, text=True, timeout=600)
    if command.stdout_to:
        Path(command.stdout_to).write_text(result.stdout)
    return result


@pytest.mark.slow
def test_every_readme_example_runs(tmp_path):
    scratch = tmp_path / "docs"
    scratch.mkdir()
    _prepare(scratch)
    smtp = SmtpServer(free_port())
    smtp.start()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOCSIN_")}
    env.update(
        HOME=str(scratch), COLUMNS="200", TOCSIN_SMTP_HOST="127.0.0.1", TOCSIN_SMTP_PORT=str(smtp.port),
        TOCSIN_SMTP_SECURITY="none", TOCSIN_FIREWALL_BACKEND="file",
        TOCSIN_FIREWALL_BLOCKLIST_FILE=str(scratch / "blocklist.txt"),
    )  # fmt: skip
    # What the examples look things up in: a case database and an alerts file of the samples.
    for argv in (
        ["scan", "incident/", "--db", "case.db", "-o", os.devnull],
        ["scan", "auth.log", "-o", "alerts.jsonl"],
    ):
        subprocess.run(
            [sys.executable, "-m", "tocsin", *argv], cwd=scratch, env=env, check=True, capture_output=True
        )
    alerts = [json.loads(line) for line in (scratch / "alerts.jsonl").read_text().splitlines()]
    ids = {
        "ID": next(
            a["id"] for a in alerts if "Successful" in a["rule"]["title"] or a["rule"]["level"] == "high"
        )
    }
    ran, skipped, failures = [], {}, []
    try:
        for line in shell_lines(README.read_text()):
            reason = next((why for pattern, why in SKIPS if re.search(pattern, line)), None)
            if reason:
                skipped[line] = reason
                continue
            for code in expand(line):
                for command in parse(code, scratch, ids):
                    if command.argv[0] not in ("tocsin", "man"):
                        skipped[command.line] = "not a tocsin command"
                        continue
                    if command.argv[0] == "man" and shutil.which("man") is None:
                        skipped[command.line] = "man is not installed"
                        continue
                    result = _run(command, scratch, env)
                    ran.append(command.line)
                    if command.line in EXPECTED_ERRORS:
                        code_expected, message = EXPECTED_ERRORS[command.line]
                        if result.returncode != code_expected or message not in result.stderr:
                            failures.append(
                                f"{command.line!r}: expected exit {code_expected} and {message!r}"
                            )
                        continue
                    allowed = (
                        {0, 1}
                        if re.search(r"--fail-on|--execute|respond=execute|--min-recall", code)
                        else {0}
                    )
                    trouble = re.search(r"Traceback|internal error|Usage: ", result.stderr)
                    if result.returncode not in allowed or trouble:
                        failures.append(
                            f"{command.line!r} exited {result.returncode}: {result.stderr[-800:]}"
                        )
    finally:
        smtp.stop()
    print(f"{len(ran)} README commands ran; skipped: " + "; ".join(f"{k!r}: {v}" for k, v in skipped.items()))
    assert not failures, "\n".join(failures)
    assert len(ran) >= 30 and any(line.startswith("tocsin alerts") for line in ran)
    assert (scratch / "report.html").exists() and (scratch / "timeline.csv").exists()
    assert (scratch / ".local/share/bash-completion/completions/tocsin").read_text().count(
        "_TOCSIN_COMPLETE"
    ) >= 1


def test_readme_sample_output_is_what_the_scan_prints():
    """The table rows the README quotes come out of the scan it names, character for character."""
    text = README.read_text()
    quoted = [line for line in text.splitlines() if line.startswith("│ ") and EXAMPLE_ALERT in text]
    assert len(quoted) >= 3
    result = subprocess.run(
        [sys.executable, "-m", "tocsin", "scan", str(shared("authlogs/OpenSSH_2k.log")), "--format", "table"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    printed = {" ".join(line.split()) for line in result.stdout.splitlines()}
    for row in quoted[1:]:
        assert " ".join(row.split()) in printed, row
