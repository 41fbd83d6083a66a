"""The user's cache folder for compiled rules (``$XDG_CACHE_HOME/tocsin``, else ``~/.cache/tocsin``).

What is cached there is run by later commands (SQL predicates, compiled YARA rules), so a folder
is used only when it is private: created 0700, owned by the user running tocsin and writable by
no one else. Entries are written 0600, whole (a temporary file renamed into place).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def cache_dir(name: str) -> Path:
    """The cache folder of ``name`` (``sigma``, ``yara``), not created."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tocsin" / name


def private_cache_dir(name: str) -> Path | None:
    """The cache folder of ``name``, created 0700 if missing; None when it cannot be made or is not
    private (another owner, or writable by group or others)."""
    folder = cache_dir(name)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.stat()
    except OSError:
        return None
    if status.st_uid != os.getuid() or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return folder


def write_private(path: Path, data: bytes) -> None:
    """Write ``path`` whole, 0600: a reader sees the old entry or the new one, never a part."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
