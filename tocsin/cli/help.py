"""Help that teaches: examples under every command, full one-line descriptions, shell completion
scripts and a man page, all generated from the click commands themselves."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

import click
from click.shell_completion import get_completion_class

from tocsin import __version__

#: Examples shown under each command's --help (commands whose docstring has its own are not listed).
EXAMPLES: dict[str, list[str]] = {
    "tocsin": [
        "tocsin scan /var/log/auth.log --db case.db",
        "tocsin alerts --db case.db --min-level high",
        "tocsin show 0724934c41 --db case.db",
    ],
    "audit": ["tocsin audit verify --db tocsin-cases.db"],
    "audit verify": ["tocsin audit verify", "tocsin audit verify --db case.db"],
    "config": ["tocsin config show"],
    "config show": [
        "tocsin config show",
        "TOCSIN_SCAN__MIN_LEVEL=high tocsin config show --config tocsin.toml",
    ],
    "es": ["tocsin es setup", "tocsin es hunt --since 24h"],
    "es alerts": ["tocsin es alerts --since 1h --min-level high"],
    "es hunt": ["tocsin es hunt --since 24h", "tocsin es hunt --since 7d --rules my-rules/"],
    "es replay": ["tocsin es replay"],
    "es setup": ["tocsin es setup"],
    "evaluate": [
        "tocsin evaluate sim/",
        "tocsin evaluate sim/ --format json --min-precision 0.98 --min-recall 0.98",
    ],
    "events": [
        "tocsin events /var/log/auth.log --limit 5",
        "tocsin events capture.pcap --category auth --format table",
        "tocsin events okta.jsonl --format csv -o events.csv",
    ],
    "formats": ["tocsin formats"],
    "incidents": ["tocsin incidents list --status waiting-approval", "tocsin incidents show INC-1"],
    "incidents approve": ["tocsin incidents approve INC-1 lock-account"],
    "incidents close": ["tocsin incidents close INC-1", "tocsin incidents close INC-1 --rollback"],
    "incidents list": ["tocsin incidents list", "tocsin incidents list --status failed"],
    "incidents resume": ["tocsin incidents resume INC-1"],
    "incidents show": ["tocsin incidents show INC-1", "tocsin incidents show INC-1 --json"],
    "playbooks": ["tocsin playbooks list"],
    "playbooks list": ["tocsin playbooks list"],
    "playbooks run": ["tocsin playbooks run ato-containment --alert-id ID --alerts alerts.jsonl --execute"],
    "playbooks validate": ["tocsin playbooks validate tocsin/respond/playbooks/library"],
    "respond": ["tocsin respond alerts.jsonl", "tocsin respond alerts.jsonl --execute"],
    "rules": ["tocsin rules list", "tocsin rules test", "tocsin rules check my-rules/"],
    "rules check": [
        "tocsin rules check my-rules/",
        "tocsin rules check sigma/rules/ --format sarif -o rules.sarif",
    ],
    "rules convert": ["tocsin rules convert --target esql", "tocsin rules convert my-rules/ --target lucene"],
    "rules list": [
        "tocsin rules list",
        "tocsin rules list --format json",
        "tocsin rules list --format navigator -o layer.json",
    ],
    "rules test": ["tocsin rules test", "tocsin rules test my-rules/ --format junit -o junit.xml"],
    "rules install": [
        "tocsin rules install sigma/",
        "tocsin rules install sigma_all_rules.zip --name sigmahq",
    ],
    "rules update": ["tocsin rules update sigma/", "tocsin rules update sigma_all_rules.zip --pack sigmahq"],
    "rules remove": ["tocsin rules remove sigmahq"],
    "rules disable": ["tocsin rules disable 0e6a2c4d-3b91-4f0a-8d57-6a1e9c2b7f41"],
    "rules enable": ["tocsin rules enable 0e6a2c4d-3b91-4f0a-8d57-6a1e9c2b7f41"],
    "scan": [
        "tocsin scan /var/log/auth.log okta.jsonl Security.evtx",
        "tocsin scan logs/ --db case.db --report report.html --timeline timeline.csv",
        "tocsin scan logs/ --rules my-rules/ --format jsonl -o alerts.jsonl --fail-on high",
        "tocsin scan incident.pcap --yara my.yar --format csv -o alerts.csv",
    ],
    "simulate": ["tocsin simulate all --seed 7 --out sim/", "tocsin simulate brute_force --out sim/"],
    "completion": [
        "tocsin completion bash > ~/.local/share/bash-completion/completions/tocsin",
        "tocsin completion zsh > ~/.zfunc/_tocsin",
        "tocsin completion fish > ~/.config/fish/completions/tocsin.fish",
    ],
    "man": ["tocsin man -o tocsin.1 && man ./tocsin.1"],
}


def walk(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command under ``command`` (itself first) with its path of names."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            if not sub.hidden:
                yield from walk(sub, (*path, name))


def _first_sentence(text: str) -> str:
    paragraph = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    return " ".join(paragraph.split())


def finish(root: click.Command, at: tuple[str, ...] = ()) -> None:
    """Give ``root`` (at path ``at`` under tocsin) and every command under it a full short help (never
    cut with an ellipsis) and its examples."""
    for path, command in walk(root, at):
        key = " ".join(path) or "tocsin"
        if command.help and not command.short_help:
            command.short_help = _first_sentence(command.help)
        if key in EXAMPLES and "Examples:" not in (command.help or ""):
            command.epilog = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[key])


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish."""
    root = ctx.find_root().command
    completer = get_completion_class(shell)
    assert completer is not None  # the choice only offers shells click supports
    click.echo(completer(root, {}, "tocsin", "_TOCSIN_COMPLETE").source())


@click.command("man")
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write to FILE (default: stdout).",
)
@click.pass_context
def man(ctx: click.Context, output: IO[str]) -> None:
    """Print the tocsin(1) man page (troff), generated from the commands' own help."""
    root = ctx.find_root().command
    load_all = getattr(root, "load_all", None)
    if load_all is not None:  # the page lists every command, also those imported only when used
        load_all(ctx.find_root())
    output.write(man_page(root))


def _roff(text: str) -> str:
    """Text safe in troff: backslashes escaped, no line taken for a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.splitlines())


def _help_text(command: click.Command) -> str:
    return "\n".join(
        line for line in inspect.cleandoc(command.help or "").splitlines() if line.strip() != "\b"
    )


def man_page(root: click.Command) -> str:
    """One page: name, synopsis, description, then every command with its options and examples."""
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        f'.TH TOCSIN 1 "{date}" "tocsin {__version__}" "User Commands"',
        ".SH NAME", "tocsin \\- " + _roff(_first_sentence(root.help or "").removeprefix("tocsin: ")),
        ".SH SYNOPSIS", ".B tocsin", "COMMAND [OPTIONS] [ARGS]...",
        ".SH DESCRIPTION", _roff(_help_text(root)),
        ".SH COMMANDS",
    ]  # fmt: skip
    for path, command in walk(root):
        if not path or isinstance(command, click.Group):
            continue
        context = click.Context(command, info_name="tocsin " + " ".join(path))
        lines += [
            ".SS " + _roff(" ".join(path)),
            ".nf",
            _roff(command.get_usage(context).removeprefix("Usage: ")),
            ".fi",
        ]
        lines += [".PP", ".nf", _roff(_help_text(command)), ".fi"]
        for parameter in command.get_params(context):
            record = parameter.get_help_record(context)
            if record:
                lines += [".TP", ".B " + _roff(record[0]), _roff(record[1] or "")]
        if command.epilog:
            lines += [".PP", ".nf", _roff(command.epilog.replace("\b\n", "")), ".fi"]
    lines += [".SH SEE ALSO", "The README of the tocsin project; \\fBtocsin COMMAND \\-\\-help\\fR."]
    return "\n".join(lines) + "\n"


COMMANDS = (completion, man)
