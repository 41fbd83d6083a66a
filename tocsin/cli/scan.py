"""``tocsin scan``: detect in files, directories, archives or stdin, once."""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tocsin.cli import EXIT_USAGE
from tocsin.cli.inputs import check_paths, open_output, parsing
from tocsin.cli.options import (
    LevelType,
    geoip_option,
    output_options,
    parse_options,
    pass_settings,
    respond_option,
    reveal_secrets_option,
    rules_options,
    to_es_option,
    yara_option,
)
from tocsin.storage.sqlite import is_disk_full

if TYPE_CHECKING:
    from tocsin.model.alert import Alert, Level
    from tocsin.output import AlertSink
    from tocsin.settings import Settings

EXIT_ALERTS = 1


@click.command()
@click.argument("paths", nargs=-1, required=True)
@rules_options
@output_options(
    "alerts",
    ["table", "jsonl", "json", "csv"],
    help="Alert output (default: table on a terminal, jsonl otherwise); csv is formula-safe for spreadsheets.",
)
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
@yara_option
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=1,
    show_default=True,
    help="Processes reading the inputs (0: one per CPU this process may use): syslog, JSON Lines and web "
    "server logs are cut at line ends, other inputs spread whole. Alerts and counts are those of one "
    "process. Not with --db, --report or --to-es.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="List every rejected rule, idle rule and detection note (events a rule had to set aside) in the summary.",
)
@respond_option
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
@to_es_option
@geoip_option
@parse_options
@reveal_secrets_option
@pass_settings
def scan(
    paths: tuple[str, ...],
    rule_paths: tuple[Path, ...],
    no_builtin_rules: bool,
    no_installed_rules: bool,
    output_format: str | None,
    output: Path | None,
    width: int | None,
    min_level: Level | None,
    fail_on: Level | None,
    db: Path | None,
    strict: bool,
    workers: int,
    verbose: bool,
    yara_paths: tuple[Path, ...],
    reveal_secrets: bool,
    respond: str | None,
    timeline: Path | None,
    report_path: Path | None,
    to_es: bool,
    geoip: Path | None,
    format_in: str | None,
    year: int | None,
    timezone: str | None,
    field_map: tuple[str, ...],
    logsource: str | None,
    settings: Settings,
) -> None:
    """Scan log files, directories, archives or - (stdin) with Sigma rules.

    \b
    Exit codes:
      0  clean: nothing at or above --fail-on
      1  an alert at or above --fail-on (the most severe is named on stderr)
      2  a usage error, an input named on the command line that could not be read,
         alerts that could not be written; with --strict, a skipped record or input,
         a rejected rule or one stopped after an engine error, a rule of yours that
         saw no event of its log source;
         with --strict or --fail-on, a run in which nothing was checked
      3  an internal error
    """
    from tocsin.detectors.sigma.packs import rule_selection
    from tocsin.detectors.stateful.geo import GeoIPUnavailable
    from tocsin.model.alert import Level
    from tocsin.output import CsvAlertSink, JsonLinesSink, JsonSink, TableSink, print_summary, print_tripped
    from tocsin.progress import ScanProgress
    from tocsin.scan import ScanRequest, run_scan
    from tocsin.terminal import stderr_console, styled, table_console

    check_paths(paths, output=output, db=db)
    workers = workers or min(_usable_cpus(), 64)
    if workers > 1 and (db or report_path or to_es):
        raise click.UsageError(
            "--workers reads with several processes; --db, --report and --to-es keep every event, which needs one"
        )
    console = stderr_console()
    pack_paths, selection = rule_selection(settings.rule_packs, not no_installed_rules)
    request = ScanRequest(
        paths=list(paths),
        rule_paths=[Path(p) for p in settings.scan.rules] + list(rule_paths),
        builtin_rules=settings.scan.builtin_rules and not no_builtin_rules,
        pack_paths=pack_paths,
        selection=selection,
        format_in=format_in,
        parse=parsing(settings, year, timezone, field_map, reveal_secrets, logsource),
        db=db,
        min_level=min_level or Level.parse(settings.scan.min_level),
        batch_size=settings.scan.batch_size,
        placeholders=settings.sigma.placeholders,
        yara_paths=list(yara_paths),
        geoip=geoip or (Path(settings.scan.geoip) if settings.scan.geoip else None),
        workers=workers,
    )
    with ExitStack() as stack:
        if report_path and db is None:  # the report shows evidence: keep the events in a temporary case
            request.db = (
                Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tocsin-report-"))) / "case.db"
            )
        stream = open_output(stack, output)
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
            else JsonLinesSink(stream, batched=True)
        )
        with ScanProgress(console) as progress:
            shipper = None
            if to_es:  # the cluster clients are imported only by the scans that ship
                from tocsin.cli.es import elastic_sink

                shipper = stack.enter_context(elastic_sink(settings, console))
            raised: list[Alert] = []

            def keep(alert: Alert) -> None:
                sink.write(alert)
                raised.append(alert)

            def batch_done(events: int) -> None:
                sink.flush()
                progress.add_events(events)

            try:
                summary = run_scan(
                    request,
                    keep if respond or timeline else sink.write,
                    batch_done,
                    on_documents=shipper.write if shipper else None,
                    meter=progress.meter,
                )
            except GeoIPUnavailable as exc:
                console.print(f"tocsin: error: {exc}", markup=False)
                raise click.exceptions.Exit(EXIT_USAGE) from None
            except (sqlite3.OperationalError, OSError) as exc:
                if not is_disk_full(exc):
                    raise
                console.print(styled("tocsin: error: disk full ({}): the scan stopped before its end", exc))
                raise click.exceptions.Exit(EXIT_USAGE) from None
        sink.close()
        if timeline:
            from tocsin.timeline import write_timeline

            write_timeline(timeline, [alert.document() for alert in raised])
        if report_path and request.db:
            from tocsin.report import write_scan_report

            write_scan_report(report_path, request.db, summary)
    print_summary(console, summary, verbose)
    if sink.failure:
        console.print(
            styled("tocsin: error: cannot write the alerts to {}: {}", output or "stdout", sink.failure)
        )
        raise click.exceptions.Exit(EXIT_USAGE)
    if respond:
        from tocsin.cli.respond import respond_to

        respond_to(raised, respond == "execute", db, settings)
    explicit_failures = [
        f"{s.name}: {s.error}" for s in summary.read.inputs
        if s.error and s.name in {str(Path(p).absolute()) for p in paths}
    ] + summary.read.unreadable  # fmt: skip
    if explicit_failures:
        console.print(f"tocsin: error: cannot read {explicit_failures[0]}")
        raise click.exceptions.Exit(EXIT_USAGE)
    if strict and (failures := summary.strict_failures()):
        console.print(f"tocsin: error: {'; '.join(failures)} (--strict)")
        raise click.exceptions.Exit(EXIT_USAGE)
    if fail_on is not None and not summary.looked:
        console.print("tocsin: error: nothing was checked, so --fail-on cannot call this run clean")
        raise click.exceptions.Exit(EXIT_USAGE)
    if fail_on is not None and (tripped := summary.tripped(fail_on)):
        print_tripped(console, summary, tripped, fail_on)
        raise click.exceptions.Exit(EXIT_ALERTS)


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
