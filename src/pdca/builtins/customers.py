"""Customer KPIs: ``retention``, ``churn`` and ``clv``.

They follow customers from one period to the next instead of aggregating the rows
of one window, so each computes its own series; the rules shared with the other
built-ins (usable numbers, ``n``, no rows means no value) are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from pdca.builtins.kpiparts import check_column, check_number, column_param, number_sql
from pdca.errors import KpiError
from pdca.kpi import NO_VALUE, PERCENT, TS, Kpi, KpiQuery, KpiResult, KpiValue, ParamProblem


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
    value_range = PERCENT
    summary = (
        "100 * previous period's customers seen again in this one / previous period's customers"
    )
    lookback = True
    database = "retention"

    def value(self, kept: int, base: int) -> float:
        return 100.0 * kept / base

    def counted(self, current: int, base: int, kept: int) -> KpiValue:
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
            p: self.counted(cur, base, kept) for p, cur, base, kept in rows
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
        return KpiResult(self.counted(current, base, kept), series)


class Churn(Retention):
    name = "churn"
    summary = "100 - retention: percent of the previous period's customers not seen again"
    database = "churn"

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
    database = "clv"
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
            + check_column(self, params, "customer")
            + check_column(self, params, "revenue")
            + check_number(self, params, "margin", required=True, between=(0, 1))
        )

    def columns(self, field: str | None, params: Mapping[str, Any]) -> list[str]:
        return column_param(params, "customer") + column_param(params, "revenue")

    def counted(
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
            p: self.counted(margin, current, income, base, kept)
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
        window = self.counted(margin, current, income, base, kept)
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
