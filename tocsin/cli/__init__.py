"""The ``tocsin`` command line: the root group and ``main``.

Each command lives in a module of this package (scan, events, analyst, rules, respond, es, watch,
simulate, config, help), imported only when it is run; the options several share, and
``pass_settings``, are in ``options``.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

import click

from tocsin import MissingExtra, __version__
from tocsin.cli.help import finish as finish_help

EXIT_USAGE = 2


#: Subcommands defined in their own modules, imported only when used: (module, attribute, short help).
#: ``tocsin --help`` and completion list them from here without importing anything heavy.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "alerts": (
        "tocsin.cli.analyst",
        "alerts_command",
        "List the alerts of a case database, most severe first.",
    ),
    "audit": ("tocsin.cli.respond", "audit_group", "The hash-chained audit log."),
    "config": ("tocsin.cli.config", "config", "Inspect the configuration."),
    "completion": (
        "tocsin.cli.help",
        "completion",
        "Print the shell completion script for bash, zsh or fish.",
    ),
    "es": (
        "tocsin.cli.es",
        "es",
        "Elasticsearch or OpenSearch: prepare the cluster, hunt on it, read alerts back.",
    ),
    "evaluate": (
        "tocsin.cli.simulate",
        "evaluate",
        "Scan simulated scenarios (from tocsin simulate) and score precision, recall and time to detect.",
    ),
    "events": (
        "tocsin.cli.events",
        "events",
        "Print the normalized (ECS) events of inputs: what rules are written against.",
    ),
    "formats": ("tocsin.cli.config", "formats", "List the input formats tocsin reads."),
    "incidents": ("tocsin.cli.respond", "incidents", "List, inspect, approve, resume and close incidents."),
    "man": (
        "tocsin.cli.help",
        "man",
        "Print the tocsin(1) man page (troff), generated from the commands' own help.",
    ),
    "playbooks": ("tocsin.cli.respond", "playbooks", "List, validate and run playbooks."),
    "respond": (
        "tocsin.cli.respond",
        "respond",
        "Plan (or with --execute, carry out) the response to alerts from JSON Lines files or - (stdin).",
    ),
    "report": (
        "tocsin.cli.analyst",
        "report_command",
        "Write a self-contained HTML report of a case database: summary, chart, alerts with evidence.",
    ),
    "rules": ("tocsin.cli.rules", "rules", "Work with Sigma rules."),
    "scan": (
        "tocsin.cli.scan",
        "scan",
        "Scan log files, directories, archives or - (stdin) with Sigma rules.",
    ),
    "show": (
        "tocsin.cli.analyst",
        "show",
        "Show an event or an alert with its evidence events; any unique id prefix will do.",
    ),
    "simulate": (
        "tocsin.cli.simulate",
        "simulate",
        "Generate realistic, labelled logs and captures of attack SCENARIO (or all) with their ground truth.",
    ),
    "watch": (
        "tocsin.cli.watch",
        "watch",
        "Follow log files, directories and globs (and/or capture on --interface); detect continuously; "
        "alerts on stdout (a line each on a terminal, else JSON Lines), to -o FILE (JSON Lines) and to "
        "[webhook] url when set.",
    ),
}


class LazyGroup(click.Group):
    """A group whose ``LAZY_COMMANDS`` are imported when invoked, not to print the help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, attribute, _ = LAZY_COMMANDS[cmd_name]
            try:
                command = getattr(importlib.import_module(module), attribute)
            except MissingExtra as exc:  # an optional part not installed: say which extra, exit 2
                raise click.ClickException(str(exc)) from None
            finish_help(command, (cmd_name,))
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def load_all(self, ctx: click.Context) -> None:
        """Import every lazy command (for what walks the whole tree: the man page)."""
        for name in LAZY_COMMANDS:
            self.get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS and name not in self.commands:
                rows.append((name, LAZY_COMMANDS[name][2]))
            else:
                command = self.commands[name]
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(limit=formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tocsin")
def cli() -> None:
    """tocsin: detect account takeover and data exposure in logs, and respond."""


finish_help(cli)


def main() -> None:
    """Entry point: no traceback reaches the user unless TOCSIN_DEBUG is set; files are created 0600/0700."""
    # Everything imported so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise cost 10-15% of a scan walking those objects again and again.
    gc.freeze()
    # A batch holds thousands of live records: with the default threshold (700) the young
    # generation is collected every few hundred of them, walking the batch again each time (about
    # 10% of a scan). Reference counting frees almost everything; cycles are rare and still collected.
    gc.set_threshold(50_000, 20, 100)
    # Whatever tocsin creates (alert files, case databases, watch state, incident folders, keys) holds
    # log content and secrets: readable by its owner only, whichever code path creates it.
    os.umask(0o077)
    try:
        # Outside standalone mode click returns the code of a ``click.exceptions.Exit`` a command raised.
        code = cli.main(standalone_mode=False, prog_name="tocsin", complete_var="_TOCSIN_COMPLETE")
    except click.Abort:
        click.echo("tocsin: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except Exception as exc:
        if os.environ.get("TOCSIN_DEBUG"):
            raise
        click.echo(
            f"tocsin: internal error: {type(exc).__name__}: {exc} (set TOCSIN_DEBUG=1 for details)", err=True
        )
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
