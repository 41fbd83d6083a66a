"""pySigma's SQLite backend, adapted to tocsin's event tables.

The upstream backend targets Zircolite's flattened table. What differs
here and are all the subclass changes:

* ``keywords`` (value-only) searches run against the raw record text, kept
  in the ``tocsin_raw`` column, as Sigma intends for full-text search;
* numeric comparisons (``gt``/``lt``...) compare numbers even though columns
  store text, and never treat a non-number as 0;
* ``cidr`` uses a SQL function backed by ``ipaddress`` instead of prefix
  patterns, which miss compressed IPv6 notations;
* every rule converts to a bare boolean predicate, so the engine can run it
  on whichever per-logsource table the rule is routed to.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, ClassVar

from sigma.backends.sqlite import sqliteBackend
from sigma.backends.sqlite.correlation import numeric
from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionValueExpression
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule
from sigma.types import SigmaRegularExpression, SigmaString, SpecialChars

RAW_COLUMN = "tocsin_raw"
TIMESTAMP_COLUMN = "tocsin_ts"
EVENT_ID_COLUMN = "tocsin_eid"


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

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """CIDR through a SQL function: exact for IPv4 and IPv6, whatever the address notation."""
        network = str(cond.value.network)
        return f"tocsin_cidr({self.escape_and_quote_field(cond.field)}, '{network}')"

    def convert_condition_val_str(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        value: SigmaString = cond.value
        if not value.startswith(SpecialChars.WILDCARD_MULTI):
            value = SigmaString("*") + value
        if not value.endswith(SpecialChars.WILDCARD_MULTI):
            value = value + SigmaString("*")
        return f"{RAW_COLUMN} LIKE {self.convert_value_str(value, state)} ESCAPE '\\'"

    def convert_condition_val_num(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        return f"{RAW_COLUMN} LIKE '%{cond.value}%'"

    def convert_condition_val_re(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        regex: SigmaRegularExpression = cond.value
        return self.re_expression.format(field=RAW_COLUMN, regex=self.convert_value_re(regex, state))


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def sql_regexp(pattern: str, value: Any) -> bool:
    """The REGEXP function SQLite calls as ``regexp(pattern, value)``: a search, as Sigma's ``re``.

    A pattern Python cannot compile never matches (the rule is rejected at load time, see ruleset).
    """
    compiled = _compiled(pattern)
    if value is None or compiled is None:
        return False
    return compiled.search(str(value)) is not None


def invalid_regexes(rule_regexes: list[str]) -> list[str]:
    """The patterns among ``rule_regexes`` that Python's ``re`` cannot compile."""
    return [pattern for pattern in rule_regexes if _compiled(pattern) is None]
