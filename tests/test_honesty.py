"""The honesty simulation's generators deliver the volumes, shifts and noise they claim."""

from __future__ import annotations

import numpy as np
import pytest

from honesty_sim import (
    BASELINE_WEEKS,
    SHIFT_SD,
    Responses,
    ar1,
    count_series,
    draw_responses,
    mean_series,
    rate_series,
    weekly_values,
)


def test_weekly_volumes_swing_between_6_and_200() -> None:
    s = rate_series(seed=1, p=0.7, shifted=False)
    assert s.n.min() >= 6 and s.n.max() <= 200
    assert s.n.max() / s.n.min() > 5


def test_shift_is_one_and_a_half_weekly_sd() -> None:
    s = rate_series(seed=2, p=0.7, shifted=True)
    sd = np.sqrt(0.7 * 0.3 / np.median(s.n[:BASELINE_WEEKS]))
    assert np.allclose(s.level[BASELINE_WEEKS:] - s.level[:BASELINE_WEEKS].mean(), SHIFT_SD * sd)


def test_mean_series_shift_is_one_and_a_half_weekly_sd_downwards() -> None:
    base = mean_series(seed=3, mu=20.0, shifted=False)
    moved = mean_series(seed=3, mu=20.0, shifted=True)
    sd = np.sqrt(1.0**2 + 6.0**2 / np.median(base.n[:BASELINE_WEEKS]))
    assert base.weekly_sd == pytest.approx(sd) and base.spread == 6.0
    assert np.array_equal(base.n, moved.n)
    assert np.allclose(base.level[:BASELINE_WEEKS], moved.level[:BASELINE_WEEKS])
    assert np.allclose(base.level[BASELINE_WEEKS:] - moved.level[BASELINE_WEEKS:], SHIFT_SD * sd)


def test_count_series_counts_are_the_rows_and_shift_lowers_the_level() -> None:
    base = count_series(seed=4, lam=40.0, shifted=False)
    moved = count_series(seed=4, lam=40.0, shifted=True)
    sd = np.sqrt(40 + 0.25 * 40)
    assert base.weekly_sd == pytest.approx(sd)
    assert np.allclose(base.level[BASELINE_WEEKS:] - moved.level[BASELINE_WEEKS:], SHIFT_SD * sd)
    rows = draw_responses("count", base, np.random.default_rng(0))
    assert rows.value is None
    assert np.array_equal(weekly_values("count", rows), base.n)


def test_ar1_keeps_the_spread_and_has_the_memory_asked_for() -> None:
    rng = np.random.default_rng(5)
    x = ar1(rng, 20000, 0.5, 2.0)
    assert x.std() == pytest.approx(2.0, rel=0.03)
    assert np.corrcoef(x[:-1], x[1:])[0, 1] == pytest.approx(0.5, abs=0.03)


def test_weekly_values_by_hand() -> None:
    rows = Responses(
        week=np.array([0, 0, 0, 1, 1]),
        day=np.array([0, 3, 6, 7, 13]),
        value=np.array([5, 4, 2, 3, 4]),
    )
    assert list(weekly_values("csat", rows, weeks=3)[:2]) == [pytest.approx(66.6667), 50.0]
    assert np.isnan(weekly_values("csat", rows, weeks=3)[2])
    minutes = Responses(rows.week, rows.day, np.array([10.0, 12.5, 3.5, 20.0, 1.0]))
    assert list(weekly_values("mean", minutes, weeks=2)) == [26.0 / 3, 10.5]
