"""Control limits that know each period's denominator: p, Laney p' and u' charts.

NPS, CSAT, first-contact resolution and SLA compliance are proportions of a
volume that changes from week to week. A 14-response week swings far more than
a 200-response week, so one pair of XmR limits flags the small weeks as special
causes. These charts give each period its own limits from its own ``n``:

* ``p``: binomial limits ``p̄ ± 3 sqrt(p̄ (1 - p̄) / n_i)``, for values that
  are percentages (``scale`` 100) of yes/no outcomes.
* ``p_prime`` (Laney): the same shape, widened by the between-period variation
  the binomial model misses (over-dispersion, which large volumes always show).
  Each baseline value is standardised, ``z_i = (v_i - c) sqrt(n_i) / s``, and
  ``sigma_z`` is their mean moving range / 1.128; limits are ``c ± 3 s sigma_z /
  sqrt(n_i)``. The constant ``s`` cancels, so the limits need only the values and
  their ``n``: which is why the same computation serves NPS (a difference of two
  proportions) and ``u_prime`` (rates per unit of exposure), as in Laney (2002)
  and qicharts2.

The centre is the ``n``-weighted mean of the baseline (the pooled proportion).
Moving ranges above 3.267 x their mean are screened out once before sigma is
taken, as for XmR limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pdca.check.stats.base import D2, as_array, screened_mr_bar

PER_N_CHARTS: tuple[str, ...] = ("p", "p_prime", "u_prime")


@dataclass(frozen=True, slots=True)
class PerNLimits:
    """Limits of a per-n chart: a centre and a per-observation sigma."""

    chart: str
    centre: float
    unit_sigma: float
    """Sigma of one observation: a period of ``n`` has sigma ``unit_sigma / sqrt(n)``."""
    baseline_points: int

    @property
    def available(self) -> bool:
        return math.isfinite(self.centre) and math.isfinite(self.unit_sigma)

    def sigma_at(self, n: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.unit_sigma / np.sqrt(np.asarray(n, dtype=float))

    def bounds(self, n: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limit of each period, from its own ``n``."""
        half = 3.0 * self.sigma_at(np.asarray(n, dtype=float))
        return self.centre - half, self.centre + half

    def z(self, values: Sequence[float | None] | np.ndarray, n: Sequence[int]) -> np.ndarray:
        """Each value in sigmas of its own period (NaN where missing or n = 0), so the
        XmR rules can read a per-n chart with limits at plus and minus 3."""
        arr = as_array(values)
        sig = self.sigma_at(np.asarray(n, dtype=float))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (arr - self.centre) / sig
        out[~np.isfinite(out)] = np.nan
        return out


def per_n_limits(
    values: Sequence[float | None] | np.ndarray,
    n: Sequence[int] | np.ndarray,
    baseline: int,
    chart: str = "p_prime",
    scale: float = 100.0,
) -> PerNLimits:
    """Limits from the first ``baseline`` periods; periods with no value or n = 0 are skipped."""
    if chart not in PER_N_CHARTS:
        raise ValueError(f"chart must be one of {', '.join(PER_N_CHARTS)}, not {chart!r}")
    arr = as_array(values)[:baseline]
    counts = np.asarray(n, dtype=float)[:baseline]
    keep = ~np.isnan(arr) & (counts > 0)
    v, w = arr[keep], counts[keep]
    if v.size < 2:
        return PerNLimits(chart, math.nan, math.nan, int(v.size))
    centre = float((v * w).sum() / w.sum())
    if chart == "p":
        p = min(max(centre / scale, 0.0), 1.0)
        unit = scale * math.sqrt(p * (1 - p))
    else:
        unit = screened_mr_bar((v - centre) * np.sqrt(w)) / D2
    return PerNLimits(chart, centre, unit, int(v.size))


@dataclass(frozen=True, slots=True)
class RunChart:
    """Anhøj's run-chart rules: is a short series random variation around its median?"""

    median: float
    useful: int
    """Values not on the median: the ones the rules count."""
    longest_run: int
    longest_run_limit: int
    """A longest run above this is a shift: ``round(log2(useful) + 3)``."""
    crossings: int
    crossings_limit: int
    """Fewer crossings than this is a signal: the 5 % lower binomial quantile."""

    @property
    def shift(self) -> bool:
        return self.longest_run > self.longest_run_limit

    @property
    def too_few_crossings(self) -> bool:
        return self.crossings < self.crossings_limit


def run_chart(values: Sequence[float | None] | np.ndarray) -> RunChart | None:
    """The run-chart reading of a series too short for control limits (None with < 2 values).

    Anhøj (2014, 2018): values on the median are ignored; a run is a sequence of
    values on one side; crossings are changes of side between neighbours.
    """
    arr = as_array(values)
    x = arr[~np.isnan(arr)]
    if x.size < 2:
        return None
    med = float(np.median(x))
    side = np.sign(x - med)
    side = side[side != 0]
    useful = int(side.size)
    if useful < 2:
        return RunChart(med, useful, useful, _run_limit(max(useful, 1)), 0, 0)
    change = np.flatnonzero(side[1:] != side[:-1])
    bounds = np.concatenate(([0], change + 1, [useful]))
    longest = int(np.diff(bounds).max())
    return RunChart(med, useful, longest, _run_limit(useful), int(change.size), _crossings(useful))


def _run_limit(useful: int) -> int:
    return round(math.log2(useful) + 3)


def _crossings(useful: int) -> int:
    """The largest c with P(Binomial(useful - 1, 0.5) < c) <= 0.05."""
    trials = useful - 1
    total = 0.0
    for c in range(trials + 1):
        total += math.comb(trials, c) / 2**trials
        if total > 0.05:
            return c
    return trials
