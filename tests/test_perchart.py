"""Per-n limits (p, Laney p', u') and Anhøj's run-chart rules, by hand and by simulation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from honesty_sim import weekly_volumes
from pdca.check.stats.perchart import per_n_limits, run_chart
from pdca.check.stats.spc import compute_limits

VALUES = [50.0, 60.0, 40.0, 55.0]
N = [10, 40, 20, 30]


def test_p_chart_by_hand() -> None:
    lim = per_n_limits(VALUES, N, baseline=4, chart="p")
    # pooled: (5 + 24 + 8 + 16.5) / 100 = 53.5 %
    assert lim.centre == pytest.approx(53.5)
    assert lim.unit_sigma == pytest.approx(100 * math.sqrt(0.535 * 0.465))
    lower, upper = lim.bounds([25])
    half = 3 * 100 * math.sqrt(0.535 * 0.465 / 25)
    assert lower[0] == pytest.approx(53.5 - half)
    assert upper[0] == pytest.approx(53.5 + half)


def test_laney_p_prime_by_hand() -> None:
    lim = per_n_limits(VALUES, N, baseline=4, chart="p_prime")
    y = [(v - 53.5) * math.sqrt(n) for v, n in zip(VALUES, N, strict=True)]
    mr = [abs(b - a) for a, b in itertools.pairwise(y)]
    assert lim.unit_sigma == pytest.approx(sum(mr) / 3 / 1.128)
    z = lim.z([53.5 + lim.unit_sigma / 2], [4])
    assert z[0] == pytest.approx(1.0)


def test_missing_and_empty_periods_are_skipped() -> None:
    lim = per_n_limits([50.0, None, 70.0, 80.0], [10, 5, 0, 30], baseline=4, chart="p")
    assert lim.baseline_points == 2
    assert lim.centre == pytest.approx((500 + 2400) / 40)
    assert not per_n_limits([50.0], [10], baseline=1).available
    with pytest.raises(ValueError):
        per_n_limits(VALUES, N, baseline=4, chart="xbar")


def _binomial_weeks(rng: np.random.Generator, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    n = weekly_volumes(rng, weeks)
    return 100.0 * rng.binomial(n, 0.7) / n, n


def test_per_n_limits_do_not_flag_small_weeks_as_xmr_does() -> None:
    # a stable 70 % process with weekly volumes from 6 to 200: share of judged
    # weeks outside the limits, per chart
    rng = np.random.default_rng(7)
    outside_xmr = outside_laney = total = 0
    small_flags = 0
    for _ in range(1500):
        v, n = _binomial_weeks(rng, 39)
        xmr = compute_limits(v, 26)
        laney = per_n_limits(v, n, 26)
        lo, hi = laney.bounds(n[26:])
        judged = v[26:]
        beyond_xmr = (judged < xmr.lower) | (judged > xmr.upper)
        outside_xmr += int(beyond_xmr.sum())
        small_flags += int((beyond_xmr & (n[26:] < 20)).sum())
        outside_laney += int(((judged < lo) | (judged > hi)).sum())
        total += judged.size
    rate_xmr, rate_laney = outside_xmr / total, outside_laney / total
    # measured with this seed: XmR 1.94 % (83 % of them weeks under 20 responses),
    # Laney p' 1.01 % (above the textbook 0.27 % because sigma comes from 26 weeks)
    assert rate_xmr > 0.015
    assert small_flags / outside_xmr > 0.6  # one pair of limits flags the small weeks
    assert rate_laney < 0.013
    assert rate_laney < rate_xmr / 1.5


def test_run_chart_by_hand() -> None:
    # median 5; 5 itself is ignored: sides - - - + + + + - -> longest run 4, crossings 2
    rc = run_chart([1, 2, 3, 5, 6, 7, 8, 9, 4])
    assert rc is not None
    assert (rc.median, rc.useful, rc.longest_run, rc.crossings) == (5.0, 8, 4, 2)
    assert rc.longest_run_limit == round(math.log2(8) + 3) == 6
    # P(Bin(7, .5) <= 1) = 8/128 = 0.0625 > 0.05, P(X = 0) = 1/128: limit 1
    assert rc.crossings_limit == 1
    assert not rc.shift and not rc.too_few_crossings
    assert run_chart([3.0]) is None


def test_run_chart_limits_match_anhoj_table() -> None:
    # Anhøj & Olesen (2014), table 1: useful observations -> (longest run, min crossings)
    for useful, run, crossings in ((10, 6, 2), (12, 7, 3), (20, 7, 6), (24, 8, 8), (30, 8, 10)):
        values = [(-1.0) ** i for i in range(useful)]
        rc = run_chart(values)
        assert rc is not None
        assert (rc.longest_run_limit, rc.crossings_limit) == (run, crossings), useful


def test_run_chart_false_alarms_by_simulation() -> None:
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(4000):
        rc = run_chart(rng.standard_normal(12))
        assert rc is not None
        hits += rc.shift or rc.too_few_crossings
    # measured with this seed: 1.4 % at 12 points (3.0 % at 24)
    assert 0.005 < hits / 4000 < 0.05
    shifted = 0
    for _ in range(1000):
        x = rng.standard_normal(12)
        x[6:] += 2.0
        rc = run_chart(x)
        assert rc is not None
        shifted += rc.shift or rc.too_few_crossings
    # a 2-sigma shift over the last half: 34.1 % with this seed (run charts are weak
    # detectors at 12 points, which is why a verdict waits for control limits)
    assert shifted / 1000 > 0.25
