"""Benchmark the Check-phase statistics: 500 metrics × 104 weekly periods.

Per metric: XmR limits on a 52-period baseline, rules 1..8, verdict, and the
Theil–Sen / Mann–Kendall trend. The budget is 0.5 s for the whole workload.

Two references run in the same process, on the same arrays, so the ratios
survive a slower or faster machine:

* ``numpy mean+std``: the floor: one mean and one std per metric, the least
  any per-metric numpy analysis costs in call overhead;
* ``naive python``: a straightforward pure-Python XmR + rules 1, 2, 3, 5 +
  O(n²) Theil–Sen / Mann–Kendall, the code one would write first.

Run: ``.venv/bin/python bench/bench_analysis.py``. Prints; asserts nothing.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Callable

import numpy as np
from harness import figure, header, result

from pdca.check.stats.reading import read_series
from pdca.check.stats.trend import trend

METRICS, PERIODS, BASELINE, SEED, REPEAT = 500, 104, 52, 20240601, 5
BUDGET = 0.5
RULES = (1, 2, 3, 4, 5, 6, 7, 8)


def workload() -> list[list[float | None]]:
    """Noise, with some shifts, drifts, outliers and missing weeks, like real KPIs."""
    rng = np.random.default_rng(SEED)
    out: list[list[float | None]] = []
    for m in range(METRICS):
        level, spread = rng.uniform(10, 500), rng.uniform(0.5, 20)
        x = rng.normal(level, spread, PERIODS)
        kind = m % 5
        if kind == 1:
            x[rng.integers(55, 95) :] += rng.choice([-1, 1]) * 2.5 * spread
        elif kind == 2:
            x += np.arange(PERIODS) * rng.uniform(-0.05, 0.05) * spread
        elif kind == 3:
            x[rng.integers(0, PERIODS, 3)] += 6 * spread
        row: list[float | None] = [float(v) for v in x]
        if kind == 4:
            for i in rng.integers(0, PERIODS, 4):
                row[int(i)] = None
        out.append(row)
    return out


def analyse(rows: list[list[float | None]]) -> list[str]:
    verdicts = []
    for row in rows:
        res = read_series(row, baseline=BASELINE, rules=RULES, direction="increase")
        trend(row)
        verdicts.append(res.verdict)
    return verdicts


def reference_numpy(arrays: list[np.ndarray]) -> None:
    for a in arrays:
        np.nanmean(a)
        np.nanstd(a)


def _naive_one(row: list[float | None]) -> str:
    xs = [(i, v) for i, v in enumerate(row) if v is not None]
    base = [v for i, v in xs if i < BASELINE]
    centre = sum(base) / len(base)
    mr = sum(abs(b - a) for a, b in itertools.pairwise(base)) / (len(base) - 1)
    sigma, up, lo = mr / 1.128, centre + 2.66 * mr, centre - 2.66 * mr
    vals = [v for _, v in xs]
    hits = []
    for k, v in enumerate(vals):
        if v > up or v < lo:
            hits.append(1)
        if k >= 8 and (
            all(w > centre for w in vals[k - 8 : k + 1])
            or all(w < centre for w in vals[k - 8 : k + 1])
        ):
            hits.append(2)
        if k >= 5:
            w = vals[k - 5 : k + 1]
            if all(a < b for a, b in itertools.pairwise(w)) or all(
                a > b for a, b in itertools.pairwise(w)
            ):
                hits.append(3)
        if k >= 2:
            w = vals[k - 2 : k + 1]
            if sum(v > centre + 2 * sigma for v in w) >= 2:
                hits.append(5)
            if sum(v < centre - 2 * sigma for v in w) >= 2:
                hits.append(5)
    slopes, s = [], 0
    for a in range(len(xs)):
        for b in range(a + 1, len(xs)):
            (i, u), (j, v) = xs[a], xs[b]
            slopes.append((v - u) / (j - i))
            s += (v > u) - (v < u)
    statistics.median(slopes)
    n = len(xs)
    math.erfc(abs(s) / math.sqrt(n * (n - 1) * (2 * n + 5) / 18) / math.sqrt(2))
    return "signal" if hits else "none"


def reference_naive(rows: list[list[float | None]]) -> None:
    for row in rows:
        _naive_one(row)


def best_of(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rows = workload()
    arrays = [np.array(r, dtype=float) for r in rows]
    analyse(rows[:10])  # warm caches (pair indices, imports)
    t_pdca = best_of(lambda: analyse(rows))
    t_np = best_of(lambda: reference_numpy(arrays))
    t_naive = best_of(lambda: reference_naive(rows))
    verdicts = analyse(rows)
    counts = {v: verdicts.count(v) for v in sorted(set(verdicts))}
    header("bench_analysis: Check-phase statistics")
    print(f"workload: {METRICS} metrics x {PERIODS} periods, baseline {BASELINE}, seed {SEED}")
    print("analysis: limits + rules 1..8 + verdict + Theil-Sen/Mann-Kendall, best of", REPEAT)
    figure("statistics", t_pdca, t_naive, note="reference: naive python, rules 1, 2, 3, 5 only")
    figure("statistics", t_pdca, t_np, note="reference: numpy mean+std per metric, the floor")
    print(f"  {t_pdca / METRICS * 1e6:.0f} us per metric; verdicts: {counts}")
    result(
        f"analysis.{METRICS}_metrics",
        t_pdca,
        t_naive,
        "s",
        f"pdca<={BUDGET * 1000:g}ms",
        t_pdca <= BUDGET,
    )


if __name__ == "__main__":
    main()
