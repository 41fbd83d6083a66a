"""What the commands reading inputs share: checking paths, parse options from settings, the output."""

from __future__ import annotations

import contextlib
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tocsin.settings import Settings
    from tocsin.sources import ParseOptions


def check_paths(paths: tuple[str, ...], **outputs: Path | None) -> None:
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


def _field_map(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target or not source:
            raise click.BadParameter(f"{pair!r}: expected ECS_FIELD=SOURCE_FIELD", param_hint="--map")
        mapping[target.strip()] = source.strip()
    return mapping


def parsing(
    settings: Settings,
    year: int | None = None,
    timezone: str | None = None,
    field_map: tuple[str, ...] = (),
    reveal_secrets: bool = False,
    logsource: str | None = None,
) -> ParseOptions:
    """How inputs are parsed: the parse options given (see ``options.parse_options``), else ``[scan]``."""
    from tocsin.sources import ParseOptions
    from tocsin.sources.logsource import forced_logsource

    try:
        forced = forced_logsource(logsource) if logsource else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--logsource") from None
    return ParseOptions(
        year=year,
        timezone=timezone or settings.scan.timezone,
        max_record_bytes=settings.scan.max_record_bytes,
        field_map=_field_map(field_map),
        reveal_secrets=reveal_secrets,
        logsource=forced,
        web=settings.web,
    )


def open_output(stack: ExitStack, output: Path | None) -> IO[str]:
    """``output`` created private (0600), closed when ``stack`` closes; stdout when None."""
    from tocsin.tabular import open_private

    if output is None:
        return sys.stdout
    try:
        stream = open_private(output)
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror}") from None
    stack.callback(_close_quietly, stream)
    return stream


def _close_quietly(stream: IO[str]) -> None:
    """Close an output whose sink has flushed it and reported any write failure (a full disk)."""
    with contextlib.suppress(OSError):
        stream.close()
