"""retention, churn and clv computed in the database, against numbers worked out by hand.

The same small table is a CSV file (DuckDB computes from the rows), a SQLite
file and a PostgreSQL table (the database computes; only counts come back). A
customer comes back after a month away, a customer is NULL, a filter drops
rows that would change every number, a month follows an empty one (no value,
n 0) and a month keeps every customer (clv has no value but a base).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pdca import load_playbook
from pdca.check import measure
from pdca.plugins import build_registry, get_plugin_manager

AS_OF = date(2026, 7, 31)

# ts, customer, amount, region
ROWS: list[tuple[Any, ...]] = [
    ("2026-01-05 10:00:00", "a", 10, "north"),
    ("2026-01-10 10:00:00", "b", 20, "north"),
    ("2026-03-03 10:00:00", "a", 5, "north"),  # back after February, which has no rows
    ("2026-03-04 10:00:00", "c", 7, "north"),
    ("2026-03-10 10:00:00", "d", 3, "south"),
    ("2026-04-02 10:00:00", "a", 4, "north"),
    ("2026-04-03 10:00:00", "c", 6, "north"),
    ("2026-04-15 10:00:00", "e", 8, "north"),
    ("2026-05-05 10:00:00", "a", 9, "north"),
    ("2026-05-06 10:00:00", "b", 1, "north"),  # in January, not in April: not kept
    ("2026-05-07 10:00:00", None, 50, "north"),
    ("2026-05-08 10:00:00", "h", 30, "south"),
    ("2026-07-02 10:00:00", "c", 2, "north"),  # after June, which has no rows
    ("2026-07-03 10:00:00", None, 40, "north"),
    ("2026-07-04 10:00:00", "h", 5, "south"),
    ("2026-07-05 10:00:00", "c", 1, None),
]

NORTH = "filter: \"region = 'north'\", period: month"
METRICS = (
    f"  kept: {{source: t, kpi: retention, field: customer, {NORTH}, window: 61d, target: 1}}\n"
    f"  lost: {{source: t, kpi: churn, field: customer, {NORTH}, window: 61d, target: 1}}\n"
    f"  clv: {{source: t, kpi: clv, {NORTH}, window: 61d, target: 1,"
    " params: {customer: customer, revenue: amount, margin: 0.5}}\n"
    f"  short: {{source: t, kpi: retention, field: customer, {NORTH}, window: 31d, target: 1}}\n"
    "  regions: {source: t, kpi: churn, field: customer, period: month, window: 61d,"
    " target: 1, segment_by: region}\n"
)


def write_playbook(folder: Path, source: str, metrics: str = METRICS) -> Path:
    path = folder / "p.yaml"
    path.write_text(
        f"playbook: p\ntitle: T\nsources:\n  t: {source}\nmetrics:\n{metrics}", encoding="utf-8"
    )
    return path


def csv_source(folder: Path) -> str:
    lines = [",".join("" if v is None else str(v) for v in row) for row in ROWS]
    (folder / "t.csv").write_text("ts,customer,amount,region\n" + "\n".join(lines) + "\n")
    return "{type: csv, path: t.csv, timestamp: ts}"


def sqlite_source(folder: Path, rows: list[tuple[Any, ...]] = ROWS, kind: str = "TEXT") -> str:
    con = sqlite3.connect(folder / "t.db")
    con.execute(f"CREATE TABLE t (ts TEXT, customer {kind}, amount REAL, region TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return "{type: sqlite, path: t.db, table: t, timestamp: ts}"


@pytest.fixture
def pg_source(pg_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    from pg_server import fresh_database

    for url in fresh_database(pg_url, "customers"):
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as con:
            con.execute(
                sa.text("CREATE TABLE t (ts timestamp, customer text, amount float8, region text)")
            )
            con.execute(
                sa.text("INSERT INTO t VALUES (CAST(:ts AS timestamp), :c, :a, :r)"),
                [dict(zip(("ts", "c", "a", "r"), row, strict=True)) for row in ROWS],
            )
        engine.dispose()
        yield f"{{type: sql, url: '{url}', table: t, timestamp: ts}}"


def run(path: Path) -> dict[str, Any]:
    manager = get_plugin_manager(entry_points=False)
    playbook = load_playbook(path, plugin_manager=manager)
    metrics: dict[str, Any] = measure.check(playbook, build_registry(manager), AS_OF)["metrics"]
    return metrics


def months(entry: dict[str, Any]) -> list[tuple[str, Any, int]]:
    return [(p["start"], p["value"], p["n"]) for p in entry["series"]]


def assert_hand_computed(metrics: dict[str, Any]) -> None:
    assert all("error" not in e for e in metrics.values()), metrics
    # north customers by month: January a b; March a c; April a c e; May a b; July c.
    # January and March have no customers the month before (December, February): no
    # value, n 0, so the series starts in April; April keeps both of March's; May
    # keeps a of April's 3 (b was a customer in January, not in April); July follows
    # an empty June. Without the filter, d (March) and h (May) would count.
    third = pytest.approx(100 / 3)
    assert months(metrics["kept"]) == [
        ("2026-04-01", 100.0, 2),
        ("2026-05-01", third, 3),
        ("2026-06-01", None, 0),
        ("2026-07-01", None, 0),
    ]
    assert months(metrics["lost"]) == [
        ("2026-04-01", 0.0, 2),
        ("2026-05-01", pytest.approx(200 / 3), 3),
        ("2026-06-01", None, 0),
        ("2026-07-01", None, 0),
    ]
    # clv: April lost nobody (an unbounded lifetime: no value, but its base); May:
    # revenue 9 + 1 (not the NULL customer's 50) over 2 customers, x 0.5, x 3 / 2 lost
    assert months(metrics["clv"]) == [
        ("2026-04-01", None, 2),
        ("2026-05-01", 3.75, 3),
        ("2026-06-01", None, 0),
        ("2026-07-01", None, 0),
    ]
    # the window (1 June - 31 July): c; the 61 days before (1 April - 31 May): a b c e
    assert (metrics["kept"]["value"], metrics["kept"]["n"]) == (25.0, 4)
    assert (metrics["lost"]["value"], metrics["lost"]["n"]) == (75.0, 4)
    # revenue 2 (not the NULL customer's 40) / 1 customer x 0.5 x 4 / 3 lost
    assert metrics["clv"]["value"] == pytest.approx(4 / 3) and metrics["clv"]["n"] == 4
    # 1-31 July against 31 May - 30 June, which has no customer: no value, n 0
    assert (metrics["short"]["value"], metrics["short"]["n"]) == (None, 0)
    # churn by region over the same window, each over its own rows: north c against
    # a b c e; south h against h; no region: c, nobody before (no value, n 0)
    segments = {s["segment"]: (s["value"], s["n"]) for s in metrics["regions"]["segments"]}
    assert segments == {"north": (75.0, 4), "south": (0.0, 1), "(none)": (None, 0)}
    assert {mid: e["data_until"] for mid, e in metrics.items()} == {
        **dict.fromkeys(("kept", "lost", "clv", "short"), "2026-07-03"),
        "regions": "2026-07-05",
    }


def test_the_rows_give_the_hand_computed_numbers(tmp_path: Path) -> None:
    metrics = run(write_playbook(tmp_path, csv_source(tmp_path)))
    assert_hand_computed(metrics)
    assert {e["computed"] for e in metrics.values()} == {"local"}


def test_sqlite_computes_them_from_counts(tmp_path: Path, sqlite_returned: list[int]) -> None:
    path = write_playbook(tmp_path, sqlite_source(tmp_path))
    metrics = run(path)
    assert_hand_computed(metrics)
    assert {e["computed"] for e in metrics.values()} == {"database"}
    # the time check, then per metric one row per month with customers (January,
    # March, April, May, July) and one for the window; a row per region
    assert sorted(sqlite_returned) == sorted([1] + [5, 1] * 5 + [3])


def test_postgresql_computes_them_from_counts(pg_source: str, tmp_path: Path) -> None:
    metrics = run(write_playbook(tmp_path, pg_source))
    assert_hand_computed(metrics)
    assert {e["computed"] for e in metrics.values()} == {"database"}


def test_what_stays_local(tmp_path: Path) -> None:
    """clv's segment breakdown, a customer column mixing storage classes (SQLite tells 1
    from '1'; read into DuckDB they are one customer) and revenue that is never a number."""
    rows = [
        ("2026-06-20 10:00:00", 1, "x", "north"),
        ("2026-07-20 10:00:00", "1", "y", "north"),
    ]
    metrics = run(
        write_playbook(
            tmp_path,
            sqlite_source(tmp_path, rows, kind=""),
            "  seg: {source: t, kpi: clv, period: month, target: 1, segment_by: region,"
            " params: {customer: region, revenue: customer, margin: 0.5}}\n"
            "  mixed: {source: t, kpi: retention, field: customer, period: month, target: 1}\n"
            "  clv: {source: t, kpi: clv, period: month, target: 1,"
            " params: {customer: region, revenue: amount, margin: 0.5}}\n",
        )
    )
    assert {mid: e["computed"] for mid, e in metrics.items() if "computed" in e} == {
        "seg": "local",
        "mixed": "local",
    }
    assert months(metrics["mixed"])[-1] == ("2026-07-01", 100.0, 1)  # 1 and '1': the same
    assert [s["segment"] for s in metrics["seg"]["segments"]] == ["north"]
    assert (metrics["seg"]["value"], metrics["seg"]["n"]) == (None, 1)  # nobody left
    assert "no usable revenue" in metrics["clv"]["error"]
