"""The DuckDB connection single-event Sigma predicates run on, vectorized over a batch's columns.

Why DuckDB: it evaluates a predicate over a whole column at a time (the old engine inserted
every event into SQLite row by row), reads Arrow columns without copying them, has no
practical column limit, and its regular expressions are RE2's, which run in linear time, so
no rule can make a scan hang on a long line. SQLite stays where it is the right tool: the
correlation candidates, the case database, the watch state, the response journal.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.sqltypes import BOOLEAN, VARCHAR

#: The records as read, for keyword searches.
RAW_COLUMN = "tocsin_raw"
#: Suffix of a derived column: the field's IPv4 address as an integer (NULL when it is none).
IPV4_SUFFIX = "#ipv4"
#: The candidate tables' event time and event id.
TIMESTAMP_COLUMN = "tocsin_ts"
EVENT_ID_COLUMN = "tocsin_eid"

_MACROS = (
    # A finite number written as text, else NULL: junk never compares as 0.
    """CREATE MACRO tocsin_number(s) AS CASE WHEN isfinite(TRY_CAST(trim(s) AS DOUBLE))
        THEN TRY_CAST(trim(s) AS DOUBLE) END""",
)


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


@lru_cache(maxsize=65536)
def in_network(value: str | None, network: str) -> bool:
    """True when ``value`` is an address (a zone suffix allowed) inside ``network``."""
    if value is None:
        return False
    try:
        return ipaddress.ip_address(value.split("%", 1)[0]) in _network(network)
    except ValueError:
        return False


#: A dotted-quad IPv4 address as Python's ``ipaddress`` accepts it (no leading zeros).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"


def ipv4_numbers(texts: pa.Array) -> pa.Array:
    """Each text's IPv4 address as an integer, null for anything else (the cidr modifier's derived
    column), computed a column at a time."""
    valid = pc.fill_null(pc.match_substring_regex(texts, _IPV4), False)
    octets = pc.split_pattern(pc.if_else(valid, texts, pa.scalar(None, pa.string())), ".")
    total = pc.cast(pc.list_element(octets, 0), pa.int64())
    for position in (1, 2, 3):
        total = pc.add(pc.multiply(total, 256), pc.cast(pc.list_element(octets, position), pa.int64()))
    return total


def _cidr_column(values: pa.Array, networks: pa.Array) -> pa.Array:
    """``tocsin_cidr`` over a vector (the predicates call it for IPv6 networks only)."""
    pairs = zip(values.to_pylist(), networks.to_pylist(), strict=True)
    return pa.array([in_network(value, network) for value, network in pairs], pa.bool_())


def connect_columnar(threads: int = 1) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the functions tocsin's predicates call."""
    connection = duckdb.connect(":memory:", config={"threads": threads})
    for macro in _MACROS:
        connection.execute(macro)
    # The stubs take only the enums for ``type``/``null_handling``, whose module moved between duckdb
    # releases (``duckdb.functional`` -> ``duckdb.func``); every release accepts the strings.
    connection.create_function(  # type: ignore[call-overload]
        "tocsin_cidr",
        _cidr_column,
        [VARCHAR, VARCHAR],
        BOOLEAN,
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
    return connection


def probe_predicate(connection: duckdb.DuckDBPyConnection, predicate: str, columns: list[str]) -> str | None:
    """Bind ``predicate`` against an empty table of ``columns``; DuckDB's reason if it refuses it.

    Binding compiles every constant regular expression, so a pattern RE2 cannot run (a
    back-reference, a look-around) is refused here, at load time, with its reason.
    """
    try:
        connection.execute(f"SELECT 1 FROM (SELECT {_nulls(columns)}) AS probe WHERE {predicate}")
    except duckdb.Error as exc:
        return " ".join(str(exc).split())
    return None


def _nulls(columns: list[str]) -> str:
    return ", ".join(
        f"CAST(NULL AS {'BIGINT' if column.endswith(IPV4_SUFFIX) else 'VARCHAR'}) AS {quote_identifier(column)}"
        for column in columns
    )


def quote_identifier(name: str) -> str:
    """A DuckDB identifier for a field name (dots and quotes included)."""
    return '"' + name.replace('"', '""') + '"'


def unique_columns(names: Any) -> list[str]:
    """Field names without the ones that differ only in case (DuckDB, like Sigma, ignores case)."""
    seen: dict[str, str] = {}
    for name in sorted(names):
        seen.setdefault(name.lower(), name)
    return sorted(seen.values())
