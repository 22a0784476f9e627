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

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from pdca import hookimpl
from pdca.errors import KpiError
from pdca.kpi import (
    NO_VALUE,
    TS,
    Kpi,
    KpiQuery,
    KpiResult,
    KpiValue,
    ParamProblem,
    SqlKpi,
    sql_literal,
    truthy_sql,
)


def number_sql(column_sql: str) -> str:
    """The column as a finite DOUBLE, else NULL: exports mix numbers, text and NaN."""
    x = f"TRY_CAST({column_sql} AS DOUBLE)"
    return f"CASE WHEN isfinite({x}) THEN {x} END"


def _percent_of(condition: str, value_sql: str) -> str:
    """100 for rows meeting ``condition``, 0 for other usable rows: avg() gives the percent."""
    return f"CASE WHEN {condition} THEN 100.0 WHEN {value_sql} IS NOT NULL THEN 0.0 END"


def _is_number(value: Any) -> bool:
    # bool is an int to Python, but ``limit: true`` in YAML is a mistake, not 1.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_number(
    kpi: Kpi,
    params: Mapping[str, Any],
    key: str,
    *,
    required: bool = False,
    between: tuple[float, float] | None = None,
) -> list[ParamProblem]:
    if key not in params:
        if required:
            return [(key, f"KPI '{kpi.name}' needs parameter '{key}': {kpi.param_docs[key]}")]
        return []
    value = params[key]
    if not _is_number(value):
        return [(key, f"KPI '{kpi.name}' parameter '{key}' must be a number, got {value!r}")]
    if between and not between[0] <= value <= between[1]:
        low, high = between
        return [
            (key, f"KPI '{kpi.name}' parameter '{key}' must be from {low} to {high}, got {value}")
        ]
    return []


def _check_column(kpi: Kpi, params: Mapping[str, Any], key: str) -> list[ParamProblem]:
    if key not in params:
        return [(key, f"KPI '{kpi.name}' needs parameter '{key}': {kpi.param_docs[key]}")]
    value = params[key]
    if not isinstance(value, str) or not value.strip():
        return [(key, f"KPI '{kpi.name}' parameter '{key}' must be a column name, got {value!r}")]
    return []


def _column_param(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    return [value] if isinstance(value, str) and value.strip() else []


class BuiltinSqlKpi(SqlKpi):
    """A one-expression KPI over the field's usable values (see the module docstring).

    Subclasses give ``usable_sql`` (the field as the KPI reads it, NULL when it
    cannot) and ``value_sql`` (the aggregate over that); ``n`` counts usable rows.
    """

    #: what a usable value looks like, for the "nothing usable" error
    accepts: str = "numbers"

    def usable_sql(self, q: KpiQuery) -> str:
        return number_sql(q.column)

    def value_sql(self, v: str, q: KpiQuery) -> str:
        raise NotImplementedError

    def sql(self, q: KpiQuery) -> str:
        return self.value_sql(self.usable_sql(q), q)

    def n_sql(self, q: KpiQuery) -> str:
        return f"count({self.usable_sql(q)})"

    def compute(self, q: KpiQuery) -> KpiResult:
        result = super().compute(q)
        if result.window.n == 0 and not any(v.n for v in result.series.values()):
            self._fail_if_unusable(q)
        return result

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
    name = "mean"
    summary = "mean(field): the average of the numeric values"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"avg({v})"


class Median(BuiltinSqlKpi):
    name = "median"
    summary = "median(field): the middle value; the mean of the two middle ones for an even n"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"median({v})"


class Sum(BuiltinSqlKpi):
    name = "sum"
    zero_when_empty = True
    summary = "sum(field): the total of the numeric values"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"sum({v})"


class Min(BuiltinSqlKpi):
    name = "min"
    summary = "min(field): the smallest numeric value"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"min({v})"


class Max(BuiltinSqlKpi):
    name = "max"
    summary = "max(field): the largest numeric value"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"max({v})"


class Count(SqlKpi):
    """Counts rows; with a field, only rows where it is filled in (SQL ``count(field)``)."""

    name = "count"
    zero_when_empty = True
    summary = "count(*) of rows, or count(field) of non-null values when a field is given"
    requires_field = False

    def sql(self, q: KpiQuery) -> str:
        return self.n_sql(q)

    def compute(self, q: KpiQuery) -> KpiResult:
        """A window of rows that all leave the field empty counts 0, as its periods do."""
        result = super().compute(q)
        if q.field and result.window.n == 0:
            rows = q.con.execute(f"SELECT count(*) FROM {q.table} WHERE {q.in_window_sql}")
            if rows.fetchall()[0][0]:
                return KpiResult(KpiValue(0.0, 0), result.series)
        return result


class CountDistinct(SqlKpi):
    """Distinct non-null values; ``n`` is the non-null values they come from.

    Values are compared exactly ("A1" and "a1 " are two customers): IDs are not
    free text, and normalising them could merge different customers.
    """

    name = "count_distinct"
    zero_when_empty = True
    summary = "count(DISTINCT field): the number of different non-null values"

    def sql(self, q: KpiQuery) -> str:
        return f"CASE WHEN count({q.column}) > 0 THEN count(DISTINCT {q.column}) END"


class Rate(BuiltinSqlKpi):
    name = "rate"
    chart = "p_prime"
    summary = "100 * truthy / (truthy + falsy): percent of yes among the yes/no values"
    accepts = "yes/no values (true/false, yes/no, y/n, t/f, 1/0)"

    def usable_sql(self, q: KpiQuery) -> str:
        return truthy_sql(q.column, q.column_type(q.field))

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"100.0 * avg({v})"


class Percentile(BuiltinSqlKpi):
    name = "percentile"
    summary = "quantile_cont(field, q/100): the q-th percentile, interpolated like numpy"
    param_docs = MappingProxyType(
        {"q": "the percentile, from 0 to 100 (90 for the 90th percentile, not 0.9)"}
    )

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + _check_number(
            self, params, "q", required=True, between=(0, 100)
        )

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"quantile_cont({v}, {sql_literal(float(q.params['q']) / 100)})"


class Nps(BuiltinSqlKpi):
    """Net Promoter Score on a 0-10 question.

    Scores outside 0..10 are ignored rather than clamped: a 12 or a -1 is a data
    error, and counting it as a promoter or detractor would move the score.
    """

    name = "nps"
    chart = "p_prime"
    summary = "100 * (promoters 9-10 - detractors 0-6) / responses 0-10, from -100 to 100"
    accepts = "scores from 0 to 10"

    def usable_sql(self, q: KpiQuery) -> str:
        v = number_sql(q.column)
        return f"CASE WHEN {v} BETWEEN 0 AND 10 THEN {v} END"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        # Promoters +100, detractors -100, passives 0: the average is the NPS.
        return (
            f"avg(CASE WHEN {v} >= 9 THEN 100.0 WHEN {v} <= 6 THEN -100.0 "
            f"WHEN {v} IS NOT NULL THEN 0.0 END)"
        )


class Enps(Nps):
    name = "enps"
    summary = "employee NPS: 100 * (promoters 9-10 - detractors 0-6) / responses 0-10"


class Csat(BuiltinSqlKpi):
    name = "csat"
    chart = "p_prime"
    summary = "100 * responses >= satisfied / responses: percent satisfied (default 4 of 5)"
    param_docs = MappingProxyType(
        {"satisfied": "the lowest score that counts as satisfied (default 4)"}
    )

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + _check_number(self, params, "satisfied")

    def value_sql(self, v: str, q: KpiQuery) -> str:
        satisfied = sql_literal(float(q.params.get("satisfied", 4)))
        return f"avg({_percent_of(f'{v} >= {satisfied}', v)})"


class Ces(BuiltinSqlKpi):
    name = "ces"
    summary = "mean(field): Customer Effort Score, the average effort rating"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"avg({v})"


class Sla(BuiltinSqlKpi):
    name = "sla"
    chart = "p_prime"
    summary = "100 * rows with field <= limit / rows: percent within the service level"
    param_docs = MappingProxyType(
        {"limit": "the most the field may be for a row to meet the SLA, e.g. 24 (hours)"}
    )

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + _check_number(self, params, "limit", required=True)

    def value_sql(self, v: str, q: KpiQuery) -> str:
        limit = sql_literal(float(q.params["limit"]))
        return f"avg({_percent_of(f'{v} <= {limit}', v)})"


class Ratio(BuiltinSqlKpi):
    """sum(field) / sum(denominator) over rows where both are numbers.

    Pairing the rows keeps a row with a missing numerator from still inflating
    the denominator (a day whose contacts were not loaded but whose orders were).
    """

    name = "ratio"
    summary = "sum(field) / sum(denominator) over rows where both are numbers"
    param_docs = MappingProxyType({"denominator": "the column summed below the line, e.g. orders"})
    accepts = "numbers in both the field and the denominator column"

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + _check_column(self, params, "denominator")

    def columns(self, field: str | None, params: Mapping[str, Any]) -> list[str]:
        return super().columns(field, params) + _column_param(params, "denominator")

    def _pair(self, q: KpiQuery) -> tuple[str, str]:
        return number_sql(q.column), number_sql(q.col(q.params["denominator"]))

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

    name = "servqual_gap"
    summary = "mean(field - expectation): perception minus expectation, negative = shortfall"
    param_docs = MappingProxyType(
        {"expectation": "the column with the expectation score for the same item"}
    )
    accepts = "numbers in both the field (perception) and the expectation column"

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        return super().check(field, params) + _check_column(self, params, "expectation")

    def columns(self, field: str | None, params: Mapping[str, Any]) -> list[str]:
        return super().columns(field, params) + _column_param(params, "expectation")

    def usable_sql(self, q: KpiQuery) -> str:
        return f"({number_sql(q.column)} - {number_sql(q.col(q.params['expectation']))})"

    def value_sql(self, v: str, q: KpiQuery) -> str:
        return f"avg({v})"


def _timestamp(value: datetime) -> str:
    # Same precision as KpiQuery.in_window_sql, so both agree on which rows are in.
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


class Retention(Kpi):
    """Percent of the previous period's customers seen again in this period.

    A period (or window) with no customers at all has no value: no rows means no
    data, not that every customer left. ``n`` is the number of customers in the
    previous period, the base of the percentage; with none, the value is None.
    """

    name = "retention"
    chart = "p_prime"
    summary = (
        "100 * previous period's customers seen again in this one / previous period's customers"
    )
    lookback = True

    def value(self, kept: int, base: int) -> float:
        return 100.0 * kept / base

    def _result(self, current: int, base: int, kept: int) -> KpiValue:
        if current == 0 or base == 0:
            return NO_VALUE
        return KpiValue(self.value(kept, base), base)

    def compute(self, q: KpiQuery) -> KpiResult:
        col = q.column
        step = f"INTERVAL '1 {q.period}'"
        rows = q.con.execute(
            f"WITH c AS (SELECT DISTINCT {q.period_sql} AS p, {col} AS id "
            f"FROM {q.table} WHERE {col} IS NOT NULL), "
            f"periods AS (SELECT p, count(*) AS current FROM c GROUP BY p) "
            f"SELECT periods.p, any_value(periods.current), count(prev.id), count(kept.id) "
            f"FROM periods "
            f"LEFT JOIN c AS prev ON prev.p = CAST(periods.p - {step} AS DATE) "
            f"LEFT JOIN c AS kept ON kept.p = periods.p AND kept.id = prev.id "
            f"GROUP BY periods.p ORDER BY periods.p"
        ).fetchall()
        series: dict[date, KpiValue] = {
            p: self._result(cur, base, kept) for p, cur, base, kept in rows
        }

        before = q.window_start - (q.end - q.window_start)

        def customers(start: datetime, end: datetime) -> str:
            return (
                f"SELECT DISTINCT {col} AS id FROM {q.table} WHERE {col} IS NOT NULL "
                f"AND {TS} >= {_timestamp(start)} AND {TS} < {_timestamp(end)}"
            )

        current, base, kept = q.con.execute(
            f"WITH prev AS ({customers(before, q.window_start)}), "
            f"cur AS ({customers(q.window_start, q.end)}) "
            f"SELECT (SELECT count(*) FROM cur), (SELECT count(*) FROM prev), "
            f"(SELECT count(*) FROM prev JOIN cur USING (id))"
        ).fetchall()[0]
        return KpiResult(self._result(current, base, kept), series)


class Churn(Retention):
    name = "churn"
    summary = "100 - retention: percent of the previous period's customers not seen again"

    def value(self, kept: int, base: int) -> float:
        return 100.0 * (base - kept) / base


class Clv(Kpi):
    """Customer lifetime value: the gross margin an average customer brings before leaving.

    value = revenue per customer per period x margin x expected lifetime in
    periods, where the lifetime is 1 / churn rate per period (a customer who
    leaves with probability c each period stays 1 / c periods on average).

    Over the window of D days, with p days per period:

    * revenue per customer per period = usable revenue of the window's rows /
      distinct customers in the window / (D / p);
    * churn per period = customers of the D days before the window not seen in
      it / customers of those D days, x p / D (spread evenly over the window's
      periods, not compounded);
    * lifetime = 1 / churn per period, in periods.

    The D / p factors cancel, so the window's value does not depend on the
    period a metric is charted by: value = revenue per customer in the window
    x margin / churn over the window. Each point of the series is the same
    formula with the period as the window, compared with the period before.

    No value: no customers (no data), no customers before (nothing to compare),
    no usable revenue, or no churn at all: the expected lifetime is then
    unbounded and so is the value; ``n`` still counts the customers before, so
    the point shows as "no value" with a base rather than "no data". ``n`` is
    the customers of the span before, the base of the churn rate, as for
    ``retention``.
    """

    name = "clv"
    summary = (
        "revenue per customer per period * margin * expected lifetime in periods "
        "(1 / churn rate per period)"
    )
    requires_field = False
    lookback = True
    param_docs = MappingProxyType(
        {
            "customer": "the column identifying the customer, e.g. customer_id",
            "revenue": "the column with each row's revenue, e.g. amount",
            "margin": "gross margin as a fraction from 0 to 1, e.g. 0.6 for 60 %",
        }
    )

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        problems = super().check(field, params)
        if field:
            problems.append(
                (
                    None,
                    f"KPI '{self.name}' reads the columns in params 'customer' and 'revenue'; "
                    "leave out 'field'",
                )
            )
        return (
            problems
            + _check_column(self, params, "customer")
            + _check_column(self, params, "revenue")
            + _check_number(self, params, "margin", required=True, between=(0, 1))
        )

    def columns(self, field: str | None, params: Mapping[str, Any]) -> list[str]:
        return _column_param(params, "customer") + _column_param(params, "revenue")

    def _value(
        self, margin: float, current: int, revenue: float | None, base: int, kept: int
    ) -> KpiValue:
        if current == 0 or base == 0 or revenue is None:
            return NO_VALUE
        churned = base - kept
        if churned == 0:
            return KpiValue(None, base)  # nobody left: an unbounded lifetime
        return KpiValue(revenue / current * margin * base / churned, base)

    def compute(self, q: KpiQuery) -> KpiResult:
        customer = q.col(q.params["customer"])
        revenue = number_sql(q.col(q.params["revenue"]))
        margin = float(q.params["margin"])
        step = f"INTERVAL '1 {q.period}'"
        rows = q.con.execute(
            f"WITH r AS (SELECT {q.period_sql} AS p, {customer} AS id, {revenue} AS rev "
            f"FROM {q.table} WHERE {customer} IS NOT NULL), "
            f"c AS (SELECT DISTINCT p, id FROM r), "
            f"periods AS (SELECT p, count(DISTINCT id) AS current, sum(rev) AS revenue "
            f"FROM r GROUP BY p) "
            f"SELECT periods.p, any_value(periods.current), any_value(periods.revenue), "
            f"count(prev.id), count(kept.id) "
            f"FROM periods "
            f"LEFT JOIN c AS prev ON prev.p = CAST(periods.p - {step} AS DATE) "
            f"LEFT JOIN c AS kept ON kept.p = periods.p AND kept.id = prev.id "
            f"GROUP BY periods.p ORDER BY periods.p"
        ).fetchall()
        series: dict[date, KpiValue] = {
            p: self._value(margin, current, income, base, kept)
            for p, current, income, base, kept in rows
        }

        before = q.window_start - (q.end - q.window_start)

        def rows_between(start: datetime, end: datetime) -> str:
            return (
                f"SELECT {customer} AS id, {revenue} AS rev FROM {q.table} "
                f"WHERE {customer} IS NOT NULL "
                f"AND {TS} >= {_timestamp(start)} AND {TS} < {_timestamp(end)}"
            )

        current, income, base, kept = q.con.execute(
            f"WITH prev AS (SELECT DISTINCT id FROM ({rows_between(before, q.window_start)})), "
            f"cur AS ({rows_between(q.window_start, q.end)}) "
            f"SELECT (SELECT count(DISTINCT id) FROM cur), (SELECT sum(rev) FROM cur), "
            f"(SELECT count(*) FROM prev), "
            f"(SELECT count(*) FROM prev WHERE id IN (SELECT id FROM cur))"
        ).fetchall()[0]
        window = self._value(margin, current, income, base, kept)
        if income is None and all(r[2] is None for r in rows):
            self._fail_if_unusable(q)
        return KpiResult(window, series)

    def _fail_if_unusable(self, q: KpiQuery) -> None:
        """Revenue given as text that is never a number is a wrong column, not "no data"."""
        column = q.params["revenue"]
        count, example = q.con.execute(
            f"SELECT count(*), first(CAST({q.col(column)} AS VARCHAR)) FROM {q.table} "
            f"WHERE {q.col(column)} IS NOT NULL AND {q.col(q.params['customer'])} IS NOT NULL"
        ).fetchall()[0]
        if count:
            raise KpiError(
                f"KPI '{self.name}' found no usable revenue in {count} rows: it needs numbers "
                f"(column '{column}' holds values like {example!r})"
            )


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
