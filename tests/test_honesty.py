"""The honesty simulation's generator delivers the volumes and shift it claims."""

from __future__ import annotations

import numpy as np

from honesty_sim import BASELINE_WEEKS, SHIFT_SD, rate_series


def test_weekly_volumes_swing_between_6_and_200() -> None:
    s = rate_series(seed=1, p=0.7, shifted=False)
    assert s.n.min() >= 6 and s.n.max() <= 200
    assert s.n.max() / s.n.min() > 5


def test_shift_is_one_and_a_half_weekly_sd() -> None:
    s = rate_series(seed=2, p=0.7, shifted=True)
    sd = np.sqrt(0.7 * 0.3 / np.median(s.n[:BASELINE_WEEKS]))
    assert np.allclose(s.level[BASELINE_WEEKS:] - s.level[:BASELINE_WEEKS].mean(), SHIFT_SD * sd)
