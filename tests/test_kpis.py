"""The built-in KPI calculators, run on a real in-memory DuckDB table.

Every expected number is worked out by hand in the comment next to it; the
calendar used throughout is March 2024, whose ISO weeks start on Monday 4, 11,
18 and 25.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import duckdb
import numpy
import pluggy
import pytest

from pdca import hookspecs
from pdca.builtins import kpis as builtin_kpis
from pdca.errors import KpiError
from pdca.kpi import FunctionKpi, Kpi, KpiQuery, KpiResult, KpiValue
from pdca.plugins import build_registry

W1, W2, W3, W4 = date(2024, 3, 4), date(2024, 3, 11), date(2024, 3, 18), date(2024, 3, 25)
MARCH_4, MARCH_11, MARCH_25 = datetime(2024, 3, 4), datetime(2024, 3, 11), datetime(2024, 3, 25)
NAMES = {
    "mean", "median", "sum", "count", "count_distinct", "min", "max", "rate", "percentile",
    "nps", "csat", "ces", "sla", "ratio", "retention", "churn", "enps", "servqual_gap", "clv",
}  # fmt: skip


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def _registry() -> Mapping[str, Kpi]:
    pm = pluggy.PluginManager("pdca")
    pm.add_hookspecs(hookspecs)
    pm.register(builtin_kpis, name="pdca.builtins.kpis")
    registry = build_registry(pm)
    return {name: registry.get("kpis", name) for name in registry.names("kpis")}


KPIS = _registry()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def run(
    con: duckdb.DuckDBPyConnection,
    kpi: str | Kpi,
    columns: str,
    rows: Sequence[tuple[Any, ...]],
    field: str | None = "x",
    params: Mapping[str, Any] | None = None,
    *,
    period: str = "week",
    history_start: datetime = MARCH_4,
    window_start: datetime = MARCH_11,
    end: datetime = MARCH_25,
) -> KpiResult:
    """Load ``rows`` (``__ts`` first) into a fresh table and compute ``kpi`` on it.

    By default the history is weeks 1-3 and the window weeks 2-3 (11-24 March).
    """
    calculator = KPIS[kpi] if isinstance(kpi, str) else kpi
    params = dict(params or {})
    assert calculator.check(field, params) == []
    con.execute(f"CREATE OR REPLACE TABLE t (__ts TIMESTAMP, {columns})")
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO t VALUES ({marks})", [list(r) for r in rows])
    query = KpiQuery(con, "t", field, params, period, window_start, end, history_start)
    return calculator.compute(query)


def approx(value: KpiValue) -> tuple[Any, int]:
    return (None if value.value is None else pytest.approx(value.value), value.n)


def series(result: KpiResult) -> dict[date, tuple[Any, int]]:
    return {p: approx(v) for p, v in result.series.items()}


# --- registration and metadata ------------------------------------------------


def test_plugin_registers_exactly_the_builtin_names() -> None:
    assert set(KPIS) == NAMES


def test_every_calculator_documents_itself() -> None:
    for name, kpi in KPIS.items():
        assert kpi.name == name
        assert kpi.summary and "\n" not in kpi.summary, name
        assert all(doc.strip() for doc in kpi.param_docs.values()), name


def test_only_count_works_without_a_field() -> None:
    assert {n for n, k in KPIS.items() if not k.requires_field} == {"count", "clv"}
    problems = KPIS["nps"].check(None, {})
    assert problems == [(None, "KPI 'nps' needs a 'field': the column it reads")]


def test_only_retention_and_churn_look_back() -> None:
    assert {n for n, k in KPIS.items() if k.lookback} == {"retention", "churn", "clv"}


def test_columns_list_every_column_read() -> None:
    assert KPIS["ratio"].columns("contacts", {"denominator": "orders"}) == ["contacts", "orders"]
    assert KPIS["servqual_gap"].columns("p", {"expectation": "e"}) == ["p", "e"]
    assert KPIS["count"].columns(None, {}) == []
    assert KPIS["retention"].columns("customer", {}) == ["customer"]
    assert KPIS["nps"].columns("score", {}) == ["score"]


# --- simple aggregates ----------------------------------------------------------

NUMBERS = [
    (at(W1, 9), 2.0),
    (at(W1, 10), 4.0),
    (datetime(2024, 3, 10, 23, 59), None),  # Sunday night: still week 1
    (datetime(2024, 3, 11, 0, 0), 1.0),  # Monday midnight: week 2, first row of the window
    (at(W2), 3.0),
    (at(W2, 15), 8.0),
    (at(W3), 6.0),
    (at(W3, 13), None),
    (at(W3, 14), 10.0),
    (datetime(2024, 3, 24, 23, 59), 2.0),
]
# window (weeks 2-3): 1, 3, 8, 6, 10, 2 -> n 6, sum 30, mean 5, sorted 1 2 3 6 8 10
# week 1: 2, 4 | week 2: 1, 3, 8 | week 3: 6, 10, 2


@pytest.mark.parametrize(
    ("kpi", "window", "weekly"),
    [
        ("mean", 30 / 6, (6 / 2, 12 / 3, 18 / 3)),
        ("ces", 30 / 6, (6 / 2, 12 / 3, 18 / 3)),
        ("sum", 30, (6, 12, 18)),
        ("median", (3 + 6) / 2, ((2 + 4) / 2, 3, 6)),
        ("min", 1, (2, 1, 2)),
        ("max", 10, (4, 8, 10)),
    ],
)
def test_numeric_aggregates(con, kpi: str, window: float, weekly: tuple[float, ...]) -> None:
    result = run(con, kpi, "x DOUBLE", NUMBERS)
    assert approx(result.window) == (pytest.approx(window), 6)
    assert series(result) == {
        W1: (pytest.approx(weekly[0]), 2),
        W2: (pytest.approx(weekly[1]), 3),
        W3: (pytest.approx(weekly[2]), 3),
    }


def test_series_keys_are_the_mondays_starting_each_iso_week(con) -> None:
    result = run(con, "count", "x DOUBLE", NUMBERS, field=None)
    assert list(result.series) == [W1, W2, W3]
    assert all(p.weekday() == 0 for p in result.series)
    # 3 rows in week 1 (Sunday 23:59 included), 3 in week 2, 4 in week 3
    assert series(result) == {W1: (3, 3), W2: (3, 3), W3: (4, 4)}
    assert approx(result.window) == (7, 7)  # 3 + 4


def test_count_with_a_field_counts_filled_in_rows(con) -> None:
    result = run(con, "count", "x DOUBLE", NUMBERS)
    # the NULLs of weeks 1 and 3 are left out: 2, 3 and 3 rows; window 3 + 3
    assert series(result) == {W1: (2, 2), W2: (3, 3), W3: (3, 3)}
    assert approx(result.window) == (6, 6)


def test_numbers_in_text_columns_are_read_and_junk_is_ignored(con) -> None:
    rows = [(at(W2), v) for v in (" 4 ", "5", "N/A", "NaN", "inf", "", None, "1e1")]
    result = run(con, "mean", "x VARCHAR", rows)
    # usable: 4, 5, 10 -> 19 / 3; "N/A", "NaN", "inf", "" and NULL are skipped
    assert approx(result.window) == (pytest.approx(19 / 3), 3)


def test_nan_in_a_double_column_does_not_poison_the_mean(con) -> None:
    rows = [(at(W2), 1.0), (at(W2), float("nan")), (at(W2), 3.0)]
    assert approx(run(con, "mean", "x DOUBLE", rows).window) == (2.0, 2)  # (1 + 3) / 2


def test_count_distinct(con) -> None:
    rows = [
        (at(W1), "A"),
        (at(W1), "A"),
        (at(W2), "A"),
        (at(W2), "B"),
        (at(W2), None),
        (at(W3), "a"),  # another customer: IDs are compared exactly
        (at(W3), "B"),
        (at(W3), None),
    ]
    result = run(con, "count_distinct", "x VARCHAR", rows)
    # window: A, B, a, B -> 3 distinct of 4 non-null values
    assert approx(result.window) == (3, 4)
    # week 1: A, A -> 1 of 2; week 2: A, B -> 2 of 2; week 3: a, B -> 2 of 2
    assert series(result) == {W1: (1, 2), W2: (2, 2), W3: (2, 2)}


def test_count_distinct_of_only_nulls_is_no_value(con) -> None:
    rows = [(at(W2), None), (at(W3), None)]
    assert run(con, "count_distinct", "x VARCHAR", rows).window == KpiValue(None, 0)


# --- empty windows and NULLs ------------------------------------------------------

PARAMS: dict[str, dict[str, Any]] = {
    "percentile": {"q": 90},
    "sla": {"limit": 24},
    "ratio": {"denominator": "y"},
    "servqual_gap": {"expectation": "y"},
    "clv": {"customer": "x", "revenue": "y", "margin": 0.5},
}
FIELDS: dict[str, str | None] = {"clv": None}  # clv reads its columns from params


@pytest.mark.parametrize("kpi", sorted(NAMES))
def test_empty_table_gives_no_value(con, kpi: str) -> None:
    result = run(con, kpi, "x DOUBLE, y DOUBLE", [], FIELDS.get(kpi, "x"), PARAMS.get(kpi))
    assert result.window == KpiValue(None, 0)
    assert dict(result.series) == {}


@pytest.mark.parametrize("kpi", sorted(NAMES))
def test_window_without_rows_gives_no_value_but_history_stays(con, kpi: str) -> None:
    rows = [(at(W1), 1.0, 5.0), (at(W1, 13), 0.0, 4.0)]  # only week 1, before the window
    result = run(con, kpi, "x DOUBLE, y DOUBLE", rows, FIELDS.get(kpi, "x"), PARAMS.get(kpi))
    assert result.window == KpiValue(None, 0)
    assert list(result.series) == [W1]


@pytest.mark.parametrize("kpi", sorted(NAMES - {"count"}))
def test_window_of_nulls_gives_no_value(con, kpi: str) -> None:
    rows = [(at(W1), 1.0, 5.0), (at(W2), None, None), (at(W3), None, None)]
    result = run(con, kpi, "x DOUBLE, y DOUBLE", rows, FIELDS.get(kpi, "x"), PARAMS.get(kpi))
    assert result.window == KpiValue(None, 0)


def test_field_that_is_never_usable_is_an_error_not_no_data(con) -> None:
    rows = [(at(W2), "N/A"), (at(W3), "unknown")]
    with pytest.raises(KpiError, match="KPI 'mean' found no usable value in 2 rows"):
        run(con, "mean", "x VARCHAR", rows)


def test_nps_on_a_0_to_100_scale_is_an_error(con) -> None:
    rows = [(at(W2), 50.0), (at(W3), 80.0), (at(W3), 100.0)]
    with pytest.raises(KpiError, match="scores from 0 to 10"):
        run(con, "nps", "x DOUBLE", rows)


# --- rate -----------------------------------------------------------------------------


def test_rate_reads_every_boolean_spelling(con) -> None:
    spellings = ["Yes", "NO", " y ", "true", "F", "1", "0", "N", "Y", "maybe", "", None, "2"]
    rows = [(at(W2), s) for s in spellings]
    result = run(con, "rate", "x VARCHAR", rows)
    # truthy: Yes, " y ", true, 1, Y = 5; falsy: NO, F, 0, N = 4; ignored: maybe, "", NULL, 2
    # 5 / 9 * 100 = 55.5556
    assert approx(result.window) == (pytest.approx(500 / 9), 9)


def test_rate_on_boolean_and_integer_columns(con) -> None:
    rows = [(at(W2), True, 1), (at(W2), True, 0), (at(W3), False, 0), (at(W3), None, 2)]
    # BOOLEAN: true, true, false -> 2 / 3 = 66.667 %; NULL ignored
    assert approx(run(con, "rate", "x BOOLEAN, y INTEGER", rows).window) == (
        pytest.approx(200 / 3),
        3,
    )
    # INTEGER: 1, 0, 0 -> 1 / 3 = 33.333 %; 2 is not a boolean and is ignored
    assert approx(run(con, "rate", "x BOOLEAN, y INTEGER", rows, field="y").window) == (
        pytest.approx(100 / 3),
        3,
    )


# --- percentile -------------------------------------------------------------------


def test_percentile_by_hand(con) -> None:
    rows = [(at(W2), v) for v in (10.0, 1.0, 3.0, 2.0, 4.0)]
    result = run(con, "percentile", "x DOUBLE", rows, params={"q": 90})
    # sorted 1 2 3 4 10; rank 0.9 * (5 - 1) = 3.6 -> 4 + 0.6 * (10 - 4) = 7.6
    assert approx(result.window) == (pytest.approx(7.6), 5)


@pytest.mark.parametrize("q", [0, 10, 25, 50, 90, 95, 99.5, 100])
def test_percentile_matches_numpy(con, q: float) -> None:
    window_values = [17.0, 3.5, 8.0, 8.0, 42.0, 0.5, 23.0, 11.0, 5.0, 31.0, 2.0]
    rows = [(at(W1), 1000.0)] + [(at(W2 if i % 2 else W3), v) for i, v in enumerate(window_values)]
    result = run(con, "percentile", "x DOUBLE", rows, params={"q": q})
    assert result.window.value == pytest.approx(numpy.percentile(window_values, q))
    assert result.window.n == len(window_values)
    assert result.series[W2].value == pytest.approx(numpy.percentile(window_values[1::2], q))


def test_median_equals_the_50th_percentile(con) -> None:
    rows = [(at(W2), v) for v in (7.0, 1.0, 4.0, 9.0)]
    median = run(con, "median", "x DOUBLE", rows).window.value
    assert median == pytest.approx(5.5)  # (4 + 7) / 2
    assert run(con, "percentile", "x DOUBLE", rows, params={"q": 50}).window.value == median


# --- survey scores --------------------------------------------------------------


@pytest.mark.parametrize("kpi", ["nps", "enps"])
def test_nps(con, kpi: str) -> None:
    scores = [10, 9, 9, 8, 7, 6, 0, 11, -1, None]
    rows = [(at(W2), s) for s in scores] + [(at(W1), 3), (at(W1), 10)]
    result = run(con, kpi, "x INTEGER", rows)
    # 11, -1 (out of range) and NULL ignored: 3 promoters (10, 9, 9), 2 detractors (6, 0)
    # of 7 -> (3 - 2) / 7 * 100 = 14.2857
    assert approx(result.window) == (pytest.approx(100 / 7), 7)
    # week 1: one detractor (3), one promoter (10) of 2 -> 0
    assert series(result) == {W1: (0, 2), W2: (pytest.approx(100 / 7), 7)}


def test_nps_all_detractors_and_all_promoters(con) -> None:
    rows = [(at(W2), 0.0), (at(W2), 6.0), (at(W3), 9.0), (at(W3), 10.0)]
    assert series(run(con, "nps", "x DOUBLE", rows)) == {W2: (-100, 2), W3: (100, 2)}


def test_nps_reads_scores_stored_as_text(con) -> None:
    rows = [(at(W2), s) for s in (" 9 ", "10", "7", "3", "n/a", "9.5")]
    # usable: 9, 10, 7, 3, 9.5 -> promoters 9, 10, 9.5 = 3, detractors 3 = 1
    # (3 - 1) / 5 * 100 = 40
    assert approx(run(con, "nps", "x VARCHAR", rows).window) == (pytest.approx(40), 5)


def test_csat(con) -> None:
    rows = [(at(W2), s) for s in ("5", "4", "3", "very good", None, "1", "4.5")]
    # numeric: 5, 4, 3, 1, 4.5 -> n 5
    # default satisfied 4: 5, 4, 4.5 -> 3 / 5 = 60 %
    assert approx(run(con, "csat", "x VARCHAR", rows).window) == (pytest.approx(60), 5)
    # satisfied 5: only 5 -> 1 / 5 = 20 %
    result = run(con, "csat", "x VARCHAR", rows, params={"satisfied": 5})
    assert approx(result.window) == (pytest.approx(20), 5)
    # satisfied 4.5: 5 and 4.5 -> 2 / 5 = 40 %
    result = run(con, "csat", "x VARCHAR", rows, params={"satisfied": 4.5})
    assert approx(result.window) == (pytest.approx(40), 5)


def test_servqual_gap_pairs_each_perception_with_its_expectation(con) -> None:
    rows = [
        (at(W2), 4.0, 5.0),
        (at(W2), 3.0, 5.0),
        (at(W3), 5.0, 4.0),
        (at(W3), None, 5.0),
        (at(W3), 2.0, None),
    ]
    result = run(con, "servqual_gap", "x DOUBLE, y DOUBLE", rows, params={"expectation": "y"})
    # complete pairs: 4-5, 3-5, 5-4 = -1, -2, +1 -> -2 / 3 = -0.6667
    assert approx(result.window) == (pytest.approx(-2 / 3), 3)
    # week 2: (-1 - 2) / 2 = -1.5; week 3: one pair, +1
    assert series(result) == {W2: (pytest.approx(-1.5), 2), W3: (pytest.approx(1), 1)}


# --- operational KPIs -----------------------------------------------------------


def test_sla(con) -> None:
    rows = [(at(W2), h) for h in (2.0, 24.0, 24.5, 30.0, None)]
    result = run(con, "sla", "x DOUBLE", rows, params={"limit": 24})
    # within 24 h: 2 and 24 (the limit itself meets the SLA) -> 2 / 4 = 50 %
    assert approx(result.window) == (pytest.approx(50), 4)


def test_ratio_sums_rows_where_both_are_known(con) -> None:
    rows = [
        (at(W2), 3.0, 10.0),
        (at(W2), 2.0, 5.0),
        (at(W3), None, 8.0),  # contacts not loaded: its orders must not count
        (at(W3), 1.0, None),
        (at(W3), 0.0, 5.0),
    ]
    result = run(con, "ratio", "x DOUBLE, y DOUBLE", rows, params={"denominator": "y"})
    # (3 + 2 + 0) / (10 + 5 + 5) = 5 / 20 = 0.25, from 3 complete rows
    assert approx(result.window) == (pytest.approx(0.25), 3)
    # week 2: 5 / 15; week 3: 0 / 5
    assert series(result) == {W2: (pytest.approx(1 / 3), 2), W3: (0, 1)}


def test_ratio_with_zero_denominator_is_no_value(con) -> None:
    rows = [(at(W2), 3.0, 0.0), (at(W2), 1.0, 0.0)]
    result = run(con, "ratio", "x DOUBLE, y DOUBLE", rows, params={"denominator": "y"})
    assert result.window.value is None
    assert result.window.n == 2


# --- retention and churn ----------------------------------------------------------

VISITS = [
    (at(W1), "A"),
    (at(W1, 13), "A"),
    (at(W1), "B"),
    (at(W1), "C"),
    (at(W1), "D"),
    (at(W2), "A"),
    (at(W2), "B"),
    (at(W2), "E"),
    (at(W2), None),
    (at(W3), "B"),
    (at(W3), "E"),
    (at(W3), "F"),
    (at(W4), "A"),
    (at(W4), "G"),
]
# customers per week: 1 {A B C D}, 2 {A B E}, 3 {B E F}, 4 {A G}
RETENTION_FRAME = {
    "history_start": at(W1, 0),
    "window_start": at(W3, 0),
    "end": datetime(2024, 4, 1),
}


def test_retention_per_week_and_window(con) -> None:
    result = run(con, "retention", "x VARCHAR", VISITS, **RETENTION_FRAME)
    assert series(result) == {
        W1: (None, 0),  # nobody seen the week before (outside the data)
        W2: (pytest.approx(50), 4),  # of A B C D, A B came back: 2 / 4
        W3: (pytest.approx(200 / 3), 3),  # of A B E, B E came back: 2 / 3
        W4: (0, 3),  # of B E F, nobody came back: 0 / 3
    }
    # window weeks 3-4 {A B E F G}; the two weeks before, 1-2: {A B C D E}
    # back again: A B E -> 3 / 5 = 60 %
    assert approx(result.window) == (pytest.approx(60), 5)


def test_churn_is_the_complement_of_retention(con) -> None:
    result = run(con, "churn", "x VARCHAR", VISITS, **RETENTION_FRAME)
    assert series(result) == {
        W1: (None, 0),
        W2: (pytest.approx(50), 4),  # C D lost of 4
        W3: (pytest.approx(100 / 3), 3),  # A lost of 3
        W4: (pytest.approx(100), 3),  # B E F all lost
    }
    assert approx(result.window) == (pytest.approx(40), 5)  # C D lost of 5


def test_retention_window_compares_with_the_window_just_before(con) -> None:
    rows = [
        (at(date(2024, 1, 2)), "A"),  # before the 29 days preceding the window
        (at(date(2024, 1, 10)), "B"),
        (at(date(2024, 2, 20)), "B"),
    ]
    result = run(
        con,
        "retention",
        "x VARCHAR",
        rows,
        period="month",
        history_start=datetime(2024, 1, 1),
        window_start=datetime(2024, 2, 1),
        end=datetime(2024, 3, 1),
    )
    # month of February vs month of January {A B}: B back -> 1 / 2 = 50 %
    assert series(result) == {date(2024, 1, 1): (None, 0), date(2024, 2, 1): (50, 2)}
    # window 1-29 Feb (29 days) vs 3-31 Jan: only B, back again -> 1 / 1 = 100 %
    assert approx(result.window) == (100, 1)


def test_retention_without_customers_before_the_window_is_no_value(con) -> None:
    rows = [(at(W3), "A"), (at(W3), "B")]
    result = run(con, "retention", "x VARCHAR", rows, **RETENTION_FRAME)
    assert result.window == KpiValue(None, 0)
    assert dict(result.series) == {W3: KpiValue(None, 0)}


def test_retention_without_customers_in_the_window_is_no_data_not_total_churn(con) -> None:
    rows = [(at(W1), "A"), (at(W2), "A")]
    result = run(con, "churn", "x VARCHAR", rows, **RETENTION_FRAME)
    assert result.window == KpiValue(None, 0)


# --- parameter checks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kpi", "params", "key", "message"),
    [
        ("percentile", {}, "q", "KPI 'percentile' needs parameter 'q': the percentile, from 0"),
        ("percentile", {"q": 150}, "q", "parameter 'q' must be from 0 to 100, got 150"),
        ("percentile", {"q": -1}, "q", "parameter 'q' must be from 0 to 100, got -1"),
        ("percentile", {"q": "90"}, "q", "parameter 'q' must be a number, got '90'"),
        ("percentile", {"q": True}, "q", "parameter 'q' must be a number, got True"),
        ("percentile", {"q": math.nan}, "q", "parameter 'q' must be a number, got nan"),
        ("csat", {"satisfied": "4"}, "satisfied", "'satisfied' must be a number, got '4'"),
        ("sla", {}, "limit", "KPI 'sla' needs parameter 'limit': the most the field may be"),
        ("sla", {"limit": "24h"}, "limit", "KPI 'sla' parameter 'limit' must be a number"),
        ("ratio", {}, "denominator", "KPI 'ratio' needs parameter 'denominator'"),
        ("ratio", {"denominator": 5}, "denominator", "'denominator' must be a column name, got 5"),
        ("ratio", {"denominator": " "}, "denominator", "must be a column name, got ' '"),
        ("servqual_gap", {}, "expectation", "KPI 'servqual_gap' needs parameter 'expectation'"),
        ("servqual_gap", {"expectation": None}, "expectation", "must be a column name, got None"),
        ("mean", {"q": 90}, "q", "KPI 'mean' has no parameter 'q' (known: none)"),
        ("csat", {"limit": 3}, "limit", "KPI 'csat' has no parameter 'limit' (known: satisfied)"),
    ],
)
def test_bad_params_are_reported(kpi: str, params: dict[str, Any], key: str, message: str) -> None:
    problems = KPIS[kpi].check("x", params)
    assert len(problems) == 1, problems
    assert problems[0][0] == key
    assert message in problems[0][1]


@pytest.mark.parametrize(
    ("kpi", "params"),
    [
        ("percentile", {"q": 0}),
        ("percentile", {"q": 100}),
        ("percentile", {"q": 99.5}),
        ("csat", {}),
        ("csat", {"satisfied": 9}),
        ("sla", {"limit": 0.5}),
        ("ratio", {"denominator": "orders"}),
        ("servqual_gap", {"expectation": "expected"}),
        ("retention", {}),
    ],
)
def test_good_params_pass(kpi: str, params: dict[str, Any]) -> None:
    assert KPIS[kpi].check("x", params) == []


# --- FunctionKpi ----------------------------------------------------------------------


def spread(values: Sequence[float]) -> float:
    """max(field) - min(field): how far apart the values lie."""
    return max(values) - min(values)


def test_function_kpi_adapts_a_plain_function(con) -> None:
    kpi = FunctionKpi("spread", spread)
    assert kpi.summary == "max(field) - min(field): how far apart the values lie."
    result = run(con, kpi, "x DOUBLE", NUMBERS)
    # window 1, 3, 8, 6, 10, 2 -> 10 - 1 = 9
    assert approx(result.window) == (9, 6)
    # week 1: 4 - 2; week 2: 8 - 1; week 3: 10 - 2 (NULLs never reach the function)
    assert series(result) == {W1: (2, 2), W2: (7, 3), W3: (8, 3)}


def test_function_kpi_gets_no_call_for_an_empty_window(con) -> None:
    calls: list[Sequence[Any]] = []

    def record(values: Sequence[Any]) -> float:
        calls.append(values)
        return float(len(values))

    result = run(con, FunctionKpi("record", record), "x DOUBLE", [(at(W1), 1.0)])
    assert result.window == KpiValue(None, 0)
    assert calls == [[1.0]]  # week 1 only
