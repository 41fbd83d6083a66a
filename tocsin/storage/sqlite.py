"""SQLite connections: every database tocsin keeps is opened here, with its PRAGMAs.

* ``connect``: the engine's working database (``scan --db``, ``watch``'s ``state.db``) — page cache
  and sorter kept small, spilling to disk; a batch schema in memory; durable commits on request.
* ``connect_journal``: the response journal — every commit on disk, shared between processes.
* ``connect_read_only``: an existing database for look-ups (``show``, ``report``), never created.

A database file is created 0600 (SQLite gives its ``-wal`` and ``-shm`` files the same mode): it
holds events, alerts and incidents.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from contextlib import suppress
from pathlib import Path

MEMORY = ":memory:"


def quote_name(name: str) -> str:
    """A SQLite identifier for ``name`` (a field name with dots or quotes), as pySigma's SQLite backend
    quotes one."""
    return "`" + name.replace("`", "``") + "`"


def connect(path: str | Path, durable: bool = False) -> sqlite3.Connection:
    """The engine's connection; ``durable``: a commit is on disk when it returns (WAL, synchronous
    NORMAL), otherwise the file is rebuilt by running again and may lose its last commits."""
    connection = sqlite3.connect(_private(path), isolation_level=None)
    connection.execute("PRAGMA temp_store=FILE")
    connection.execute("PRAGMA cache_size=-4096")  # 4 MiB: page cache and sorter stay small, spill to disk
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
    connection.execute("ATTACH DATABASE ':memory:' AS batch")
    return connection


def connect_journal(path: Path) -> sqlite3.Connection:
    """The journal's connection: every commit on disk (synchronous FULL), waiting up to 30 s for
    another process's transaction; raises ``sqlite3.Error``."""
    connection = sqlite3.connect(_private(path), isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


def connect_read_only(path: Path) -> sqlite3.Connection:
    """An existing database, read as it is; raises ``sqlite3.Error`` when there is none."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _private(path: str | Path) -> str:
    """``path`` as SQLite takes it, the file created 0600 first when it does not exist yet (any
    other problem is left for SQLite to report, as an ``sqlite3.Error``)."""
    name = str(path)
    if name != MEMORY:
        with suppress(OSError):  # FileExistsError included: an existing database keeps its mode
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return name


#: SQLite's result code for "database or disk is full".
SQLITE_FULL = 13


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is a full disk: a file write, or SQLite writing its database or journal."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL or "database or disk is full" in str(exc)
    return False
