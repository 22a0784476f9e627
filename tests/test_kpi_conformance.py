"""Every built-in KPI gives the same numbers wherever it is computed.

The same rows are stored as a CSV file (DuckDB computes), a SQLite table and a
table on the real PostgreSQL server the tests start (the database computes what
it can, only aggregates come back). Each runs through ``pdca check`` in a fresh
process under two time zones, and every metric's value, n, series and segments
must agree with the CSV's to 1e-9. The rows cross a year boundary (ISO week
2026-W01 starts on Monday 29 December 2025), carry offsets that move them across
days and weeks, and hold NULLs and values no KPI can use.

The reference is the file: it is what pdca computed before databases computed
anything, and the pushed-down path is held to it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from same_numbers import differences, same

AS_OF = "2026-01-14"
ZONES = ("UTC", "America/St_Johns")  # St John's: -03:30, a half-hour zone

# ts, score (text: 0-10, junk), solved (text yes/no, junk), orders (text), hours
# (a real number column: NaN, infinity, NULL), ok (a boolean), visits (an integer),
# team, customer
ROWS: list[tuple[Any, ...]] = [
    ("2025-11-03 09:00:00", "9", "yes", "3", 1.5, True, 2, "a", "c1"),
    ("2025-11-20 23:30:00", "6", "no", "2", 30.0, False, 1, "b", "c2"),
    ("2025-12-01 10:00:00", "10", "Y", "4", 12.25, True, 3, "a", "c1"),
    ("2025-12-14 08:00:00+05:00", " 8 ", "n", "n/a", None, None, None, "b", "c3"),
    ("2025-12-20 12:00:00", "N/A", "maybe", "1", float("nan"), False, 0, None, "c2"),
    ("2025-12-28 23:30:00-02:00", "7", "true", "5", 48.0, True, 4, "a", "c4"),  # 29 Dec UTC
    ("2025-12-29 00:15:00+01:00", "3", "false", "", 0.5, True, 1, "c", "c1"),  # 28 Dec UTC
    ("2025-12-31 18:00:00", "11", "1", "2", float("inf"), False, 2, "a", "c5"),
    ("2026-01-01 00:00:00", "-1", "0", "7", 6.0, True, 5, "b", "c3"),
    ("2026-01-01 03:00:00Z", "9", "yes", "x", 18.5, None, 3, "c", "c4"),
    ("2026-01-04 23:59:59", "10", "", "3", 2.0, False, None, "a", "c1"),
    ("2026-01-05 00:00:00", "0", "no", "9", 96.0, True, 1, "b", "c6"),
    ("2026-01-07 14:00:00+09:00", "8", "yes", "2", 3.75, True, 2, "a", "c2"),
    ("2026-01-10 11:00:00", None, "no", "4", 9.0, False, 6, "c", "c7"),
    ("2026-01-12 16:45:00", "5", "Y", "1", 24.0, True, 1, None, "c1"),
    ("2026-01-14 23:00:00", "9", "yes", "6", 1.0, True, 2, "b", "c3"),
    ("2026-01-15 08:00:00", "9", "yes", "6", 1.0, True, 2, "b", "c3"),  # after as-of
]

METRICS = {
    "mean": "kpi: mean, field: hours",
    "mean_text": "kpi: mean, field: orders",
    "median": "kpi: median, field: hours",
    "sum": "kpi: sum, field: orders, period: month",
    "sum_int": "kpi: sum, field: visits",
    "count": "kpi: count",
    "count_field": "kpi: count, field: ok, period: day",
    "count_distinct": "kpi: count_distinct, field: customer",
    "min": "kpi: min, field: hours",
    "max": "kpi: max, field: score",
    "rate": "kpi: rate, field: solved",
    "rate_bool": "kpi: rate, field: ok, segment_by: team",
    "rate_int": "kpi: rate, field: visits",
    "p90": "kpi: percentile, field: hours, params: {q: 90}",
    "nps": "kpi: nps, field: score, segment_by: team",
    "nps_a": "kpi: nps, field: score, filter: \"team = 'a'\"",
    "enps": "kpi: enps, field: score, period: month",
    "csat": "kpi: csat, field: visits, params: {satisfied: 2}",
    "ces": "kpi: ces, field: visits",
    "sla": "kpi: sla, field: hours, params: {limit: 24}, window: 14d",
    "ratio": "kpi: ratio, field: orders, params: {denominator: visits}",
    "gap": "kpi: servqual_gap, field: visits, params: {expectation: orders}",
    "retention": "kpi: retention, field: customer, period: month",
    "churn": "kpi: churn, field: customer, period: month",
    "churn_team": "kpi: churn, field: customer, segment_by: team",
    "retention_day": "kpi: retention, field: customer, period: day, filter: \"team <> 'c'\"",
    "clv": "kpi: clv, params: {customer: customer, revenue: orders, margin: 0.5}",
}
LOCAL_EVERYWHERE: set[str] = set()
ORDERED = {"median", "p90"}


def playbook(folder: Path, source: str) -> Path:
    lines = [f"  {mid}: {{source: t, {spec}, target: 1}}" for mid, spec in METRICS.items()]
    path = folder / "p.yaml"
    path.write_text(
        f"playbook: p\ntitle: T\nsources:\n  t: {source}\nmetrics:\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return path


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_playbook(folder: Path) -> Path:
    header = "ts,score,solved,orders,hours,ok,visits,team,customer"
    lines = [",".join(text(v) for v in row) for row in ROWS]
    (folder / "t.csv").write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    types = "{score: VARCHAR, solved: VARCHAR, orders: VARCHAR, hours: DOUBLE, ok: BOOLEAN}"
    return playbook(folder, f"{{type: csv, path: t.csv, timestamp: ts, types: {types}}}")


def sqlite_playbook(folder: Path) -> Path:
    con = sqlite3.connect(folder / "t.db")
    con.execute(
        "CREATE TABLE t (ts TEXT, score TEXT, solved TEXT, orders TEXT, hours REAL, "
        "ok INTEGER, visits INTEGER, team TEXT, customer TEXT)"
    )
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    con.commit()
    con.close()
    return playbook(folder, "{type: sqlite, path: t.db, table: t, timestamp: ts}")


def table_of(zone: str) -> str:
    return "t_" + zone.replace("/", "_").lower()


def postgres_table(url: str, zone: str) -> None:
    """The rows as ``timestamptz``, read in ``zone``: a time written without an offset
    means the same instant as in the file read there."""
    import sqlalchemy as sa

    table = table_of(zone)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(sa.text(f"SET TIME ZONE '{zone}'"))
        con.execute(
            sa.text(
                f"CREATE TABLE {table} (ts timestamptz, score text, solved text, orders text, "
                "hours double precision, ok boolean, visits integer, team text, customer text)"
            )
        )
        con.execute(
            sa.text(
                f"INSERT INTO {table} VALUES (CAST(:ts AS timestamptz), :score, :solved, :orders, "
                ":hours, :ok, :visits, :team, :customer)"
            ),
            [
                dict(
                    zip(
                        (
                            "ts",
                            "score",
                            "solved",
                            "orders",
                            "hours",
                            "ok",
                            "visits",
                            "team",
                            "customer",
                        ),
                        row,
                        strict=True,
                    )
                )
                for row in ROWS
            ],
        )
    engine.dispose()


def check(path: Path, zone: str, url: str = "") -> dict[str, Any]:
    env = {**os.environ, "TZ": zone, "PDCA_TEST_URL": url}
    proc = subprocess.run(
        [sys.executable, "-m", "pdca", "check", str(path), "--as-of", AS_OF, "--format", "json",
         "--no-cache"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode in (0, 3), proc.stderr
    return json.loads(proc.stdout)["metrics"]


def numbers(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("value", "n", "series", "segments", "data_until", "status", "error")
    return {k: entry.get(k) for k in keys}


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("csv")
    path = csv_playbook(folder)
    return {zone: check(path, zone) for zone in ZONES}


def test_the_reference_exercises_what_it_should(references: dict[str, dict[str, Any]]) -> None:
    """Hand-computed checks on the file's numbers, so the suite compares real values."""
    utc = references["UTC"]
    assert all("error" not in e for e in utc.values()), {k: e.get("error") for k, e in utc.items()}
    # window 18 Dec - 14 Jan (UTC): usable scores 7, 3, 9, 10, 0, 8, 5, 9 (" 8 " on
    # 14 Dec is before it; 11, -1 and N/A are unusable, None is empty): promoters
    # 9 10 9, detractors 3 0 5
    assert utc["nps"]["n"] == 8
    assert utc["nps"]["value"] == 0.0
    assert utc["mean"]["n"] == 10  # hours in the window: NaN and infinity are skipped
    weeks = {p["period"]: p for p in utc["nps"]["series"]}
    # 2026-W01 (29 Dec - 4 Jan, UTC): 7 (29 Dec 01:30 UTC), 9 (1 Jan 03:00), 10 (4 Jan)
    assert (weeks["2026-W01"]["n"], weeks["2026-W01"]["value"]) == (3, pytest.approx(200 / 3))
    assert weeks["2025-W52"]["n"] == 1  # 3 (28 Dec 23:15 UTC); 11 is unusable
    # the same rows in St John's (-03:30): 29 Dec 01:30 UTC is 28 Dec there, week 52
    other = {p["period"]: p for p in references["America/St_Johns"]["nps"]["series"]}
    assert other["2025-W52"]["n"] == 2
    # customers by month (UTC): November c1 c2; December c1 c3 c2 c4 c1 c5; January
    # c3 c4 c1 c6 c2 c7 c1 c3 (15 January is after the as-of date)
    months = {p["start"]: (p["value"], p["n"]) for p in utc["retention"]["series"]}
    assert months["2025-12-01"] == (100.0, 2)  # both of November's customers came back
    assert months["2026-01-01"] == (80.0, 5)  # 4 of December's 5 (not c5)
    churned = {p["start"]: (p["value"], p["n"]) for p in utc["churn"]["series"]}
    assert churned["2025-12-01"] == (0.0, 2) and churned["2026-01-01"] == (20.0, 5)
    # clv by week: W02 (5-11 Jan) c6 c2 c7, revenue 9 + 2 + 4; none of W01's c4 c5 c3 c1
    # came back: 15 / 3 * 0.5 * 4 / 4. W03: c1 c3, 1 + 6, none of W02's 3 back
    weeks_clv = {p["start"]: (p["value"], p["n"]) for p in utc["clv"]["series"]}
    assert weeks_clv["2026-01-05"] == (2.5, 4) and weeks_clv["2026-01-12"] == (1.75, 3)
    # the window keeps all 3 customers of the 28 days before (c2 c1 c3): no churn, an
    # unbounded lifetime, no value but a base
    assert (utc["clv"]["value"], utc["clv"]["n"]) == (None, 3)


def test_every_built_in_kpi_has_a_case() -> None:
    """A new built-in KPI without a metric here fails, so the suite keeps covering all."""
    from pdca.plugins import build_registry, get_plugin_manager

    registry = build_registry(get_plugin_manager(entry_points=False))
    built_in = {name for name, r in registry.kpis.items() if r.plugin.startswith("pdca.builtins")}
    covered = {spec.split(",")[0].removeprefix("kpi: ") for spec in METRICS.values()}
    assert built_in and built_in <= covered, sorted(built_in - covered)


@pytest.fixture(scope="module")
def pg_database(pg_url: str) -> Iterator[str]:
    from pg_server import fresh_database

    for url in fresh_database(pg_url, "conformance"):
        for zone in ZONES:
            postgres_table(url, zone)
        yield url


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_kpi_gives_the_files_numbers(
    backend: str,
    zone: str,
    references: dict[str, dict[str, Any]],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    url = ""
    if backend == "sqlite":
        path = sqlite_playbook(tmp_path)
    else:
        url = request.getfixturevalue("pg_database")
        source = f"{{type: sql, url_env: PDCA_TEST_URL, table: {table_of(zone)}, timestamp: ts}}"
        path = playbook(tmp_path, source)
    found = check(path, zone, url)
    expected = references[zone]
    for mid in METRICS:
        got, want = numbers(found[mid]), numbers(expected[mid])
        assert same(got, want, 1e-9), f"{mid}: {differences(got, want, 1e-9)}"
        local = mid in LOCAL_EVERYWHERE or (backend == "sqlite" and mid in ORDERED)
        assert found[mid]["computed"] == ("local" if local else "database"), mid
