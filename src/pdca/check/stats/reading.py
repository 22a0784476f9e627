"""The Check reading of one metric: the right chart, its signals, and an honest verdict.

This is where the statistics meet: the chart that fits the KPI (XmR for means
and percentiles, per-n limits for percentages of a varying volume), the
special-cause rules on it, and a verdict from sustained evidence
(:mod:`pdca.check.stats.evidence`) rather than from whichever rule fired last.

* **Too short a baseline** (fewer than ``min_baseline`` present values, 12 by
  default) gets a run chart and Anhøj's rules (:func:`~pdca.check.stats.perchart.run_chart`)
  and the verdict ``insufficient_data``: limits from a handful of weeks are too
  loose or too tight to mean anything (two baseline points give a stable
  process a false verdict more often than not).
* **Per-n charts** (``p``, ``p_prime``, ``u_prime``) standardise each period by
  its own limits, ``z = (v - centre) / sigma_i``; the rules and the verdict then
  read ``z``, so a 14-response week is judged by 14-response limits.
* **XmR charts** take the centre and sigma from the baseline, with moving ranges
  above 3.267 x their mean screened out before the limits are frozen.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pdca.check.stats.base import D2, as_array, finite, screened_mr_bar
from pdca.check.stats.evidence import Reason, judge
from pdca.check.stats.mdc import Variation, variation
from pdca.check.stats.perchart import PER_N_CHARTS, PerNLimits, RunChart, per_n_limits, run_chart
from pdca.check.stats.spc import (
    DEFAULT_RULES,
    Limits,
    RuleSet,
    Signal,
    _check_direction,
    _check_rules,
    detect_signals,
)

CHARTS: tuple[str, ...] = ("xmr", *PER_N_CHARTS)
"""Charts a KPI or a metric may ask for; ``run`` is what a short baseline gets."""
MIN_BASELINE = 12
"""Baseline values needed before limits are trusted (``check: {min_baseline: ...}``)."""
MIN_POINTS = 8
"""Present values needed in the whole series before any verdict."""


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything Check says about one series; :meth:`to_json` is the ``signal`` entry."""

    verdict: str
    chart: str
    """``xmr``, ``p``, ``p_prime``, ``u_prime``, or ``run`` when the baseline is too short."""
    limits: Limits
    """XmR limits; for a per-n chart, the limits at the baseline's median n (for people
    and for target checks; each period's own limits are in ``lower`` and ``upper``)."""
    signals: tuple[Signal, ...] = ()
    """Rule signals touching the judged periods."""
    baseline_signals: tuple[Signal, ...] = ()
    """Rule signals wholly inside the baseline: the limits rest on an unstable stretch."""
    reasons: tuple[Reason, ...] = ()
    """The evidence behind the verdict (empty for ``no_signal``)."""
    judged_from: int = 0
    lower: tuple[float | None, ...] | None = None
    upper: tuple[float | None, ...] | None = None
    """Per-period limits of a per-n chart (None for XmR and run charts)."""
    per_n: PerNLimits | None = None
    run: RunChart | None = None
    note: str | None = None
    """Why there is no verdict, when there is none."""
    variation: Variation | None = None
    """MDC's variation of the latest point (None without limits)."""

    def to_json(self) -> dict[str, Any]:
        limits = self.limits.to_json()
        limits["chart"] = self.chart
        if self.per_n is not None:
            limits["unit_sigma"] = finite(self.per_n.unit_sigma)
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "rules": [s.to_json() for s in self.signals],
            "limits": limits,
            "reasons": [r.to_json() for r in self.reasons],
            "baseline_rules": [s.to_json() for s in self.baseline_signals],
            "variation": self.variation.kind if self.variation else None,
            "variation_side": self.variation.side if self.variation else None,
            "variation_rules": list(self.variation.rules) if self.variation else [],
        }
        if self.run is not None:
            out["run_chart"] = {
                "median": finite(self.run.median),
                "useful_points": self.run.useful,
                "longest_run": self.run.longest_run,
                "longest_run_limit": self.run.longest_run_limit,
                "crossings": self.run.crossings,
                "crossings_limit": self.run.crossings_limit,
                "shift": self.run.shift,
                "too_few_crossings": self.run.too_few_crossings,
            }
        if self.note:
            out["note"] = self.note
        return out


def screened_limits(values: np.ndarray, baseline: int) -> Limits:
    """XmR limits from the first ``baseline`` periods, sigma from screened moving ranges."""
    base = values[:baseline]
    base = base[~np.isnan(base)]
    if base.size < 2:
        centre = float(base.mean()) if base.size else math.nan
        return Limits(centre=centre, mr_bar=math.nan, baseline_points=int(base.size))
    lo, hi = float(base.min()), float(base.max())
    # clamped: float rounding can put a constant baseline's mean a hair off its value
    centre = min(max(float(base.mean()), lo), hi)
    return Limits(centre=centre, mr_bar=screened_mr_bar(base), baseline_points=int(base.size))


def read_series(
    values: Sequence[float | None] | np.ndarray,
    n: Sequence[int] | np.ndarray | None = None,
    *,
    baseline: int | None,
    direction: str,
    rules: Iterable[int] | RuleSet = DEFAULT_RULES,
    chart: str = "xmr",
    min_baseline: int = MIN_BASELINE,
    min_points: int = MIN_POINTS,
) -> Reading:
    """Read a period series (and each period's ``n`` for per-n charts) as Check does.

    ``baseline`` is the number of leading periods the limits rest on; the rest are
    judged. Without a baseline there is no "before" to compare with, so the
    verdict is ``insufficient_data`` (the rules still show on the whole series).
    """
    ruleset = RuleSet.of(rules)
    chosen = replace(ruleset, numbers=_check_rules(ruleset.numbers))
    _check_direction(direction)
    if chart not in CHARTS:
        raise ValueError(f"chart must be one of {', '.join(CHARTS)}, not {chart!r}")
    with np.errstate(all="ignore"):  # values near the float limits: no estimate, no warning
        return _read(values, n, baseline, direction, chosen, chart, min_baseline, min_points)


def _read(
    values: Sequence[float | None] | np.ndarray,
    n: Sequence[int] | np.ndarray | None,
    baseline: int | None,
    direction: str,
    chosen: RuleSet,
    chart: str,
    min_baseline: int,
    min_points: int,
) -> Reading:
    arr = as_array(values)
    if chart != "xmr" and n is None:
        raise ValueError(f"a {chart} chart needs each period's n")
    counts = np.zeros(arr.size) if n is None else np.asarray(n, dtype=float).reshape(-1)
    if chart != "xmr":
        # a period with a value but no n cannot be placed on a per-n chart
        arr = np.where(counts > 0, arr, np.nan)
    split = arr.size if baseline is None else max(0, min(int(baseline), arr.size))
    present = ~np.isnan(arr)
    m = int(present[:split].sum())
    if m < min_baseline:
        return _short(arr, split, m, min_baseline, baseline is None)
    if baseline is None:
        limits = screened_limits(arr, split)
        signals = detect_signals(arr, limits, chosen) if chart == "xmr" else ()
        return Reading(
            "insufficient_data",
            chart,
            limits,
            signals=signals,
            variation=variation(arr, limits.centre, signals, direction)
            if chart == "xmr" and limits.available
            else None,
            note="no baseline to compare with: set cycle.start or the metric's "
            "baseline_periods so the periods before the change set the limits",
        )
    if chart == "xmr":
        limits = screened_limits(arr, split)
        read, per_n, lower, upper = arr, None, None, None
    else:
        per_n = per_n_limits(arr, counts, split, chart=chart)
        typical = float(np.median(counts[:split][present[:split]]))
        sigma_typ = per_n.unit_sigma / math.sqrt(typical)
        limits = Limits(centre=per_n.centre, mr_bar=sigma_typ * D2, baseline_points=m)
        read = per_n.z(arr, counts)
        lo, hi = per_n.bounds(np.where(counts > 0, counts, np.nan))
        lower, upper = _optional(lo), _optional(hi)
    if int(present.sum()) < min_points or not present[split:].any() or not limits.available:
        return Reading(
            "insufficient_data",
            chart,
            limits,
            judged_from=split,
            lower=lower,
            upper=upper,
            per_n=per_n,
            note="no judged period has a value yet"
            if not present[split:].any()
            else "too few periods for a verdict",
        )
    z_limits = limits if per_n is None else Limits(0.0, D2, m)
    found = detect_signals(read, z_limits, chosen)
    judged = tuple(s for s in found if s.periods[-1] >= split)
    in_baseline = tuple(s for s in found if s.periods[-1] < split)
    shown = _shown(arr, None if per_n is None else counts, split, limits.centre)
    if per_n is None:
        evidence = judge(read, split, direction, centre=limits.centre, sigma=limits.sigma)
    else:
        evidence = judge(read, split, direction, centre=0.0, sigma=1.0, shown=shown)
    return Reading(
        evidence.verdict,
        chart,
        limits,
        signals=judged,
        baseline_signals=in_baseline,
        reasons=evidence.reasons,
        judged_from=split,
        lower=lower,
        upper=upper,
        per_n=per_n,
        variation=variation(read, z_limits.centre, found, direction),
    )


def _optional(values: np.ndarray) -> tuple[float | None, ...]:
    return tuple(float(v) if math.isfinite(v) else None for v in values)


def _short(arr: np.ndarray, split: int, m: int, min_baseline: int, whole: bool) -> Reading:
    """A run chart for a baseline too short for limits: signals, but no verdict yet."""
    run = run_chart(arr)
    where = "values" if whole else "baseline values"
    centre = run.median if run is not None else math.nan
    return Reading(
        "insufficient_data",
        "run",
        Limits(centre=centre, mr_bar=math.nan, baseline_points=m),
        judged_from=split,
        run=run,
        note=f"{m} {where}, {min_baseline} needed for control limits: read as a run chart "
        "until then",
    )


def _shown(
    values: np.ndarray, counts: np.ndarray | None, split: int, centre: float
) -> tuple[float, float]:
    """The judged periods' mean (n-weighted on a per-n chart) and the centre, in units."""
    judged = values[split:]
    keep = ~np.isnan(judged)
    if counts is None:
        return float(judged[keep].mean()), centre
    w = counts[split:][keep]
    return float((judged[keep] * w).sum() / w.sum()), centre
