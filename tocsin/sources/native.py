"""The ``tocsin_native`` extension, when installed, and its columns as Arrow arrays.

The extension (``native/``, Rust: ``pip install ./native``; the README's test command builds it)
reads JSON Lines (``flatjson``) and syslog lines (``syslog_columns``) a batch at a time into
columns. Without it, those inputs are read record by record, as exactly but more slowly.
"""

from __future__ import annotations

import importlib
from typing import Any

import pyarrow as pa

NATIVE: Any
try:
    NATIVE = importlib.import_module("tocsin_native")
except ImportError:  # not built
    NATIVE = None


def text_array(column: Any, rows: int) -> pa.Array:
    """A column the extension read (Arrow's large-string buffers and null count) as an array."""
    buffers = [pa.py_buffer(column.valid), pa.py_buffer(column.offsets), pa.py_buffer(column.data)]
    return pa.Array.from_buffers(pa.large_string(), rows, buffers, null_count=column.nulls)
