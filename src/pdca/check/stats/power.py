"""How many periods a cycle needs before the cycle-mean test can see the change it aims for.

The verdict (:func:`pdca.check.stats.evidence.judge`) calls a change only when
the mean of the ``k`` judged periods lies more than ``threshold`` standard
errors from the baseline centre, ``se = sigma sqrt(1/k + 1/m) w`` for ``m``
baseline points and ``w = sqrt((1 + r) / (1 - r))``, and still does once the
most extreme judged period is left out. A team that plans a 90-day cycle on a
monthly metric gets three periods; this module says beforehand whether three
can show the improvement the target asks for.

The textbook answer (detect when ``gap / se(k) >= threshold + z_power``, with
``z_0.8 = 0.8416``) promises too much: measured against ``judge`` on normal
series (26 baseline points, 2,000 series per figure, seed 1), the ``k`` it
plans found a 1.5-sigma shift in 54 % of the series instead of 80 %, a
2-sigma one in 54 % and a 3-sigma one (planned ``k`` = 2) in 23 %. Two things
make the difference, and the power here counts both:

* **The extreme period left out.** Detection needs the mean of the other
  ``k - 1`` periods to clear the threshold on its own (when it does, the full
  mean does too). Leaving out the largest of ``k`` noise values lowers that
  mean by ``sigma e_k / (k - 1)`` on average, ``e_k`` the expected maximum of
  ``k`` standard normals, and narrows its spread to
  ``sigma sqrt(k - 2 + v_k) / (k - 1)`` (``v_k`` the variance of that maximum;
  the maximum minus the mean is independent of the mean). One period is never
  enough: with it left out nothing remains.
* **Sigma estimated from the baseline.** The mean moving range of ``m`` points
  carries about ``0.62 (m - 1)`` degrees of freedom (Wheeler); an estimate
  that comes out high hides the change, so the threshold is treated as a
  random quantity with that spread (a small-sample t correction).

With both, measured the same way (``tests/test_power.py``), the planned ``k``
is 14, 8 and 4 periods for shifts of 1.5, 2 and 3 sigma over 26 baseline
points, 10 for 2 sigma over 12 points and 28 for 1 sigma over 52; the
cycle-mean test found the shift in 81.5, 83.7, 86.9, 78.3 and 78.6 % of the
series, against a computed power of 82.1, 86.5, 89.8, 81.7 and 80.2 % (above
80 % where one period fewer falls short). The computed power is at most about
4 points too high; counting the sustained run too, the verdict was
``improved`` in 80 to 93 %. Autocorrelation ``r`` is taken as real:
it widens both the test's standard error and the spread of the judged mean, so
it acts as a noisier process (``sigma w``). The sustained-run reason of the
verdict can add a little power on long cycles; it is not counted, so the
figure errs on the side of asking for more periods.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from pdca.check.stats.base import MAX_R, THRESHOLD

POWER = 0.8
"""Chance of detection a plan aims for."""
MAX_PERIODS = 520
"""Longest cycle considered, in periods (ten years of weeks)."""
MR_DF = 0.62
"""Degrees of freedom of sigma from a mean moving range, per baseline point (Wheeler)."""

_NORMAL = NormalDist()


def detection_power(
    gap: float,
    sigma: float,
    baseline_points: int,
    periods: int,
    *,
    threshold: float = THRESHOLD,
    autocorrelation: float = 0.0,
) -> float:
    """Chance that a sustained shift of ``gap`` shows in the cycle-mean test after ``periods``.

    ``sigma`` is the process's per-period sigma, ``baseline_points`` the number
    of baseline values the centre and sigma come from. 0 for fewer than 2
    periods or baseline points, or a non-positive sigma.
    """
    if periods < 2 or baseline_points < 2 or not sigma > 0 or not math.isfinite(gap):
        return 0.0
    r = min(max(autocorrelation, 0.0), MAX_R)
    delta = abs(gap) / (sigma * math.sqrt((1 + r) / (1 - r)))
    k, m = periods - 1, baseline_points  # the periods left once the extreme one is out
    e_max, v_max = _normal_max(periods)
    mean = delta - e_max / k
    spread = (periods - 2 + v_max) / k**2 + 1 / m
    se = math.sqrt(1 / k + 1 / m)
    df = MR_DF * (baseline_points - 1)
    z = (mean - threshold * se) / math.sqrt(spread + (threshold * se) ** 2 / (2 * df))
    return _NORMAL.cdf(z)


def periods_to_detect(
    gap: float,
    sigma: float,
    baseline_points: int,
    *,
    power: float = POWER,
    threshold: float = THRESHOLD,
    autocorrelation: float = 0.0,
    max_periods: int = MAX_PERIODS,
) -> int | None:
    """The fewest periods after a change that detect a sustained shift of ``gap`` with
    ``power``, or None when no cycle up to ``max_periods`` does.

    None is the usual answer for a short or noisy baseline: however many periods
    follow, the standard error never falls below ``sigma / sqrt(m)``.
    """
    if not 0 < power < 1:
        raise ValueError(f"power must lie between 0 and 1, not {power!r}")

    def enough(k: int) -> bool:
        chance = detection_power(
            gap, sigma, baseline_points, k, threshold=threshold, autocorrelation=autocorrelation
        )
        return chance >= power

    if not enough(max_periods):
        return None
    lo, hi = 1, max_periods  # not enough(lo), enough(hi): the power rises with k
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    return hi


@lru_cache(maxsize=1)
def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.linspace(-9.0, 9.0, 18001)
    cdf = np.array([_NORMAL.cdf(float(v)) for v in x])
    return x, np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi), cdf


@lru_cache(maxsize=1024)
def _normal_max(k: int) -> tuple[float, float]:
    """Mean and variance of the largest of ``k`` independent standard normal values.

    From the density ``k phi(x) Phi(x)^(k - 1)`` on a fine grid (exact to about
    1e-8; e.g. 0.5642 = 1/sqrt(pi) and variance 1 - 1/pi for two values).
    """
    x, pdf, cdf = _grid()
    density = k * pdf * cdf ** (k - 1)
    dx = x[1] - x[0]
    mean = float((x * density).sum() * dx)
    var = float(((x - mean) ** 2 * density).sum() * dx)
    return mean, var
