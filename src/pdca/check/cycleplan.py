"""Is the cycle long enough for its target to show? The plan ``pdca validate --data`` checks.

A 90-day cycle gives a monthly metric three periods. If the change the target
asks for is small against the metric's period-to-period noise, three periods
cannot show it, and the cycle will end with "no signal" whatever the team did.
This reads the baseline the way the Check phase will (its centre, its sigma,
its autocorrelation) and asks :mod:`pdca.check.stats.power` how many periods
the cycle-mean test needs to see the target's change with 80 % probability.

For proportion KPIs (charted on Laney p') the verdict reads standardised
values, so the sigma of a period depends on its volume: the plan uses the
baseline's median ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdca.check.readout import PERIOD_DAYS, baseline_length, complete_points
from pdca.playbook.model import MIN_BASELINE, Cycle, Metric

_ADJECTIVES = {"day": "daily", "week": "weekly", "month": "monthly"}


@dataclass(frozen=True, slots=True)
class CyclePlan:
    """What a metric's target asks for, against what its cycle can show."""

    metric: str
    period: str
    centre: float
    target: float
    sigma: float
    """Sigma of one period (at the baseline's median n for per-n charts)."""
    autocorrelation: float
    baseline_points: int
    periods_needed: int | None
    """Periods after the change that detect it with 80 % probability; None: no cycle does."""
    periods_in_cycle: int
    power: float
    """Chance of detecting the target's change within the cycle's periods."""
    cycle_days: int

    @property
    def gap(self) -> float:
        return abs(self.target - self.centre)

    @property
    def too_short(self) -> bool:
        return self.periods_needed is None or self.periods_needed > self.periods_in_cycle

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "baseline_centre": self.centre,
            "target": self.target,
            "gap": self.gap,
            "sigma": self.sigma,
            "autocorrelation": self.autocorrelation,
            "baseline_points": self.baseline_points,
            "periods_needed": self.periods_needed,
            "periods_in_cycle": self.periods_in_cycle,
            "power": self.power,
        }

    def message(self) -> str:
        """One warning line: the change, the periods it needs, the cycle's, what to do."""
        adjective = _ADJECTIVES.get(self.period, self.period)
        change = (
            f"a change of {self._shown(self.gap)} (from {self._shown(self.centre)} "
            f"to the target {self._shown(self.target)})"
        )
        chance = f"about {round(100 * self.power)} %" if self.power >= 0.005 else "under 1 %"
        held = (
            f"the {self.cycle_days}-day cycle holds {self.periods_in_cycle}, which give it {chance}"
        )
        finer = " chart it weekly (period: week)," if self.period == "month" else ""
        if self.periods_needed is None:
            return (
                f"metric '{self.metric}': {change} is too small against the noise of its "
                f"{self.baseline_points} baseline periods to show with 80 % probability in "
                f"a cycle of any length; {held} — aim for a bigger change, collect a longer "
                f"baseline,{finer} or expect no verdict"
            )
        days = math.ceil(self.periods_needed * PERIOD_DAYS.get(self.period, 7.0))
        return (
            f"metric '{self.metric}': {change} needs about {self.periods_needed} {adjective} "
            f"{'period' if self.periods_needed == 1 else 'periods'} to show with 80 % "
            f"probability; {held} — lengthen the cycle to about {days} days,{finer} "
            f"or expect no verdict"
        )

    def _shown(self, x: float) -> str:
        """``x`` with as many decimals as the size of the change calls for."""
        digits = 1 - math.floor(math.log10(self.gap)) if self.gap > 0 else 1
        return f"{x:.{min(6, max(0, digits))}f}"


def plan_cycle(
    metric: Metric,
    chart: str,
    series: Sequence[Mapping[str, Any]],
    cycle: Cycle,
    *,
    min_baseline: int = MIN_BASELINE,
) -> CyclePlan | None:
    """The plan for one metric, or None when there is nothing to plan.

    Nothing to plan: no cycle length, no target, fewer than ``min_baseline``
    baseline values (Check gives no verdict then either), a flat baseline, or a
    target the baseline already meets.
    """
    from pdca.check.stats.base import D2, MAX_R, as_array, lag1, screened_mr_bar
    from pdca.check.stats.perchart import PER_N_CHARTS, per_n_limits
    from pdca.check.stats.power import detection_power, periods_to_detect

    if not cycle.length_days or not math.isfinite(metric.target):
        return None
    points = complete_points(series)
    baseline = baseline_length(metric, points, cycle.start)
    if baseline is None:
        if cycle.start is not None or metric.baseline_periods:
            return None
        baseline = len(points)  # no cycle started yet: the history so far is the baseline
    values = as_array([p["value"] for p in points[:baseline]])
    if chart in PER_N_CHARTS:
        n = np.array([p.get("n") or 0 for p in points[:baseline]], dtype=float)
        keep = ~np.isnan(values) & (n > 0)
        limits = per_n_limits(values, n, baseline, chart)
        centre = limits.centre
        sigma = limits.unit_sigma / math.sqrt(float(np.median(n[keep]))) if keep.any() else 0.0
        base = limits.z(values, n)[keep]
    else:
        base = values[~np.isnan(values)]
        centre = float(base.mean()) if base.size else math.nan
        sigma = screened_mr_bar(base) / D2 if base.size > 1 else math.nan
    wanted = metric.target - centre if metric.direction == "increase" else centre - metric.target
    if base.size < min_baseline or not sigma > 0 or not wanted > 0:
        return None
    r = min(max(lag1(base), 0.0), MAX_R)
    m = int(base.size)
    in_cycle = max(1, round(cycle.length_days / PERIOD_DAYS[metric.period]))
    return CyclePlan(
        metric=metric.id,
        period=metric.period,
        centre=centre,
        target=metric.target,
        sigma=sigma,
        autocorrelation=r,
        baseline_points=m,
        periods_needed=periods_to_detect(wanted, sigma, m, autocorrelation=r),
        periods_in_cycle=in_cycle,
        power=detection_power(wanted, sigma, m, in_cycle, autocorrelation=r),
        cycle_days=cycle.length_days,
    )
