"""Correlation between two metrics' period series, with an honest p-value.

Teams ask "does first-response time drive satisfaction?". With weekly data the
answer rests on few points, so every result carries n and, below 10 pairs, a
caution. p-values come from the exact Student t distribution (df = n - 2),
computed through the regularized incomplete beta function, because scipy is
not a dependency; Spearman's p uses the same t approximation on the ranks,
which is the usual large-sample approximation (adequate from n ≈ 10).

Correlation between two series that both trend over time is inflated by the
trends themselves; that is for the reader to weigh (see docs/check-analysis.md).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdca.check.stats.base import finite

FEW_PERIODS = 10
"""Below this many pairs a correlation is reported with a caution."""

Series = Mapping[Hashable, float | None] | Sequence[float | None] | np.ndarray


@dataclass(frozen=True, slots=True)
class Correlation:
    """Pearson and Spearman coefficients over the periods both series have values for."""

    n: int
    pearson_r: float | None
    pearson_p: float | None
    spearman_rho: float | None
    spearman_p: float | None
    caution: str | None
    """Set when n < 10 (or too few/constant values to correlate at all)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "pearson_r": finite(self.pearson_r),
            "pearson_p": finite(self.pearson_p),
            "spearman_rho": finite(self.spearman_rho),
            "spearman_p": finite(self.spearman_p),
            "caution": self.caution,
        }


def _as_mapping(series: Series, keys: Iterable[Hashable] | None) -> Mapping[Hashable, Any]:
    if isinstance(series, Mapping):
        if keys is not None:
            raise ValueError("keys are only for list series: a mapping carries its own")
        return series
    vals = list(series)
    ks = list(range(len(vals))) if keys is None else list(keys)
    if len(ks) != len(vals):
        raise ValueError(f"{len(ks)} keys for {len(vals)} values")
    return dict(zip(ks, vals, strict=True))


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def align(
    a: Series,
    b: Series,
    *,
    keys_a: Iterable[Hashable] | None = None,
    keys_b: Iterable[Hashable] | None = None,
) -> tuple[list[Hashable], np.ndarray, np.ndarray]:
    """Keys both series have a finite value for (in ``a``'s order), and the two value arrays.

    A series is a mapping period -> value, or a list of values with ``keys_*``
    (positions when no keys are given, so two plain lists pair up by index).
    """
    ma, mb = _as_mapping(a, keys_a), _as_mapping(b, keys_b)
    common = [k for k, v in ma.items() if _finite(v) and k in mb and _finite(mb[k])]
    xa = np.array([float(ma[k]) for k in common], dtype=float)
    xb = np.array([float(mb[k]) for k in common], dtype=float)
    return common, xa, xb


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(ln_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if math.isnan(t) or df <= 0:
        return math.nan
    if math.isinf(t):
        return 0.0
    return min(1.0, max(0.0, betainc(df / 2.0, 0.5, df / (df + t * t))))


def r_p_value(r: float, n: int) -> float | None:
    """Two-sided p of H0: no correlation, via t = r √((n-2)/(1-r²)), df = n - 2."""
    if n < 3 or r is None or not math.isfinite(r):
        return None
    if abs(r) >= 1.0:
        return 0.0
    df = n - 2
    t = r * math.sqrt(df / (1.0 - r * r))
    return t_two_sided_p(t, df)


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson r; None with fewer than 2 pairs or a constant series."""
    if x.size < 2:
        return None
    with np.errstate(all="ignore"):
        dx, dy = x - x.mean(), y - y.mean()
        den = math.sqrt(float((dx * dx).sum()) * float((dy * dy).sum()))
        if den == 0.0 or not math.isfinite(den):
            # Recompute on scaled data: huge values overflow the sums of squares.
            sx, sy = float(np.abs(dx).max()), float(np.abs(dy).max())
            if sx == 0.0 or sy == 0.0 or not (math.isfinite(sx) and math.isfinite(sy)):
                return None
            dx, dy = dx / sx, dy / sy
            den = math.sqrt(float((dx * dx).sum()) * float((dy * dy).sum()))
            if den == 0.0 or not math.isfinite(den):
                return None
        r = float((dx * dy).sum()) / den
    if not math.isfinite(r):
        return None
    return max(-1.0, min(1.0, r))


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (what Spearman's rho needs)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    avg = ends - (counts - 1) / 2.0
    return avg[inverse]


def correlate(
    a: Series,
    b: Series,
    *,
    keys_a: Iterable[Hashable] | None = None,
    keys_b: Iterable[Hashable] | None = None,
) -> Correlation:
    """Pearson r and Spearman rho between two series aligned by period key."""
    _, x, y = align(a, b, keys_a=keys_a, keys_b=keys_b)
    n = int(x.size)
    # Two points always lie on a line (r = ±1): at least 3 are needed to say anything.
    r = pearson(x, y) if n >= 3 else None
    rho = pearson(ranks(x), ranks(y)) if n >= 3 else None
    caution = None
    if r is None and rho is None:
        caution = f"{n} common periods, or a series that does not vary: no correlation"
    elif n < FEW_PERIODS:
        caution = f"few periods (n={n}): treat as a hint"
    return Correlation(
        n=n,
        pearson_r=r,
        pearson_p=r_p_value(r, n) if r is not None else None,
        spearman_rho=rho,
        spearman_p=r_p_value(rho, n) if rho is not None else None,
        caution=caution,
    )
