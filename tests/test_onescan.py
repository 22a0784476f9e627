"""Many metrics of one file source in one scan: the same numbers as each metric alone.

The metric-by-metric path is the reference: it is what pdca computed before the
shared scan, and it still computes every metric the scan leaves out. Both run on
the same real CSV; the shared scan is switched off by replacing it with a
function that computes nothing. Scans are counted through a connection that
records every statement reading a source's rows.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pdca import load_playbook
from pdca.check import measure, onescan
from pdca.data import session as session_module
from pdca.plugins import build_registry, get_plugin_manager
from same_numbers import differences, same

AS_OF = date(2026, 1, 14)
TEAMS = ("north", "south", "east", "")
SCORES = ("0", "3", "6", "7", "8", "9", "10", "11", "-1", "N/A", " 8 ", "nan", "inf", "")
YESNO = ("yes", "no", "Y", "n", "true", "false", "1", "0", "maybe", "")


def rows(count: int = 900, seed: int = 7) -> Iterator[str]:
    rng = random.Random(seed)
    start = datetime(2024, 12, 1)
    for i in range(count):
        ts = start + timedelta(minutes=rng.randrange(0, 410 * 24 * 60))
        stamp = "" if i % 97 == 0 else ts.isoformat(sep=" ")
        hours = rng.choice((f"{rng.uniform(0, 60):.3f}", "x", "", "12"))
        orders = rng.choice(("3", "5", "0", "", "n/a"))
        yield ",".join(
            [
                stamp,
                rng.choice(SCORES),
                rng.choice(YESNO),
                hours,
                rng.choice(TEAMS),
                orders,
                str(rng.randrange(1, 6)),
                f"c{rng.randrange(40)}",
            ]
        )


METRICS = {
    "nps": "kpi: nps, field: score",
    "nps_north": "kpi: nps, field: score, filter: \"team = 'north'\"",
    "nps_month": "kpi: nps, field: score, period: month",
    "nps_day": "kpi: nps, field: score, period: day, window: 7d",
    "enps": "kpi: enps, field: score, segment_by: team",
    "csat": "kpi: csat, field: sat",
    "csat3": "kpi: csat, field: sat, params: {satisfied: 3}",
    "csat_seg": "kpi: csat, field: sat, segment_by: team",
    "rate": "kpi: rate, field: solved",
    "rate_south": "kpi: rate, field: solved, filter: \"team = 'south'\", period: month",
    "rate_seg": "kpi: rate, field: solved, segment_by: team, window: 90d",
    "sla": "kpi: sla, field: hours, params: {limit: 24}",
    "sla_month": "kpi: sla, field: hours, params: {limit: 8}, period: month",
    "mean": "kpi: mean, field: hours",
    "mean_seg": "kpi: mean, field: hours, segment_by: team",
    "median": "kpi: median, field: hours",
    "p90": "kpi: percentile, field: hours, params: {q: 90}",
    "p90_north": "kpi: percentile, field: hours, params: {q: 90}, filter: \"team = 'north'\"",
    "sum": "kpi: sum, field: orders",
    "sum_month": "kpi: sum, field: orders, period: month",
    "min": "kpi: min, field: hours",
    "max": "kpi: max, field: hours, window: 14d",
    "count": "kpi: count",
    "count_field": "kpi: count, field: orders",
    "count_east": "kpi: count, field: orders, filter: \"team = 'east'\"",
    "count_day": "kpi: count, period: day, window: 3d",
    "distinct": "kpi: count_distinct, field: customer",
    "distinct_month": "kpi: count_distinct, field: customer, period: month",
    "ces": "kpi: ces, field: sat",
    "ratio": "kpi: ratio, field: orders, params: {denominator: sat}",
    "gap": "kpi: servqual_gap, field: sat, params: {expectation: orders}",
    "gap_seg": "kpi: servqual_gap, field: sat, params: {expectation: orders}, segment_by: team",
    "retention": "kpi: retention, field: customer, period: month",
    "nothing_usable": "kpi: mean, field: team",
}


def write(folder: Path, metrics: dict[str, str] = METRICS) -> Path:
    header = "ts,score,solved,hours,team,orders,sat,customer\n"
    (folder / "t.csv").write_text(header + "\n".join(rows()) + "\n", encoding="utf-8")
    return playbook_over(folder / "p.yaml", "csv", "t.csv", metrics)


def playbook_over(path: Path, kind: str, data: str, metrics: dict[str, str]) -> Path:
    lines = [f"  {mid}: {{source: t, {spec}, target: 1}}" for mid, spec in metrics.items()]
    path.write_text(
        f"playbook: p\ntitle: T\nsources: {{t: {{type: {kind}, path: {data}, timestamp: ts}}}}\n"
        "metrics:\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return path


class Counting:
    """A DuckDB connection that counts the statements reading a source's rows."""

    def __init__(self, con: Any, log: list[str]):
        self._con, self._log = con, log

    def execute(self, sql: str, *args: Any) -> Any:
        reads = "__pdca_shared_" in sql or "__pdca_metric_" in sql or "__pdca_source_" in sql
        if reads and "LIMIT 0" not in sql and "CREATE OR REPLACE TEMP VIEW" not in sql:
            self._log.append(sql)
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    log: list[str] = []
    real = session_module.DataSession.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        self.con = Counting(self.con, log)
        self.ctx.con = self.con

    monkeypatch.setattr(session_module.DataSession, "__init__", init)
    return log


def run(path: Path) -> dict[str, Any]:
    registry = build_registry(get_plugin_manager(entry_points=False))
    return measure.check(load_playbook(path), registry, AS_OF)["metrics"]


def shared_scans(scans: list[str]) -> int:
    """How many shared scans ran: each one query of two parts, the periods over every
    row and the windows and segments over the windows' rows only."""
    grouped = [s for s in scans if "GROUPING SETS" in s]
    for sql in grouped:
        periods, windows = sql.split(" UNION ALL SELECT 1, GROUPING(")
        assert ' WHERE "ts" >= TIMESTAMP' in windows and ' WHERE "ts" >=' not in periods
    return len(grouped)


def strip(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry.get(k) for k in ("value", "n", "series", "segments", "data_until", "error")}


def test_thirty_metrics_in_one_scan_match_each_metric_computed_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    path = write(tmp_path)
    together = run(path)
    # one file read into the shared table, one shared scan over it; retention (not a
    # single aggregate) and the unusable column are computed alone, two queries each
    assert shared_scans(scans) == 1
    alone_queries = [s for s in scans if "GROUPING SETS" not in s]
    assert len([s for s in alone_queries if "CREATE TEMP TABLE" in s]) == 1
    scans.clear()
    monkeypatch.setattr(onescan, "compute", lambda session, needs: {})
    alone = {mid: strip(e) for mid, e in run(path).items()}
    assert len([s for s in scans if "CREATE TEMP TABLE" in s]) == 1
    assert len(scans) > 2 * len(METRICS)  # the reference did compute metric by metric
    assert set(together) == set(METRICS)
    for mid, entry in together.items():
        assert same(strip(entry), alone[mid], 1e-12), (
            mid,
            differences(strip(entry), alone[mid], 1e-12),
        )
    # the data exercises what it should: windows with values, segments, a refusal
    assert together["nps"]["n"] > 0 and together["nps"]["value"] is not None
    assert len(together["rate_seg"]["segments"]) == 4
    assert "no usable value" in together["nothing_usable"]["error"]
    assert together["count_day"]["series"][0]["period"] != together["count"]["series"][0]["period"]


def test_two_metrics_over_a_csv_share_a_scan_of_its_copy(tmp_path: Path, scans: list[str]) -> None:
    (tmp_path / "t.csv").write_text("ts,score\n2026-01-05 09:00:00,9\n", encoding="utf-8")
    (tmp_path / "p.yaml").write_text(
        "playbook: p\ntitle: T\nsources: {t: {type: csv, path: t.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  nps: {source: t, kpi: nps, field: score, target: 1}\n"
        "  n: {source: t, kpi: count, target: 1}\n",
        encoding="utf-8",
    )
    metrics = run(tmp_path / "p.yaml")
    assert metrics["nps"]["value"] == 100.0 and metrics["n"]["value"] == 1
    assert metrics["n"]["data_until"] == "2026-01-05"
    assert len([s for s in scans if "CREATE TEMP TABLE" in s]) == 1  # a text file: copied
    assert shared_scans(scans) == 1
    assert not [s for s in scans if "__pdca_metric_" in s]  # nothing computed alone


def test_the_shared_scan_gives_hand_computed_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    """A small file whose numbers are computed by hand, through the shared scan."""
    (tmp_path / "t.csv").write_text(
        "ts,score,team\n"
        "2025-12-29 10:00:00,10,a\n"  # ISO week 2026-W01 starts Monday 29 December 2025
        "2025-12-31 10:00:00,3,b\n"
        "2026-01-05 09:00:00,9,a\n"  # 2026-W02
        "2026-01-06 09:00:00,x,a\n"
        "2026-01-07 09:00:00,7,b\n",
        encoding="utf-8",
    )
    (tmp_path / "p.yaml").write_text(
        "playbook: p\ntitle: T\nsources: {t: {type: csv, path: t.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  nps: {source: t, kpi: nps, field: score, target: 1, window: 14d}\n"
        "  a: {source: t, kpi: nps, field: score, target: 1, filter: \"team = 'a'\"}\n"
        "  n: {source: t, kpi: count, target: 1, segment_by: team, window: 14d}\n",
        encoding="utf-8",
    )
    metrics = run(tmp_path / "p.yaml")
    # window 1-14 January: 9 (promoter), x (unusable), 7 (passive): (1 - 0) / 2
    assert metrics["nps"]["value"] == 50.0 and metrics["nps"]["n"] == 2
    w01, w02 = metrics["nps"]["series"][:2]
    assert (w01["period"], w01["value"], w01["n"]) == ("2026-W01", 0.0, 2)  # 10 and 3
    assert (w02["period"], w02["value"], w02["n"]) == ("2026-W02", 50.0, 2)
    assert [(p["value"], p["n"]) for p in metrics["a"]["series"][:2]] == [(100.0, 1), (100.0, 1)]
    # worst first: the lower count is further below target
    assert [(s["segment"], s["value"]) for s in metrics["n"]["segments"]] == [
        ("b", 1.0),
        ("a", 2.0),
    ]
    assert metrics["n"]["data_until"] == "2026-01-07"
    assert shared_scans(scans) == 1


# -- columnar sources: read where they are, one scan however few the metrics --------------
FEW = {
    "nps": "kpi: nps, field: score",
    "rate_seg": "kpi: rate, field: solved, segment_by: team",
    "mean": "kpi: mean, field: hours",
    "p90": "kpi: percentile, field: hours, params: {q: 90}",
    "median_north": "kpi: median, field: hours, filter: \"team = 'north'\"",
}


def parquet_playbook(folder: Path, metrics: dict[str, str]) -> Path:
    """The CSV of :func:`write` as a Parquet file (types as DuckDB detects them)."""
    import duckdb

    write(folder, metrics)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{folder / 't.csv'}')) TO '{folder / 't.parquet'}'")
    con.close()
    return playbook_over(folder / "pq.yaml", "parquet", "t.parquet", metrics)


def alone_numbers(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    with monkeypatch.context() as m:
        m.setattr(onescan, "compute", lambda session, needs: {})
        return {mid: strip(e) for mid, e in run(path).items()}


def assert_same(together: dict[str, Any], alone: dict[str, Any]) -> None:
    assert set(together) == set(alone)
    for mid, entry in together.items():
        assert same(strip(entry), alone[mid], 1e-12), (
            mid,
            differences(strip(entry), alone[mid], 1e-12),
        )


def test_a_parquet_source_is_scanned_once_in_place_however_few_its_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    path = parquet_playbook(tmp_path, FEW)
    together = run(path)
    assert shared_scans(scans) == 1
    assert not [s for s in scans if "CREATE TEMP TABLE" in s]  # no copy in memory
    assert [s for s in scans if "CREATE TEMP VIEW" in s]
    # every number, segment and newest day came from the one scan
    assert not [s for s in scans if "__pdca_metric_" in s]
    scans.clear()
    alone = alone_numbers(path, monkeypatch)
    assert [s for s in scans if "CREATE TEMP TABLE" in s]  # the reference copied the rows
    assert_same(together, alone)
    assert together["p90"]["value"] is not None and len(together["rate_seg"]["segments"]) == 4
    assert together["median_north"]["n"] < together["mean"]["n"]


def test_percentiles_over_a_large_parquet_file_leave_the_shared_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    # 900 rows x the one unfiltered percentile is over this budget, as 30M rows are over
    # the real one; the filtered median leaves the scan with it
    monkeypatch.setattr(onescan, "HOLISTIC_VALUES_MAX", 500)
    path = parquet_playbook(tmp_path, FEW)
    together = run(path)
    batched = [s for s in scans if "GROUPING SETS" in s]
    assert shared_scans(scans) == 1
    assert not [s for s in batched if "quantile_cont" in s or "median" in s]
    assert not [s for s in scans if "CREATE TEMP TABLE" in s]
    p90 = [s for s in scans if '"__pdca_metric_p90"' in s]
    assert p90 and all("quantile_cont" in s for s in p90)  # periods and window; no max()
    # the filtered median reads other rows: its newest row is its own query
    assert [s for s in scans if s.startswith('SELECT max("__ts") FROM "__pdca_metric_median')]
    assert_same(together, alone_numbers(path, monkeypatch))


def test_a_columnar_source_with_many_metrics_computed_alone_is_copied_once(
    tmp_path: Path, scans: list[str]
) -> None:
    metrics = {f"retention{i}": "kpi: retention, field: customer, period: month" for i in range(5)}
    metrics["nps"] = "kpi: nps, field: score"
    path = parquet_playbook(tmp_path, metrics)
    found = run(path)
    assert len([s for s in scans if "CREATE TEMP TABLE" in s]) == 1
    assert shared_scans(scans) == 1  # nps, over the copy
    assert found["nps"]["value"] is not None and found["retention4"]["series"]


def test_a_cached_csv_is_read_from_its_parquet_copy_in_one_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    path = write(tmp_path, FEW)
    registry = build_registry(get_plugin_manager(entry_points=False))
    playbook = load_playbook(path)
    cache = tmp_path / "cache"
    first = measure.check(playbook, registry, AS_OF, cache_dir=cache)["metrics"]
    assert list(cache.glob("*.parquet"))
    second_scans = len(scans)
    second = measure.check(playbook, registry, AS_OF, cache_dir=cache)["metrics"]
    for found in (scans[:second_scans], scans[second_scans:]):  # building it, then reusing it
        assert shared_scans(found) == 1
        assert not [s for s in found if "CREATE TEMP TABLE" in s]
    alone = alone_numbers(path, monkeypatch)  # no cache: the CSV parsed, its rows copied
    assert_same(first, alone)
    assert_same(second, alone)


def test_a_shared_scan_out_of_memory_runs_again_without_its_percentiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    import duckdb

    real = onescan._scan
    tried: list[list[str]] = []

    def scan(session: Any, source_id: str, group: Any) -> dict[str, Any]:
        tried.append([need[0].id for need in group])
        if any(need[1].holistic for need in group):  # as DuckDB past its memory limit
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")
        return real(session, source_id, group)

    monkeypatch.setattr(onescan, "_scan", scan)
    path = parquet_playbook(tmp_path, FEW)
    together = run(path)
    assert tried == [list(FEW), ["nps", "rate_seg", "mean"]]
    assert shared_scans(scans) == 1
    assert [s for s in scans if '"__pdca_metric_p90"' in s]  # computed alone, over the file
    assert_same(together, alone_numbers(path, monkeypatch))


def test_a_percentile_past_the_memory_limit_says_which_setting_to_raise(tmp_path: Path) -> None:
    import duckdb
    from click.testing import CliRunner

    from pdca.cli import cli

    duckdb.sql(
        "COPY (SELECT TIMESTAMP '2026-01-01' + to_seconds(i % 1000000) AS ts, random() AS v "
        f"FROM range(2000000) t(i)) TO '{tmp_path / 't.parquet'}'"
    )
    p90 = {"p90": "kpi: percentile, field: v, params: {q: 90}"}
    path = playbook_over(tmp_path / "p.yaml", "parquet", "t.parquet", p90)
    args = ["check", str(path), "--as-of", "2026-01-10", "--format", "json"]
    # 2M values are 16 MB: more than 8 MB even alone, after the shared scan ran out too
    tight = CliRunner().invoke(cli, args, env={"PDCA_MEMORY_LIMIT": "8MB"})
    assert tight.exit_code == 1
    error = json.loads(tight.stdout)["metrics"]["p90"]["error"]
    assert error == (
        f"{path}:5:3: metric 'p90': computing 'percentile' over source 't' needs more memory "
        "than a check may use (PDCA_MEMORY_LIMIT=8MB); set PDCA_MEMORY_LIMIT higher, for "
        "instance PDCA_MEMORY_LIMIT=2GB"
    )
    roomy = CliRunner().invoke(cli, args)
    assert roomy.exit_code == 0, roomy.output
    assert 0.85 < json.loads(roomy.stdout)["metrics"]["p90"]["value"] < 0.95
