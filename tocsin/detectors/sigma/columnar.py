"""The DuckDB connection single-event Sigma predicates run on, vectorized over a batch's columns.

Why DuckDB: it evaluates a predicate over a whole column at a time (the old engine inserted
every event into SQLite row by row), reads Arrow columns without copying them, has no
practical column limit, and its regular expressions are RE2's, which run in linear time, so
no rule can make a scan hang on a long line. SQLite stays where it is the right tool: the
correlation candidates, the case database, the watch state, the response journal.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import duckdb
import pyarrow as pa

from tocsin.memo import bounded_cache

#: The records as read, for keyword searches.
RAW_COLUMN = "tocsin_raw"
#: Each row's position in a batch table: the engine's query reports a rule's matches by it, so no
#: rule may read a field of that name (the compiler refuses one that does).
POSITION_COLUMN = "tocsin_position"
#: Suffixes of derived columns: the field's IPv4 address as an integer (``IPV4_NUMBER``), its IPv6
#: address as hex (``ipv6_hex``); NULL when it holds none. The cidr modifier compares them to a
#: network's range.
IPV4_SUFFIX = "#ipv4"
IPV6_SUFFIX = "#ipv6"
#: A list column holding each row's values of a field some row holds a list of several values in
#: (``elements_column``), and the name a comparison's element form gives the value it compares
#: (``tocsin.detectors.sigma.ruleset.ElementTest``). No rule may read a field named with the prefix.
ELEMENTS_PREFIX = "tocsin_elements:"
ELEMENT = "tocsin_element"
#: The candidate tables' event time and event id.
TIMESTAMP_COLUMN = "tocsin_ts"
EVENT_ID_COLUMN = "tocsin_eid"
#: The macro deriving a text's IPv4 address as an integer, NULL for anything else.
IPV4_NUMBER = "tocsin_ipv4"

#: A dotted-quad IPv4 address as Python's ``ipaddress`` accepts it (no leading zeros).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"

_MACROS = (
    # A finite number written as text, else NULL: junk never compares as 0.
    """CREATE MACRO tocsin_number(s) AS CASE WHEN isfinite(TRY_CAST(trim(s) AS DOUBLE))
        THEN TRY_CAST(trim(s) AS DOUBLE) END""",
    f"""CREATE MACRO {IPV4_NUMBER}(s) AS CASE WHEN regexp_full_match(s, '{_IPV4}') THEN
        list_reduce(list_transform(string_split(s, '.'), lambda octet: octet::BIGINT),
            lambda number, octet: number * 256 + octet) END""",
)


@bounded_cache(entries=65536, longest=128)
def ipv6_hex(text: str) -> str | None:
    """An IPv6 address (a zone suffix allowed) as 32 lower-case hex digits, None for anything else:
    equal-length hex strings order as the addresses do, so a network is a ``BETWEEN`` of two."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    return address.packed.hex() if address.version == 6 else None


def ipv6_hexes(texts: pa.Array) -> pa.Array:
    """Each text's IPv6 address as ``ipv6_hex`` gives it, null for anything else (the derived column
    of an IPv6 cidr modifier); only texts holding a colon are looked at."""
    import pyarrow.compute as pc

    if not pc.any(pc.match_substring(texts, ":")).as_py():
        return pa.nulls(len(texts), pa.string())
    return pa.array(
        [ipv6_hex(text) if text and ":" in text else None for text in texts.to_pylist()], pa.string()
    )


def connect_columnar(threads: int = 1) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the macros tocsin's predicates call."""
    connection = duckdb.connect(":memory:", config={"threads": threads})
    for macro in _MACROS:
        connection.execute(macro)
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
    return ", ".join(f"CAST(NULL AS {_type(column)}) AS {quote_identifier(column)}" for column in columns)


def _type(column: str) -> str:
    if column.startswith(ELEMENTS_PREFIX):
        return "VARCHAR[]"
    return "BIGINT" if column.endswith(IPV4_SUFFIX) else "VARCHAR"


def elements_column(field: str) -> str:
    """The name of the list column of a field's values (``ELEMENTS_PREFIX``), whatever its case."""
    return ELEMENTS_PREFIX + field.lower()


def reserved(field: str) -> bool:
    """Whether a rule may not read ``field``: the engine names its own columns so."""
    lowered = field.lower()
    return lowered == POSITION_COLUMN or lowered.startswith(ELEMENTS_PREFIX)


def quote_identifier(name: str) -> str:
    """A DuckDB identifier for a field name (dots and quotes included)."""
    return '"' + name.replace('"', '""') + '"'


def unique_columns(names: Any) -> list[str]:
    """Field names without the ones that differ only in case (DuckDB, like Sigma, ignores case)."""
    seen: dict[str, str] = {}
    for name in sorted(names):
        seen.setdefault(name.lower(), name)
    return sorted(seen.values())
