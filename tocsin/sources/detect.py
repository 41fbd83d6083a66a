"""Choosing the parser for an input: forced with ``--format-in``, or sniffed from its first bytes."""

from __future__ import annotations

from tocsin.sources.base import InputSource, Parser, Sample, UnreadableInput
from tocsin.sources.formats import PARSERS
from tocsin.sources.inputs import read_head

#: Below this confidence no parser is trusted with an input.
MIN_CONFIDENCE = 20


def detect_format(source: InputSource, forced: str | None = None) -> type[Parser] | None:
    """The parser class for ``source``; None for an empty input.

    Raises UnreadableInput when no parser recognises the content.
    """
    if forced:
        try:
            return PARSERS[forced]
        except KeyError:
            raise UnreadableInput(
                f"unknown input format {forced!r} (known: {', '.join(sorted(PARSERS))})"
            ) from None
    head = read_head(source)
    if head[:1].isspace() and (not head.strip() or _best(Sample(source.name, head))[0] < MIN_CONFIDENCE):
        # Blank lines first (a binary magic such as pcapng's may start with CR/LF bytes: tried above).
        head = read_head(source, after_blank_lines=True)
    if not head.strip():
        return None
    score, parser = _best(Sample(source.name, head))
    if score < MIN_CONFIDENCE:
        preview = head[:40].decode("utf-8", "replace").encode("unicode_escape").decode()
        raise UnreadableInput(
            f"{source.name}: unrecognised format (starts with {preview!r}); use --format-in"
        )
    return parser


def _best(sample: Sample) -> tuple[int, type[Parser]]:
    """The most confident parser for ``sample`` with its confidence."""
    return max(((cls.sniff(sample), cls) for cls in PARSERS.values()), key=lambda pair: pair[0])
