"""The ``clv`` calculator, on a real in-memory DuckDB table, against values worked out by hand.

Calendar: March 2024, whose ISO weeks start on Monday 4, 11, 18 and 25. Unless a
test says otherwise the history is weeks 1-4 and the window the last two weeks
(18-31 March, D = 14 days), so the span before the window is 4-17 March.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pdca.builtins.customers import Clv
from pdca.errors import KpiError
from pdca.kpi import KpiQuery, KpiResult, KpiValue

W1, W2, W3, W4 = date(2024, 3, 4), date(2024, 3, 11), date(2024, 3, 18), date(2024, 3, 25)
PARAMS = {"customer": "who", "revenue": "amount", "margin": 0.5}


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def run(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[tuple[Any, ...]],
    params: Mapping[str, Any] = PARAMS,
    *,
    amount_type: str = "DOUBLE",
    period: str = "week",
    window_start: datetime = datetime(2024, 3, 18),
    end: datetime = datetime(2024, 4, 1),
    history_start: datetime = datetime(2024, 3, 4),
) -> KpiResult:
    kpi = Clv()
    assert kpi.check(None, params) == []
    con.execute(f"CREATE OR REPLACE TABLE t (__ts TIMESTAMP, who VARCHAR, amount {amount_type})")
    if rows:
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", [list(r) for r in rows])
    query = KpiQuery(con, "t", None, dict(params), period, window_start, end, history_start)
    return kpi.compute(query)


def approx(value: KpiValue) -> tuple[Any, int]:
    return (None if value.value is None else pytest.approx(value.value), value.n)


ORDERS = [
    # week 1: A 10, B 20, C 30, D 40 -> customers {A, B, C, D}, revenue 100
    (at(W1), "A", 10.0),
    (at(W1, 13), "B", 20.0),
    (at(W1, 14), "C", 30.0),
    (at(W1, 15), "D", 40.0),
    # week 2: A 15, B 25, E 20 -> {A, B, E}, revenue 60
    (at(W2), "A", 15.0),
    (at(W2, 13), "B", 25.0),
    (at(W2, 14), "E", 20.0),
    # week 3: A 30, E 10, F (no revenue) -> {A, E, F}, revenue 40
    (at(W3), "A", 30.0),
    (at(W3, 13), "E", 10.0),
    (at(W3, 14), "F", None),
    (at(W3, 15), None, 1000.0),  # no customer: not counted anywhere
    # week 4: A 50, E 50 -> {A, E}, revenue 100
    (at(W4), "A", 50.0),
    (datetime(2024, 3, 31, 23, 59), "E", 50.0),
]


def test_window_by_hand(con) -> None:
    result = run(con, ORDERS)
    # window 18-31 March: customers {A, E, F} = 3, revenue 30 + 10 + 50 + 50 = 140
    # before (4-17 March): {A, B, C, D, E} = 5; seen again A, E -> 3 of 5 lost, churn 0.6
    # per week (p = 7, D = 14): revenue per customer 140 / 3 / 2 = 23.333,
    # churn 0.6 * 7 / 14 = 0.3, lifetime 1 / 0.3 = 3.333 weeks
    # value = 23.333 * 0.5 * 3.333 = 38.889 (= 140 / 3 * 0.5 / 0.6); n = 5 customers before
    assert approx(result.window) == (pytest.approx(140 / 3 / 2 * 0.5 * (1 / 0.3)), 5)
    assert result.window.value == pytest.approx(38.8889, abs=1e-4)


def test_series_by_hand(con) -> None:
    result = run(con, ORDERS)
    assert {p: approx(v) for p, v in result.series.items()} == {
        # week 1: nothing before it -> no value
        W1: (None, 0),
        # week 2: 60 / 3 = 20 per customer; of {A, B, C, D} A and B stay -> churn 2 / 4
        # -> lifetime 2 weeks -> 20 * 0.5 * 2 = 20, n 4
        W2: (pytest.approx(20.0), 4),
        # week 3: 40 / 3 per customer; of {A, B, E} B leaves -> churn 1 / 3, lifetime 3
        # -> 40 / 3 * 0.5 * 3 = 20, n 3
        W3: (pytest.approx(20.0), 3),
        # week 4: 100 / 2 = 50; of {A, E, F} F leaves -> churn 1 / 3, lifetime 3
        # -> 50 * 0.5 * 3 = 75, n 3
        W4: (pytest.approx(75.0), 3),
    }


def test_docs_worked_example(con) -> None:
    """The example in docs/kpis.md: 28-day window, weekly periods, 60 % margin."""
    before = [(at(W1), c, 10.0) for c in "ABCDE"]
    window = [
        (datetime(2024, 4, 1, 9), "A", 100.0),
        (datetime(2024, 4, 8, 9), "B", 50.0),
        (datetime(2024, 4, 15, 9), "C", 50.0),
        (datetime(2024, 4, 22, 9), "D", 60.0),
        (datetime(2024, 4, 23, 9), "D", 40.0),
        (datetime(2024, 4, 24, 9), "F", 100.0),
    ]
    result = run(
        con,
        before + window,
        {"customer": "who", "revenue": "amount", "margin": 0.6},
        window_start=datetime(2024, 4, 1),
        end=datetime(2024, 4, 29),
        history_start=datetime(2024, 3, 4),
    )
    # revenue 400 from 5 customers over 4 weeks -> 20 per customer per week
    # of A-E before, E is lost: churn 1 / 5 over 28 days -> 0.05 per week -> 20 weeks
    # 20 * 0.6 * 20 = 240
    assert approx(result.window) == (pytest.approx(240.0), 5)


def test_window_value_does_not_depend_on_the_period(con) -> None:
    weekly = run(con, ORDERS).window
    monthly = run(con, ORDERS, period="month").window
    daily = run(con, ORDERS, period="day").window
    assert weekly.value == pytest.approx(monthly.value) == pytest.approx(daily.value)
    assert weekly.n == monthly.n == daily.n == 5


def test_nobody_lost_is_an_unbounded_lifetime_with_no_value(con) -> None:
    rows = [(at(W1), "A", 1.0), (at(W2), "B", 2.0), (at(W3), "A", 3.0), (at(W4), "B", 4.0)]
    result = run(con, rows)
    # before {A, B}, window {A, B}: churn 0 -> lifetime unbounded -> no value, n 2
    assert result.window == KpiValue(None, 2)


def test_no_customers_before_the_window_is_no_value(con) -> None:
    rows = [(at(W3), "A", 10.0), (at(W4), "B", 10.0)]
    assert run(con, rows).window == KpiValue(None, 0)


def test_no_customers_in_the_window_is_no_data_not_total_churn(con) -> None:
    rows = [(at(W1), "A", 10.0), (at(W2), "B", 10.0)]
    assert run(con, rows).window == KpiValue(None, 0)


def test_everybody_lost_is_a_lifetime_of_one_window(con) -> None:
    rows = [(at(W1), "A", 10.0), (at(W2), "B", 10.0), (at(W3), "C", 30.0), (at(W4), "D", 10.0)]
    # window {C, D}: 40 / 2 = 20 per customer; before {A, B}, both lost: churn 1
    # -> 20 * 0.5 / 1 = 10, n 2
    assert approx(run(con, rows).window) == (pytest.approx(10.0), 2)


def test_revenue_in_text_is_read_and_junk_skipped(con) -> None:
    rows = [(at(W1), "A", "5"), (at(W1), "B", "5"), (at(W3), "A", " 30 "), (at(W4), "C", "n/a")]
    result = run(con, rows, amount_type="VARCHAR")
    # window {A, C}, revenue 30 ("n/a" skipped); before {A, B}, B lost -> churn 1 / 2
    # -> 30 / 2 * 0.5 / 0.5 = 15, n 2
    assert approx(result.window) == (pytest.approx(15.0), 2)


def test_revenue_that_is_never_a_number_is_an_error(con) -> None:
    rows = [(at(W1), "A", "lots"), (at(W3), "A", "more")]
    with pytest.raises(KpiError, match=r"no usable revenue in 2 rows.*'amount'.*'lots'"):
        run(con, rows, amount_type="VARCHAR")


def test_empty_table_is_no_value(con) -> None:
    result = run(con, [])
    assert result.window == KpiValue(None, 0)
    assert result.series == {}


def test_zero_margin_is_zero_value(con) -> None:
    result = run(con, ORDERS, {**PARAMS, "margin": 0})
    assert approx(result.window) == (0.0, 5)


def test_columns_and_metadata() -> None:
    kpi = Clv()
    assert kpi.name == "clv"
    assert kpi.lookback and not kpi.requires_field
    assert kpi.columns(None, PARAMS) == ["who", "amount"]
    assert kpi.summary and "\n" not in kpi.summary


@pytest.mark.parametrize(
    ("field", "params", "key", "message"),
    [
        (None, {"customer": "c", "revenue": "r"}, "margin", "needs parameter 'margin'"),
        (None, {"customer": "c", "revenue": "r", "margin": 60}, "margin", "from 0 to 1"),
        (None, {"customer": "c", "revenue": "r", "margin": "high"}, "margin", "must be a number"),
        (None, {"revenue": "r", "margin": 0.5}, "customer", "needs parameter 'customer'"),
        (None, {"customer": "c", "revenue": "", "margin": 0.5}, "revenue", "column name"),
        ("c", {"customer": "c", "revenue": "r", "margin": 0.5}, None, "leave out 'field'"),
        (None, {**PARAMS, "q": 1}, "q", "has no parameter 'q'"),
    ],
)
def test_bad_params_are_reported(
    field: str | None, params: dict[str, Any], key: str | None, message: str
) -> None:
    problems = Clv().check(field, params)
    assert len(problems) == 1
    assert problems[0][0] == key
    assert message in problems[0][1]


def test_pdca_check_reads_the_span_before_the_window(playbook_file) -> None:
    """End to end: the data session gives clv the 28 days before the window too."""
    from pdca.check.measure import check
    from pdca.playbook import load_checked

    lines = ["ts,customer_id,amount"]
    lines += [f"2024-03-0{d} 10:00,{c},10" for d, c in zip((4, 5, 6, 7, 8), "ABCDE", strict=True)]
    lines += [
        "2024-04-01 09:00,A,100",
        "2024-04-08 09:00,B,50",
        "2024-04-15 09:00,C,50",
        "2024-04-22 09:00,D,100",
        "2024-04-24 09:00,F,100",
    ]
    path: Path = playbook_file(
        """
        playbook: clv
        title: Customer lifetime value
        sources:
          orders: {type: csv, path: orders.csv, timestamp: ts}
        metrics:
          clv:
            source: orders
            kpi: clv
            params: {customer: customer_id, revenue: amount, margin: 0.6}
            target: 200
        """,
        **{"orders.csv": "\n".join(lines) + "\n"},
    )
    loaded = load_checked(path)
    report = check(loaded.playbook, loaded.registry, date(2024, 4, 28))
    entry = report["metrics"]["clv"]
    # as in the docs example: 400 / 5 customers, E lost of A-E -> 80 * 0.6 / 0.2 = 240
    assert entry["value"] == pytest.approx(240.0)
    assert entry["n"] == 5
    assert entry["status"] == "met"
