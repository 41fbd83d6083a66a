"""Terminal output that log content can neither style, link nor control.

Every console tocsin prints to is a :class:`SafeConsole`: a plain string given to it (printed, or a
table cell) is shown as it is — no Rich markup, no emoji codes — with control characters made
visible, so a user name such as ``[/bold]``, ``[link=…]`` or an ESC sequence is printed, never
interpreted. Styles come only from :func:`styled`, whose template is tocsin's own and whose values
are escaped.
"""

from __future__ import annotations

import re
import string
import sys
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

# C0 and C1 controls (ESC, BEL, CR, backspace, NUL...), DEL, line and paragraph separators and the
# bidirectional overrides that reorder what a reader sees. Tab and newline are kept in tocsin's own
# text; inside a value (see ``visible(..., lines=False)``) they are shown too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Width of tables written to files or pipes: wide enough that no row is folded.
FILE_WIDTH = 4096


def _show(match: re.Match[str]) -> str:
    char = match[0]
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(value: Any, lines: bool = True) -> str:
    """``value`` as text with control characters written out (``\\x1b``); newlines and tabs kept
    only when ``lines``."""
    return (_CONTROL if lines else _CONTROL_OR_NEWLINE).sub(_show, str(value))


class _EscapingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return escape(visible(super().format_field(value, format_spec), lines=False))


_FORMATTER = _EscapingFormatter()


def styled(template: str, *values: Any, **named: Any) -> Text:
    """Rich text from tocsin's own markup ``template`` (``str.format`` fields) and untrusted values:
    each value is formatted, its control characters and newlines made visible and its markup escaped.
    """
    return Text.from_markup(_FORMATTER.format(template, *values, **named), emoji=False)


class SafeConsole(Console):
    """A Rich console on which strings are literal text, one line, with control characters made visible."""

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False, highlight=False)
        return super().render_str(visible(text, lines=False), **options)


def console(**options: Any) -> SafeConsole:
    """The console for ``options`` (``stderr=True``, ``file=...``, ``width=...``), never highlighting."""
    return SafeConsole(highlight=False, **options)


def stderr_console() -> SafeConsole:
    """Messages on stderr: wrapped to a terminal, never hard-wrapped in files and CI logs."""
    return console(stderr=True, soft_wrap=not sys.stderr.isatty())


def table_console(stream: IO[str], width: int | None = None) -> SafeConsole:
    """A console for tables: the terminal's width, ``width``, or full width for files and pipes."""
    if width is None and not (hasattr(stream, "isatty") and stream.isatty()):
        width = FILE_WIDTH
    return console(file=stream, width=width)
