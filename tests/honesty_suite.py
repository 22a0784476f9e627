"""The honesty suite: simulated metrics written as a playbook, checked by ``pdca check``.

:func:`write_suite` writes a playbook folder with one metric per simulated series
(stable and shifted, per KPI kind and AR(1) ``phi``), each reading its rows from
its kind's CSV through a ``filter`` on the ``series`` column. :func:`run_check`
runs ``pdca check --format json`` on it as a separate process, exactly as a team
would, and :func:`tally` counts the verdicts per group. :func:`reference_verdict`
is an independent, hand-written reading of the same weekly values by the
Shewhart rules 1, 2, 3 and 5 (most recent signal decides), used by the bench
to cross-check the whole data path.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from honesty_sim import (
    AS_OF,
    BASELINE_WEEKS,
    CYCLE_START,
    CYCLE_WEEKS,
    FIRST_DAY,
    WEEKS,
    Series,
    count_series,
    draw_responses,
    mean_series,
    rate_series,
    weekly_values,
)

KINDS = ("rate", "csat", "mean", "count")
VALUE_COLUMN = {"rate": "resolved", "csat": "score", "mean": "minutes"}
"""The CSV column each kind's responses are written to (a count's rows are its events)."""
VERDICT_GIVEN = ("improved", "deteriorated", "mixed")
"""Verdicts that claim a change; ``no_signal`` and ``insufficient_data`` do not."""

RATE_LEVELS = (0.6, 0.7, 0.8, 0.9)
"""Baseline rates (share of yes / of satisfied answers), cycled over the metrics."""
MINUTES, COMPLAINTS = 20.0, 40.0
"""Baseline handling time (minutes) and complaints per week."""


@dataclass(frozen=True)
class Simulated:
    """One metric of the suite: its group, its latent series and the weekly values of its rows."""

    metric: str
    kind: str
    phi: float
    shifted: bool
    series: Series
    weekly: np.ndarray
    rows: int


@dataclass(frozen=True)
class Suite:
    """A written playbook folder and what was simulated into it."""

    playbook: Path
    metrics: tuple[Simulated, ...]


def simulate(kind: str, seed: int, index: int, shifted: bool, phi: float) -> Series:
    """The latent series of one metric; rates differ between metrics, as real KPIs do."""
    if kind in ("rate", "csat"):
        return rate_series(seed, RATE_LEVELS[index % len(RATE_LEVELS)], shifted, phi)
    if kind == "mean":
        return mean_series(seed, MINUTES, shifted, phi)
    return count_series(seed, COMPLAINTS, shifted, phi)


def _metric_yaml(sim: Simulated, source: str, plan: Planned) -> str:
    """The playbook entry of one metric: targets a real team might set.

    Targets sit above (below, for lower-is-better KPIs) the baseline level and
    ``warn`` at it; they shape the status, never the verdict.
    """
    mid = sim.metric
    head = f"  {mid}:\n    source: {source}\n    filter: \"series = '{mid}'\"\n"
    if sim.kind in ("rate", "csat"):
        p = round(100 * float(np.median(plan.series.level[:BASELINE_WEEKS])))
        kpi = (
            "kpi: rate\n    field: resolved"
            if sim.kind == "rate"
            else "kpi: csat\n    field: score"
        )
        return head + f"    {kpi}\n    target: {min(p + 5, 99):g}\n    warn: {p:g}\n    unit: '%'\n"
    if sim.kind == "mean":
        return head + (
            f"    kpi: mean\n    field: minutes\n    direction: decrease\n"
            f"    target: {MINUTES - 2:g}\n    warn: {MINUTES:g}\n    unit: min\n"
        )
    return head + (
        f"    kpi: count\n    direction: decrease\n"
        f"    target: {COMPLAINTS - 5:g}\n    warn: {COMPLAINTS:g}\n"
    )


def _phi_tag(phi: float) -> str:
    return f"phi{round(phi * 10)}"


@dataclass(frozen=True)
class Planned:
    """A metric to write: its id, group and latent series (rows are drawn when written)."""

    metric: str
    kind: str
    phi: float
    shifted: bool
    series: Series
    seed: int


def plan_suite(
    *,
    stable: int,
    shifted: int,
    phis: tuple[float, ...] = (0.0,),
    kinds: tuple[str, ...] = KINDS,
    seed: int = 1,
) -> list[Planned]:
    """``stable`` and ``shifted`` metrics per kind and phi, ids ``KIND-phiN-stable-I``.

    Seeds are fixed per (seed, kind, phi, group, index), so a metric's data do not
    depend on the suite's size.
    """
    out = []
    for k, kind in enumerate(kinds):
        for f, phi in enumerate(phis):
            for is_shifted, count in ((False, stable), (True, shifted)):
                group = "shifted" if is_shifted else "stable"
                for i in range(count):
                    s = np.random.SeedSequence([seed, k, f, int(is_shifted), i])
                    sid = int(s.generate_state(1)[0])
                    mid = f"{kind}-{_phi_tag(phi)}-{group}-{i:04d}"
                    series = simulate(kind, sid, i, is_shifted, phi)
                    out.append(Planned(mid, kind, phi, is_shifted, series, sid))
    return out


def write_suite(folder: Path, planned: list[Planned]) -> Suite:
    """Write ``folder/playbook.yaml`` and one CSV per kind and phi; return what was written.

    Every metric reads its kind's CSV with ``filter: series = 'ID'``; the cycle starts
    at :data:`CYCLE_START`, so the 26 weeks before it are each metric's baseline.
    """
    (folder / "data").mkdir(parents=True, exist_ok=True)
    day_text = np.array([(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(WEEKS * 7)])
    by_source: dict[str, list[Planned]] = {}
    for plan in planned:
        by_source.setdefault(f"{plan.kind}_{_phi_tag(plan.phi)}", []).append(plan)
    sims: list[Simulated] = []
    sources, metrics = [], []
    for source, plans in by_source.items():
        kind = plans[0].kind
        path = folder / "data" / f"{source}.csv"
        column = VALUE_COLUMN.get(kind)
        with path.open("w", encoding="utf-8") as out:
            out.write("series,day" + (f",{column}\n" if column else "\n"))
            for plan in plans:
                rows = draw_responses(kind, plan.series, np.random.default_rng([plan.seed, 1]))
                _write_rows(out, plan.metric, day_text[rows.day], rows.value, kind)
                sim = Simulated(
                    plan.metric,
                    kind,
                    plan.phi,
                    plan.shifted,
                    plan.series,
                    weekly_values(kind, rows),
                    int(rows.week.size),
                )
                sims.append(sim)
                metrics.append(_metric_yaml(sim, source, plan))
        sources.append(f"  {source}: {{type: csv, path: data/{path.name}, timestamp: day}}\n")
    text = (
        "playbook: honesty\n"
        "title: Check honesty suite (simulated metrics)\n"
        f"cycle: {{start: {CYCLE_START.isoformat()}, length: {CYCLE_WEEKS * 7}d}}\n"
        "sources:\n" + "".join(sources) + "metrics:\n" + "".join(metrics)
    )
    playbook = folder / "playbook.yaml"
    playbook.write_text(text, encoding="utf-8")
    return Suite(playbook, tuple(sims))


def _write_rows(out: Any, mid: str, days: np.ndarray, value: np.ndarray | None, kind: str) -> None:
    if value is None:
        out.writelines(f"{mid},{d}\n" for d in days)
    elif kind == "rate":
        words = np.where(value == 1, "yes", "no")
        out.writelines(f"{mid},{d},{v}\n" for d, v in zip(days, words, strict=True))
    elif kind == "mean":
        out.writelines(f"{mid},{d},{v:.1f}\n" for d, v in zip(days, value, strict=True))
    else:
        out.writelines(f"{mid},{d},{v}\n" for d, v in zip(days, value, strict=True))


def run_check(playbook: Path, *extra: str) -> tuple[dict[str, Any], float]:
    """``pdca check --format json --as-of AS_OF`` in a fresh process: its report and seconds taken.

    ``extra`` adds options (``--no-cache``). The Parquet cache is on by default: it
    lives in the playbook folder, and later checks of the same files are faster.
    """
    cmd = [sys.executable, "-m", "pdca", "check", str(playbook), "--format", "json"]
    cmd += ["--as-of", AS_OF.isoformat(), *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"pdca check exited {proc.returncode}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout), took


@dataclass
class Tally:
    """Verdict counts per group: (stable|shifted, kind, phi) -> Counter of verdicts."""

    groups: dict[tuple[str, str, float], Counter[str]] = field(default_factory=dict)

    def add(self, sim: Simulated, verdict: str) -> None:
        key = ("shifted" if sim.shifted else "stable", sim.kind, sim.phi)
        self.groups.setdefault(key, Counter())[verdict] += 1

    def count(
        self,
        group: str,
        verdicts: tuple[str, ...],
        *,
        phi: float | None = None,
        kind: str | None = None,
    ) -> tuple[int, int]:
        """(hits, n) over the groups matching ``group`` and, when given, ``phi`` and ``kind``."""
        hits = n = 0
        for (g, k, p), counter in self.groups.items():
            if g == group and (phi is None or p == phi) and (kind is None or k == kind):
                hits += sum(counter[v] for v in verdicts)
                n += sum(counter.values())
        return hits, n


def tally(suite: Suite, report: dict[str, Any]) -> Tally:
    """Count ``signal.verdict`` of every simulated metric in a ``pdca check`` report."""
    out = Tally()
    for sim in suite.metrics:
        entry = report["metrics"][sim.metric]
        out.add(sim, entry["signal"]["verdict"])
    return out


def wilson(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95 % interval of a binomial proportion (sensible at 0 and at n)."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def reference_verdict(values: np.ndarray, direction: str, baseline: int = BASELINE_WEEKS) -> str:
    """Rules 1, 2, 3, 5 on an XmR chart frozen on the baseline, written out plainly.

    For complete series (no missing week). Limits: centre = baseline mean, MR̄ =
    mean moving range, sigma = MR̄ / 1.128, natural limits at 2.66 MR̄. A signal
    counts when its last point is judged; the latest such signal decides (on the
    same week, the lower rule).
    """
    x = [float(v) for v in values]
    base = x[:baseline]
    centre = sum(base) / len(base)
    mr_bar = sum(abs(b - a) for a, b in itertools.pairwise(base)) / (len(base) - 1)
    sigma, half = mr_bar / 1.128, 2.66 * mr_bar
    eps = 1e-9 * max(abs(centre), sigma)
    side = [1 if v - centre > eps else -1 if v - centre < -eps else 0 for v in x]
    ends: list[tuple[int, int, int]] = []  # (last point, -rule, direction)
    for i, v in enumerate(x):
        if abs(v - centre) > half + eps:  # rule 1
            ends.append((i, -1, side[i]))
        if i >= 8 and side[i] != 0 and all(side[j] == side[i] for j in range(i - 8, i + 1)):
            ends.append((i, -2, side[i]))  # rule 2: 9 on one side
        if i >= 5:  # rule 3: 6 points steadily rising or falling
            steps = [x[j + 1] - x[j] for j in range(i - 5, i)]
            if all(s > 0 for s in steps) or all(s < 0 for s in steps):
                ends.append((i, -3, 1 if steps[0] > 0 else -1))
        for sgn in (1, -1):  # rule 5: 2 of 3 beyond 2 sigma on one side, ending at a far point
            window_ok = any(
                sum(sgn * (x[j] - centre) > 2 * sigma + eps for j in range(a, a + 3)) >= 2
                for a in range(max(0, i - 2), min(i, len(x) - 3) + 1)
            )
            if sgn * (x[i] - centre) > 2 * sigma + eps and window_ok:
                ends.append((i, -5, sgn))
    judged = [e for e in ends if e[0] >= baseline]
    if not judged:
        return "no_signal"
    _, _, way = max(judged)
    wanted = 1 if direction == "increase" else -1
    return "improved" if way == wanted else "deteriorated"


def direction_of(kind: str) -> str:
    return "increase" if kind in ("rate", "csat") else "decrease"
