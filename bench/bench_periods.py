"""A re-check with the period cache vs the database's own aggregate query over all history.

The ``tickets`` table of bench_sql.py (default 2M rows over two years, indexed on
its timestamp) and its four metrics (NPS, a rate, a mean, a p90), each with a
28-day window and 104 weekly points. A first ``pdca check`` as of 27 December
measures every period and keeps them in a SQLite state; a day of tickets is
appended; the re-check as of 28 December asks PostgreSQL only for the periods
that are not final (``settle: 7d``) and the window, and takes the rest from the
state. The reference is the database computing the same numbers over the full
history in one statement (GROUPING SETS over the week and the window, as in
bench_sql.py); the re-check's numbers are checked equal to it (to 1e-9) first.

Printed: the first check's time, a full check's (``--no-cache``), the re-check's
(with reading and writing the cache) and the reference's, the ratio re-check /
reference and the load average. Goal: the re-check takes at most half the
reference's time.

    python bench/bench_periods.py [--rows 2000000] [--url postgresql+psycopg://...]

Without ``--url`` a throwaway server is started with tests/pg_server.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sql import METRICS, PLAYBOOK, REFERENCE, _dsn, numbers
from benchkit import best_of, load_average, result_line, same

FIRST = date(2025, 12, 27)
AS_OF = FIRST + timedelta(days=1)
GOAL = 0.5


def frame(as_of: date) -> dict[str, date]:
    """The bounds pdca's check uses: window, history (104 weeks) and end."""
    end = as_of + timedelta(days=1)
    window = end - timedelta(days=28)
    first = as_of - timedelta(days=as_of.weekday()) - timedelta(weeks=103)
    return {"window": window, "history": min(first, window), "end": end}


def load(url: str, rows: int) -> None:
    """Two years of tickets up to the end of ``FIRST``, indexed on their timestamp."""
    import psycopg

    days = (FIRST + timedelta(days=1) - date(2024, 1, 1)).days
    with psycopg.connect(_dsn(url), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS tickets")
        con.execute(
            "CREATE TABLE tickets (id bigint, created_at timestamp, score integer, "
            "resolved boolean, minutes double precision, channel text)"
        )
        con.execute(
            "INSERT INTO tickets SELECT g, TIMESTAMP '2024-01-01' + (random() * "
            f"{days}) * INTERVAL '1 day', floor(random() * 11)::int, random() < 0.7, "
            "round((random() * random() * 600)::numeric, 2)::float8, "
            "(ARRAY['phone','mail','chat','web'])[1 + floor(random() * 4)::int] "
            f"FROM generate_series(1, {rows}) AS g"
        )
        con.execute("CREATE INDEX ON tickets (created_at)")
        con.execute("ANALYZE tickets")


def append_day(url: str, rows: int) -> None:
    """The tickets of ``AS_OF``: as many as an average day."""
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as con:
        con.execute(
            "INSERT INTO tickets SELECT 10000000000 + g, CAST(%s AS timestamp) + random() * "
            "INTERVAL '1 day', floor(random() * 11)::int, random() < 0.7, "
            "round((random() * random() * 600)::numeric, 2)::float8, 'web' "
            "FROM generate_series(1, %s) AS g",
            (AS_OF.isoformat(), rows),
        )
        con.execute("ANALYZE tickets")


def reference(url: str, as_of: date) -> dict[str, tuple]:
    """Every metric's window and weekly series, computed by PostgreSQL over all history."""
    import psycopg

    with psycopg.connect(_dsn(url)) as con:
        rows = con.execute(REFERENCE, frame(as_of)).fetchall()
    out = {}
    for i, mid in enumerate(METRICS):
        at = 3 + 2 * i
        series = sorted((r[1], float(r[at]), r[at + 1]) for r in rows if r[0] == 1 and r[at + 1])
        window = next((float(r[at]), r[at + 1]) for r in rows if r[0] == 2 and r[2] is True)
        out[mid] = (window, series)
    return out


def check(playbook: Path, state: Path | None, as_of: date) -> dict[str, tuple]:
    """What ``pdca check`` does in process: with a state, through its period cache."""
    from pdca.check.measure import check as measure
    from pdca.check.periodcache import PeriodCache
    from pdca.playbook import load_checked
    from pdca.plugins import get_plugin_manager
    from pdca.state import open_store

    loaded = load_checked(playbook, plugin_manager=get_plugin_manager(entry_points=False))
    pb = loaded.playbook
    if state is None:
        return numbers(measure(pb, loaded.registry, as_of)["metrics"])
    with open_store(state) as store:
        periods = PeriodCache.from_store(pb, as_of, store)
        report = measure(pb, loaded.registry, as_of, periods=periods)
        store.keep_periods(pb.id, periods.keeps(report["metrics"]))
    return numbers(report["metrics"])


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
        playbook = Path(tmp) / "bench_periods.yaml"
        playbook.write_text(PLAYBOOK.replace("bench_sql", "bench_periods"), encoding="utf-8")
        state = Path(tmp) / "state.db"
        started = time.perf_counter()
        check(playbook, state, FIRST)
        first_s = time.perf_counter() - started
        append_day(url, max(1, args.rows // 726))
        theirs, mine = reference(url, AS_OF), check(playbook, state, AS_OF)
        for mid in METRICS:
            if not same(mine[mid][:2], theirs[mid]):
                print(f"{mid}: pdca {mine[mid][0]} vs database {theirs[mid][0]}")
                return 1
        computed = {mid: mine[mid][2] for mid in METRICS}
        ref_s = best_of(lambda: reference(url, AS_OF), args.repeat)
        full_s = best_of(lambda: check(playbook, None, AS_OF), args.repeat)
        again_s = best_of(lambda: check(playbook, state, AS_OF), args.repeat)
        ratio = again_s / ref_s
        print(f"{args.rows:,} rows, 4 metrics, computed: {computed}")
        print(f"first check (measures and keeps every period): {first_s:.3f} s")
        print(f"full check without the cache: {full_s:.3f} s")
        print(f"database's own aggregate query over all history: {ref_s:.3f} s")
        print(f"re-check after a day, with the cache: {again_s:.3f} s, ratio {ratio:.2f}")
        print(load_average())
        print(result_line("periods_recheck_postgresql", again_s, ref_s, GOAL, ratio <= GOAL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
