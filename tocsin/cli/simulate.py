"""``tocsin simulate`` (labelled attack data) and ``tocsin evaluate`` (how well tocsin finds it)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from tocsin.cli.options import rules_option
from tocsin.evaluation import evaluate_directory
from tocsin.evaluation.report import document, print_tables
from tocsin.simulate.scenarios import SCENARIOS
from tocsin.simulate.simulation import DEFAULT_START, Settings, generate
from tocsin.terminal import stderr_console, table_console

EXIT_BELOW_AIM = 1


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date (2026-03-02)", param_hint="--start") from None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC)


@click.command()
@click.argument("scenario", type=click.Choice([*sorted(SCENARIOS), "all"]))
@click.option(
    "--seed", type=int, required=True, help="Random seed: the same seed gives byte-identical output."
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output directory."
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Multiplies users and background volume (and attack instances above 1).",
)
@click.option(
    "--start", default=DEFAULT_START.date().isoformat(), show_default=True, help="First simulated day (UTC)."
)
@click.option("--days", type=click.IntRange(min=2), default=7, show_default=True, help="Simulated days.")
def simulate(scenario: str, seed: int, out: Path, scale: float, start: str, days: int) -> None:
    """Generate realistic, labelled logs and captures of attack SCENARIO (or all) with their ground truth."""
    settings = Settings(seed=seed, scale=scale, start=_date(start), days=days)
    console = stderr_console()
    for name in sorted(SCENARIOS) if scenario == "all" else [scenario]:
        truth = generate(SCENARIOS[name], settings, out / name)
        records = sum(file.records for file in truth.files.values())
        console.print(
            f"{name}: {len(truth.attacks)} attack instance(s), {records:,} records in {len(truth.files)} file(s)"
        )


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@rules_option
@click.option(
    "--min-precision", type=click.FloatRange(0, 1), help="Exit 1 if a scenario's precision is lower."
)
@click.option("--min-recall", type=click.FloatRange(0, 1), help="Exit 1 if a scenario's recall is lower.")
def evaluate(
    directory: Path,
    output_format: str,
    rule_paths: tuple[Path, ...],
    min_precision: float | None,
    min_recall: float | None,
) -> None:
    """Scan simulated scenarios (from tocsin simulate) and score precision, recall and time to detect."""
    console = stderr_console()
    scores = evaluate_directory(directory, list(rule_paths), lambda name: console.print(f"scanning {name}"))
    if not scores:
        raise click.UsageError(f"no ground_truth.json under {directory}: run tocsin simulate first")
    if output_format == "json":
        click.echo(json.dumps(document(scores), indent=2))
    else:
        print_tables(table_console(sys.stdout), scores)
    below = [
        s.scenario
        for s in scores
        if (min_precision is not None and (s.precision or 0.0) < min_precision)
        or (min_recall is not None and (s.recall or 0.0) < min_recall)
    ]
    if below:
        console.print(f"below the aim: {', '.join(below)}")
        raise click.exceptions.Exit(EXIT_BELOW_AIM)


COMMANDS = (simulate, evaluate)
