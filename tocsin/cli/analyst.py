"""The analyst's commands on a case database: list alerts, show one with its evidence."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tocsin.cli.inputs import open_output
from tocsin.cli.options import output_options, width_option
from tocsin.model.alert import Level
from tocsin.report import write_scan_report
from tocsin.storage.cases import AmbiguousId, CaseStore
from tocsin.storage.sqlite import connect_read_only
from tocsin.tabular import (
    ALERT_COLUMNS,
    EVENT_COLUMNS,
    alert_row,
    alerts_table,
    event_row,
    evidence_table,
    write_csv,
)
from tocsin.terminal import table_console

LEVEL_NAMES = [level.name for level in Level]

db_option = click.option(
    "--db",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Case database written by scan --db.",
)


def open_store(db: Path) -> CaseStore:
    """The case database, read as it is; a file that is not one is a usage error."""
    try:
        connection = connect_read_only(db)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise click.UsageError(f"{db} is not a tocsin case database ({exc})") from None
    if not {"alerts", "events"} <= tables:
        raise click.UsageError(f"{db} is not a tocsin case database (written by scan --db)")
    return CaseStore(connection)


def parse_time(value: str, option: str) -> datetime:
    """An ISO 8601 date or time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected an ISO 8601 time such as 2025-12-10T10:00", param_hint=option
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def filter_alerts(
    documents: Iterable[dict[str, Any]],
    levels: tuple[str, ...] = (),
    min_level: str | None = None,
    rule: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """The alerts that pass every given filter; a correlation passes when its window overlaps the span."""
    floor = Level[min_level] if min_level else Level.informational
    for document in documents:
        row = alert_row(document)
        level = Level[row["level"]]
        if (levels and level.name not in levels) or level < floor:
            continue
        if rule and rule.lower() not in f"{row['rule']}\0{row['rule_id']}".lower():
            continue
        if entity and not _has_entity(row["entities"], entity):
            continue
        if since and _time(row["last_seen"]) < since:
            continue
        if until and _time(row["first_seen"]) > until:
            continue
        yield document


def _has_entity(entities: str, wanted: str) -> bool:
    pairs = [part.partition("=") for part in entities.split(" ")]
    if "=" in wanted:
        name, _, value = wanted.partition("=")
        return any(k == name and v.lower() == value.lower() for k, _, v in pairs)
    return any(v.lower() == wanted.lower() for _, _, v in pairs)


@click.command("alerts")
@db_option
@click.option(
    "--level", "levels", multiple=True, type=click.Choice(LEVEL_NAMES), help="Only this level (repeatable)."
)
@click.option("--min-level", type=click.Choice(LEVEL_NAMES), help="Only alerts at or above this level.")
@click.option("--rule", help="Rule title or id contains this text (case-insensitive).")
@click.option("--entity", help="An entity: NAME=VALUE (user.name=root) or just a value (any entity).")
@click.option("--since", help="Alerts still active at or after this time (ISO 8601, UTC if no zone).")
@click.option("--until", help="Alerts that started at or before this time.")
@output_options(
    "alerts", ["table", "jsonl", "csv"], help="Output (default: table on a terminal, jsonl otherwise)."
)
@click.option("--limit", type=click.IntRange(1), help="At most this many alerts.")
def alerts_command(
    db: Path,
    levels: tuple[str, ...],
    min_level: str | None,
    rule: str | None,
    entity: str | None,
    since: str | None,
    until: str | None,
    output_format: str | None,
    output: Path | None,
    limit: int | None,
    width: int | None,
) -> None:
    """List the alerts of a case database, most severe first.

    \b
    Examples:
      tocsin alerts --db case.db
      tocsin alerts --db case.db --min-level high --entity user.name=root
      tocsin alerts --db case.db --rule "brute force" --since 2025-12-10T10:00 --format csv -o alerts.csv
    """
    store = open_store(db)
    chosen = list(filter_alerts(
        store.alerts(), levels, min_level, rule, entity,
        parse_time(since, "--since") if since else None, parse_time(until, "--until") if until else None,
    ))  # fmt: skip
    chosen.sort(key=lambda doc: (-Level[doc["rule"]["level"]], alert_row(doc)["first_seen"]))
    chosen = chosen[:limit] if limit else chosen
    with ExitStack() as stack:
        stream = open_output(stack, output)
        output_format = output_format or ("table" if output is None and sys.stdout.isatty() else "jsonl")
        if output_format == "table":
            table_console(stream, width).print(alerts_table(chosen, title=f"Alerts in {db.name}"))
        elif output_format == "csv":
            write_csv(stream, ALERT_COLUMNS, map(alert_row, chosen))
        else:
            for document in chosen:
                stream.write(json.dumps(document, separators=(",", ":")) + "\n")
    click.echo(f"{len(chosen)} alert(s) shown", err=True)


@click.command("show")
@click.argument("identifier")
@db_option
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=None,
    help="At most this many evidence events (default: table 50, else all).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "jsonl", "csv"]),
    help="table (the alert and an evidence table), json, jsonl or csv (evidence events); default: table on a terminal, json otherwise.",
)
@width_option
def show(identifier: str, db: Path, limit: int | None, output_format: str | None, width: int | None) -> None:
    """Show an event or an alert with its evidence events; any unique id prefix will do.

    \b
    Examples:
      tocsin show 0724934c41 --db case.db                 # the alert and its evidence, as a table
      tocsin show 0724934c41 --db case.db --format csv --limit 1000 > evidence.csv
      tocsin show 0724934c41 --db case.db --format json   # the alert document and its evidence
    """
    store = open_store(db)
    try:
        found = store.resolve(identifier)
    except AmbiguousId as exc:
        raise click.UsageError(f"{exc} in {db}; give more digits") from None
    if found is None:
        raise click.UsageError(f"no event or alert with id {identifier} in {db}")
    kind, document = found
    output_format = output_format or ("table" if sys.stdout.isatty() else "json")
    if output_format == "table" and limit is None:
        limit = 50
    evidence = [document] if kind == "event" else store.evidence(document, limit)
    total = 1 if kind == "event" else document.get("event_count", len(evidence))
    if output_format == "json":
        click.echo(json.dumps({"alert": document, "evidence": evidence} if kind == "alert" else document,
                              indent=2, default=str))  # fmt: skip
    elif output_format == "jsonl":
        for event in evidence:
            click.echo(json.dumps(event, separators=(",", ":"), default=str))
    elif output_format == "csv":
        write_csv(sys.stdout, EVENT_COLUMNS, map(event_row, evidence))
    else:
        console = table_console(sys.stdout, width)
        if kind == "alert":
            console.print(alerts_table([document], title=None))
            console.print(_alert_facts(document), markup=False, highlight=False)
        console.print(evidence_table(evidence, title=f"Evidence: {len(evidence)} of {total} event(s)"))
    if kind == "alert" and len(evidence) < total:
        why = (
            "--limit"
            if limit is not None and len(evidence) == limit
            else "the alert keeps the first evidence ids only"
        )
        click.echo(f"{len(evidence)} of {total} evidence events shown ({why})", err=True)


def _alert_facts(document: dict[str, Any]) -> str:
    lines = [str(document.get("message", ""))]
    metric = document.get("metric")
    window = document.get("window")
    if metric and window:
        lines.append(
            f"{metric['name']} {metric['value']:g} at the peak of one rule window; "
            f"{document.get('event_count')} events in all, from {window['start']} to {window['end']} "
            "(qualifying windows that overlap merge into one alert)"
        )
    if document.get("evidence_truncated"):
        lines.append(f"evidence ids kept: {len(document.get('evidence', []))} (capped)")
    return "\n".join(lines)


@click.command("report")
@db_option
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write.",
)
def report_command(db: Path, output: Path) -> None:
    """Write a self-contained HTML report of a case database: summary, chart, alerts with evidence.

    \b
    Examples:
      tocsin scan logs/ --db case.db -o /dev/null && tocsin report --db case.db -o report.html
      tocsin scan logs/ --report report.html      # the same in one step
    """
    open_store(db).connection.close()
    try:
        shown = write_scan_report(output, db)
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{output}: {shown} alert(s)", err=True)


COMMANDS = (alerts_command, show, report_command)
