"""Help that teaches: examples under every command, whole descriptions, completion, a man page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from tests.test_cli import EXAMPLE, tocsin
from tocsin.cli import cli
from tocsin.cli.help import walk


def test_every_command_help_has_examples_and_nothing_is_cut():
    runner = CliRunner()
    cli.load_all(click.Context(cli))  # commands are imported when used; the walk needs them all
    paths = [path for path, _ in walk(cli)]
    assert len(paths) > 30 and ("completion",) in paths and ("man",) in paths
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"], terminal_width=80)
        assert result.exit_code == 0, (path, result.output)
        examples = result.output.partition("Examples:")[2]
        assert re.search(r"^\s+tocsin \S", examples, re.M), f"no example in tocsin {' '.join(path)} --help"
        # A description cut short ends in "..." after a word; "[PATHS]..." in a usage line is click's syntax.
        assert not re.search(r"[a-z,:;)]\.\.\.|…", result.output), (path, result.output)
    top = tocsin("--help", env={"COLUMNS": "80"}).stdout
    assert "Scan log files, directories, archives or - (stdin) with Sigma" in top and "rules." in top


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell):
    result = tocsin("completion", shell)
    assert result.returncode == 0 and "_TOCSIN_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout or f"{shell}_source" in result.stdout or shell == "fish"


def test_bash_completion_completes_commands_and_options():
    env = {"COMP_WORDS": "tocsin al", "COMP_CWORD": "1", "_TOCSIN_COMPLETE": "bash_complete"}
    assert "plain,alerts" in tocsin(env=env).stdout.splitlines()
    env = {"COMP_WORDS": "tocsin scan --for", "COMP_CWORD": "2", "_TOCSIN_COMPLETE": "bash_complete"}
    assert {"plain,--format", "plain,--format-in"} <= set(tocsin(env=env).stdout.splitlines())


def test_man_page(tmp_path):
    page = tmp_path / "tocsin.1"
    assert tocsin("man", "-o", str(page)).returncode == 0
    text = page.read_text()
    assert text.startswith(".TH TOCSIN 1 ")
    for path, command in walk(cli):
        if path and not isinstance(command, click.Group):
            assert f".SS {' '.join(path)}" in text
    requests = {line.split()[0] for line in text.splitlines() if line.startswith((".", "'"))}
    assert requests <= {".TH", ".SH", ".SS", ".nf", ".fi", ".PP", ".TP", ".B"}  # no text taken for a request
    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    rendered = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                              env={**os.environ, "MANWIDTH": "120", "MANPAGER": "cat"}).stdout  # fmt: skip
    assert "tocsin alerts --db case.db --min-level high" in rendered and "--report FILE" in rendered


def test_geoip_hint_names_the_extra():
    """Without geoip2 (hidden from the child: ``sys.modules`` entry None makes its import fail), the hint
    names the extra to install, brackets included."""
    code = "import sys; sys.modules['geoip2'] = None; from tocsin.cli import main; sys.argv[0] = 'tocsin'; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "scan", str(EXAMPLE), "--geoip", str(EXAMPLE), "-o", os.devnull],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2 and "pip install 'tocsin[geoip]'" in result.stderr
