"""Benchmark the Check-phase statistics: 500 metrics × 104 weekly periods.

Per metric: XmR limits on a 52-period baseline (moving ranges screened), rules
1..8, the verdict (cycle mean and sustained run), the latest point's
variation, and the Theil–Sen / Mann–Kendall trend. The budget is 0.5 s for
the whole workload.

The reference computes the same numbers in the same process from their
definitions, the way a competent numpy user would for many series at once:
metrics with the same count of present and of baseline values form one dense
matrix (missing weeks moved to the end, their period indices kept), the
limits, the zone flags and the pairwise slopes are whole-matrix operations,
and runs and windows are found in one pass over the rows laid end to end. It
covers what this workload needs (XmR charts with a baseline of at least 12
values, rules 1..8; the tie correction of Mann–Kendall is written but this
continuous data has no ties). Before anything is timed, every metric's limits,
rule signals (rule, periods and direction), verdict and its reasons,
variation, and trend (slope, intercept, S, Var(S), z, p) must equal pdca's,
numbers to 1e-9; a difference stops the benchmark.

pdca reads one metric at a time (as Check does, each with its own chart,
rules and checks) and pays per-call overhead the batch reference does not,
so the ratio says what that costs; the goal is the budget.

Run: ``.venv/bin/python bench/bench_analysis.py``. Prints; asserts only that
the numbers agree.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from benchkit import same
from harness import figure, header, result

from pdca.check.stats.base import THRESHOLD
from pdca.check.stats.reading import Reading, read_series
from pdca.check.stats.trend import TrendResult, trend

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


def analyse(rows: list[list[float | None]]) -> list[tuple[Reading, TrendResult]]:
    """What Check does per metric: the reading (limits, rules, verdict) and the trend."""
    return [
        (read_series(row, baseline=BASELINE, rules=RULES, direction="increase"), trend(row))
        for row in rows
    ]


def outcome(reading: Reading, fit: TrendResult) -> Outcome:
    """The numbers of one metric pdca reports, in the reference's shape."""
    lim = reading.limits
    found = sorted(
        (s.rule, s.periods, s.direction) for s in (*reading.baseline_signals, *reading.signals)
    )
    var = reading.variation
    return (
        (lim.centre, lim.mr_bar, lim.sigma, lim.lower, lim.upper, lim.baseline_points),
        tuple(found),
        reading.verdict,
        tuple((r.kind, r.direction) for r in reading.reasons),
        (var.kind, var.side) if var else None,
        (fit.slope, fit.intercept, fit.s, fit.var_s, fit.z, fit.p_value, fit.significant),
    )


# ---- the reference: the same numbers, from the definitions, vectorised over metrics ----

Outcome = tuple[Any, ...]
PAD = 8
"""Zero columns between metrics when their rows are laid end to end: wider than any
window (rule 6 looks at 5 points), so no run or window reaches into the next metric."""


def reference(rows: list[list[float | None]]) -> list[Outcome]:
    """Limits, rules 1..8, verdict, variation and trend of every metric, as numpy would.

    Metrics with the same number of present values and of baseline values form one
    dense matrix (missing weeks moved to the end, their period indices kept), so
    every step is a few array operations for the whole group.
    """
    arr = np.array(rows, dtype=float)
    present = ~np.isnan(arr)
    order = np.argsort(~present, axis=1, kind="stable")  # present values first, in order
    values = np.take_along_axis(arr, order, axis=1)
    n_all, m_all = present.sum(axis=1), present[:, :BASELINE].sum(axis=1)
    out: list[Outcome] = [()] * len(rows)
    for n, m in set(zip(n_all.tolist(), m_all.tolist(), strict=True)):
        which = np.flatnonzero((n_all == n) & (m_all == m))
        assert m >= 12 and n > m, "the reference reads XmR charts with a baseline only"
        for i, res in zip(which, _group(values[which, :n], order[which, :n], m), strict=True):
            out[i] = res
    return out


def _group(y: np.ndarray, period: np.ndarray, m: int) -> list[Outcome]:
    g, n = y.shape
    base = y[:, :m]
    centre = np.clip(base.mean(axis=1), base.min(axis=1), base.max(axis=1))
    mr = np.abs(np.diff(base, axis=1))
    keep = mr <= 3.267 * mr.mean(axis=1, keepdims=True)
    mr_bar = np.where(keep, mr, 0.0).sum(axis=1) / keep.sum(axis=1)
    sigma = mr_bar / 1.128
    eps = 1e-9 * np.maximum(np.abs(centre), sigma)
    d = y - centre[:, None]
    col = lambda v: v[:, None]  # noqa: E731  (per-metric constants against each period)
    side = np.sign(d) * (np.abs(d) > col(eps))
    found: list[list[tuple[int, tuple[int, ...], str | None]]] = [[] for _ in range(g)]

    def signals(rule: int, key: np.ndarray, min_len: int, extra: int, named: bool) -> None:
        """Maximal runs of one non-zero key at least ``min_len`` long, in every metric."""
        width = key.shape[1] + PAD
        flat = np.pad(key, ((0, 0), (0, PAD))).ravel()
        edges = np.flatnonzero(np.diff(flat, prepend=0, append=0))
        for a, b in itertools.pairwise(edges):
            if flat[a] != 0 and b - a >= min_len:
                r, c = divmod(int(a), width)
                direction = ("up" if flat[a] > 0 else "down") if named else None
                found[r].append((rule, c, c + b - a + extra, direction))

    def windows(rule: int, k_sigma: float, width: int, need: int) -> None:
        """Merged windows of ``width`` points holding ``need`` beyond ``k_sigma`` sigmas."""
        bound = col(k_sigma * sigma + eps)
        for flag, direction in ((d > bound, "up"), (d < -bound, "down")):
            flat = np.pad(flag, ((0, 0), (0, PAD))).ravel()
            total = np.concatenate(([0], np.cumsum(flat)))
            starts = np.flatnonzero(total[width:] - total[:-width] >= need)
            for run in np.split(starts, np.flatnonzero(np.diff(starts) >= width) + 1):
                if run.size:
                    lo, hi = int(run[0]), int(run[-1]) + width
                    hits = lo + np.flatnonzero(flat[lo:hi])
                    r = int(hits[0]) // (n + PAD)  # a window may start in the padding
                    found[r].append((rule, hits - r * (n + PAD), direction))

    beyond = np.sign(d) * (np.abs(d) > col(2.66 * mr_bar + eps))
    signals(1, beyond.astype(np.int8), 1, 0, True)
    signals(2, side.astype(np.int8), 9, 0, True)
    step = np.sign(np.diff(y, axis=1)).astype(np.int8)
    signals(3, step, 5, 1, True)
    flip = np.where(np.arange(n - 1) % 2 == 0, 1, -1).astype(np.int8)
    signals(4, step * flip, 13, 1, False)
    windows(5, 2.0, 3, 2)
    windows(6, 1.0, 5, 4)
    signals(7, (np.abs(d) < col(sigma - eps)).astype(np.int8), 15, 0, False)
    outside = (np.abs(d) > col(sigma + eps)).astype(np.int8)
    signals(8, outside, 8, 0, False)

    # the verdict: cycle mean against the baseline (widened for autocorrelation) and the
    # sustained run of the last 8 judged points
    judged = y[:, m:]
    k = n - m
    dev = base - base.mean(axis=1, keepdims=True)
    den = (dev * dev).sum(axis=1)
    lag = np.where(den > 0, (dev[:, 1:] * dev[:, :-1]).sum(axis=1) / np.where(den > 0, den, 1), 0)
    r1 = np.clip(lag, 0.0, 0.8)
    scale = sigma * np.sqrt((1 + r1) / (1 - r1))
    gap = judged.mean(axis=1) - centre
    t = gap / (scale * math.sqrt(1 / k + 1 / m))
    extreme = np.where(gap > 0, judged.max(axis=1), judged.min(axis=1))
    rest_t = ((judged.sum(axis=1) - extreme) / (k - 1) - centre) / (
        scale * math.sqrt(1 / (k - 1) + 1 / m)
    )
    by_mean = (np.abs(t) > THRESHOLD) & (np.abs(rest_t) > THRESHOLD)
    last = judged[:, -8:] - centre[:, None]
    tol = col(1e-9 * np.maximum(np.maximum(np.abs(centre), sigma), 1e-300))
    run_up = (last > tol).all(axis=1) & (k >= 8)
    run_down = (last < -tol).all(axis=1) & (k >= 8)

    # the trend: Theil-Sen slope (median pairwise slope, Conover's intercept) and
    # Mann-Kendall's S with its tie-corrected variance
    x = period.astype(float)
    i, j = np.triu_indices(n, k=1)
    rise = y[:, j] - y[:, i]
    slope = np.median(rise / (x[:, j] - x[:, i]), axis=1)
    intercept = np.median(y - slope[:, None] * x, axis=1)
    s = np.sign(rise).sum(axis=1).astype(int)
    ties = np.zeros(g)
    ordered = np.sort(y, axis=1)
    for r in np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1)):
        _, counts = np.unique(ordered[r], return_counts=True)
        tc = counts[counts > 1].astype(float)
        ties[r] = (tc * (tc - 1) * (2 * tc + 5)).sum()
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0

    out: list[Outcome] = []
    for r in range(g):
        reasons = []
        if by_mean[r]:
            reasons.append(("cycle_mean", "up" if t[r] > 0 else "down"))
        if run_up[r]:
            reasons.append(("sustained_run", "up"))
        if run_down[r]:
            reasons.append(("sustained_run", "down"))
        ways = {w for _, w in reasons}
        verdict = (
            "mixed"
            if len(ways) == 2
            else ("improved" if ways == {"up"} else "deteriorated")
            if ways
            else "no_signal"
        )
        hits = []
        for rule, a, b_or_hits, *rest in found[r]:
            if rest:  # a run: (rule, first column, end column, direction)
                cols, direction = range(a, b_or_hits), rest[0]
                if rule == 8:
                    sides = side[r, a:b_or_hits]
                    direction = "up" if (sides > 0).all() else "down" if (sides < 0).all() else None
            else:  # a window: (rule, columns, direction)
                cols, direction = a.tolist(), b_or_hits
            hits.append((rule, tuple(int(period[r, c]) for c in cols), direction))
        latest = int(period[r, -1])
        value, c = y[r, -1], centre[r]
        veps = 1e-9 * max(abs(c), 1.0)
        at = "high" if value > c + veps else "low" if value < c - veps else None
        flagged = [h for h in hits if latest in h[1]]
        if not flagged:
            var = ("common_cause", at)
        elif at is None:
            dirs = {h[2] for h in flagged if h[2] is not None}
            var = (
                ("neither", None)
                if len(dirs) != 1
                else ("improvement" if dirs == {"up"} else "concern", None)
            )
        elif not any(h[2] is not None for h in flagged):
            var = ("neither", at)
        else:
            var = ("improvement" if at == "high" else "concern", at)
        sr = int(s[r])
        z = 0.0 if sr == 0 else (sr - math.copysign(1, sr)) / math.sqrt(var_s[r])
        p = 1.0 if sr == 0 else min(1.0, math.erfc(abs(z) / math.sqrt(2.0)))
        lim = (
            float(c),
            float(mr_bar[r]),
            float(sigma[r]),
            float(c - 2.66 * mr_bar[r]),
            float(c + 2.66 * mr_bar[r]),
            m,
        )
        fit = (float(slope[r]), float(intercept[r]), sr, float(var_s[r]), z, p, p < 0.05)
        out.append((lim, tuple(sorted(hits)), verdict, tuple(reasons), var, fit))
    return out


def best_of(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rows = workload()
    analyse(rows[:10])  # warm caches (pair indices, imports)
    ours = [outcome(*pair) for pair in analyse(rows)]
    theirs = reference(rows)
    for mid, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert same(a, b), f"metric {mid}: pdca {a} != reference {b}"
    t_pdca = best_of(lambda: analyse(rows))
    t_ref = best_of(lambda: reference(rows))
    verdicts = Counter(o[2] for o in ours)
    header("bench_analysis: Check-phase statistics")
    print(f"workload: {METRICS} metrics x {PERIODS} periods, baseline {BASELINE}, seed {SEED}")
    print("analysis: limits + rules 1..8 + verdict + Theil-Sen/Mann-Kendall, best of", REPEAT)
    print(
        f"same numbers: limits, {sum(len(o[1]) for o in ours)} rule signals, verdicts, "
        "variation and trends of every metric equal the reference's (to 1e-9)"
    )
    figure("statistics", t_pdca, t_ref, note="reference: numpy over all metrics at once")
    print(
        f"  {t_pdca / METRICS * 1e6:.0f} us per metric; verdicts: {dict(sorted(verdicts.items()))}"
    )
    result(
        f"analysis.{METRICS}_metrics",
        t_pdca,
        t_ref,
        "s",
        f"pdca<={BUDGET * 1000:g}ms",
        t_pdca <= BUDGET,
    )


if __name__ == "__main__":
    main()
