"""The cycle-length planner: hand-computed cases, and the real verdict on simulated series."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest

from pdca.check.stats import evidence
from pdca.check.stats.power import (
    THRESHOLD,
    _normal_max,
    detection_power,
    periods_to_detect,
)

Z80 = 0.8416


def textbook_periods(gap: float, m: int) -> int | None:
    """k from gap / (sigma sqrt(1/k + 1/m)) >= 3 + z_0.8, sigma = 1: what the module corrects."""
    q = (gap / (3 + Z80)) ** 2 - 1 / m
    return math.ceil(1 / q) if q > 0 else None


def test_threshold_is_the_verdicts() -> None:
    assert THRESHOLD == evidence.THRESHOLD


def test_expected_maximum_of_normals_against_known_values() -> None:
    # two values: mean 1/sqrt(pi), variance 1 - 1/pi; three and four: Harter's table
    assert _normal_max(2) == pytest.approx((1 / math.sqrt(math.pi), 1 - 1 / math.pi), abs=1e-8)
    assert _normal_max(3) == pytest.approx((0.846284, 0.559467), abs=1e-6)
    assert _normal_max(4) == pytest.approx((1.029375, 0.491715), abs=1e-6)
    assert _normal_max(1) == pytest.approx((0.0, 1.0), abs=1e-8)


def test_power_by_hand_with_a_long_baseline() -> None:
    """A 3-sigma shift, a baseline so long that only the judged periods count.

    k = 2: one period remains once the larger is left out; its mean is 3 - 0.5642
    = 2.4358 against a threshold of 3 x 1 = 3, spread sqrt(0.6817) = 0.8256:
    z = -0.683, power 0.247. k = 3: two remain, mean 3 - 0.8463 / 2 = 2.5769,
    threshold 3 sqrt(1/2) = 2.1213, spread sqrt((1 + 0.5595) / 4) = 0.6244:
    z = 0.7296, power 0.767. k = 4: mean 3 - 1.0294 / 3 = 2.6569, threshold
    3 sqrt(1/3) = 1.7321, spread sqrt((2 + 0.4917) / 9) = 0.5262: z = 1.757, 0.961.
    """
    m = 10**7
    powers = [detection_power(3.0, 1.0, m, k, threshold=3.0) for k in (2, 3, 4)]
    assert powers == pytest.approx([0.2472, 0.7672, 0.9606], abs=5e-4)
    assert periods_to_detect(3.0, 1.0, m, threshold=3.0) == 4
    # the textbook formula would plan ceil((3.8416 / 3)^2) = 2 periods
    assert textbook_periods(3.0, m) == 2
    # gap 1.5 with a long baseline: textbook ceil((3.8416 / 1.5)^2) = ceil(6.56) = 7
    assert textbook_periods(1.5, m) == 7
    assert periods_to_detect(1.5, 1.0, m, threshold=3.0) > 7


def test_sigma_estimated_from_a_short_baseline_costs_power() -> None:
    """k = 2, m = 26, gap 3: mean 2.4358, threshold 3 sqrt(1 + 1/26) = 3.0573, spread
    sqrt(0.6817 + 1/26 + 3.0573^2 / (2 x 0.62 x 25)) = sqrt(1.0216) = 1.0107:
    z = -0.6150, power 0.269."""
    assert detection_power(3.0, 1.0, 26, 2, threshold=3.0) == pytest.approx(0.2693, abs=5e-4)


def test_scale_and_autocorrelation() -> None:
    # only gap / sigma matters, and autocorrelation r acts as sigma x sqrt((1 + r) / (1 - r))
    assert detection_power(6.0, 2.0, 26, 9, threshold=3.0) == pytest.approx(
        detection_power(3.0, 1.0, 26, 9, threshold=3.0)
    )
    assert detection_power(-3.0, 1.0, 26, 9, threshold=3.0) == detection_power(
        3.0, 1.0, 26, 9, threshold=3.0
    )
    assert detection_power(3.0, 1.0, 26, 9, autocorrelation=0.5, threshold=3.0) == pytest.approx(
        detection_power(3.0, math.sqrt(3.0), 26, 9, threshold=3.0)
    )
    # clipped like the verdict's: below 0 counts as 0, above 0.8 as 0.8
    assert detection_power(3.0, 1.0, 26, 9, autocorrelation=-0.4, threshold=3.0) == detection_power(
        3.0, 1.0, 26, 9, threshold=3.0
    )
    assert detection_power(3.0, 1.0, 26, 9, autocorrelation=0.95, threshold=3.0) == detection_power(
        3.0, 1.0, 26, 9, autocorrelation=0.8, threshold=3.0
    )


def test_power_rises_with_the_periods_and_the_plan_is_the_first_to_reach_it() -> None:
    powers = [detection_power(1.5, 1.0, 26, k, threshold=3.0) for k in range(1, 60)]
    assert powers[0] == 0.0  # one period: nothing is left once it is left out
    assert all(b > a for a, b in itertools.pairwise(powers[1:]))
    k = periods_to_detect(1.5, 1.0, 26, threshold=3.0)
    assert k == 14
    assert powers[k - 1] >= 0.8 > powers[k - 2]
    assert periods_to_detect(1.5, 1.0, 26, power=0.5, threshold=3.0) < k
    assert periods_to_detect(1.5, 1.0, 26, threshold=2.0) < k


def test_unreachable_targets_give_none() -> None:
    """With m baseline points the standard error never falls below sigma / sqrt(m).

    gap 1, m 12: even infinitely many periods give z = (1 - 3 / sqrt(12)) /
    sqrt(1/12 + 9 / (12 x 2 x 0.62 x 11)) = 0.134 / 0.372 = 0.36: power 0.64.
    """
    assert periods_to_detect(1.0, 1.0, 12, threshold=3.0) is None
    limit = (1 - 3 / math.sqrt(12)) / math.sqrt(1 / 12 + 9 / (12 * 2 * 0.62 * 11))
    assert detection_power(1.0, 1.0, 12, 10**6, threshold=3.0) == pytest.approx(
        NormalDist().cdf(limit), abs=1e-3
    )
    # the textbook bound says so too: 1 x sqrt(12) = 3.46 < 3.8416
    assert textbook_periods(1.0, 12) is None
    # reachable, but not within the periods allowed
    assert periods_to_detect(1.25, 1.0, 12, threshold=3.0) == 136
    assert periods_to_detect(1.25, 1.0, 12, max_periods=100, threshold=3.0) is None
    assert periods_to_detect(0.0, 1.0, 26, threshold=3.0) is None
    assert periods_to_detect(1.0, 0.0, 26, threshold=3.0) is None
    assert detection_power(1.0, 1.0, 1, 10, threshold=3.0) == 0.0
    with pytest.raises(ValueError, match="power"):
        periods_to_detect(1.0, 1.0, 26, power=1.0, threshold=3.0)


def _simulate(
    gap: float, m: int, k: int, seed: int, count: int = 2000, threshold: float = 3.0
) -> tuple[float, float]:
    """Share of normal series (sigma 1) whose shift of ``gap`` the real verdict finds:
    by the cycle-mean test, and as ``improved`` for any reason."""
    rng = np.random.default_rng(seed)
    by_mean = improved = 0
    for _ in range(count):
        x = rng.normal(0.0, 1.0, m + k)
        x[m:] += gap
        ev = evidence.judge(x, m, "increase", threshold=threshold)
        by_mean += any(r.kind == "cycle_mean" and r.direction == "up" for r in ev.reasons)
        improved += ev.verdict == "improved"
    return by_mean / count, improved / count


@pytest.mark.parametrize(
    ("m", "gap", "planned", "seed"),
    [(26, 1.5, 14, 1), (26, 2.0, 8, 2), (26, 3.0, 4, 3), (12, 2.0, 10, 4), (52, 1.0, 28, 5)],
)
def test_planned_periods_find_the_shift_about_80_percent_of_the_time(
    m: int, gap: float, planned: int, seed: int
) -> None:
    """The real verdict on 2,000 series at the planned k.

    Tolerance: the simulated rate lies within 0.05 of the power the planner
    computes for that k (above 0.8 when one period more jumps past it) and is at
    least 0.75. 2,000 series give a binomial standard error of 0.009; the
    planner's approximations (the left-out maximum taken as normal, the moving-range
    sigma's spread, autocorrelation that the verdict estimates at chance values)
    were measured to overstate the power by up to 0.04 (0.777 against 0.817 for
    m = 12, gap 2).
    """
    k = periods_to_detect(gap, 1.0, m, threshold=3.0)
    assert k == planned
    by_mean, improved = _simulate(gap, m, k, seed)
    assert by_mean == pytest.approx(detection_power(gap, 1.0, m, k, threshold=3.0), abs=0.05)
    assert by_mean >= 0.75
    assert improved >= by_mean - 0.01  # a sustained run can only add verdicts (mixed aside)


def test_the_textbook_plan_finds_a_shift_only_about_half_the_time() -> None:
    """Why the planner counts the left-out period and sigma's estimate: the textbook
    k for a 1.5-sigma shift over 26 baseline points is 9, and at 9 the verdict finds
    the shift in about 54 % of series."""
    k = textbook_periods(1.5, 26)
    assert k == 9
    by_mean, _ = _simulate(1.5, 26, k, seed=6)
    assert 0.45 <= by_mean <= 0.62
    assert detection_power(1.5, 1.0, 26, k, threshold=3.0) == pytest.approx(by_mean, abs=0.05)


@pytest.mark.parametrize(("m", "gap", "seed"), [(26, 1.5, 7), (12, 2.0, 8)])
def test_the_plan_at_the_verdicts_own_threshold_holds_too(m: int, gap: float, seed: int) -> None:
    # the default threshold is the verdict's (2.75): fewer periods than at 3, same power
    k = periods_to_detect(gap, 1.0, m)
    assert k is not None and k < periods_to_detect(gap, 1.0, m, threshold=3.0)
    by_mean, _ = _simulate(gap, m, k, seed, threshold=THRESHOLD)
    assert by_mean == pytest.approx(detection_power(gap, 1.0, m, k), abs=0.05)
    assert by_mean >= 0.75
