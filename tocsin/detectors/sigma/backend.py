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
  on whichever per-logsource table the rule is routed to;
* each comparison of a field's value is also converted over one value of a list
  (``ElementTest``), so a field holding a list of several values matches when one does.

The engine evaluates predicates on DuckDB (``TocsinDuckDBBackend``): vectorized over a
batch's columns, with RE2 regular expressions (linear time: a rule cannot make a scan
hang) and no practical column limit. The dialect differs from SQLite's only in the
templates below; every column holds text, as SQLite's TEXT columns did.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from sigma.backends.sqlite import sqliteBackend
from sigma.backends.sqlite.correlation import numeric
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from tocsin.detectors.sigma.columnar import (
    ELEMENT,
    EVENT_ID_COLUMN,
    IPV4_NUMBER,
    IPV4_SUFFIX,
    IPV6_SUFFIX,
    RAW_COLUMN,
    TIMESTAMP_COLUMN,
)
from tocsin.detectors.sigma.ruleset import ElementTest

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
        #: The comparisons of the predicate being converted: (field, SQL, element SQL).
        self._tests: list[tuple[str, str, str]] | None = None
        self._nonce = secrets.token_hex(16)
        self._placeholder = re.compile(f"\x00{self._nonce}:([0-9]+)\x00")

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return f"{self.escape_and_quote_field(cond.field)} = '{cond.value}'"

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """A network as the range of its addresses over the field's derived column: IPv4 addresses as
        integers (``IPV4_SUFFIX``), IPv6 ones as hex (``IPV6_SUFFIX``). A list's value (``ELEMENT``)
        has no derived column: its IPv4 address is derived in place (IPv6 networks compare whole
        values only)."""
        network = _value(cond, SigmaCIDRExpression).network
        low, high = int(network.network_address), int(network.broadcast_address)
        if cond.field == ELEMENT:
            if network.version != 4:
                raise NotImplementedError("an IPv6 network is not compared with a list's values")
            return f"({IPV4_NUMBER}({ELEMENT}) BETWEEN {low} AND {high})"
        if network.version == 4:
            return f"({self.escape_and_quote_field(cond.field + IPV4_SUFFIX)} BETWEEN {low} AND {high})"
        first, last = network.network_address.packed.hex(), network.broadcast_address.packed.hex()
        return f"({self.escape_and_quote_field(cond.field + IPV6_SUFFIX)} BETWEEN '{first}' AND '{last}')"

    def convert_predicate(self, rule: SigmaRule) -> tuple[str, tuple[ElementTest, ...]] | None:
        """The rule's predicate (its queries OR-ed; None when it converts to none) and the element
        form of each comparison of a field's value in it (``ElementTest``).

        While converting, each such comparison is written as a placeholder naming it, with a
        nonce no rule text can know, and replaced once the whole predicate is written: so its span
        is known exactly, whatever the rule's values hold.
        """
        self._tests = []
        try:
            self.convert_rule(rule)
            queries = [query for query in rule.get_conversion_result() if isinstance(query, str)]
            if not queries:
                return None
            return self._resolved(" OR ".join(f"({query})" for query in queries), self._tests)
        finally:
            self._tests = None

    def _resolved(self, text: str, tests: list[tuple[str, str, str]]) -> tuple[str, tuple[ElementTest, ...]]:
        parts: list[str] = []
        resolved: list[ElementTest] = []
        length = last = 0
        for match in self._placeholder.finditer(text):
            field, sql, element = tests[int(match.group(1))]
            before = text[last : match.start()]
            parts += [before, sql]
            length += len(before)
            resolved.append(ElementTest(field, length, length + len(sql), element))
            length += len(sql)
            last = match.end()
        parts.append(text[last:])
        return "".join(parts), tuple(resolved)

    def convert_condition_field_eq_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        convert = super().convert_condition_field_eq_val
        return self._element_test([cond], convert(cond, state), lambda: convert(cond, state))

    def convert_condition_as_in_expression(
        self, cond: ConditionOR | ConditionAND, state: ConversionState
    ) -> Any:
        convert = super().convert_condition_as_in_expression
        items = [arg for arg in cond.args if isinstance(arg, ConditionFieldEqualsValueExpression)]
        return self._element_test(items, convert(cond, state), lambda: convert(cond, state))

    def _element_test(
        self, items: list[ConditionFieldEqualsValueExpression], sql: Any, convert: Callable[[], Any]
    ) -> Any:
        """``sql``, the comparison of ``items`` (one field), as a placeholder of its ``ElementTest``
        while a predicate is converted (``convert_predicate``); ``convert`` writes it again, run
        with the items reading ``ELEMENT``. Comparisons of no value (null, exists, another field)
        stay as they are: they look at the field itself."""
        if (
            self._tests is None
            or not isinstance(sql, str)
            or not items
            or not all(isinstance(item.value, _ELEMENT_VALUES) for item in items)
        ):
            return sql
        fields = [item.field for item in items]
        for item in items:
            item.field = ELEMENT
        try:
            element = convert()
        except (SigmaError, NotImplementedError, TypeError, ValueError):
            return sql
        finally:
            for item, name in zip(items, fields, strict=True):
                item.field = name
        if not isinstance(element, str):
            return sql
        self._tests.append((fields[0], sql, element))
        return f"\x00{self._nonce}:{len(self._tests) - 1}\x00"

    def convert_condition_val_str(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        return super().convert_condition_val_str(cond, state).replace(" LIKE ", " ILIKE ", 1)

    def convert_condition_val_num(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        return f"{RAW_COLUMN} LIKE '%{cond.value}%'"


#: The values whose comparison with a field has an element form (``ElementTest``).
_ELEMENT_VALUES = (
    SigmaString,
    SigmaNumber,
    SigmaBool,
    SigmaRegularExpression,
    SigmaCompareExpression,
    SigmaCIDRExpression,
)
