"""``tocsin watch``: follow live logs, detect continuously, hand alerts over (see docs/watch.md)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from tocsin.cli.options import (
    LevelType,
    format_in_option,
    geoip_option,
    pass_settings,
    respond_option,
    rules_options,
    timezone_option,
    to_es_option,
    yara_option,
)
from tocsin.model.alert import Alert, Level
from tocsin.settings import Settings
from tocsin.terminal import stderr_console


def default_state_dir() -> Path:
    """Where watch keeps its state unless told: the system's state folder for root, else the user's."""
    return Path("/var/lib/tocsin") if os.geteuid() == 0 else Path.home() / ".local/state/tocsin/watch"


def _print_status(state: Path, health: Path | None) -> None:
    from tocsin.watch.service import STATUS_FILE

    path = health or state / STATUS_FILE
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"no status in {path}: {exc}") from None
    alive = document.get("state") == "running" and _alive(int(document.get("pid", 0)))
    age = time.time() - float(document.get("updated", 0))
    click.echo(
        f"{'running' if alive else 'not running'} (pid {document.get('pid')}, updated {age:.0f} s ago): "
        f"{document.get('events', 0):,} events, {document.get('events_per_second', 0)} events/s, "
        f"{document.get('alerts', 0)} alerts"
    )
    if document.get("paused_disk_full"):
        click.echo("paused: disk full, retrying (nothing is lost)")
    last = document.get("last_alert")
    if last:
        click.echo(
            f"last alert: {last['rule']} ({last['level']}) {time.time() - last['delivered']:.0f} s ago, id {last['id']}"
        )
    for source in document.get("sources", []):
        note = f"  [not followed: {source['not_followed']}]" if source.get("not_followed") else ""
        click.echo(f"  {source['path']}: {source['format'] or '-'}, lag {source['lag_bytes']:,} bytes{note}")
    if not alive or age > 30:
        raise click.exceptions.Exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_state_dir,
    show_default="/var/lib/tocsin as root, else ~/.local/state/tocsin/watch",
    help="State directory: offsets, correlation windows, case database, status.",
)
@rules_options
@yara_option
@geoip_option
@format_in_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also append alerts (JSON Lines) to FILE.",
)
@click.option("--min-level", type=LevelType(), help="Deliver only alerts at or above this level.")
@respond_option
@click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), help="Response journal (default: [response] db)."
)
@click.option("--interface", help="Also capture live on this network interface (scapy; root).")
@click.option("--bpf", help="BPF filter of the live capture, e.g. 'port 21 or port 53'.")
@click.option("--no-webhook", is_flag=True, help="Do not post alerts to [webhook] url even when it is set.")
@to_es_option
@click.option("--batch-size", type=int, help="Events per micro-batch, at most (default: [watch] batch_size).")
@click.option(
    "--batch-delay",
    type=float,
    help="Seconds an event may wait for its batch (default: [watch] batch_delay).",
)
@click.option(
    "--health", type=click.Path(dir_okay=False, path_type=Path), help="Also write the status JSON to FILE."
)
@click.option(
    "--status",
    "show_status",
    is_flag=True,
    help="Print the status of the watch using --state and exit (1 if not running).",
)
@timezone_option
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["auto", "human", "jsonl"]),
    default="auto",
    show_default=True,
    help="Alerts on stdout: one line each for people, or JSON Lines (auto: human on a terminal).",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "human", "json"]),
    default="auto",
    show_default=True,
    help="Logs on stderr: readable lines or one JSON object per line (auto: human on a terminal).",
)
@pass_settings
def watch(
    paths: tuple[str, ...],
    state_dir: Path,
    rule_paths: tuple[Path, ...],
    no_builtin_rules: bool,
    no_installed_rules: bool,
    yara_paths: tuple[Path, ...],
    geoip: Path | None,
    format_in: str | None,
    output: Path | None,
    min_level: Level | None,
    respond: str | None,
    db: Path | None,
    interface: str | None,
    bpf: str | None,
    no_webhook: bool,
    to_es: bool,
    batch_size: int | None,
    batch_delay: float | None,
    health: Path | None,
    show_status: bool,
    timezone: str | None,
    log_level: str,
    output_format: str,
    log_format: str,
    settings: Settings,
) -> None:
    """Follow log files, directories and globs (and/or capture on --interface); detect continuously;
    alerts on stdout (a line each on a terminal, else JSON Lines), to -o FILE (JSON Lines) and to [webhook] url when set.

    Offsets and correlation windows are kept in --state, so a restart neither repeats nor
    misses events. SIGTERM/SIGINT stop cleanly, SIGHUP reloads rules.

    \b
    Examples:
      tocsin watch /var/log/auth.log --state /var/lib/tocsin
      tocsin watch '/var/log/okta/*.jsonl' -o alerts.jsonl --respond
      tocsin watch /var/log/auth.log --format jsonl --log-format json | jq .message
      tocsin watch --status --state /var/lib/tocsin
    """
    from tocsin.detectors.sigma.packs import rule_selection
    from tocsin.output import JsonLinesSink
    from tocsin.sources import ParseOptions
    from tocsin.watch.console import HumanAlertSink, HumanLogFormatter
    from tocsin.watch.delivery import AlertFile, Fanout
    from tocsin.watch.service import JsonLogFormatter, WatchOptions, WatchService

    if show_status:
        _print_status(state_dir, health)
        return
    if not paths and not interface:
        raise click.UsageError("give at least one file, directory or glob to watch, or --interface")
    if bpf and not interface:
        raise click.UsageError("--bpf filters a live capture: give --interface too")
    handler = logging.StreamHandler(sys.stderr)
    human_logs = log_format == "human" or (log_format == "auto" and sys.stderr.isatty())
    handler.setFormatter(HumanLogFormatter() if human_logs else JsonLogFormatter())
    logger = logging.getLogger("tocsin.watch")
    logger.handlers[:] = [handler]
    logger.setLevel(log_level.upper())
    logger.propagate = False
    section = settings.watch
    pack_paths, selection = rule_selection(settings.rule_packs, not no_installed_rules)
    options = WatchOptions(
        paths=list(paths),
        state_dir=state_dir,
        rule_paths=[Path(p) for p in settings.scan.rules] + list(rule_paths),
        builtin_rules=settings.scan.builtin_rules and not no_builtin_rules,
        pack_paths=pack_paths,
        selection=selection,
        placeholders=settings.sigma.placeholders,
        format_in=format_in,
        parse=ParseOptions(
            timezone=timezone or settings.scan.timezone,
            max_record_bytes=settings.scan.max_record_bytes,
            web=settings.web,
        ),
        min_level=min_level or Level.parse(settings.scan.min_level),
        batch_size=batch_size or section.batch_size,
        batch_delay=batch_delay if batch_delay is not None else section.batch_delay,
        lateness=section.lateness,
        retention=section.retention_days * 86400,
        health_path=health,
        interface=interface,
        bpf=bpf,
        yara_paths=list(yara_paths),
        geoip=geoip or (Path(settings.scan.geoip) if settings.scan.geoip else None),
    )
    with ExitStack() as stack:
        human = output_format == "human" or (output_format == "auto" and sys.stdout.isatty())
        sinks: list[Any] = [
            HumanAlertSink(sys.stdout, sys.stdout.isatty()) if human else JsonLinesSink(sys.stdout)
        ]
        if output is not None:
            alert_file = AlertFile(output)
            stack.callback(alert_file.close)
            sinks.append(alert_file)
        hook = settings.webhook
        if hook.url and not no_webhook:
            from tocsin.watch.webhook import WebhookSink

            try:
                webhook = WebhookSink(
                    hook.url, state_dir, kind=hook.format, token=hook.token.get_secret_value(),
                    ca_file=hook.ca_file, timeout=hook.timeout,
                )  # fmt: skip
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
            stack.callback(webhook.close)
            sinks.append(webhook)
        ship = None
        if to_es:
            from tocsin.cli.es import elastic_sink

            ship = stack.enter_context(elastic_sink(settings, stderr_console())).write

        def hand_over(alerts: list[Alert]) -> None:
            _hand_over(alerts, respond == "execute", db, settings, logger)

        deliver = Fanout(sinks, hand_over if respond else None)

        from tocsin.detectors.stateful.geo import GeoIPUnavailable
        from tocsin.watch.capture import CaptureError

        try:
            service = WatchService(options, deliver, ship)
        except GeoIPUnavailable as exc:
            raise click.UsageError(str(exc)) from None
        try:
            code = service.run()
        except CaptureError as exc:
            raise click.ClickException(str(exc)) from None
        raise click.exceptions.Exit(code)


def _hand_over(
    alerts: list[Alert], execute: bool, db: Path | None, settings: Settings, logger: logging.Logger
) -> None:
    """The same triage and deduplication as ``tocsin respond``; playbooks are read afresh each time."""
    from tocsin.cli.respond import session

    with session(settings, db, create=execute) as current:
        engine = current.engine
        triage = engine.triage(alerts)
        run = engine.respond(triage) if execute else None
    logger.info(
        "response",
        extra={
            "fields": {
                "proposals": len(triage.proposals),
                "unmatched": len(triage.unmatched),
                "already_handled": len(triage.already_handled),
                "opened": run.opened if run else [],
                "steps": run.steps if run else {},
            }
        },
    )
