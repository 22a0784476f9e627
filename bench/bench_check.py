"""``pdca check`` on large ticket exports vs the same queries in raw DuckDB and pandas.

Metrics: NPS, first-contact resolution (rate), mean first response per channel
(segments) and weekly p90 of first response, over a 1M- and a 10M-row file as
CSV and as Parquet. Goals: pdca within 1.3x of raw DuckDB; a 10M-row CSV under
600 MB peak RSS; a second check on an unchanged CSV at Parquet speed (cache).
Prints figures and ratios; asserts nothing.

    python bench/bench_check.py [--rows 1000000 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

AS_OF = date(2025, 12, 28)
WINDOW_START = "2025-12-01"
END = "2025-12-29"
HISTORY_START = "2024-01-01"

PLAYBOOK = """\
playbook: bench
title: Ticket benchmark
sources:
  tickets: {{type: {fmt}, path: {file}, timestamp: created_at}}
metrics:
  nps: {{source: tickets, kpi: nps, field: likelihood_to_recommend, target: 30}}
  fcr: {{source: tickets, kpi: rate, field: resolved_first_contact, target: 70}}
  response_by_channel:
    source: tickets
    kpi: mean
    field: first_response_minutes
    target: 60
    direction: decrease
    segment_by: channel
  response_p90:
    source: tickets
    kpi: percentile
    field: first_response_minutes
    params: {{q: 90}}
    target: 240
    direction: decrease
"""


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def raw_duckdb(path: Path, fmt: str, load: bool = False) -> dict:
    """The same numbers with hand-written DuckDB SQL: the reference pdca is held to.

    ``load`` reads the file once into a table first, as one would for many queries;
    otherwise every query reads the file through a view.
    """
    import duckdb

    con = duckdb.connect()
    reader = f"read_csv('{path}')" if fmt == "csv" else f"read_parquet('{path}')"
    kind = "TABLE" if load else "VIEW"
    con.execute(
        f"CREATE TEMP {kind} t AS SELECT * FROM {reader} "
        f"WHERE created_at >= '{HISTORY_START}' AND created_at < '{END}'"
    )
    win = f"created_at >= '{WINDOW_START}'"
    out = {}
    out["nps"] = con.execute(
        "SELECT 100.0 * avg(CASE WHEN likelihood_to_recommend >= 9 THEN 1 ELSE 0 END)"
        " - 100.0 * avg(CASE WHEN likelihood_to_recommend <= 6 THEN 1 ELSE 0 END),"
        f" count(*) FROM t WHERE {win}"
    ).fetchone()
    out["nps_weekly"] = con.execute(
        "SELECT date_trunc('week', created_at) w,"
        " 100.0 * avg(CASE WHEN likelihood_to_recommend >= 9 THEN 1 ELSE 0 END)"
        " - 100.0 * avg(CASE WHEN likelihood_to_recommend <= 6 THEN 1 ELSE 0 END)"
        " FROM t GROUP BY w"
    ).fetchall()
    out["fcr"] = con.execute(
        f"SELECT 100.0 * avg(CAST(resolved_first_contact AS INTEGER)) FROM t WHERE {win}"
    ).fetchone()
    out["fcr_weekly"] = con.execute(
        "SELECT date_trunc('week', created_at) w, 100.0 * avg(CAST(resolved_first_contact AS"
        " INTEGER)) FROM t GROUP BY w"
    ).fetchall()
    out["by_channel"] = con.execute(
        f"SELECT channel, avg(first_response_minutes) FROM t WHERE {win} GROUP BY channel"
    ).fetchall()
    out["mean_weekly"] = con.execute(
        "SELECT date_trunc('week', created_at) w, avg(first_response_minutes) FROM t GROUP BY w"
    ).fetchall()
    out["p90_weekly"] = con.execute(
        "SELECT date_trunc('week', created_at) w, quantile_cont(first_response_minutes, 0.9)"
        " FROM t GROUP BY w"
    ).fetchall()
    out["p90"] = con.execute(
        f"SELECT quantile_cont(first_response_minutes, 0.9) FROM t WHERE {win}"
    ).fetchone()
    return out


def with_pandas(path: Path, fmt: str) -> dict | None:
    try:
        import pandas as pd
    except ImportError:
        return None
    cols = [
        "created_at",
        "channel",
        "likelihood_to_recommend",
        "resolved_first_contact",
        "first_response_minutes",
    ]
    if fmt == "csv":
        df = pd.read_csv(path, usecols=cols, parse_dates=["created_at"])
    else:
        df = pd.read_parquet(path, columns=cols)
    df = df[(df.created_at >= HISTORY_START) & (df.created_at < END)]
    week = df.created_at.dt.to_period("W").dt.start_time
    win = df[df.created_at >= WINDOW_START]
    ltr = win.likelihood_to_recommend
    out = {
        "nps": 100 * ((ltr >= 9).mean() - (ltr <= 6).mean()),
        "fcr": 100 * win.resolved_first_contact.astype(float).mean(),
        "by_channel": win.groupby("channel").first_response_minutes.mean().to_dict(),
        "p90": win.first_response_minutes.quantile(0.9),
    }
    out["p90_weekly"] = df.groupby(week).first_response_minutes.quantile(0.9)
    out["mean_weekly"] = df.groupby(week).first_response_minutes.mean()
    return out


def pdca_check(playbook: Path, cache: Path | None) -> dict:
    from pdca.check.measure import check
    from pdca.playbook import load_checked

    result = load_checked(playbook)
    return check(result.playbook, result.registry, AS_OF, cache_dir=cache)


def peak_rss_mb(playbook: Path, cache: Path | None) -> float:
    """Peak resident memory of a fresh process running the check, in MB."""
    code = (
        "import resource, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from bench_check import pdca_check\n"
        "from pathlib import Path\n"
        "cache = Path(sys.argv[3]) if sys.argv[3] != '-' else None\n"
        "pdca_check(Path(sys.argv[2]), cache)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(Path(__file__).parent),
            str(playbook),
            str(cache) if cache else "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1]) / 1024


def bench(rows: int, folder: Path) -> None:
    from pdca.examples.generate import generate_tickets

    for fmt in ("csv", "parquet"):
        data = folder / f"tickets-{rows}.{fmt}"
        if not data.exists():
            t, _ = timed(generate_tickets, rows, data, fmt=fmt, seed=3)
            print(f"  generated {data.name} ({data.stat().st_size / 1e6:.0f} MB) in {t:.1f} s")
        playbook = folder / f"playbook-{rows}-{fmt}.yaml"
        playbook.write_text(PLAYBOOK.format(fmt=fmt, file=data.name))
        cache = folder / f"cache-{rows}-{fmt}"
        shutil.rmtree(cache, ignore_errors=True)

        t_view, raw = timed(raw_duckdb, data, fmt)
        t_load, _ = timed(raw_duckdb, data, fmt, load=True)
        t_raw = min(t_view, t_load)
        t_nocache, report = timed(pdca_check, playbook, None)
        t_first, _ = timed(pdca_check, playbook, cache)
        t_second, _ = timed(pdca_check, playbook, cache)
        t_pandas, pd_out = timed(with_pandas, data, fmt)

        nps = report["metrics"]["nps"]["value"]
        assert abs(nps - raw["nps"][0]) < 1e-3, (
            nps,
            raw["nps"],
        )  # same numbers, or the race is void
        print(f"{rows:,} rows, {fmt}:")
        print(f"  raw DuckDB, file view    {t_view:7.2f} s")
        print(f"  raw DuckDB, loaded once  {t_load:7.2f} s")
        print(f"  reference: the faster    {t_raw:7.2f} s")
        print(
            f"  pdca check, no cache     {t_nocache:7.2f} s   ratio {t_nocache / t_raw:.2f}"
            "   goal <= 1.30"
        )
        if fmt == "csv":
            print(f"  pdca check, cache build  {t_first:7.2f} s   ratio {t_first / t_raw:.2f}")
            print(
                f"  pdca check, cached       {t_second:7.2f} s   ratio {t_second / t_raw:.2f}"
                f"   ({t_nocache / t_second:.1f}x faster than uncached)"
            )
        if pd_out is not None:
            print(f"  pandas                   {t_pandas:7.2f} s   ratio {t_pandas / t_raw:.2f}")
        else:
            print("  pandas                   not installed (pip install pandas to compare)")
        if fmt == "csv":
            rss = peak_rss_mb(playbook, None)
            rss_cached = peak_rss_mb(playbook, cache)
            print(
                f"  peak RSS: {rss:.0f} MB uncached, {rss_cached:.0f} MB cached"
                "   goal < 600 MB at 10M rows"
            )
        print(
            f"  values: nps {nps}, fcr {report['metrics']['fcr']['value']},"
            f" p90 {report['metrics']['response_p90']['value']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--keep", type=Path, help="folder for the generated files (reused)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="pdca-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for rows in args.rows:
            bench(rows, folder)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
