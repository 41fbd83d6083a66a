"""``tocsin events``: the normalized (ECS) events of inputs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import ExitStack
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from tocsin.cli import EXIT_USAGE
from tocsin.cli.inputs import check_paths, open_output, parsing
from tocsin.cli.options import LazyChoice, output_options, parse_options, pass_settings, reveal_secrets_option

if TYPE_CHECKING:
    from tocsin.model.event import Event
    from tocsin.settings import Settings


def _event_categories() -> Any:
    from tocsin.sources.pcap.events import EVENT_CATEGORIES

    return EVENT_CATEGORIES


@click.command()
@click.argument("paths", nargs=-1, required=True)
@output_options(
    "events",
    ["jsonl", "table", "csv"],
    help="Event output (csv: formula-safe for spreadsheets).",
    default="jsonl",
)
@click.option("--limit", type=int, help="Stop after this many events.")
@click.option(
    "--category",
    "categories",
    multiple=True,
    type=LazyChoice(_event_categories),
    help="Only network events of this kind (repeatable).",
)
@parse_options
@reveal_secrets_option
@pass_settings
def events(
    paths: tuple[str, ...],
    output_format: str,
    output: Path | None,
    width: int | None,
    limit: int | None,
    categories: tuple[str, ...],
    format_in: str | None,
    year: int | None,
    timezone: str | None,
    field_map: tuple[str, ...],
    logsource: str | None,
    reveal_secrets: bool,
    settings: Settings,
) -> None:
    """Print the normalized (ECS) events of inputs: what rules are written against."""
    from tocsin.output import print_not_logs
    from tocsin.scan import ReadSummary, read_events
    from tocsin.sources.pcap.events import event_category
    from tocsin.tabular import EVENT_COLUMNS, event_row, write_csv
    from tocsin.terminal import stderr_console, styled

    check_paths(paths, output=output)
    read = ReadSummary()
    stream_of_events = read_events(
        list(paths), format_in, parsing(settings, year, timezone, field_map, reveal_secrets, logsource), read
    )
    if categories:
        stream_of_events = (e for e in stream_of_events if event_category(e) in categories)
    with ExitStack() as stack:
        stream = open_output(stack, output)
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
    console = stderr_console()
    console.print(f"{read.events:,} events from {len(read.inputs)} input(s)")
    for problem in read.failed_inputs:
        console.print(styled("  [yellow]not read[/]: {}", problem))
    print_not_logs(console, read, verbose=False)
    for reason, count in read.skipped.most_common():
        console.print(styled("  [yellow]skipped[/] {:,}: {}", count, reason))
    if read.unreadable:
        raise click.exceptions.Exit(EXIT_USAGE)


def _events_table(
    stream: IO[str], events_iter: Iterable[Event], limit: int | None, width: int | None
) -> None:
    from rich.table import Table

    from tocsin.terminal import table_console

    table = Table(header_style="bold")
    for column in ("@timestamp", "event.action", "outcome", "user.name", "source.ip", "host.name", "message"):
        table.add_column(column, overflow="fold")
    for count, event in enumerate(events_iter, start=1):
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
