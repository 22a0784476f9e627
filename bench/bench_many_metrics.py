"""500 metrics over one export: ``pdca check`` vs one hand-written DuckDB query.

The playbook has 500 metrics over one ticket file (nine KPIs, each over 55
filters: every team, every channel, every team and channel, and all rows), the
dashboard of a desk with many teams. The reference is what a competent analyst
writes by hand for the same numbers: one query over the file computing every
metric's window value and weekly series with conditional aggregates, written
two ways (GROUPING SETS over the weeks and the window; the weeks over every row
with the window over its own rows, UNION ALL), pdca held to the faster. The
numbers are checked equal (to 1e-9) before anything is timed; each side is
timed on its best of ``--repeat`` runs, CSV and Parquet.

Goal: pdca within 1.5x of the hand-written query.

    python bench/bench_many_metrics.py [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import best_of, load_average, result_line, same

AS_OF = date(2025, 12, 28)
END = datetime(2025, 12, 29)
WINDOW_START = END - timedelta(days=28)
TEAMS = [f"t{i}" for i in range(10)]
CHANNELS = ["phone", "mail", "chat", "web"]
GOAL = 1.5

COLUMNS = ("score", "sat", "resolved", "minutes", "orders")
# name -> (pdca kpi spec, hand-written aggregate, hand-written n); {col} is the column
# as the metric's rows read it (NULL outside its filter), {rows} counts its rows
KPIS = {
    "nps": (
        "kpi: nps, field: score",
        "avg(CASE WHEN {score} >= 9 THEN 100.0 WHEN {score} <= 6 THEN -100.0 "
        "WHEN {score} IS NOT NULL THEN 0.0 END)",
        "count({score})",
    ),
    "csat": (
        "kpi: csat, field: sat",
        "avg(CASE WHEN {sat} >= 4 THEN 100.0 WHEN {sat} IS NOT NULL THEN 0.0 END)",
        "count({sat})",
    ),
    "fcr": (
        "kpi: rate, field: resolved",
        "100.0 * avg(CAST({resolved} AS DOUBLE))",
        "count({resolved})",
    ),
    "mean": ("kpi: mean, field: minutes", "avg({minutes})", "count({minutes})"),
    "orders": ("kpi: sum, field: orders", "sum({orders})", "count({orders})"),
    "tickets": ("kpi: count", "{rows}", "{rows}"),
    "sla60": (
        "kpi: sla, field: minutes, params: {{limit: 60}}",
        "avg(CASE WHEN {minutes} <= 60 THEN 100.0 WHEN {minutes} IS NOT NULL THEN 0.0 END)",
        "count({minutes})",
    ),
    "sla240": (
        "kpi: sla, field: minutes, params: {{limit: 240}}",
        "avg(CASE WHEN {minutes} <= 240 THEN 100.0 WHEN {minutes} IS NOT NULL THEN 0.0 END)",
        "count({minutes})",
    ),
    "p90": (
        "kpi: percentile, field: minutes, params: {{q: 90}}",
        "quantile_cont({minutes}, 0.9)",
        "count({minutes})",
    ),
}


def filters() -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = [("all", None)]
    out += [(t, f"team = '{t}'") for t in TEAMS]
    out += [(c, f"channel = '{c}'") for c in CHANNELS]
    out += [(f"{t}_{c}", f"team = '{t}' AND channel = '{c}'") for t in TEAMS for c in CHANNELS]
    return out


def metrics(count: int) -> list[tuple[str, str, str, str, str | None]]:
    """(id, pdca spec, aggregate, n, filter) of the first ``count`` metrics."""
    out = []
    for fname, condition in filters():
        for kname, (spec, agg, n) in KPIS.items():
            out.append((f"{kname}_{fname}", spec.format(), agg, n, condition))
    return out[:count]


def write_data(folder: Path, rows: int) -> tuple[Path, Path]:
    import duckdb

    rng = random.Random(1)
    seed = rng.random()
    csv, parquet = folder / "tickets.csv", folder / "tickets.parquet"
    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed})")
    con.execute(
        f"""CREATE TABLE t AS SELECT
          TIMESTAMP '2023-12-01' + to_seconds(CAST(floor(random() * 760 * 86400) AS BIGINT))
            AS created_at,
          CAST(floor(random() * 11) AS INTEGER) AS score,
          CAST(1 + floor(random() * 5) AS INTEGER) AS sat,
          random() < 0.7 AS resolved,
          round(random() * random() * 600, 2) AS minutes,
          CAST(floor(random() * 4) AS INTEGER) AS orders,
          {_pick(TEAMS)} AS team,
          {_pick(CHANNELS)} AS channel
        FROM range({rows})"""
    )
    con.execute(f"COPY t TO '{csv}' (HEADER)")
    con.execute(f"COPY t TO '{parquet}' (FORMAT parquet)")
    return csv, parquet


def _pick(values: list[str]) -> str:
    items = ", ".join(f"'{v}'" for v in values)
    return f"([{items}])[1 + CAST(floor(random() * {len(values)}) AS INTEGER)]"


def write_playbook(folder: Path, data: Path, fmt: str, count: int) -> Path:
    lines = [
        "playbook: many",
        "title: Many metrics",
        "sources:",
        f"  tickets: {{type: {fmt}, path: {data.name}, timestamp: created_at}}",
        "metrics:",
    ]
    for mid, spec, _, _, condition in metrics(count):
        where = f', filter: "{condition}"' if condition else ""
        lines.append(f"  {mid}: {{source: tickets, {spec}{where}, target: 1}}")
    path = folder / f"many_{fmt}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reference(data: Path, fmt: str, count: int, split: bool = False) -> dict[str, tuple]:
    """Every metric's window (value, n) and weekly series in one hand-written query.

    Written the fast way (measured: 14x faster than a FILTER clause on each of
    1,000 aggregates): each filter becomes a flag (TRUE or NULL), each column read
    under a filter a column that is NULL outside it, and the window and the weeks
    are two grouping sets of one pass.
    """
    import duckdb

    con = duckdb.connect()
    reader = f"read_csv('{data}')" if fmt == "csv" else f"read_parquet('{data}')"
    history = END - timedelta(weeks=104)
    history -= timedelta(days=history.weekday())
    chosen = metrics(count)
    conditions = list(dict.fromkeys(c for *_, c in chosen if c))
    # TRUE or NULL: count(f) counts a filter's rows without a FILTER clause
    flags = [f"CASE WHEN {c} THEN TRUE END AS f{i}" for i, c in enumerate(conditions)]
    masked = [
        f"CASE WHEN f{i} THEN {col} END AS m{i}_{col}"
        for i in range(len(conditions))
        for col in COLUMNS
    ]
    aggs = []
    for _, _, agg, n, condition in chosen:
        if condition is None:
            names = {col: col for col in COLUMNS} | {"rows": "count(*)"}
        else:
            i = conditions.index(condition)
            names = {col: f"m{i}_{col}" for col in COLUMNS}
            names["rows"] = f"count(f{i})"
        aggs += [agg.format(**names), n.format(**names)]

    def rows_from(start: datetime) -> str:
        return (
            f"SELECT *, {', '.join(masked)} FROM ("
            f"SELECT *, {', '.join(flags)}, CAST(date_trunc('week', created_at) AS DATE) AS w, "
            f"created_at >= TIMESTAMP '{WINDOW_START}' AS win FROM {reader} "
            f"WHERE created_at >= TIMESTAMP '{start}' AND created_at < TIMESTAMP '{END}')"
        )

    if split:  # the weeks over every row, the window over its own rows: one query
        sql = (
            f"SELECT 1, w, NULL, {', '.join(aggs)} FROM ({rows_from(history)}) GROUP BY w "
            f"UNION ALL SELECT 2, NULL, TRUE, {', '.join(aggs)} FROM ({rows_from(WINDOW_START)})"
        )
    else:
        sql = (
            f"SELECT GROUPING(w, win), w, win, {', '.join(aggs)} FROM ({rows_from(history)}) "
            "GROUP BY GROUPING SETS ((w), (win))"
        )
    rows = con.execute(sql).fetchall()
    out: dict[str, tuple] = {}
    for i, (mid, *_) in enumerate(chosen):
        at = 3 + 2 * i
        series = sorted((r[1], r[at], r[at + 1]) for r in rows if r[0] == 1 and r[at + 1])
        window = next(((r[at], r[at + 1]) for r in rows if r[0] == 2 and r[2] is True), None)
        out[mid] = (window, series)
    return out


def pdca_numbers(playbook: Path) -> dict[str, tuple]:
    from pdca.check.measure import check
    from pdca.playbook import load_checked
    from pdca.plugins import get_plugin_manager

    # the built-ins only: what is measured is pdca, not whatever plugins are installed
    loaded = load_checked(playbook, plugin_manager=get_plugin_manager(entry_points=False))
    result = check(loaded.playbook, loaded.registry, AS_OF)
    out = {}
    for mid, entry in result["metrics"].items():
        if entry.get("error"):
            raise SystemExit(f"{mid}: {entry['error']}")
        series = sorted(
            (date.fromisoformat(p["start"]), p["value"], p["n"]) for p in entry["series"] if p["n"]
        )
        out[mid] = ((entry["value"], entry["n"]), series)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--metrics", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv, parquet = write_data(folder, args.rows)
        for fmt, data in (("csv", csv), ("parquet", parquet)):
            playbook = write_playbook(folder, data, fmt, args.metrics)
            mine, theirs = pdca_numbers(playbook), reference(data, fmt, args.metrics)
            wrong = [m for m in theirs if not same(mine[m], theirs[m])]
            if wrong:
                print(f"numbers differ for {len(wrong)} metrics, e.g. {wrong[0]}:")
                print(" pdca:     ", mine[wrong[0]][0], mine[wrong[0]][1][:3])
                print(" reference:", theirs[wrong[0]][0], theirs[wrong[0]][1][:3])
                return 1
            split = reference(data, fmt, args.metrics, split=True)
            if not all(same(split[m], theirs[m]) for m in theirs):
                print("the two references give different numbers")
                return 1
            pdca_s = best_of(lambda p=playbook: pdca_numbers(p), args.repeat)
            sets_s = best_of(lambda d=data, f=fmt: reference(d, f, args.metrics), args.repeat)
            split_s = best_of(
                lambda d=data, f=fmt: reference(d, f, args.metrics, split=True), args.repeat
            )
            ref_s = min(sets_s, split_s)
            ratio = pdca_s / ref_s
            print(
                f"{fmt}: {args.metrics} metrics over {args.rows:,} rows: pdca {pdca_s:.2f} s, "
                f"hand-written DuckDB {ref_s:.2f} s (grouping sets {sets_s:.2f} s, the weeks "
                f"and the window apart {split_s:.2f} s), ratio {ratio:.2f} (goal {GOAL})"
            )
            results.append((f"many_metrics_{fmt}", pdca_s, ref_s, ratio))
    print(load_average())
    for name, pdca_s, ref_s, ratio in results:
        print(result_line(name, pdca_s, ref_s, GOAL, ratio <= GOAL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
