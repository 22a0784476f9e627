"""The calculator contract in pdca.kpi: query helpers and the typed boolean rule."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from pdca.kpi import NO_VALUE, KpiQuery, KpiValue, truthy_sql


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES "
        "(TIMESTAMP '2026-03-02 10:00', true, 1, 'Yes', 4.0),"
        "(TIMESTAMP '2026-03-03 10:00', false, 0, ' no ', 2.0),"
        "(TIMESTAMP '2026-03-10 10:00', true, 1, 'y', 6.0),"
        "(TIMESTAMP '2026-03-11 10:00', NULL, 7, 'maybe', NULL)"
        ") AS v(__ts, b, i, s, x)"
    )
    return c


def query(con, field: str = "x", window_start: str = "2026-03-09") -> KpiQuery:
    return KpiQuery(
        con=con,
        table="t",
        field=field,
        params={},
        period="week",
        window_start=datetime.fromisoformat(window_start),
        end=datetime(2026, 3, 16),
        history_start=datetime(2026, 3, 2),
    )


@pytest.mark.parametrize(("column", "kind"), [("b", "BOOLEAN"), ("i", "INTEGER"), ("s", "VARCHAR")])
def test_typed_truthy_rule_agrees_with_the_text_rule(con, column: str, kind: str) -> None:
    q = query(con, column)
    assert q.column_type(column) == kind
    fast = con.execute(f"SELECT {truthy_sql(column, q.column_type(column))} FROM t").fetchall()
    text = con.execute(f"SELECT {truthy_sql(column)} FROM t").fetchall()
    assert fast == text
    # true/1/'Yes' -> 1.0, false/0/' no ' -> 0.0, NULL/7/'maybe' -> NULL
    assert [row[0] for row in fast] == [1.0, 0.0, 1.0, None]


def test_aggregate_splits_window_and_weeks(con) -> None:
    result = query(con).aggregate("avg(x)", "count(x)")
    # window 03-09 .. 03-15: x = 6 and NULL -> mean 6, n 1
    assert result.window == KpiValue(6.0, 1)
    # week of 03-02: 4, 2 -> 3.0 (n 2); week of 03-09: 6 (n 1)
    assert result.series == {date(2026, 3, 2): KpiValue(3.0, 2), date(2026, 3, 9): KpiValue(6.0, 1)}


def test_empty_window_is_no_value(con) -> None:
    q = query(con, window_start="2026-03-15")
    assert q.aggregate("avg(x)", "count(x)").window == NO_VALUE
    window, series = q.values("x")
    assert window == []
    assert series == {date(2026, 3, 2): [4.0, 2.0], date(2026, 3, 9): [6.0]}
