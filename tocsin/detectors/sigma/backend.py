"""pySigma's SQLite backend, adapted to tocsin's event tables, and its DuckDB dialect.

The upstream backend targets Zircolite's flattened table. What differs
here and are all the subclass changes:

* ``keywords`` (value-only) searches run against the raw record text, kept
  in the ``tocsin_raw`` column, as Sigma intends for full-text search;
* numeric comparisons (``gt``/``lt``...) compare numbers even though columns
  store text, and never treat a non-number as 0;
* ``cidr`` compares the network's range with a column derived from the field (the
  address as an integer for IPv4, as hex for IPv6) instead of prefix patterns, which miss
  compressed IPv6 notations;
* every rule converts to a bare boolean predicate, so the engine can run it
  on whichever per-logsource table the rule is routed to.

The engine evaluates predicates on DuckDB (``TocsinDuckDBBackend``): vectorized over a
batch's columns, with RE2 regular expressions (linear time: a rule cannot make a scan
hang) and no practical column limit. The dialect differs from SQLite's only in the
templates below; every column holds text, as SQLite's TEXT columns did.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from sigma.backends.sqlite import sqliteBackend
from sigma.backends.sqlite.correlation import numeric
from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionValueExpression
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule
from sigma.types import SigmaCIDRExpression, SigmaRegularExpression, SigmaString, SigmaType, SpecialChars

from tocsin.detectors.sigma.columnar import (
    EVENT_ID_COLUMN,
    IPV4_SUFFIX,
    IPV6_SUFFIX,
    RAW_COLUMN,
    TIMESTAMP_COLUMN,
)

_Value = TypeVar("_Value", bound=SigmaType)


def _value(
    cond: ConditionFieldEqualsValueExpression | ConditionValueExpression, kind: type[_Value]
) -> _Value:
    """The condition's value, of the type pySigma dispatched the conversion on."""
    value = cond.value
    if not isinstance(value, kind):
        raise TypeError(f"expected a {kind.__name__} value, got {type(value).__name__}")
    return value


class TocsinSqliteBackend(sqliteBackend):
    """SQLite backend producing predicates over tocsin's tables (see module doc)."""

    name: ClassVar[str] = "tocsin SQLite backend"
    compare_op_expression: ClassVar[str] = numeric("{field}") + " {operator} {value}"

    def __init__(self, processing_pipeline: Any = None, **options: Any) -> None:
        super().__init__(
            processing_pipeline,
            collect_errors=False,
            timestamp_field=TIMESTAMP_COLUMN,
            timestamp_format="unix",
            event_id_field=EVENT_ID_COLUMN,
            **options,
        )

    def finalize_query_default(
        self, rule: SigmaRule | SigmaCorrelationRule, query: str, index: int, state: ConversionState
    ) -> Any:
        return query

    def convert_condition_val_str(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        value = _value(cond, SigmaString)
        if not value.startswith(SpecialChars.WILDCARD_MULTI):
            value = SigmaString("*") + value
        if not value.endswith(SpecialChars.WILDCARD_MULTI):
            value = value + SigmaString("*")
        return f"{RAW_COLUMN} LIKE {self.convert_value_str(value, state)} ESCAPE '\\'"

    def convert_condition_val_num(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        return f"{RAW_COLUMN} LIKE '%{cond.value}%'"

    def convert_condition_val_re(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        regex = _value(cond, SigmaRegularExpression)
        return self.re_expression.format(field=RAW_COLUMN, regex=self.convert_value_re(regex, state))


class TocsinDuckDBBackend(TocsinSqliteBackend):
    """The same predicates in DuckDB's dialect (see module doc).

    Case-insensitive matching is spelled out (``ILIKE``, ``COLLATE NOCASE`` on equality) because
    batch columns carry no collation; numbers and booleans compare as text, as they did against
    SQLite's TEXT columns, so a non-numeric value never makes a comparison fail at run time.
    """

    name: ClassVar[str] = "tocsin DuckDB backend"
    field_quote: ClassVar[str] = '"'
    startswith_expression: ClassVar[str] = "{field} ILIKE '{value}%' ESCAPE '\\'"
    endswith_expression: ClassVar[str] = "{field} ILIKE '%{value}' ESCAPE '\\'"
    contains_expression: ClassVar[str] = "{field} ILIKE '%{value}%' ESCAPE '\\'"
    wildcard_match_expression: ClassVar[str] = "{field} ILIKE '{value}' ESCAPE '\\'"
    wildcard_match_str_expression: ClassVar[str] = "{field} ILIKE '{value}' ESCAPE '\\'"
    re_expression: ClassVar[str] = "regexp_matches({field}, '{regex}')"
    compare_op_expression: ClassVar[str] = "tocsin_number({field}) {operator} {value}"
    bool_numeric_values: ClassVar[dict[bool, str]] = {True: "'1'", False: "'0'"}
    null_safe_expression: ClassVar[str] = "COALESCE({expr}, false)"
    field_equals_field_expression: ClassVar[str] = "{field1} COLLATE NOCASE = {field2}"
    field_equals_field_startswith_expression: ClassVar[str] = (
        "{field1} ILIKE REPLACE(REPLACE(REPLACE({field2}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') "
        "|| '%' ESCAPE '\\'"
    )
    field_equals_field_endswith_expression: ClassVar[str] = (
        "{field1} ILIKE '%' || REPLACE(REPLACE(REPLACE({field2}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') "
        "ESCAPE '\\'"
    )
    field_equals_field_contains_expression: ClassVar[str] = (
        "{field1} ILIKE '%' || REPLACE(REPLACE(REPLACE({field2}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') "
        "|| '%' ESCAPE '\\'"
    )
    field_in_list_expression: ClassVar[str] = "{field} COLLATE NOCASE {op} ({list})"

    def __init__(self, processing_pipeline: Any = None, **options: Any) -> None:
        super().__init__(processing_pipeline, collate_nocase=True, **options)

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return f"{self.escape_and_quote_field(cond.field)} = '{cond.value}'"

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """A network as the range of its addresses over the field's derived column: IPv4 addresses as
        integers (``IPV4_SUFFIX``), IPv6 ones as hex (``IPV6_SUFFIX``)."""
        network = _value(cond, SigmaCIDRExpression).network
        if network.version == 4:
            low, high = int(network.network_address), int(network.broadcast_address)
            return f"({self.escape_and_quote_field(cond.field + IPV4_SUFFIX)} BETWEEN {low} AND {high})"
        first, last = network.network_address.packed.hex(), network.broadcast_address.packed.hex()
        return f"({self.escape_and_quote_field(cond.field + IPV6_SUFFIX)} BETWEEN '{first}' AND '{last}')"

    def convert_condition_val_str(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        return super().convert_condition_val_str(cond, state).replace(" LIKE ", " ILIKE ", 1)

    def convert_condition_val_num(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        return f"{RAW_COLUMN} LIKE '%{cond.value}%'"
