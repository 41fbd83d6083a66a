"""``tocsin config show`` and ``tocsin formats``: what tocsin is set to do and can read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tocsin.cli.options import pass_settings

if TYPE_CHECKING:
    from tocsin.settings import Settings


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@pass_settings
def config_show(settings: Settings) -> None:
    """Print the effective configuration (defaults, file, environment), secrets masked."""
    from tocsin.settings import to_toml

    click.echo(f"# from: {settings.source or 'defaults'} + TOCSIN_* environment\n" + to_toml(settings))


@click.command()
def formats() -> None:
    """List the input formats tocsin reads."""
    from tocsin.sources import PARSERS

    for name, parser in sorted(PARSERS.items()):
        click.echo(f"{name:18} {parser.description}")
