"""The ``tocsin`` command line."""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import json
import os
import sqlite3
import sys
import tempfile
from contextlib import ExitStack
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from tocsin import __version__
from tocsin.cli_help import finish as finish_help
from tocsin.config import ConfigError, load_config, masked, to_toml

if TYPE_CHECKING:
    from tocsin.event import Event
    from tocsin.models import Alert, Level
    from tocsin.output import AlertSink
    from tocsin.sources import ParseOptions
    from tocsin.terminal import SafeConsole

EXIT_ALERTS = 1
EXIT_USAGE = 2


#: Subcommands defined in their own modules, imported only when used: (module, attribute, short help).
#: ``tocsin --help`` and completion list them from here without importing anything heavy.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "alerts": ("tocsin.cli_analyst", "alerts_command", "List the alerts of a case database, most severe first."),
    "audit": ("tocsin.cli_response", "audit_group", "The hash-chained audit log."),
    "completion": ("tocsin.cli_help", "completion", "Print the shell completion script for bash, zsh or fish."),
    "es": ("tocsin.cli_elastic", "es", "Elasticsearch or OpenSearch: prepare the cluster, hunt on it, read alerts back."),
    "evaluate": (
        "tocsin.cli_simulate",
        "evaluate",
        "Scan simulated scenarios (from tocsin simulate) and score precision, recall and time to detect.",
    ),
    "incidents": ("tocsin.cli_response", "incidents", "List, inspect, approve, resume and close incidents."),
    "man": (
        "tocsin.cli_help",
        "man",
        "Print the tocsin(1) man page (troff), generated from the commands' own help.",
    ),
    "playbooks": ("tocsin.cli_response", "playbooks", "List, validate and run playbooks."),
    "respond": (
        "tocsin.cli_response",
        "respond",
        "Plan (or with --execute, carry out) the response to alerts from JSON Lines files or - (stdin).",
    ),
    "report": (
        "tocsin.cli_analyst",
        "report_command",
        "Write a self-contained HTML report of a case database: summary, chart, alerts with evidence.",
    ),
    "rules": ("tocsin.cli_rules", "rules", "Work with Sigma rules."),
    "show": (
        "tocsin.cli_analyst",
        "show",
        "Show an event or an alert with its evidence events; any unique id prefix will do.",
    ),
    "simulate": (
        "tocsin.cli_simulate",
        "simulate",
        "Generate realistic, labelled logs and captures of attack SCENARIO (or all) with their ground truth.",
    ),
    "watch": (
        "tocsin.cli_watch",
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
            command = getattr(importlib.import_module(module), attribute)
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


class LazyChoice(click.Choice):
    """A choice whose values come from a registry imported only when the option is used or shown."""

    def __init__(self, load: Any) -> None:
        self._load = load
        super().__init__([])

    @property  # type: ignore[override]
    def choices(self) -> list[str]:
        return sorted(self._load())

    @choices.setter
    def choices(self, _value: Any) -> None:
        pass


def _parser_names() -> Any:
    from tocsin.sources import PARSERS

    return PARSERS


def _event_categories() -> Any:
    from tocsin.sources.pcap.events import EVENT_CATEGORIES

    return EVENT_CATEGORIES


class LevelType(click.ParamType):
    name = "level"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Level:
        from tocsin.models import Level

        if isinstance(value, Level):
            return value
        try:
            return Level.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _stderr() -> SafeConsole:
    from tocsin.terminal import stderr_console

    return stderr_console()


def _load_settings(config_file: Path | None) -> dict[str, Any]:
    try:
        config, _ = load_config(config_file)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    return config


def _field_map(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target or not source:
            raise click.BadParameter(f"{pair!r}: expected ECS_FIELD=SOURCE_FIELD", param_hint="--map")
        mapping[target.strip()] = source.strip()
    return mapping


def _check_paths(paths: tuple[str, ...], **outputs: Path | None) -> None:
    """Every input exists, and no output (``-o``, ``--db``) is one of them: it would be truncated
    before it is read."""
    missing = [path for path in paths if path != "-" and not Path(path).exists()]
    if missing:
        raise click.UsageError(f"no such file or directory: {', '.join(missing)}")
    for option, output in outputs.items():
        if output is not None and output.exists():
            for path in paths:
                if path != "-" and os.path.samefile(output, path):
                    raise click.UsageError(f"--{option} {output} is also an input: refusing to overwrite it")


def input_options(function: Any) -> Any:
    """Options shared by every command that reads inputs."""
    options = [
        click.option(
            "--format-in",
            type=LazyChoice(_parser_names),
            help="Input format (default: detected per file).",
        ),
        click.option(
            "--year", type=int, help="Year of the first syslog line (default: inferred from file time)."
        ),
        click.option("--timezone", help="Time zone of syslog timestamps without one (default: UTC)."),
        click.option(
            "--map",
            "field_map",
            multiple=True,
            metavar="ECS=SOURCE",
            help="Map a source field to an ECS field for generic JSON/CSV inputs (repeatable).",
        ),
        click.option(
            "--logsource",
            metavar="product=P,service=S",
            help="The Sigma log source of generic JSON/CSV inputs that do not name one (e.g. product=linux,service=sshd).",
        ),
        click.option("--config", "config_file", type=click.Path(path_type=Path), help="Configuration file."),
        click.option(
            "--reveal-secrets",
            is_flag=True,
            help="Forensics: also write captured passwords in clear (default: masked and hashed only).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _parse_options(
    settings: dict[str, Any],
    year: int | None,
    timezone: str | None,
    field_map: tuple[str, ...],
    reveal_secrets: bool = False,
    logsource: str | None = None,
) -> ParseOptions:
    from tocsin.sources import ParseOptions
    from tocsin.sources.logsource import forced_logsource

    try:
        forced = forced_logsource(logsource) if logsource else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--logsource") from None
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise click.BadParameter(f"{timezone!r}: unknown time zone", param_hint="--timezone") from None
    return ParseOptions(
        year=year,
        timezone=timezone or settings["scan"]["timezone"],
        max_record_bytes=int(settings["scan"]["max_record_bytes"]),
        field_map=_field_map(field_map),
        reveal_secrets=reveal_secrets,
        logsource=forced,
    )


def _open_output(stack: ExitStack, output: Path | None) -> IO[str]:
    from tocsin.tabular import open_private

    if output is None:
        return sys.stdout
    try:
        stream = open_private(output)
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror}") from None
    stack.callback(_close_quietly, stream)
    return stream


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is a full disk (a file write, or SQLite writing the case or engine database)."""
    return getattr(exc, "errno", None) == errno.ENOSPC or "database or disk is full" in str(exc)


def _close_quietly(stream: IO[str]) -> None:
    """Close an output whose sink has flushed it and reported any write failure (a full disk)."""
    with contextlib.suppress(OSError):
        stream.close()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tocsin")
def cli() -> None:
    """tocsin: detect account takeover and data exposure in logs, and respond."""



@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Sigma rule file or directory, in addition to the built-in pack (repeatable).",
)
@click.option("--no-builtin-rules", is_flag=True, help="Do not load the built-in rule pack.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "jsonl", "json", "csv"]),
    help="Alert output (default: table on a terminal, jsonl otherwise); csv is formula-safe for spreadsheets.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write alerts to FILE.")
@click.option("--min-level", type=LevelType(), help="Show only alerts at or above this level.")
@click.option(
    "--fail-on",
    type=LevelType(),
    help="Exit 1 when an alert at or above this level fires (it is named on stderr); exit 2 if nothing was checked.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep every event and alert in this SQLite case database.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 2 if a record or input was skipped, a rule rejected, a rule of yours saw no event of its "
    "log source, or nothing was checked.",
)
@click.option(
    "--yara",
    "yara_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="YARA rule file or directory, run over capture payloads and plain files (repeatable).",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="List every rejected rule, idle rule and detection note (events a rule had to set aside) in the summary.",
)
@click.option(
    "--respond",
    type=click.Choice(["plan", "execute"]),
    is_flag=False,
    flag_value="plan",
    help="Hand the alerts to response: --respond plans, --respond=execute acts.",
)
@click.option(
    "--timeline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a chronological detections timeline for Timesketch (CSV if FILE ends in .csv, else JSONL).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML report: summary, chart, every alert with its evidence.",
)
@click.option("--width", type=click.IntRange(40), help="Table width (default: the terminal's, full width in files).")
@click.option("--to-es", is_flag=True, help="Also send events and alerts to Elasticsearch (see tocsin es).")
@click.option(
    "--geoip",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="MaxMind City database: locate logins the sources do not (needs tocsin[geoip]).",
)
@input_options
def scan(
    paths: tuple[str, ...],
    rule_paths: tuple[Path, ...],
    no_builtin_rules: bool,
    output_format: str | None,
    output: Path | None,
    min_level: Level | None,
    fail_on: Level | None,
    db: Path | None,
    strict: bool,
    verbose: bool,
    yara_paths: tuple[Path, ...],
    reveal_secrets: bool,
    respond: str | None,
    timeline: Path | None,
    report_path: Path | None,
    width: int | None,
    to_es: bool,
    geoip: Path | None,
    format_in: str | None,
    year: int | None,
    timezone: str | None,
    field_map: tuple[str, ...],
    logsource: str | None,
    config_file: Path | None,
) -> None:
    """Scan log files, directories, archives or - (stdin) with Sigma rules.

    \b
    Exit codes:
      0  clean: nothing at or above --fail-on
      1  an alert at or above --fail-on (the most severe is named on stderr)
      2  a usage error, an input named on the command line that could not be read,
         alerts that could not be written; with --strict, a skipped record or input,
         a rejected rule, a rule of yours that saw no event of its log source;
         with --strict or --fail-on, a run in which nothing was checked
      3  an internal error
    """
    from tocsin.cli_elastic import elastic_sink
    from tocsin.cli_response import respond_to
    from tocsin.detectors.stateful.geo import GeoIPUnavailable
    from tocsin.models import Level
    from tocsin.output import CsvAlertSink, JsonLinesSink, JsonSink, TableSink, print_summary, print_tripped
    from tocsin.progress import ScanProgress
    from tocsin.report import write_scan_report
    from tocsin.scan import ScanRequest, run_scan
    from tocsin.terminal import styled, table_console
    from tocsin.timeline import write_timeline

    settings = _load_settings(config_file)
    _check_paths(paths, output=output, db=db)
    console = _stderr()
    request = ScanRequest(
        paths=list(paths),
        rule_paths=[Path(p) for p in settings["scan"]["rules"]] + list(rule_paths),
        builtin_rules=settings["scan"]["builtin_rules"] and not no_builtin_rules,
        format_in=format_in,
        parse=_parse_options(settings, year, timezone, field_map, reveal_secrets, logsource),
        db=db,
        min_level=min_level or Level.parse(settings["scan"]["min_level"]),
        batch_size=int(settings["scan"]["batch_size"]),
        placeholders=settings["sigma"]["placeholders"],
        yara_paths=list(yara_paths),
        geoip=geoip or (Path(settings["scan"]["geoip"]) if settings["scan"]["geoip"] else None),
    )
    with ExitStack() as stack:
        if report_path and db is None:  # the report shows evidence: keep the events in a temporary case
            request.db = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tocsin-report-"))) / "case.db"
        stream = _open_output(stack, output)
        if output_format is None:
            interactive = output is None and sys.stdout.isatty()
            output_format = (
                "table" if interactive else ("json" if output and output.suffix == ".json" else "jsonl")
            )
        sink: AlertSink = (
            TableSink(table_console(stream, width))
            if output_format == "table"
            else CsvAlertSink(stream)
            if output_format == "csv"
            else JsonSink(stream)
            if output_format == "json"
            else JsonLinesSink(stream)
        )
        with ScanProgress(console) as progress:
            shipper = stack.enter_context(elastic_sink(settings, console)) if to_es else None
            raised: list[Alert] = []

            def keep(alert: Alert) -> None:
                sink.write(alert)
                raised.append(alert)

            try:
                summary = run_scan(
                    request,
                    keep if respond or timeline else sink.write,
                    progress.add_events,
                    on_documents=shipper.write if shipper else None,
                    meter=progress.meter,
                )
            except GeoIPUnavailable as exc:
                console.print(f"tocsin: error: {exc}", markup=False)
                sys.exit(EXIT_USAGE)
            except (sqlite3.OperationalError, OSError) as exc:
                if not _disk_full(exc):
                    raise
                console.print(styled("tocsin: error: disk full ({}): the scan stopped before its end", exc))
                sys.exit(EXIT_USAGE)
        sink.close()
        if timeline:
            write_timeline(timeline, [alert.document() for alert in raised])
        if report_path and request.db:
            write_scan_report(report_path, request.db, summary)
    print_summary(console, summary, verbose)
    if sink.failure:
        console.print(styled("tocsin: error: cannot write the alerts to {}: {}", output or "stdout", sink.failure))
        sys.exit(EXIT_USAGE)
    if respond:
        respond_to(raised, respond == "execute", db, config_file)
    explicit_failures = [
        f"{s.name}: {s.error}" for s in summary.read.inputs
        if s.error and s.name in {str(Path(p).absolute()) for p in paths}
    ] + summary.read.unreadable  # fmt: skip
    if explicit_failures:
        console.print(f"tocsin: error: cannot read {explicit_failures[0]}")
        sys.exit(EXIT_USAGE)
    if strict and (failures := summary.strict_failures()):
        console.print(f"tocsin: error: {'; '.join(failures)} (--strict)")
        sys.exit(EXIT_USAGE)
    if fail_on is not None and not summary.looked:
        console.print("tocsin: error: nothing was checked, so --fail-on cannot call this run clean")
        sys.exit(EXIT_USAGE)
    if fail_on is not None and (tripped := summary.tripped(fail_on)):
        print_tripped(console, summary, tripped, fail_on)
        sys.exit(EXIT_ALERTS)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "table", "csv"]),
    default="jsonl",
    show_default=True,
    help="Event output (csv: formula-safe for spreadsheets).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write events to FILE.")
@click.option("--limit", type=int, help="Stop after this many events.")
@click.option(
    "--category",
    "categories",
    multiple=True,
    type=LazyChoice(_event_categories),
    help="Only network events of this kind (repeatable).",
)
@click.option("--width", type=click.IntRange(40), help="Table width (default: the terminal's, full width in files).")
@input_options
def events(
    paths: tuple[str, ...],
    output_format: str,
    output: Path | None,
    limit: int | None,
    categories: tuple[str, ...],
    width: int | None,
    format_in: str | None,
    year: int | None,
    timezone: str | None,
    field_map: tuple[str, ...],
    logsource: str | None,
    config_file: Path | None,
    reveal_secrets: bool,
) -> None:
    """Print the normalized (ECS) events of inputs: what rules are written against."""
    from tocsin.scan import ReadSummary, read_events
    from tocsin.sources.pcap.events import event_category
    from tocsin.tabular import EVENT_COLUMNS, event_row, write_csv
    from tocsin.terminal import styled

    settings = _load_settings(config_file)
    _check_paths(paths, output=output)
    read = ReadSummary()
    stream_of_events = read_events(
        list(paths), format_in, _parse_options(settings, year, timezone, field_map, reveal_secrets, logsource), read
    )
    if categories:
        stream_of_events = (e for e in stream_of_events if event_category(e) in categories)
    with ExitStack() as stack:
        stream = _open_output(stack, output)
        if output_format == "table":
            _events_table(stream, stream_of_events, limit, width)
        elif output_format == "csv":
            documents = (event.to_document() for event in stream_of_events)
            write_csv(stream, EVENT_COLUMNS, map(event_row, islice(documents, limit)))
        else:
            for count, event in enumerate(stream_of_events, start=1):
                stream.write(json.dumps(event.to_document(), default=str, separators=(",", ":")) + "\n")
                if limit and count >= limit:
                    break
    console = _stderr()
    console.print(f"{read.events:,} events from {len(read.inputs)} input(s)")
    for problem in read.failed_inputs:
        console.print(styled("  [yellow]not read[/]: {}", problem))
    for reason, count in read.skipped.most_common():
        console.print(styled("  [yellow]skipped[/] {:,}: {}", count, reason))
    if read.unreadable:
        sys.exit(EXIT_USAGE)


def _events_table(stream: IO[str], events_iter: Any, limit: int | None, width: int | None) -> None:
    from rich.table import Table

    from tocsin.terminal import table_console

    table = Table(header_style="bold")
    for column in ("@timestamp", "event.action", "outcome", "user.name", "source.ip", "host.name", "message"):
        table.add_column(column, overflow="fold")
    for count, event in enumerate(events_iter, start=1):
        event: Event
        document = event.to_document()
        table.add_row(
            document["@timestamp"] or "",
            str(event.fields.get("event.action", "")),
            str(event.fields.get("event.outcome", "")),
            str(event.fields.get("user.name", "")),
            str(event.fields.get("source.ip", "")),
            str(event.fields.get("host.name", "")),
            str(event.fields.get("message", event.raw))[:120],
        )
        if count >= (limit or 10_000):
            break
    table_console(stream, width).print(table)


@cli.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Configuration file.")
def config_show(config_file: Path | None) -> None:
    """Print the effective configuration (defaults, file, environment), secrets masked."""
    try:
        settings, source = load_config(config_file)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"# from: {source or 'defaults'} + TOCSIN_* environment\n" + to_toml(masked(settings)))


@cli.command()
def formats() -> None:
    """List the input formats tocsin reads."""
    from tocsin.sources import PARSERS

    for name, parser in sorted(PARSERS.items()):
        click.echo(f"{name:18} {parser.description}")


finish_help(cli)


def main() -> None:
    """Entry point: no traceback reaches the user unless TOCSIN_DEBUG is set; files are created 0600/0700."""
    # Everything imported so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise cost 10-15% of a scan walking those objects again and again.
    gc.freeze()
    # Whatever tocsin creates (alert files, case databases, watch state, incident folders, keys) holds
    # log content and secrets: readable by its owner only, whichever code path creates it.
    os.umask(0o077)
    try:
        cli.main(standalone_mode=False, prog_name="tocsin", complete_var="_TOCSIN_COMPLETE")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
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
