"""``tocsin es setup|hunt|alerts|replay`` and the sink behind ``scan --to-es`` and ``watch --to-es``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tocsin.cli.options import pass_settings
from tocsin.detectors.sigma.packs import rule_selection
from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules
from tocsin.elastic.client import ElasticError, ElasticSettings, describe, make_client
from tocsin.elastic.cluster import CLUSTER_ERRORS, Cluster
from tocsin.elastic.hunting import hunt, parse_since, read_alerts
from tocsin.elastic.shipping import ScanShipper, Shipper, alert_action
from tocsin.elastic.templates import setup as setup_cluster
from tocsin.model.alert import Level
from tocsin.output import AlertSink, JsonLinesSink, TableSink
from tocsin.settings import Settings
from tocsin.terminal import SafeConsole, stderr_console, styled, table_console

LEVELS = click.Choice([level.name for level in Level], case_sensitive=False)


def _client(settings: ElasticSettings) -> Cluster:
    try:
        return make_client(settings)
    except ElasticError as exc:
        raise click.UsageError(str(exc)) from None


def _console() -> SafeConsole:
    return stderr_console()


@contextmanager
def _cluster_errors(settings: ElasticSettings) -> Iterator[None]:
    """Cluster failures as one credential-free line and exit status 2."""
    try:
        yield
    except CLUSTER_ERRORS as exc:
        raise click.ClickException(describe(exc, settings)) from None
    except ElasticError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def elastic_sink(config: Settings, console: SafeConsole) -> Iterator[ScanShipper]:
    """``scan --to-es``: replay the spool, ship each batch, then print what happened."""
    settings = ElasticSettings.from_config(config)
    shipper = ScanShipper(Shipper(_client(settings), settings))
    with _cluster_errors(settings):
        shipper.start()
    try:
        yield shipper
    finally:
        _report(console, shipper.shipper)


def _report(console: SafeConsole, shipper: Shipper) -> None:
    shipper.close()
    stats = shipper.stats
    console.print(f"{shipper.cluster.product}: {stats}")
    if shipper.offline_reason:
        console.print(styled("  [yellow]cluster unavailable[/]: {}", shipper.offline_reason))
    if stats.spooled:
        console.print(f"  spooled to {shipper.spool.directory}: sent on the next run that ships")
    if stats.dead_lettered:
        console.print(styled("  [yellow]rejected documents[/] written to {}", shipper.dead_letter_path))


@click.group()
def es() -> None:
    """Elasticsearch or OpenSearch: prepare the cluster, hunt on it, read alerts back."""


@es.command("setup")
@pass_settings
def es_setup(settings: Settings) -> None:
    """Create or update index templates, ILM/ISM policies and data streams (idempotent)."""
    cluster = ElasticSettings.from_config(settings)
    client = _client(cluster)
    with _cluster_errors(cluster):
        changes = setup_cluster(client)
    for change in changes:
        click.echo(str(change))
    changed = sum(1 for change in changes if change.action in ("created", "updated"))
    _console().print(f"{cluster.where} ({client.product}): {changed} of {len(changes)} objects changed")


@es.command("hunt")
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Sigma rule file or directory (default: the built-in pack and the installed rule packs).",
)
@click.option("--since", default="24h", show_default=True, help="Duration (24h, 30m, 7d) or ISO 8601 time.")
@click.option("--until", help="End of the range (default: now).")
@click.option(
    "--format", "output_format", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True
)
@click.option(
    "--no-write", is_flag=True, help="Print the alerts without writing them to the alerts data stream."
)
@pass_settings
def es_hunt(
    rule_paths: tuple[Path, ...],
    since: str,
    until: str | None,
    output_format: str,
    no_write: bool,
    settings: Settings,
) -> None:
    """Run Sigma rules over the events on the cluster; the alerts match a local scan's."""
    cluster = ElasticSettings.from_config(settings)
    pack_paths, selection = rule_selection(settings.rule_packs, not rule_paths)
    paths = list(rule_paths) or [builtin_rules_path(), *pack_paths]
    placeholders = settings.sigma.placeholders
    try:
        start = parse_since(since)
        end = parse_since(until) if until else datetime.now(UTC)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    client = _client(cluster)
    console = _console()
    with _cluster_errors(cluster):
        result = hunt(client, load_rules(paths, placeholders, selection), paths, start, end, placeholders)
    _print_alerts(result.alerts, output_format)
    console.print(
        f"hunted {result.rules_hunted} rule queries over {result.events:,} matching events "
        f"from {start.isoformat(timespec='seconds')}: {len(result.alerts)} alerts"
    )
    for problem in result.not_hunted:
        console.print(styled("  [yellow]not hunted[/]: {}", problem))
    if result.alerts and not no_write:
        shipper = Shipper(client, cluster)
        shipper.send([alert_action(alert) for alert in result.alerts])
        _report(console, shipper)


@es.command("alerts")
@click.option("--since", default="24h", show_default=True, help="Duration (1h, 7d) or ISO 8601 time.")
@click.option("--min-level", type=LEVELS, default="informational", show_default=True)
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option(
    "--format", "output_format", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True
)
@pass_settings
def es_alerts(since: str, min_level: str, limit: int, output_format: str, settings: Settings) -> None:
    """Read alerts back from the cluster, newest first."""
    cluster = ElasticSettings.from_config(settings)
    try:
        start = parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    client = _client(cluster)
    with _cluster_errors(cluster):
        alerts = read_alerts(client, start, Level[min_level.lower()], limit)
    _print_alerts(alerts, output_format)
    _console().print(f"{len(alerts)} alerts since {start.isoformat(timespec='seconds')}")


@es.command("replay")
@pass_settings
def es_replay(settings: Settings) -> None:
    """Send what earlier runs spooled while the cluster was unreachable."""
    cluster = ElasticSettings.from_config(settings)
    shipper = Shipper(_client(cluster), cluster)
    shipper.replay()
    _report(_console(), shipper)


def _print_alerts(alerts: list[Any], output_format: str) -> None:
    stdout = sys.stdout
    sink: AlertSink = TableSink(table_console(stdout)) if output_format == "table" else JsonLinesSink(stdout)
    for alert in alerts:
        sink.write(alert)
    sink.close()
