"""Parsers: each module registers the formats it reads (see ``base.register``).

Importing this package imports every module in it, so a new format is added
by dropping a module here; nothing else needs to know about it.
"""

import importlib
import pkgutil

from tocsin.sources.base import PARSERS, InputSource, InputStats, ParseOptions, Parser, UnreadableInput

for _module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
    importlib.import_module(_module.name)

__all__ = ["PARSERS", "InputSource", "InputStats", "ParseOptions", "Parser", "UnreadableInput"]
