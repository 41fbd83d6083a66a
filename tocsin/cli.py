"""The ``tocsin`` command line."""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import os
import sqlite3
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tocsin import __version__
from tocsin.cli_elastic import elastic_sink, es
from tocsin.cli_response import COMMANDS as RESPONSE_COMMANDS
from tocsin.cli_response import respond_to
from tocsin.cli_rules import rules  # the rules group, with test/check/list added
from tocsin.cli_simulate import COMMANDS as SIMULATION_COMMANDS
from tocsin.cli_watch import watch
from tocsin.config import ConfigError, load_config, masked, to_toml
from tocsin.detectors.sigma.database import connect
from tocsin.detectors.stateful.geo import GeoIPUnavailable
from tocsin.event import Event
from tocsin.models import Alert, Level
from tocsin.output import AlertSink, JsonLinesSink, JsonSink, TableSink, print_summary
from tocsin.scan import ReadSummary, ScanRequest, read_events, run_scan
from tocsin.sources import PARSERS, ParseOptions
from tocsin.sources.pcap.events import EVENT_CATEGORIES, event_category
from tocsin.sources.pcap.parser import CAPTURE_PROGRESS
from tocsin.store import CaseStore
from tocsin.terminal import SafeConsole, styled
from tocsin.terminal import console as safe_console

EXIT_ALERTS = 1
EXIT_USAGE = 2


class LevelType(click.ParamType):
    name = "level"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Level:
        if isinstance(value, Level):
            return value
        try:
            return Level.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _stderr() -> SafeConsole:
    return safe_console(stderr=True)


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
            type=click.Choice(sorted(PARSERS)),
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
) -> ParseOptions:
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
    )


def _open_output(stack: ExitStack, output: Path | None) -> IO[str]:
    if output is None:
        return sys.stdout
    try:
        stream = open(output, "w", encoding="utf-8")  # noqa: SIM115 - closed by the stack
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tocsin")
def cli() -> None:
    """tocsin: detect account takeover and data exposure in logs, and respond."""


cli.add_command(es)
cli.add_command(rules)
cli.add_command(watch)


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
    type=click.Choice(["table", "jsonl", "json"]),
    help="Alert output (default: table on a terminal, jsonl otherwise).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write alerts to FILE.")
@click.option("--min-level", type=LevelType(), help="Show only alerts at or above this level.")
@click.option("--fail-on", type=LevelType(), help="Exit 1 when an alert at or above this level fires.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep every event and alert in this SQLite case database.",
)
@click.option("--strict", is_flag=True, help="Exit 2 if any record or input had to be skipped.")
@click.option(
    "--yara",
    "yara_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="YARA rule file or directory, run over capture payloads and plain files (repeatable).",
)
@click.option("-v", "--verbose", is_flag=True, help="List every rejected rule in the summary.")
@click.option(
    "--respond",
    type=click.Choice(["plan", "execute"]),
    is_flag=False,
    flag_value="plan",
    help="Hand the alerts to response: --respond plans, --respond=execute acts.",
)
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
    to_es: bool,
    geoip: Path | None,
    format_in: str | None,
    year: int | None,
    timezone: str | None,
    field_map: tuple[str, ...],
    config_file: Path | None,
) -> None:
    """Scan log files, directories, archives or - (stdin) with Sigma rules."""
    settings = _load_settings(config_file)
    _check_paths(paths, output=output, db=db)
    console = _stderr()
    request = ScanRequest(
        paths=list(paths),
        rule_paths=[Path(p) for p in settings["scan"]["rules"]] + list(rule_paths),
        builtin_rules=settings["scan"]["builtin_rules"] and not no_builtin_rules,
        format_in=format_in,
        parse=_parse_options(settings, year, timezone, field_map, reveal_secrets),
        db=db,
        min_level=min_level or Level.parse(settings["scan"]["min_level"]),
        batch_size=int(settings["scan"]["batch_size"]),
        placeholders=settings["sigma"]["placeholders"],
        yara_paths=list(yara_paths),
        geoip=geoip or (Path(settings["scan"]["geoip"]) if settings["scan"]["geoip"] else None),
    )
    with ExitStack() as stack:
        stream = _open_output(stack, output)
        if output_format is None:
            interactive = output is None and sys.stdout.isatty()
            output_format = (
                "table" if interactive else ("json" if output and output.suffix == ".json" else "jsonl")
            )
        sink: AlertSink = (
            TableSink(safe_console(file=stream))
            if output_format == "table"
            else JsonSink(stream)
            if output_format == "json"
            else JsonLinesSink(stream)
        )
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        with progress:
            task = progress.add_task("scanning", total=None)
            counted = 0

            def advance(batch: int) -> None:
                nonlocal counted
                counted += batch
                progress.update(task, description=f"scanning: {counted:,} events")

            shipper = stack.enter_context(elastic_sink(settings, console)) if to_es else None
            raised: list[Alert] = []

            def keep(alert: Alert) -> None:
                sink.write(alert)
                raised.append(alert)

            def capture_progress(packets: int, size: int) -> None:
                progress.update(task, description=f"scanning: {counted:,} events, {packets:,} packets, {size / 1e6:,.1f} MB")

            CAPTURE_PROGRESS.set(capture_progress)
            try:
                summary = run_scan(request, keep if respond else sink.write, advance, on_documents=shipper.write if shipper else None)
            except GeoIPUnavailable as exc:
                console.print(f"tocsin: error: {exc}")
                sys.exit(EXIT_USAGE)
            except (sqlite3.OperationalError, OSError) as exc:
                if not _disk_full(exc):
                    raise
                console.print(styled("tocsin: error: disk full ({}): the scan stopped before its end", exc))
                sys.exit(EXIT_USAGE)
        sink.close()
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
    if strict and (summary.read.skipped or summary.read.failed_inputs):
        console.print("tocsin: error: records or inputs were skipped (--strict)")
        sys.exit(EXIT_USAGE)
    if fail_on is not None and any(
        summary.alerts_by_level[level.name] for level in Level if level >= fail_on
    ):
        sys.exit(EXIT_ALERTS)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "table"]),
    default="jsonl",
    show_default=True,
    help="Event output.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write events to FILE.")
@click.option("--limit", type=int, help="Stop after this many events.")
@click.option(
    "--category",
    "categories",
    multiple=True,
    type=click.Choice(sorted(EVENT_CATEGORIES)),
    help="Only network events of this kind (repeatable).",
)
@input_options
def events(
    paths: tuple[str, ...],
    output_format: str,
    output: Path | None,
    limit: int | None,
    categories: tuple[str, ...],
    format_in: str | None,
    year: int | None,
    timezone: str | None,
    field_map: tuple[str, ...],
    config_file: Path | None,
    reveal_secrets: bool,
) -> None:
    """Print the normalized (ECS) events of inputs: what rules are written against."""
    settings = _load_settings(config_file)
    _check_paths(paths, output=output)
    read = ReadSummary()
    stream_of_events = read_events(
        list(paths), format_in, _parse_options(settings, year, timezone, field_map, reveal_secrets), read
    )
    if categories:
        stream_of_events = (e for e in stream_of_events if event_category(e) in categories)
    with ExitStack() as stack:
        stream = _open_output(stack, output)
        if output_format == "table":
            _events_table(stream, stream_of_events, limit)
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


def _events_table(stream: IO[str], events_iter: Any, limit: int | None) -> None:
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
    safe_console(file=stream).print(table)


@cli.command()
@click.argument("identifier")
@click.option(
    "--db",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Case database written by scan --db.",
)
def show(identifier: str, db: Path) -> None:
    """Show an event or an alert (with its evidence events) from a case database."""
    connection = connect(str(db))
    store = CaseStore(connection)
    found = store.get(identifier)
    if found is None:
        raise click.UsageError(f"no event or alert with id {identifier} in {db}")
    kind, document = found
    if kind == "alert":
        document = {"alert": document, "evidence": store.evidence(document)}
    click.echo(json.dumps(document, indent=2, default=str))


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
    for name, parser in sorted(PARSERS.items()):
        click.echo(f"{name:18} {parser.description}")


for response_command in RESPONSE_COMMANDS + SIMULATION_COMMANDS:
    cli.add_command(response_command)


def main() -> None:
    """Entry point: no traceback reaches the user unless TOCSIN_DEBUG is set; files are created 0600/0700."""
    # Everything imported so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise cost 10-15% of a scan walking those objects again and again.
    gc.freeze()
    # Whatever tocsin creates (alert files, case databases, watch state, incident folders, keys) holds
    # log content and secrets: readable by its owner only, whichever code path creates it.
    os.umask(0o077)
    try:
        cli.main(standalone_mode=False)
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
