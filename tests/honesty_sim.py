"""Synthetic weekly response data for measuring how often ``pdca check`` gives false verdicts.

Each series has a 26-week baseline then a 13-week cycle. Weekly volumes are
lognormal (median 35, clipped to 6..200) so both tiny and large weeks occur.
``shifted`` series improve from the cycle start by ``SHIFT_SD`` weekly standard
deviations. For a proportion KPI the weekly sd is sqrt(p * (1 - p) / n_med)
with n_med the median weekly n of that series' baseline; the shift is applied
to the latent rate p. For mean and count KPIs it is the sd of the weekly value
(level noise and sampling noise together, at the median volume for a mean).
AR(1) noise (``phi``) acts on the weekly level (latent rate for proportions).
Deterministic for a given seed.

:func:`draw_responses` turns a series into the rows a team would export: one
row per response (yes/no, a 1-5 score, a handling time) or per event (a
count), dated within its week, so ``pdca check`` measures the simulated
process through the same CSV, DuckDB and KPI path as real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

BASELINE_WEEKS = 26
CYCLE_WEEKS = 13
SHIFT_SD = 1.5
WEEKS = BASELINE_WEEKS + CYCLE_WEEKS
CYCLE_START = date(2026, 1, 5)
"""A Monday: the first cycle week. The 26 ISO weeks before it are the baseline."""
FIRST_DAY = CYCLE_START - timedelta(weeks=BASELINE_WEEKS)
AS_OF = CYCLE_START + timedelta(weeks=CYCLE_WEEKS, days=-1)
"""The Sunday ending the 13th cycle week: every judged week is complete."""


@dataclass(frozen=True)
class Series:
    """One metric's weekly volumes and latent weekly levels (rate or mean)."""

    n: np.ndarray
    level: np.ndarray
    weekly_sd: float
    spread: float = 0.0
    """Sd of one response around its week's level (mean KPIs; 0 for the others)."""


def weekly_volumes(rng: np.random.Generator, weeks: int) -> np.ndarray:
    """Lognormal weekly counts clipped to 6..200: realistic small-team swings."""
    return np.clip(np.round(rng.lognormal(np.log(35), 0.8, weeks)), 6, 200).astype(int)


def rate_series(seed: int, p: float, shifted: bool, phi: float = 0.0) -> Series:
    """Latent weekly rate of a proportion KPI; improvement raises p."""
    rng = np.random.default_rng(seed)
    weeks = BASELINE_WEEKS + CYCLE_WEEKS
    n = weekly_volumes(rng, weeks)
    sd = float(np.sqrt(p * (1 - p) / np.median(n[:BASELINE_WEEKS])))
    noise = np.zeros(weeks)
    for t in range(1, weeks):
        noise[t] = phi * noise[t - 1] + rng.normal(0, sd * 0.5) * (phi > 0)
    level = p + noise
    if shifted:
        level[BASELINE_WEEKS:] += SHIFT_SD * sd
    return Series(n=n, level=np.clip(level, 0.001, 0.999), weekly_sd=sd)


def ar1(rng: np.random.Generator, weeks: int, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise of marginal sd ``sd``: ``phi`` sets the memory, not the spread."""
    out = np.empty(weeks)
    out[0] = rng.normal(0, sd)
    step = sd * np.sqrt(1 - phi * phi)
    for t in range(1, weeks):
        out[t] = phi * out[t - 1] + rng.normal(0, step)
    return out


def mean_series(
    seed: int,
    mu: float,
    shifted: bool,
    phi: float = 0.0,
    spread: float = 6.0,
    level_sd: float = 1.0,
) -> Series:
    """Latent weekly mean of a handling time; improvement lowers it.

    The weekly level wanders around ``mu`` (sd ``level_sd``, AR(1) ``phi``); each
    response scatters around its week's level with sd ``spread``.
    """
    rng = np.random.default_rng(seed)
    n = weekly_volumes(rng, WEEKS)
    sd = float(np.sqrt(level_sd**2 + spread**2 / np.median(n[:BASELINE_WEEKS])))
    level = mu + ar1(rng, WEEKS, phi, level_sd)
    if shifted:
        level[BASELINE_WEEKS:] -= SHIFT_SD * sd
    return Series(n=n, level=level, weekly_sd=sd, spread=spread)


def count_series(
    seed: int, lam: float, shifted: bool, phi: float = 0.0, level_sd: float | None = None
) -> Series:
    """Weekly event counts (complaints): Poisson around a wandering level; improvement lowers it.

    ``n`` holds the drawn counts: each is a week's number of rows.
    """
    rng = np.random.default_rng(seed)
    tau = 0.5 * np.sqrt(lam) if level_sd is None else level_sd
    sd = float(np.sqrt(lam + tau**2))
    level = lam + ar1(rng, WEEKS, phi, tau)
    if shifted:
        level[BASELINE_WEEKS:] -= SHIFT_SD * sd
    level = np.maximum(level, 0.5)
    return Series(n=rng.poisson(level), level=level, weekly_sd=sd)


@dataclass(frozen=True)
class Responses:
    """A series as rows: the week (0-based) and day of each row, and its value."""

    week: np.ndarray
    day: np.ndarray
    """Days after :data:`FIRST_DAY`."""
    value: np.ndarray | None
    """yes/no as 1/0, a 1-5 score, minutes; None for counts (a row is an event)."""


def draw_responses(kind: str, series: Series, rng: np.random.Generator) -> Responses:
    """Individual rows for one series: ``series.n[t]`` of them in week ``t``."""
    week = np.repeat(np.arange(series.n.size), series.n)
    day = week * 7 + rng.integers(0, 7, week.size)
    level = series.level[week]
    if kind == "count":
        return Responses(week, day, None)
    if kind == "mean":
        minutes = np.maximum(np.round(rng.normal(level, series.spread), 1), 0.1)
        return Responses(week, day, minutes)
    yes = rng.random(week.size) < level
    if kind == "rate":
        return Responses(week, day, yes.astype(int))
    # csat: satisfied answers 4 or 5, the others 1 to 3
    score = np.where(yes, rng.integers(4, 6, week.size), rng.integers(1, 4, week.size))
    return Responses(week, day, score)


def weekly_values(kind: str, rows: Responses, weeks: int = WEEKS) -> np.ndarray:
    """The KPI per week, computed from the rows with numpy (NaN for an empty week).

    Rate and csat in percent, as pdca reports them (at full precision, as
    ``pdca check``'s JSON series).
    """
    n = np.bincount(rows.week, minlength=weeks).astype(float)
    if kind == "count":
        return n
    if kind == "csat":
        hits = np.bincount(rows.week, weights=rows.value >= 4, minlength=weeks)
        out = 100 * hits / np.where(n > 0, n, np.nan)
    else:
        total = np.bincount(rows.week, weights=rows.value, minlength=weeks)
        out = total / np.where(n > 0, n, np.nan)
        if kind == "rate":
            out = 100 * out
    return out
