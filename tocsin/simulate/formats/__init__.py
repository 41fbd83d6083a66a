"""Record builders in each vendor's own format, and each stream's benign background.

Importing this package imports every module in it, so each registers its background source.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
    importlib.import_module(_module.name)
