"""Options several commands share, declared once, and ``pass_settings``.

Nothing heavy is imported here: the root help is built from modules that use these.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tocsin.model.alert import Level

Decorator = Callable[[Any], Any]


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


class LevelType(click.ParamType):
    """An alert level by name (``high``), any case."""

    name = "level"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Level:
        from tocsin.model.alert import Level

        if isinstance(value, Level):
            return value
        try:
            return Level.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _parser_names() -> Any:
    from tocsin.sources import PARSERS

    return PARSERS


def bundle(*options: Decorator) -> Decorator:
    """One decorator applying ``options`` in the order given (as if stacked above the function)."""

    def apply(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


config_option = click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="Configuration file."
)

#: ``--rules``, ``--no-builtin-rules`` and ``--no-installed-rules``: the rules a detection runs.
rules_option = click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Sigma rule file or directory, in addition to the built-in pack (repeatable).",
)
rules_options = bundle(
    rules_option,
    click.option("--no-builtin-rules", is_flag=True, help="Do not load the built-in rule pack."),
    click.option(
        "--no-installed-rules", is_flag=True, help="Do not load the rule packs of `tocsin rules install`."
    ),
)

format_in_option = click.option(
    "--format-in", type=LazyChoice(_parser_names), help="Input format (default: detected per file)."
)


def _time_zone(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if value:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise click.BadParameter(f"{value!r}: unknown time zone") from None
    return value


timezone_option = click.option(
    "--timezone", callback=_time_zone, help="Time zone of syslog timestamps without one (default: UTC)."
)
#: How inputs are parsed: ``--format-in``, ``--year``, ``--timezone``, ``--map``, ``--logsource``.
parse_options = bundle(
    format_in_option,
    click.option(
        "--year", type=int, help="Year of the first syslog line (default: inferred from file time)."
    ),
    timezone_option,
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
        help="The Sigma log source of generic JSON/CSV inputs that do not name one "
        "(e.g. product=linux,service=sshd).",
    ),
)
reveal_secrets_option = click.option(
    "--reveal-secrets",
    is_flag=True,
    help="Forensics: also write captured passwords in clear (default: masked and hashed only).",
)

#: What a detection does beside Sigma rules, and where its alerts go (scan and watch).
yara_option = click.option(
    "--yara",
    "yara_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="YARA rule file or directory, run over capture payloads and files (repeatable).",
)
geoip_option = click.option(
    "--geoip",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="MaxMind City database: locate logins the sources do not (needs tocsin[geoip]).",
)
respond_option = click.option(
    "--respond",
    type=click.Choice(["plan", "execute"]),
    is_flag=False,
    flag_value="plan",
    help="Hand the alerts to response: --respond plans, --respond=execute acts.",
)
to_es_option = click.option(
    "--to-es", is_flag=True, help="Also send events and alerts to Elasticsearch (see tocsin es)."
)

width_option = click.option(
    "--width", type=click.IntRange(40), help="Table width (default: the terminal's, full width in files)."
)


def output_options(what: str, formats: Sequence[str], help: str, default: str | None = None) -> Decorator:
    """``--format`` (one of ``formats``), ``-o/--output FILE`` and ``--width`` of a command writing ``what``."""
    return bundle(
        click.option(
            "--format",
            "output_format",
            type=click.Choice(list(formats)),
            default=default,
            show_default=default is not None,
            help=help,
        ),
        click.option(
            "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help=f"Write {what} to FILE."
        ),
        width_option,
    )


def pass_settings(function: Any) -> Any:
    """Give the command a ``--config`` option and its loaded ``settings``; a configuration that cannot
    be used is a usage error (exit 2)."""

    @functools.wraps(function)
    def load(*args: Any, config_file: Path | None, **kwargs: Any) -> Any:
        from tocsin.settings import ConfigError, load_settings

        try:
            settings = load_settings(config_file)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        return function(*args, settings=settings, **kwargs)

    return config_option(load)
