"""Did a countermeasure move the metric? Before/after means and signals after the marker.

A before/after difference of means always shows *some* change; noise alone
produces one. So the before stretch also sets frozen XmR limits and the after
stretch is judged against them: only a signal that *began* after the task was
completed is evidence the countermeasure did something (a signal already under
way before the marker was caused by something else).

The period in which the marker falls mixes both regimes, so it is left out of
both sides (see :func:`countermeasure_effect`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from pdca.check.stats.base import finite
from pdca.check.stats.evidence import judge
from pdca.check.stats.spc import (
    DEFAULT_RULES,
    DIRECTIONS,
    Limits,
    Signal,
    as_array,
    compute_limits,
    detect_signals,
)


@dataclass(frozen=True, slots=True)
class Effect:
    """Before/after comparison around one countermeasure's completion date."""

    marker: date
    n_before: int
    n_after: int
    before_mean: float | None
    after_mean: float | None
    change: float | None
    """after_mean - before_mean, in metric units."""
    change_pct: float | None
    """change as a percentage of |before_mean|; None when before_mean is 0."""
    excluded_period: date | None
    """Start of the period the marker fell inside, left out of both sides."""
    limits: Limits
    """XmR limits of the before stretch."""
    signals: tuple[Signal, ...]
    """Signals whose first period is after the marker; periods index the date-sorted series."""
    first_signal_date: date | None
    verdict: str | None
    """improved / deteriorated / mixed / no_signal / insufficient_data when a direction
    was given."""

    @property
    def signal_after(self) -> bool:
        return bool(self.signals)

    def to_json(self) -> dict[str, Any]:
        return {
            "marker": self.marker.isoformat(),
            "n_before": self.n_before,
            "n_after": self.n_after,
            "before_mean": finite(self.before_mean),
            "after_mean": finite(self.after_mean),
            "change": finite(self.change),
            "change_pct": finite(self.change_pct),
            "excluded_period": self.excluded_period.isoformat() if self.excluded_period else None,
            "signal_after": self.signal_after,
            "first_signal_date": (
                self.first_signal_date.isoformat() if self.first_signal_date else None
            ),
            "verdict": self.verdict,
            "rules": [s.to_json() for s in self.signals],
            "limits": self.limits.to_json(),
        }


def _day(d: date | datetime) -> date:
    return d.date() if isinstance(d, datetime) else d


def _mean(x: np.ndarray) -> float | None:
    if x.size == 0:
        return None
    with np.errstate(all="ignore"):
        m = float(x.mean())
    return m if math.isfinite(m) else None


def countermeasure_effect(
    series: Iterable[tuple[date, float | None]],
    marker: date,
    *,
    rules: Iterable[int] = DEFAULT_RULES,
    direction: str | None = None,
) -> Effect:
    """Compare the periods before ``marker`` with those after it.

    ``series`` is (period start date, value) pairs, in any order. A period
    starting on or after the marker is *after*; one that ended before it is
    *before*; the one the marker falls strictly inside (its start < marker <
    start + period length) is excluded. The period length is the smallest gap
    between consecutive starts, which is robust to missing periods; months are
    calendar months (a task done on 30 March falls inside March, though February
    is 28 days); with a single period nothing is excluded.

    Limits come from the before stretch (at least 2 values needed) and the whole
    series is checked against them; ``signals`` keeps those whose first period is
    after the marker. With ``direction`` (``increase``/``decrease``) the same
    verdict from sustained evidence as Check gives (:func:`pdca.check.stats.evidence.judge`):
    the after stretch's mean against the before stretch, and a sustained run.
    """
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'increase' or 'decrease', not {direction!r}")
    marker = _day(marker)
    pairs = sorted(((_day(d), v) for d, v in series), key=lambda p: p[0])
    dates = [d for d, _ in pairs]
    values = as_array([v for _, v in pairs])
    n_before_periods = sum(1 for d in dates if d < marker)
    excluded: date | None = None
    if n_before_periods > 0 and len(dates) >= 2:
        gaps = [(b - a).days for a, b in itertools.pairwise(dates) if b > a]
        if gaps:
            last_before = dates[n_before_periods - 1]
            if marker < _period_end(last_before, min(gaps), dates):
                excluded = last_before
                values[n_before_periods - 1] = np.nan
    before = values[:n_before_periods]
    after = values[n_before_periods:]
    before = before[~np.isnan(before)]
    after = after[~np.isnan(after)]
    before_mean, after_mean = _mean(before), _mean(after)
    change = pct = None
    if before_mean is not None and after_mean is not None:
        change = after_mean - before_mean
        if not math.isfinite(change):
            change = None
        elif before_mean != 0.0:
            pct = change / abs(before_mean) * 100.0
            pct = pct if math.isfinite(pct) else None
    limits = compute_limits(values, n_before_periods)
    signals = tuple(
        s for s in detect_signals(values, limits, rules) if s.periods[0] >= n_before_periods
    )
    verdict = None
    if direction is not None:
        if limits.baseline_points < 2 or after.size == 0 or not limits.available:
            verdict = "insufficient_data"
        else:
            verdict = judge(values, n_before_periods, direction).verdict
    return Effect(
        marker=marker,
        n_before=int(before.size),
        n_after=int(after.size),
        before_mean=before_mean,
        after_mean=after_mean,
        change=change,
        change_pct=pct,
        excluded_period=excluded,
        limits=limits,
        signals=signals,
        first_signal_date=dates[signals[0].periods[0]] if signals else None,
        verdict=verdict,
    )


def _period_end(start: date, gap: int, starts: Sequence[date]) -> date:
    """The first day after the period starting at ``start``.

    Periods that all start on the 1st and lie 28 to 31 days apart are calendar
    months, whose length is the month's own; otherwise every period is ``gap``
    days long.
    """
    if 28 <= gap <= 31 and all(d.day == 1 for d in starts):
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=gap)


def effects_for(
    series: Sequence[tuple[date, float | None]],
    markers: Iterable[date],
    **kwargs: Any,
) -> list[Effect]:
    """One :class:`Effect` per marker (several countermeasures on one metric)."""
    data = list(series)
    return [countermeasure_effect(data, m, **kwargs) for m in markers]
