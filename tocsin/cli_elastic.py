"""Command line for Elasticsearch and rule conversion: ``es setup|hunt|alerts|replay``,
``rules convert``, and the sink behind ``scan --to-es``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sigma.correlations import SigmaCorrelationRule

from tocsin.config import ConfigError, load_config
from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules
from tocsin.elastic.client import ElasticError, ElasticSettings, describe, make_client
from tocsin.elastic.cluster import CLUSTER_ERRORS, Cluster
from tocsin.elastic.convert import convert
from tocsin.elastic.hunting import hunt, parse_since, read_alerts
from tocsin.elastic.kibana import detection_rules, ndjson, saved_objects
from tocsin.elastic.shipping import ScanShipper, Shipper, alert_action
from tocsin.elastic.templates import setup as setup_cluster
from tocsin.model.alert import Level
from tocsin.output import JsonLinesSink, TableSink
from tocsin.terminal import SafeConsole, stderr_console, styled, table_console

LEVELS = click.Choice([level.name for level in Level], case_sensitive=False)
CONFIG_OPTION = click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="Configuration file."
)


def _settings(config_file: Path | None) -> tuple[dict[str, Any], ElasticSettings]:
    try:
        config, _ = load_config(config_file)
        return config, ElasticSettings.from_config(config)
    except (ConfigError, ElasticError) as exc:
        raise click.UsageError(str(exc)) from None


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
def elastic_sink(config: dict[str, Any], console: SafeConsole) -> Iterator[ScanShipper]:
    """``scan --to-es``: replay the spool, ship each batch, then print what happened."""
    try:
        settings = ElasticSettings.from_config(config)
    except ElasticError as exc:
        raise click.UsageError(str(exc)) from None
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
@CONFIG_OPTION
def es_setup(config_file: Path | None) -> None:
    """Create or update index templates, ILM/ISM policies and data streams (idempotent)."""
    _, settings = _settings(config_file)
    client = _client(settings)
    with _cluster_errors(settings):
        changes = setup_cluster(client)
    for change in changes:
        click.echo(str(change))
    changed = sum(1 for change in changes if change.action in ("created", "updated"))
    _console().print(f"{settings.where} ({client.product}): {changed} of {len(changes)} objects changed")


@es.command("hunt")
@click.option(
    "--rules", "rule_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
    help="Sigma rule file or directory (default: the built-in pack).",
)
@click.option("--since", default="24h", show_default=True, help="Duration (24h, 30m, 7d) or ISO 8601 time.")
@click.option("--until", help="End of the range (default: now).")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@click.option("--no-write", is_flag=True, help="Print the alerts without writing them to the alerts data stream.")
@CONFIG_OPTION
def es_hunt(
    rule_paths: tuple[Path, ...],
    since: str,
    until: str | None,
    output_format: str,
    no_write: bool,
    config_file: Path | None,
) -> None:
    """Run Sigma rules over the events on the cluster; the alerts match a local scan's."""
    config, settings = _settings(config_file)
    paths = list(rule_paths) or [builtin_rules_path()]
    placeholders = config["sigma"]["placeholders"]
    try:
        start = parse_since(since)
        end = parse_since(until) if until else datetime.now(UTC)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    client = _client(settings)
    console = _console()
    with _cluster_errors(settings):
        result = hunt(client, load_rules(paths, placeholders), paths, start, end, placeholders)
    _print_alerts(result.alerts, output_format)
    console.print(
        f"hunted {result.rules_hunted} rule queries over {result.events:,} matching events "
        f"from {start.isoformat(timespec='seconds')}: {len(result.alerts)} alerts"
    )
    for problem in result.not_hunted:
        console.print(styled("  [yellow]not hunted[/]: {}", problem))
    if result.alerts and not no_write:
        shipper = Shipper(client, settings)
        shipper.send([alert_action(alert) for alert in result.alerts])
        _report(console, shipper)


@es.command("alerts")
@click.option("--since", default="24h", show_default=True, help="Duration (1h, 7d) or ISO 8601 time.")
@click.option("--min-level", type=LEVELS, default="informational", show_default=True)
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--format", "output_format", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@CONFIG_OPTION
def es_alerts(since: str, min_level: str, limit: int, output_format: str, config_file: Path | None) -> None:
    """Read alerts back from the cluster, newest first."""
    _, settings = _settings(config_file)
    try:
        start = parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    client = _client(settings)
    with _cluster_errors(settings):
        alerts = read_alerts(client, start, Level[min_level.lower()], limit)
    _print_alerts(alerts, output_format)
    _console().print(f"{len(alerts)} alerts since {start.isoformat(timespec='seconds')}")


@es.command("replay")
@CONFIG_OPTION
def es_replay(config_file: Path | None) -> None:
    """Send what earlier runs spooled while the cluster was unreachable."""
    _, settings = _settings(config_file)
    shipper = Shipper(_client(settings), settings)
    shipper.replay()
    _report(_console(), shipper)


def _print_alerts(alerts: list[Any], output_format: str) -> None:
    sink = (
        TableSink(table_console(sys.stdout)) if output_format == "table" else JsonLinesSink(click.get_text_stream("stdout"))
    )
    for alert in alerts:
        sink.write(alert)
    sink.close()


def _opensearch_monitors(paths: list[Path], placeholders: dict[str, list[str]], output: Any, console: SafeConsole) -> list[str]:
    """One Alerting monitor per single-event rule that raises alerts; correlations (and the building
    blocks they count) stay with tocsin's engine (``es hunt``)."""
    failures, monitors, correlations = [], 0, 0
    for converted in convert(paths, "monitor_rule", language="opensearch", placeholders=placeholders):
        if isinstance(converted.rule, SigmaCorrelationRule) or not converted.emits_alerts:
            correlations += 1
        elif converted.error:
            failures.append(f"{converted.rule.title}: {converted.error}")
        else:
            for monitor in converted.query if isinstance(converted.query, list) else [converted.query]:
                output.write(json.dumps(monitor, default=str) + "\n")
                monitors += 1
    console.print(f"{monitors} OpenSearch monitors; {correlations} correlations and building blocks are left to tocsin es hunt")
    return failures


@click.group()
def rules() -> None:
    """Work with Sigma rules."""


@rules.command("convert")
@click.argument("rule_paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATHS]...")
@click.option(
    "--target",
    type=click.Choice(["kibana-ndjson", "kibana-saved-objects", "opensearch-monitor", "lucene", "esql", "eql", "duckdb"]),
    required=True,
    help="kibana-ndjson: Elastic Security detection rules; kibana-saved-objects: data view and dashboard; "
    "opensearch-monitor: OpenSearch Alerting monitors (JSON Lines).",
)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Write to FILE.")
@CONFIG_OPTION
def rules_convert(target: str, rule_paths: tuple[Path, ...], output: Any, config_file: Path | None) -> None:
    """Convert rules for Elasticsearch/Kibana or OpenSearch (pySigma's backends), or show tocsin's DuckDB predicates.

    PATHS are rule files or folders, as for rules list/test/check (default: the built-in pack).
    """
    config, _ = _settings(config_file)
    paths = list(rule_paths) or [builtin_rules_path()]
    placeholders = config["sigma"]["placeholders"]
    console = _console()
    failures: list[str] = []
    if target == "kibana-ndjson":
        objects, failed = detection_rules(paths, placeholders)
        output.write(ndjson(objects))
        failures = [f"{item.rule.title}: {item.error}" for item in failed]
        console.print(f"{len(objects)} detection rules")
    elif target == "kibana-saved-objects":
        output.write(ndjson(saved_objects()))
    elif target == "opensearch-monitor":
        failures = _opensearch_monitors(paths, placeholders, output, console)
    elif target == "duckdb":
        ruleset = load_rules(paths, placeholders)
        for rule in ruleset.detections:
            output.write(f"# {rule.info.title} [{rule.info.id}]\n{rule.predicate}\n\n")
        for correlation in ruleset.correlations:
            output.write(f"# {correlation.info.title} [{correlation.info.id}]\n"
                         f"# {correlation.kind} correlation: evaluated by tocsin's streaming engine\n\n")
        failures = [f"{error.source}: {error.reason}" for error in ruleset.errors]
    else:
        for converted in convert(paths, "default", language=target, placeholders=placeholders):
            if converted.error:
                failures.append(f"{converted.rule.title}: {converted.error}")
                continue
            queries = converted.query if isinstance(converted.query, list) else [converted.query]
            body = "\n".join(q if isinstance(q, str) else json.dumps(q) for q in queries)
            output.write(f"# {converted.rule.title} [{converted.rule.id}]\n{body}\n\n")
    for failure in failures:
        console.print(styled("  [yellow]not converted[/]: {}", failure))
