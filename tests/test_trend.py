"""Theil–Sen slope, Mann–Kendall test and projection, against hand computations."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdca.check.stats.trend import mann_kendall, project, theil_sen, trend

Y = [1.0, 3.0, 2.0, 4.0, 4.0]


def test_mann_kendall_hand_computed():
    # signs of y[j] - y[i] for i < j on 1, 3, 2, 4, 4:
    #   i=0 (1): +,+,+,+ = 4 ; i=1 (3): -,+,+ = 1 ; i=2 (2): +,+ = 2 ; i=3 (4): 0
    #   S = 7
    # Var(S) = [n(n-1)(2n+5) - Σ t(t-1)(2t+5)] / 18 with n = 5 and one tie group (4, 4), t = 2
    #        = [5·4·15 - 2·1·9] / 18 = (300 - 18) / 18 = 15.6667
    # z = (S - 1) / √Var = 6 / 3.95811 = 1.51587
    # p = 2 (1 - Φ(1.51587)) ≈ 2 (1 - 0.93522) = 0.1296 (normal table, interpolated)
    s, var_s, z, p = mann_kendall(Y)
    assert s == 7
    assert var_s == pytest.approx(282 / 18)
    assert z == pytest.approx(1.51587, abs=1e-5)
    assert p == pytest.approx(0.1296, abs=2e-4)


def test_mann_kendall_negative_s_uses_plus_one_correction():
    s, var_s, z, _ = mann_kendall(Y[::-1])
    # reversed: S = -7, z = (S + 1) / √Var = -6 / 3.95811
    assert s == -7 and var_s == pytest.approx(282 / 18)
    assert z == pytest.approx(-1.51587, abs=1e-5)


def test_theil_sen_hand_computed():
    # pairwise slopes (y[j] - y[i]) / (j - i) on 1, 3, 2, 4, 4:
    #   2, 0.5, 1, 0.75, -1, 0.5, 0.333, 2, 1, 0
    #   sorted: -1, 0, 0.333, 0.5, 0.5, 0.75, 1, 1, 2, 2 -> median (0.5 + 0.75) / 2 = 0.625
    # intercept = median(y - 0.625 x) = median(1, 2.375, 0.75, 2.125, 1.5) = 1.5
    assert theil_sen(Y) == pytest.approx((0.625, 1.5))


def test_theil_sen_uses_period_index_across_gaps_and_ignores_outliers():
    # 1 at period 0 and 3 at period 2: one pair, slope (3 - 1) / 2 = 1
    assert theil_sen([1.0, None, 3.0]) == pytest.approx((1.0, 1.0))
    # y = x except one wild week; most pairwise slopes are exactly 1
    assert theil_sen([0.0, 1.0, 2.0, 3.0, 100.0, 5.0, 6.0])[0] == pytest.approx(1.0)
    assert theil_sen([4.0]) is None


def test_trend_with_gaps_hand_computed_on_calendar_indices():
    # 1, -, 2, 6, -, 5: values at periods 0, 2, 3, 5
    # pairwise slopes: (0,2) 1/2 = 0.5, (0,3) 5/3, (0,5) 4/5 = 0.8, (2,3) 4, (2,5) 3/3 = 1,
    #   (3,5) -1/2; sorted -0.5, 0.5, 0.8, 1, 1.667, 4 -> median (0.8 + 1) / 2 = 0.9
    # intercept = median(1, 2 - 1.8, 6 - 2.7, 5 - 4.5) = median(1, 0.2, 3.3, 0.5) = 0.75
    # (closing the gaps, periods 0-3, would give median(1, 4/3, 1.5, 2.5, 4, -1) = 1.4167)
    res = trend([1.0, None, 2.0, 6.0, None, 5.0])
    assert res.n == 4
    assert res.slope == pytest.approx(0.9)
    assert res.intercept == pytest.approx(0.75)
    assert res.value_at(5) == pytest.approx(0.75 + 4.5)
    # S over the present values 1, 2, 6, 5: +,+,+ / +,+ / - = 4
    assert res.s == 4
    assert res.to_json()["slope"] == res.slope  # JSON carries the float, not a rounding


def test_strong_trend_is_significant():
    # 0..19: all 190 pairs rise, S = 190, Var = 20·19·45 / 18 = 950,
    # z = 189 / √950 = 6.132, p ≈ 8.7e-10
    res = trend([float(i) for i in range(20)])
    assert res.s == 190 and res.var_s == pytest.approx(950)
    assert res.z == pytest.approx(6.131970, abs=1e-6)
    assert res.p_value == pytest.approx(8.68e-10, rel=1e-2)
    assert res.significant and res.slope == pytest.approx(1.0)


def test_noise_and_constant_are_not_significant():
    rng = np.random.default_rng(7)
    assert not trend(rng.normal(50, 5, 52)).significant
    flat = trend([3.0] * 10)
    # all values tied: Var(S) = [10·9·25 - 10·9·25] / 18 = 0, p = 1
    assert flat.s == 0 and flat.var_s == 0 and flat.p_value == 1.0 and not flat.significant
    assert flat.slope == 0.0


def test_too_few_values():
    res = trend([None, 2.0])
    assert res.n == 1 and res.slope is None and res.p_value == 1.0 and not res.significant
    json.dumps(res.to_json(), allow_nan=False)


# --------------------------------------------------------------------------- projection

LINE = [10.0 + 2.0 * i for i in range(10)]  # slope 2, intercept 10; at index 9: 28


def test_projection_reaches_target():
    res = trend(LINE)
    assert res.slope == pytest.approx(2.0) and res.intercept == pytest.approx(10.0)
    # (40 - 28) / 2 = 6 periods, 6 × 7 = 42 days after 2024-03-04
    p = project(res, target=40.0, current_index=9, period_days=7, last_date=date(2024, 3, 4))
    assert p is not None
    assert (p.periods, p.periods_exact, p.date) == (6, 6.0, date(2024, 4, 15))
    # (41 - 28) / 2 = 6.5: crossed during the 7th period
    p2 = project(res, target=41.0, current_index=9)
    assert p2 is not None and p2.periods == 7 and p2.date is None
    assert p2.to_json() == {"periods": 7, "periods_exact": 6.5, "date": None}


def test_projection_of_a_falling_trend():
    res = trend([100.0 - 3.0 * i for i in range(12)])  # at index 11: 67
    # (58 - 67) / -3 = 3 periods, monthly periods of 30 days
    p = project(res, target=58.0, current_index=11, period_days=30, last_date=date(2024, 1, 1))
    assert p is not None and p.periods == 3 and p.date == date(2024, 3, 31)


def test_no_projection_when_moving_away_flat_insignificant_or_too_far():
    res = trend(LINE)
    assert project(res, target=20.0, current_index=9) is None  # line already past 20, rising
    assert project(trend([5.0] * 10), target=6.0, current_index=9) is None
    rng = np.random.default_rng(3)
    noise = trend(rng.normal(0, 1, 30))
    assert not noise.significant
    assert project(noise, target=1e9, current_index=29) is None
    assert project(res, target=1e6, current_index=9, horizon=520) is None
    # absurdly far without a horizon: periods reported, date beyond the calendar dropped
    far = project(res, target=1e12, current_index=9, last_date=date(2024, 1, 1))
    assert far is not None and far.date is None and far.periods > 10**11


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none()), max_size=80),
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_trend_never_raises(values, target):
    res = trend(values)
    assert 0.0 <= res.p_value <= 1.0
    assert res.slope is None or math.isfinite(res.slope)
    json.dumps(res.to_json(), allow_nan=False)
    p = project(res, target=target, current_index=len(values), last_date=date(2024, 1, 1))
    assert p is None or p.periods >= 0
