"""Trend of a period series: Theil–Sen slope, Mann–Kendall test, projection to a target.

An XmR chart answers "did something change?"; a slow drift can stay inside the
limits for months. These two rank-based methods measure and test a drift without
assuming normal, outlier-free data, which service metrics rarely are: the
Theil–Sen slope is the median of all pairwise slopes (one wild week cannot
tilt it), and Mann–Kendall only counts whether later values are higher or lower.

Missing values (None, NaN, ±inf) are skipped but keep their period index, so a
gap does not compress time for the slope.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from pdca.check.stats.base import as_array, finite

ALPHA = 0.05


@lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs i < j; cached because every metric of a playbook has the same length."""
    i, j = np.triu_indices(n, k=1)
    return i, j


@dataclass(frozen=True, slots=True)
class TrendResult:
    """Slope per period, the Mann–Kendall test, and the trend line."""

    n: int
    slope: float | None
    """Theil–Sen slope in metric units per period; None with fewer than 2 values."""
    intercept: float | None
    """Trend line value at period index 0 (Conover's median of y - slope × x)."""
    s: int
    var_s: float
    z: float
    p_value: float
    significant: bool
    alpha: float = ALPHA

    def value_at(self, index: float) -> float | None:
        """The trend line at a period index."""
        if self.slope is None or self.intercept is None:
            return None
        return self.intercept + self.slope * index

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "slope": finite(self.slope),
            "intercept": finite(self.intercept),
            "s": self.s,
            "var_s": finite(self.var_s),
            "z": finite(self.z),
            "p_value": finite(self.p_value),
            "significant": self.significant,
        }


@dataclass(frozen=True, slots=True)
class Projection:
    """When the trend line reaches a target."""

    periods: int
    """Whole periods after the current one (the trend line crosses during that period)."""
    periods_exact: float
    date: date | None
    """``last_date`` + ``periods`` × period length; None when no date was given."""

    def to_json(self) -> dict[str, Any]:
        return {
            "periods": self.periods,
            "periods_exact": finite(self.periods_exact),
            "date": self.date.isoformat() if self.date else None,
        }


def _present(values: Sequence[float | None] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    arr = as_array(values)
    pos = np.flatnonzero(~np.isnan(arr))
    return pos.astype(float), arr[pos]


def theil_sen(values: Sequence[float | None] | np.ndarray) -> tuple[float, float] | None:
    """(slope, intercept) by Theil–Sen over period indices; None with fewer than 2 values."""
    x, y = _present(values)
    return _theil_sen(x, y)


def _theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    if y.size < 2:
        return None
    i, j = _pairs(y.size)
    with np.errstate(all="ignore"):
        slope = float(np.median((y[j] - y[i]) / (x[j] - x[i])))
        intercept = float(np.median(y - slope * x))
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        return None
    return slope, intercept


def mann_kendall(values: Sequence[float | None] | np.ndarray) -> tuple[int, float, float, float]:
    """(S, Var(S), z, two-sided p) of the Mann–Kendall trend test.

    Var(S) carries the tie correction [n(n-1)(2n+5) - Σ t(t-1)(2t+5)] / 18 over
    groups of t tied values, and z the continuity correction (S ∓ 1) / √Var(S),
    as in Hipel & McLeod and most hydrology texts. p = erfc(|z| / √2).
    """
    _, y = _present(values)
    return _mann_kendall(y)


def _mann_kendall(y: np.ndarray) -> tuple[int, float, float, float]:
    n = y.size
    if n < 2:
        return 0, 0.0, 0.0, 1.0
    i, j = _pairs(n)
    s = int(np.sign(y[j] - y[i]).sum())
    _, counts = np.unique(y, return_counts=True)
    t = counts[counts > 1].astype(float)
    var_s = (n * (n - 1) * (2 * n + 5) - float((t * (t - 1) * (2 * t + 5)).sum())) / 18.0
    if var_s <= 0 or s == 0:
        return s, var_s, 0.0, 1.0
    z = (s - 1) / math.sqrt(var_s) if s > 0 else (s + 1) / math.sqrt(var_s)
    p = math.erfc(abs(z) / math.sqrt(2.0))
    return s, var_s, z, min(1.0, p)


def trend(values: Sequence[float | None] | np.ndarray, *, alpha: float = ALPHA) -> TrendResult:
    """Theil–Sen slope and Mann–Kendall test of a period series.

    ``significant`` means p < ``alpha``; with fewer than 3 values the test has no
    power (p = 1) and nothing is significant.
    """
    x, y = _present(values)
    fit = _theil_sen(x, y)
    s, var_s, z, p = _mann_kendall(y)
    slope, intercept = fit if fit is not None else (None, None)
    return TrendResult(
        n=int(y.size),
        slope=slope,
        intercept=intercept,
        s=s,
        var_s=var_s,
        z=z,
        p_value=p,
        significant=bool(p < alpha),
        alpha=alpha,
    )


def project(
    result: TrendResult,
    *,
    target: float,
    current_index: int,
    period_days: float = 7.0,
    last_date: date | None = None,
    horizon: int | None = None,
) -> Projection | None:
    """How many periods (and which date) until the trend line reaches ``target``.

    ``current_index`` is the period index of ``last_date`` (normally the last
    period). Counting starts from the trend line there, not from the last value,
    so one noisy week does not move the date. None when the trend is not
    significant, flat, moving away from the target (the line has already passed
    it: check "already met" before asking), or further than ``horizon`` periods:
    a straight line extrapolated for years says nothing.
    """
    if not result.significant or result.slope is None or result.slope == 0.0:
        return None
    now = result.value_at(current_index)
    if now is None or target is None or not math.isfinite(target):
        return None
    exact = (target - now) / result.slope
    if not math.isfinite(exact) or exact < 0:
        return None
    periods = math.ceil(exact - 1e-9)
    if horizon is not None and periods > horizon:
        return None
    when: date | None = None
    if last_date is not None:
        try:
            when = last_date + timedelta(days=periods * period_days)
        except OverflowError:
            when = None
    return Projection(periods=periods, periods_exact=exact, date=when)
