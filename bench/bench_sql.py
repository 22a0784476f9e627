"""``pdca check`` on a PostgreSQL table vs the database's own aggregate query, at 2M and 10M rows.

Four metrics over a ``tickets`` table (two years of rows): NPS, a rate
(first-contact resolution), a mean and a p90 of the first response, each with
its 28-day window value and 104 weekly points. The reference is what the
database computes in one statement for the same numbers, written two ways and
both timed: GROUPING SETS over the week and the window, and the weeks over every
row with the window over its own rows (UNION ALL); pdca is held to the faster.
The two are checked equal, and pdca's numbers equal to them (to 1e-9), first.
The table is filled once per size (generate_series, then extended to the next
size), so the same rows are measured at 2M and again inside the 10M.

Per size, printed and as RESULT lines:

* ``sql_postgresql.<size>``: pdca's time in this process against the
  reference's (interleaved, best of ``--repeat``); goal within 1.5x. The time
  of a fresh ``pdca check`` process (as a user runs it) is printed beside.
* ``sql_postgresql.<size>_peak_rss``: the fresh process's peak RSS
  (``/usr/bin/time -v``) against a fresh process running the reference query
  with psycopg; goal under 200 MiB.
* ``sql_postgresql.wire_bytes_<size>``: the bytes PostgreSQL sent the fresh
  ``pdca check`` (connection set-up and every query), counted by a loopback
  relay (``bench/wirecount.py``) its URL points at, against the bytes a
  row-pulling read of the same rows takes through the same relay (``COPY`` of
  the four columns over the history, text format: leaner than a ``SELECT``'s
  rows, so the comparison favours the row read); goal under 1 % of it. The
  reference statement's own bytes are printed beside.

With two sizes or more, ``sql_postgresql.wire_bytes_growth_<small>_to_<large>``:
how much pdca's bytes grew against how much the rows did; goal at most 1.1x,
bytes that follow periods and segments, not rows.

    python bench/bench_sql.py [--rows 2000000,10000000] [--url postgresql+psycopg://...]

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
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import load_average, result_line, same
from harness import peak_rss_mib, result_text
from wirecount import WireCount

AS_OF = date(2025, 12, 28)
END = AS_OF + timedelta(days=1)
WINDOW_START = END - timedelta(days=28)
GOAL, RSS_GOAL_MIB = 1.5, 200
WIRE_SHARE_GOAL = 0.01
"""pdca's bytes at most this share of a row-pulling read's."""
GROWTH_GOAL = 1.1
"""pdca's bytes from the smallest to the largest size grow at most this much."""
SIZES = "2000000,10000000"
COLUMNS = "created_at, score, resolved, minutes"
"""The columns the four metrics read: what a row-pulling check would fetch."""

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
AGGREGATES = """
  avg(CASE WHEN score >= 9 THEN 100.0 WHEN score <= 6 THEN -100.0 ELSE 0.0 END), count(score),
  100.0 * avg(CASE WHEN resolved THEN 1.0 ELSE 0.0 END), count(resolved),
  avg(minutes), count(minutes),
  percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes), count(minutes)
"""
SPLIT_REFERENCE = f"""
SELECT 1, CAST(date_trunc('week', created_at) AS date) AS w, NULL::boolean, {AGGREGATES}
FROM tickets WHERE created_at >= %(history)s AND created_at < %(end)s GROUP BY w
UNION ALL
SELECT 2, NULL, TRUE, {AGGREGATES}
FROM tickets WHERE created_at >= %(window)s AND created_at < %(end)s
"""
"""The same numbers with the weeks over every row and the window over its rows only
(the index on created_at finds them): the database no longer sorts two years of rows
for the window's percentile only to drop them."""
METRICS = ("nps", "fcr", "response", "response_p90")


def history_start() -> date:
    first = AS_OF - timedelta(days=AS_OF.weekday()) - timedelta(weeks=103)
    return min(first, WINDOW_START)


def load(url: str, have: int, rows: int) -> None:
    """Fill ``tickets`` from ``have`` rows to ``rows`` (0: create it), in one statement;
    the index is built after the rows, as a bulk load does."""
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as con:
        if have == 0:
            con.execute("DROP TABLE IF EXISTS tickets")
            con.execute(
                "CREATE TABLE tickets (id bigint, created_at timestamp, score integer, "
                "resolved boolean, minutes double precision, channel text)"
            )
        con.execute("DROP INDEX IF EXISTS tickets_created_at")
        con.execute(
            "INSERT INTO tickets SELECT g, TIMESTAMP '2024-01-01' + (random() * 730) * "
            "INTERVAL '1 day', floor(random() * 11)::int, random() < 0.7, "
            "round((random() * random() * 600)::numeric, 2)::float8, "
            "(ARRAY['phone','mail','chat','web'])[1 + floor(random() * 4)::int] "
            f"FROM generate_series({have + 1}, {rows}) AS g"
        )
        con.execute("CREATE INDEX tickets_created_at ON tickets (created_at)")
        con.execute("ANALYZE tickets")


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def reference(url: str, statement: str = REFERENCE) -> dict[str, tuple]:
    import psycopg

    with psycopg.connect(_dsn(url)) as con:
        rows = con.execute(statement, _bounds()).fetchall()
    out = {}
    for i, mid in enumerate(METRICS):
        at = 3 + 2 * i
        series = sorted((r[1], float(r[at]), r[at + 1]) for r in rows if r[0] == 1 and r[at + 1])
        window = next((float(r[at]), r[at + 1]) for r in rows if r[0] == 2 and r[2] is True)
        out[mid] = (window, series)
    return out


def _bounds() -> dict[str, date]:
    return {"window": WINDOW_START, "history": history_start(), "end": END}


def row_pull(url: str) -> int:
    """Read the rows the four metrics cover, as a check computing them itself would
    (``COPY`` text, streamed); the rows read."""
    import psycopg
    from psycopg import sql

    bounds = {k: sql.Literal(v) for k, v in _bounds().items()}  # COPY binds no parameters
    statement = sql.SQL(
        f"COPY (SELECT {COLUMNS} FROM tickets WHERE created_at >= {{history}} "
        "AND created_at < {end}) TO STDOUT"
    ).format(history=bounds["history"], end=bounds["end"])
    with psycopg.connect(_dsn(url)) as con, con.cursor() as cur:
        with cur.copy(statement) as copy:
            for _ in copy:
                pass
        return cur.rowcount


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
    """Wall time and peak RSS (MiB) of ``pdca check`` in a new process, and its JSON."""
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


def reference_rss(url: str) -> float:
    """Peak RSS (MiB) of a fresh process running the reference statement."""
    return peak_rss_mib([sys.executable, __file__, "--child-reference", url])


def label(rows: int) -> str:
    """``2M``, ``10M``, ``500k``: the size in a RESULT name."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    return f"{rows // 1000}k" if rows % 1000 == 0 else str(rows)


def timed_pair(first: Callable[[], object], second: Callable[[], object], repeat: int):
    """The best time of each of two functions, run in turn ``repeat`` times: drift in
    the machine's load falls on both alike."""
    best = [math.inf, math.inf]
    for _ in range(repeat):
        for i, fn in enumerate((first, second)):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[1]


def measure(url: str, wire: WireCount, rows: int, playbook: Path, repeat: int) -> int:
    """Every figure of one size; pdca's bytes from the database."""
    import sqlalchemy as sa

    name = f"sql_postgresql.{label(rows)}"
    proxied = sa.make_url(url).set(host="127.0.0.1", port=wire.port).render_as_string(False)
    before = wire.counts().to_client
    theirs = reference(proxied)
    ref_bytes = wire.counts().to_client - before
    before = wire.counts().to_client
    wall, rss, report = fresh_process(playbook, proxied)
    pdca_bytes = wire.counts().to_client - before
    mine = numbers(report["metrics"])
    for mid in METRICS:
        if not same(mine[mid][:2], theirs[mid]):
            raise SystemExit(f"{mid}: pdca {mine[mid][0]} vs database {theirs[mid][0]}")
    computed = {mid: mine[mid][2] for mid in METRICS}
    before = wire.counts().to_client
    pulled = row_pull(proxied)
    pull_bytes = wire.counts().to_client - before
    split = reference(url, SPLIT_REFERENCE)
    if not all(same(split[mid], theirs[mid]) for mid in METRICS):
        raise SystemExit("the two reference statements give different numbers")
    sets_s, split_s = timed_pair(
        lambda: reference(url), lambda: reference(url, SPLIT_REFERENCE), repeat
    )
    ref_s, pdca_s = timed_pair(
        lambda: reference(url, REFERENCE if sets_s <= split_s else SPLIT_REFERENCE),
        lambda: pdca_in_process(playbook),
        repeat,
    )
    ref_rss = reference_rss(url)
    ratio = pdca_s / ref_s
    print(f"{rows:,} rows, 4 metrics, equal to the reference, computed: {computed}")
    print(
        f"  database's own aggregate query: {ref_s:.3f} s (grouping sets in one "
        f"statement {sets_s:.3f} s, the weeks and the window apart {split_s:.3f} s: "
        "pdca is held to the faster)"
    )
    print(f"  pdca check (in process): {pdca_s:.3f} s, ratio {ratio:.2f} (goal {GOAL:g})")
    print(f"  pdca check (fresh process, with start-up, through the relay): {wall:.3f} s")
    print(
        f"  peak RSS, fresh process: pdca {rss:.0f} MiB (goal {RSS_GOAL_MIB}), "
        f"the reference query {ref_rss:.0f} MiB"
    )
    print(
        f"  bytes from the database: pdca {pdca_bytes:,}, the reference statement "
        f"{ref_bytes:,}, a row-pulling read of the {pulled:,} rows {pull_bytes:,} "
        f"({pull_bytes / pulled:.1f} a row)"
    )
    print(f"  {load_average()}")
    print(result_line(name, pdca_s, ref_s, GOAL, ratio <= GOAL))
    print(
        result_text(
            f"{name}_peak_rss", rss, ref_rss, "MiB", f"pdca<={RSS_GOAL_MIB}MiB", rss <= RSS_GOAL_MIB
        )
    )
    share = pdca_bytes / pull_bytes
    print(
        result_text(
            f"sql_postgresql.wire_bytes_{label(rows)}",
            pdca_bytes,
            pull_bytes,
            "B",
            f"ratio<={WIRE_SHARE_GOAL:g}",
            share <= WIRE_SHARE_GOAL,
        )
    )
    return pdca_bytes


def child_reference(url: str) -> int:
    reference(url)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=SIZES, help=f"sizes, comma-separated (default {SIZES})")
    parser.add_argument("--url", help="a PostgreSQL database to fill (default: a throwaway server)")
    parser.add_argument(
        "--repeat", type=int, help="timed runs of each (default 3 up to 2M rows, 2 above)"
    )
    parser.add_argument("--child-reference", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_reference:
        return child_reference(args.child_reference)
    import sqlalchemy as sa

    sizes = sorted(int(n) for n in args.rows.split(","))
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
        server = sa.make_url(url)
        if not server.host:
            raise SystemExit("--url needs a host and port: the bytes are counted over TCP")
        wire = stack.enter_context(WireCount(server.host, server.port or 5432))
        os.environ["PDCA_BENCH_URL"] = url
        playbook = Path(tmp) / "bench_sql.yaml"
        playbook.write_text(PLAYBOOK, encoding="utf-8")
        have, received = 0, {}
        for rows in sizes:
            start = time.perf_counter()
            load(url, have, rows)
            print(f"loaded {rows:,} rows in {time.perf_counter() - start:.1f} s")
            have = rows
            repeat = args.repeat or (3 if rows <= 2_000_000 else 2)
            received[rows] = measure(url, wire, rows, playbook, repeat)
        if len(sizes) > 1:
            small, large = sizes[0], sizes[-1]
            growth = received[large] / received[small]
            print(
                f"bytes from {label(small)} to {label(large)} rows: {growth:.3f}x "
                f"(rows {large / small:g}x)"
            )
            print(
                result_text(
                    f"sql_postgresql.wire_bytes_growth_{label(small)}_to_{label(large)}",
                    growth,
                    large / small,
                    "x",
                    f"pdca<={GROWTH_GOAL:g}x",
                    growth <= GROWTH_GOAL,
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
