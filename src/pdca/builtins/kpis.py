"""The built-in KPI calculators (``nps``, ``csat``, ``rate``, ``retention`` ...).

Rules every calculator here follows, so that numbers mean the same thing across
metrics:

* Values that cannot be used are ignored, never guessed: a numeric KPI reads
  ``TRY_CAST(field AS DOUBLE)``, so ``" 4 "`` counts as 4 while ``"N/A"``, NaN and
  infinities are skipped; ``nps``/``enps`` also skip scores outside 0..10.
* ``n`` counts the rows that went into the value (non-null *and* usable); no rows
  means no value (None), never a division by zero (docs/kpis.md has every rule).
* If the field has values but not one of them is usable anywhere in the history
  (a text column given to ``mean``, a 0-100 score given to ``nps``), compute
  raises :class:`~pdca.errors.KpiError` instead of reporting "no data".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from pdca import hookimpl
from pdca.builtins.customers import Churn, Clv, Retention
from pdca.builtins.kpiparts import (
    check_column,
    check_number,
    column_param,
    is_number,
    number_sql,
    percent_of,
)
from pdca.errors import KpiError
from pdca.kpi import (
    PERCENT,
    Kpi,
    KpiQuery,
    KpiResult,
    KpiValue,
    ParamProblem,
    SqlKpi,
    sql_literal,
    truthy_sql,
)


def _nothing_usable(result: KpiResult) -> bool:
    return result.window.n == 0 and not any(v.n for v in result.series.values())


class BuiltinSqlKpi(SqlKpi):
    """A one-expression KPI over the field's usable values (see the module docstring).

    Subclasses give ``usable_sql`` (the field as the KPI reads it, NULL when it
    cannot) and ``value_sql`` (the aggregate over that); ``n`` counts usable rows.
    """

    #: what a usable value looks like, for the "nothing usable" error
    accepts: str = "numbers"
    maskable = True

    def usable_sql(self, q: KpiQuery) -> str:
        return number_sql(q.column, q.column_type(q.field))

    def value_sql(self, v: str, q: KpiQuery) -> str:
        raise NotImplementedError

    def sql(self, q: KpiQuery) -> str:
        return self.value_sql(self.usable_sql(q), q)

    def n_sql(self, q: KpiQuery) -> str:
        return f"count({self.usable_sql(q)})"

    def row_value(self, q: KpiQuery) -> str | None:
        # only while sql() and n_sql() are the aggregates over usable_sql (not for ratio)
        own = type(self)
        if own.sql is not BuiltinSqlKpi.sql or own.n_sql is not BuiltinSqlKpi.n_sql:
            return None
        return self.usable_sql(q)

    def over(self, value: str, q: KpiQuery) -> tuple[str, str]:
        return self.value_sql(value, q), f"count({value})"

    def compute(self, q: KpiQuery) -> KpiResult:
        result = super().compute(q)
        if _nothing_usable(result):
            self._fail_if_unusable(q)
        return result

    def from_aggregates(self, result: KpiResult, window_rows: int) -> KpiResult | None:
        return None if _nothing_usable(result) else result

    def _fail_if_unusable(self, q: KpiQuery) -> None:
        """Tell "wrong column" from "no data": only runs when nothing at all was usable."""
        cols = [q.col(c) for c in self.columns(q.field, q.params)]
        present = " AND ".join(f"{c} IS NOT NULL" for c in cols) or "TRUE"
        count, example = q.con.execute(
            f"SELECT count(*), first(CAST({q.column} AS VARCHAR)) FROM {q.table} WHERE {present}"
        ).fetchall()[0]
        if count:
            raise KpiError(
                f"KPI '{self.name}' found no usable value in {count} rows: it needs "
                f"{self.accepts} (column '{q.field}' holds values like {example!r})"
            )


class Mean(BuiltinSqlKpi):
    database = "mean"
    name = "mean"
    summary = "mean(field): the average of the numeric values"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"avg({v})"


class Median(BuiltinSqlKpi):
    database = "median"
    holistic = True
    name = "median"
    summary = "median(field): the middle value; the mean of the two middle ones for an even n"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"median({v})"


class Sum(BuiltinSqlKpi):
    database = "sum"
    name = "sum"
    zero_when_empty = True
    summary = "sum(field): the total of the numeric values"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"sum({v})"


class Min(BuiltinSqlKpi):
    database = "min"
    name = "min"
    summary = "min(field): the smallest numeric value"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"min({v})"


class Max(BuiltinSqlKpi):
    database = "max"
    name = "max"
    summary = "max(field): the largest numeric value"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"max({v})"


class Count(SqlKpi):
    """Counts rows; with a field, only rows where it is filled in (SQL ``count(field)``)."""

    database = "count"
    name = "count"
    zero_when_empty = True
    value_range = (0, None)
    summary = "count(*) of rows, or count(field) of non-null values when a field is given"
    requires_field = False
    maskable = True

    def sql(self, q: KpiQuery) -> str:
        return self.n_sql(q)

    def compute(self, q: KpiQuery) -> KpiResult:
        """A window of rows that all leave the field empty counts 0, as its periods do."""
        result = super().compute(q)
        if q.field and result.window.n == 0:
            rows = q.con.execute(f"SELECT count(*) FROM {q.table} WHERE {q.in_window_sql}")
            return self._zero_window(result, rows.fetchall()[0][0])
        return result

    def from_aggregates(self, result: KpiResult, window_rows: int) -> KpiResult | None:
        return self._zero_window(result, window_rows) if result.window.n == 0 else result

    @staticmethod
    def _zero_window(result: KpiResult, window_rows: int) -> KpiResult:
        if window_rows:
            return KpiResult(KpiValue(0.0, 0), result.series)
        return result


class CountDistinct(SqlKpi):
    """Distinct non-null values; ``n`` is the non-null values they come from.

    Values are compared exactly ("A1" and "a1 " are two customers): IDs are not
    free text, and normalising them could merge different customers.
    """

    database = "count_distinct"
    name = "count_distinct"
    maskable = True
    zero_when_empty = True
    value_range = (0, None)
    summary = "count(DISTINCT field): the number of different non-null values"

    def sql(self, q: KpiQuery) -> str:
        return f"CASE WHEN count({q.column}) > 0 THEN count(DISTINCT {q.column}) END"


class Rate(BuiltinSqlKpi):
    database = "rate"
    name = "rate"
    chart = "p_prime"
    value_range = PERCENT
    summary = "100 * truthy / (truthy + falsy): percent of yes among the yes/no values"
    accepts = "yes/no values (true/false, yes/no, y/n, t/f, 1/0)"

    def usable_sql(self, q: KpiQuery) -> str:
        return truthy_sql(q.column, q.column_type(q.field))

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"100.0 * avg({v})"


class Percentile(BuiltinSqlKpi):
    database = "percentile"
    holistic = True
    name = "percentile"
    summary = "quantile_cont(field, q/100): the q-th percentile, interpolated like numpy"
    param_docs = MappingProxyType(
        {"q": "the percentile, from 0 to 100 (90 for the 90th percentile, not 0.9)"}
    )

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + check_number(
            self, params, "q", required=True, between=(0, 100)
        )

    def warnings(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        q = params.get("q")
        if not is_number(q) or not 0 < q < 1:
            return []
        return [
            (
                "q",
                f"q is a percentile from 0 to 100: {q:g} means the {q:g}th percentile; "
                f"did you mean {round(q * 100, 9):g}?",
            )
        ]

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"quantile_cont({v}, {sql_literal(float(q.params['q']) / 100)})"


class Nps(BuiltinSqlKpi):
    """Net Promoter Score on a 0-10 question.

    Scores outside 0..10 are ignored rather than clamped: a 12 or a -1 is a data
    error, and counting it as a promoter or detractor would move the score.
    """

    database = "nps"
    name = "nps"
    chart = "p_prime"
    value_range = (-100, 100)
    summary = "100 * (promoters 9-10 - detractors 0-6) / responses 0-10, from -100 to 100"
    accepts = "scores from 0 to 10"

    def usable_sql(self, q: KpiQuery) -> str:
        v = number_sql(q.column, q.column_type(q.field))
        return f"CASE WHEN {v} BETWEEN 0 AND 10 THEN {v} END"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        # Promoters +100, detractors -100, passives 0: the average is the NPS.
        return (
            f"avg(CASE WHEN {v} >= 9 THEN 100.0 WHEN {v} <= 6 THEN -100.0 "
            f"WHEN {v} IS NOT NULL THEN 0.0 END)"
        )


class Enps(Nps):
    database = "nps"
    name = "enps"
    summary = "employee NPS: 100 * (promoters 9-10 - detractors 0-6) / responses 0-10"


class Csat(BuiltinSqlKpi):
    database = "csat"
    name = "csat"
    chart = "p_prime"
    value_range = PERCENT
    summary = "100 * responses >= satisfied / responses: percent satisfied (default 4 of 5)"
    param_docs = MappingProxyType(
        {"satisfied": "the lowest score that counts as satisfied (default 4)"}
    )

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + check_number(self, params, "satisfied")

    def value_sql(self, v: str, q: KpiQuery) -> str:
        satisfied = sql_literal(float(q.params.get("satisfied", 4)))
        return f"avg({percent_of(f'{v} >= {satisfied}', v)})"


class Ces(BuiltinSqlKpi):
    """No ``value_range``: effort scales differ (1-5, 1-7, 0-10) and pdca is not told which."""

    database = "mean"
    name = "ces"
    summary = "mean(field): Customer Effort Score, the average effort rating"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"avg({v})"


class Sla(BuiltinSqlKpi):
    database = "sla"
    name = "sla"
    chart = "p_prime"
    value_range = PERCENT
    summary = "100 * rows with field <= limit / rows: percent within the service level"
    param_docs = MappingProxyType(
        {"limit": "the most the field may be for a row to meet the SLA, e.g. 24 (hours)"}
    )

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + check_number(self, params, "limit", required=True)

    def value_sql(self, v: str, q: KpiQuery) -> str:
        limit = sql_literal(float(q.params["limit"]))
        return f"avg({percent_of(f'{v} <= {limit}', v)})"


class Ratio(BuiltinSqlKpi):
    """sum(field) / sum(denominator) over rows where both are numbers.

    Pairing the rows keeps a row with a missing numerator from still inflating
    the denominator (a day whose contacts were not loaded but whose orders were).
    """

    database = "ratio"
    name = "ratio"
    summary = "sum(field) / sum(denominator) over rows where both are numbers"
    param_docs = MappingProxyType({"denominator": "the column summed below the line, e.g. orders"})
    accepts = "numbers in both the field and the denominator column"

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + check_column(self, params, "denominator")

    def columns(self, field: str | None, params: Mapping[str, Any]) -> list[str]:
        return super().columns(field, params) + column_param(params, "denominator")

    def _pair(self, q: KpiQuery) -> tuple[str, str]:
        below = str(q.params["denominator"])
        top = number_sql(q.column, q.column_type(q.field))
        return top, number_sql(q.col(below), q.column_type(below))

    def usable_sql(self, q: KpiQuery) -> str:
        top, bottom = self._pair(q)
        return f"CASE WHEN {top} IS NOT NULL AND {bottom} IS NOT NULL THEN 1 END"

    def sql(self, q: KpiQuery) -> str:
        top, bottom = self._pair(q)
        both = f"{top} IS NOT NULL AND {bottom} IS NOT NULL"
        return (
            f"sum(CASE WHEN {both} THEN {top} END) "
            f"/ nullif(sum(CASE WHEN {both} THEN {bottom} END), 0)"
        )


class ServqualGap(BuiltinSqlKpi):
    """SERVQUAL gap: mean of perception minus expectation, per respondent.

    Averaging the per-row gaps pairs each perception with its own expectation;
    with complete answers it equals mean(perception) - mean(expectation).
    """

    database = "servqual_gap"
    name = "servqual_gap"
    summary = "mean(field - expectation): perception minus expectation, negative = shortfall"
    param_docs = MappingProxyType(
        {"expectation": "the column with the expectation score for the same item"}
    )
    accepts = "numbers in both the field (perception) and the expectation column"

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + check_column(self, params, "expectation")

    def columns(self, field: str | None, params: Mapping[str, Any]) -> list[str]:
        return super().columns(field, params) + column_param(params, "expectation")

    def usable_sql(self, q: KpiQuery) -> str:
        expected = str(q.params["expectation"])
        perceived = number_sql(q.column, q.column_type(q.field))
        return f"({perceived} - {number_sql(q.col(expected), q.column_type(expected))})"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"avg({v})"


CALCULATORS: tuple[type[Kpi], ...] = (
    Mean,
    Median,
    Sum,
    Count,
    CountDistinct,
    Min,
    Max,
    Rate,
    Percentile,
    Nps,
    Csat,
    Ces,
    Sla,
    Ratio,
    Retention,
    Churn,
    Enps,
    ServqualGap,
    Clv,
)


@hookimpl
def pdca_register_kpis(register: Callable[[Kpi], None]) -> None:
    # Fresh instances per plugin manager: nothing is shared between managers.
    for cls in CALCULATORS:
        register(cls())
