"""Scenarios: each module registers one with ``@scenario``; importing this package imports them all."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
    importlib.import_module(_module.name)
