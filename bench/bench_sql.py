"""``pdca check`` on a PostgreSQL table vs the database's own aggregate query.

Four metrics over a ``tickets`` table (default 2M rows, two years): NPS, a rate
(first-contact resolution), a mean and a p90 of the first response, each with
its 28-day window value and 104 weekly points. The reference is what the
database computes in one statement for the same numbers (GROUPING SETS over the
week and the window); pdca's numbers are checked equal to it (to 1e-9) first.

Printed: pdca's time in this process and in a fresh one (``pdca check`` as a
user runs it), the reference's time, their ratio, pdca's peak RSS in a fresh
process (``/usr/bin/time -v``), where each metric was computed and the load
average. Goals: within 1.5x of the reference, under 200 MB RSS.

    python bench/bench_sql.py [--rows 2000000] [--url postgresql+psycopg://...]

Without ``--url`` a throwaway server is started with tests/pg_server.py.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import best_of, load_average, result_line, same

AS_OF = date(2025, 12, 28)
END = AS_OF + timedelta(days=1)
WINDOW_START = END - timedelta(days=28)
GOAL, RSS_GOAL_MB = 1.5, 200

PLAYBOOK = """\
playbook: bench_sql
title: Tickets in PostgreSQL
sources:
  tickets: {type: sql, url_env: PDCA_BENCH_URL, table: tickets, timestamp: created_at}
metrics:
  nps: {source: tickets, kpi: nps, field: score, target: 30}
  fcr: {source: tickets, kpi: rate, field: resolved, target: 70}
  response: {source: tickets, kpi: mean, field: minutes, target: 60, direction: decrease}
  response_p90:
    source: tickets
    kpi: percentile
    field: minutes
    params: {q: 90}
    target: 240
    direction: decrease
"""

REFERENCE = """
SELECT GROUPING(w, win), w, win,
  avg(CASE WHEN score >= 9 THEN 100.0 WHEN score <= 6 THEN -100.0 ELSE 0.0 END), count(score),
  100.0 * avg(CASE WHEN resolved THEN 1.0 ELSE 0.0 END), count(resolved),
  avg(minutes), count(minutes),
  percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes), count(minutes)
FROM (SELECT *, CAST(date_trunc('week', created_at) AS date) AS w,
             created_at >= %(window)s AS win
      FROM tickets WHERE created_at >= %(history)s AND created_at < %(end)s) AS t
GROUP BY GROUPING SETS ((w), (win))
"""
METRICS = ("nps", "fcr", "response", "response_p90")


def history_start() -> date:
    first = AS_OF - timedelta(days=AS_OF.weekday()) - timedelta(weeks=103)
    return min(first, WINDOW_START)


def load(url: str, rows: int) -> None:
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS tickets")
        con.execute(
            "CREATE TABLE tickets (id bigint, created_at timestamp, score integer, "
            "resolved boolean, minutes double precision, channel text)"
        )
        con.execute(
            "INSERT INTO tickets SELECT g, TIMESTAMP '2024-01-01' + (random() * 730) * "
            "INTERVAL '1 day', floor(random() * 11)::int, random() < 0.7, "
            "round((random() * random() * 600)::numeric, 2)::float8, "
            "(ARRAY['phone','mail','chat','web'])[1 + floor(random() * 4)::int] "
            f"FROM generate_series(1, {rows}) AS g"
        )
        con.execute("CREATE INDEX ON tickets (created_at)")
        con.execute("ANALYZE tickets")


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def reference(url: str) -> dict[str, tuple]:
    import psycopg

    params = {"window": WINDOW_START, "history": history_start(), "end": END}
    with psycopg.connect(_dsn(url)) as con:
        rows = con.execute(REFERENCE, params).fetchall()
    out = {}
    for i, mid in enumerate(METRICS):
        at = 3 + 2 * i
        series = sorted((r[1], float(r[at]), r[at + 1]) for r in rows if r[0] == 1 and r[at + 1])
        window = next((float(r[at]), r[at + 1]) for r in rows if r[0] == 2 and r[2] is True)
        out[mid] = (window, series)
    return out


def pdca_in_process(playbook: Path) -> dict[str, tuple]:
    from pdca.check.measure import check
    from pdca.playbook import load_checked
    from pdca.plugins import get_plugin_manager

    loaded = load_checked(playbook, plugin_manager=get_plugin_manager(entry_points=False))
    result = check(loaded.playbook, loaded.registry, AS_OF)
    return numbers(result["metrics"])


def numbers(metrics: dict) -> dict[str, tuple]:
    out = {}
    for mid, entry in metrics.items():
        if entry.get("error"):
            raise SystemExit(f"{mid}: {entry['error']}")
        series = sorted(
            (date.fromisoformat(p["start"]), p["value"], p["n"]) for p in entry["series"] if p["n"]
        )
        out[mid] = ((entry["value"], entry["n"]), series, entry.get("computed"))
    return out


def fresh_process(playbook: Path, url: str) -> tuple[float, float, dict]:
    """Wall time and peak RSS (MB) of ``pdca check`` in a new process, and its JSON."""
    env = {**os.environ, "PDCA_BENCH_URL": url}
    cmd = [sys.executable, "-m", "pdca", "check", str(playbook), "--as-of", AS_OF.isoformat(),
           "--format", "json", "--no-cache"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        raise SystemExit(proc.stderr[-2000:])
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return wall, int(peak.group(1)) / 1024 if peak else math.nan, json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--url", help="a PostgreSQL database to fill (default: a throwaway server)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from pg_server import Cluster, find_bindir

            bindir = find_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL server found: give --url")
            cluster = Cluster(bindir)
            stack.callback(cluster.stop)
            cluster.start()
            cluster.create_database()
            url = cluster.url
        load(url, args.rows)
        os.environ["PDCA_BENCH_URL"] = url
        playbook = Path(tmp) / "bench_sql.yaml"
        playbook.write_text(PLAYBOOK, encoding="utf-8")
        theirs, mine = reference(url), pdca_in_process(playbook)
        for mid in METRICS:
            if not same(mine[mid][:2], theirs[mid]):
                print(f"{mid}: pdca {mine[mid][0]} vs database {theirs[mid][0]}")
                return 1
        computed = {mid: mine[mid][2] for mid in METRICS}
        ref_s = best_of(lambda: reference(url), args.repeat)
        pdca_s = best_of(lambda: pdca_in_process(playbook), args.repeat)
        wall, rss, _ = fresh_process(playbook, url)
        ratio = pdca_s / ref_s
        print(f"{args.rows:,} rows, 4 metrics, computed: {computed}")
        print(f"database's own aggregate query: {ref_s:.3f} s")
        print(f"pdca check (in process): {pdca_s:.3f} s, ratio {ratio:.2f} (goal {GOAL})")
        print(f"pdca check (fresh process, with start-up): {wall:.3f} s")
        print(f"pdca peak RSS (fresh process): {rss:.0f} MB (goal {RSS_GOAL_MB})")
        print(load_average())
        holds = ratio <= GOAL and rss <= RSS_GOAL_MB
        print(result_line("sql_postgresql", pdca_s, ref_s, GOAL, holds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
