"""Parsers: one module per input format; ``formats.PARSERS`` names them all."""

from tocsin.sources.base import InputSource, InputStats, ParseOptions, Parser, UnreadableInput
from tocsin.sources.formats import PARSERS

__all__ = ["PARSERS", "InputSource", "InputStats", "ParseOptions", "Parser", "UnreadableInput"]
