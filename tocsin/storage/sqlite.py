"""The SQLite connection the Sigma engine works on, with the SQL functions its predicates call."""

from __future__ import annotations

import ipaddress
import sqlite3
from functools import lru_cache
from typing import Any

from tocsin.detectors.sigma.backend import sql_regexp


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


def sql_cidr(value: Any, network: str) -> bool:
    """``tocsin_cidr(value, network)``: True when the address lies in the network (IPv4 or IPv6)."""
    if value is None:
        return False
    try:
        return ipaddress.ip_address(str(value).split("%", 1)[0]) in _network(network)
    except ValueError:
        return False


def connect(path: str) -> sqlite3.Connection:
    """A connection with the functions and settings the engine's SQL relies on."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.create_function("regexp", 2, sql_regexp, deterministic=True)
    connection.create_function("tocsin_cidr", 2, sql_cidr, deterministic=True)
    connection.execute("PRAGMA temp_store=FILE")
    connection.execute("PRAGMA cache_size=-4096")  # 4 MiB: page cache and sorter stay small, spill to disk
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("ATTACH DATABASE ':memory:' AS batch")
    return connection
