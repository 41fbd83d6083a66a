"""Template rendering in Jinja2's sandbox.

Templates come only from playbook files and template folders; alert fields are
only ever *values* in the context. A rendered string is never rendered again,
so ``{{ 7*7 }}`` in a user name stays those nine characters. Every value a file
template prints is escaped for the file's type: HTML by autoescape, and in
text (``.txt.j2``: e-mail) and Markdown (``.md.j2``) a value is one line — its
newlines and control characters shown, never a forged heading or header — and
Markdown's own characters are backslash-escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, FileSystemLoader, TemplateError, pass_context, select_autoescape
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from tocsin.terminal import visible

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Templates escaped as HTML/XML: by the type before ".j2" too, so "report.html.j2" is escaped.
MARKUP_SUFFIXES = ("html", "htm", "xml", "svg", "html.j2", "htm.j2", "xml.j2", "svg.j2")


class RenderError(ValueError):
    """A template that does not compile or fails to render."""


@cache
def _strings() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=True)


def render(source: str, context: dict[str, Any]) -> str:
    """Render a playbook string (a ``with`` value or input) against ``context``."""
    try:
        return _strings().from_string(source).render(context)
    except TemplateError as exc:
        raise RenderError(f"template {source!r}: {exc}") from None


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside ``value`` (lists and mappings included); other values pass as they are."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    return value


def evaluate(expression: str, context: dict[str, Any]) -> bool:
    """The truth of a ``when`` expression such as ``alert.user.name is defined``."""
    try:
        return bool(_strings().compile_expression(expression, undefined_to_none=True)(**context))
    except TemplateError as exc:
        raise RenderError(f"condition {expression!r}: {exc}") from None


def check_syntax(source: str, expression: bool = False) -> str | None:
    """None when ``source`` compiles, else the reason."""
    try:
        if expression:
            _strings().compile_expression(source)
        else:
            _strings().parse(source)
    except TemplateError as exc:
        return str(exc)
    return None


def render_file(name: str, suffix: str, context: dict[str, Any], folders: Sequence[Path] = ()) -> str:
    """Render the named template (``name`` + ``suffix``) from the configured folders, then the built-in one.

    The name must be a plain slug, so no value can point the loader outside those folders.
    """
    if not TEMPLATE_NAME.match(name):
        raise RenderError(f"template name {name!r}: use lower-case letters, digits and dashes")
    environment = _files(tuple(str(folder) for folder in (*folders, BUILTIN_TEMPLATES)))
    try:
        return environment.get_template(name + suffix).render(context)
    except TemplateError as exc:
        raise RenderError(f"template {name}{suffix}: {exc}") from None


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")
_MARKDOWN_LINE_START = re.compile(r"^([-+=>]|\d+[.)])")


@pass_context
def _one_line_values(context: Context, value: Any) -> Any:
    """Each value printed by a text or Markdown template: one line, Markdown characters escaped."""
    name = context.name or ""
    if isinstance(value, Markup) or not name.endswith((".txt.j2", ".md.j2")):
        return value
    text = visible(value, lines=False)
    if name.endswith(".md.j2"):
        text = _MARKDOWN_LINE_START.sub(r"\\\1", _MARKDOWN_SPECIAL.sub(r"\\\1", text))
    return text


@cache
def _files(folders: tuple[str, ...]) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(list(folders)),
        undefined=ChainableUndefined,
        autoescape=select_autoescape(MARKUP_SUFFIXES, default=False),
        finalize=_one_line_values,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
