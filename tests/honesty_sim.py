"""Synthetic weekly response data for measuring how often ``pdca check`` gives false verdicts.

Each series has a 26-week baseline then a 13-week cycle. Weekly volumes are
lognormal (median 35, clipped to 6..200) so both tiny and large weeks occur.
``shifted`` series improve from the cycle start by ``SHIFT_SD`` weekly standard
deviations. For a proportion KPI the weekly sd is sqrt(p * (1 - p) / n_med)
with n_med the median weekly n of that series' baseline; the shift is applied
to the latent rate p. For mean and count KPIs it is the sd of the weekly level.
AR(1) noise (``phi``) acts on the weekly level (latent rate for proportions).
Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BASELINE_WEEKS = 26
CYCLE_WEEKS = 13
SHIFT_SD = 1.5


@dataclass(frozen=True)
class Series:
    """One metric's weekly volumes and latent weekly levels (rate or mean)."""

    n: np.ndarray
    level: np.ndarray
    weekly_sd: float


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
