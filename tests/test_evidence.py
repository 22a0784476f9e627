"""The sustained-evidence verdict: hand-computed cases and fixed-seed simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pdca.check.stats.evidence import false_verdict_rate, judge, lag1, screened_mr_bar

BASE = [10.0, 12.0, 11.0, 13.0, 12.0, 10.0, 11.0, 12.0, 13.0, 11.0, 10.0, 12.0]


def test_screening_drops_a_wild_moving_range() -> None:
    values = np.array([10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 40.0])
    # ranges: nine of 1 and one of 29; mean 3.8, 3.267 x 3.8 = 12.4 < 29, so it goes
    assert screened_mr_bar(values) == pytest.approx(1.0)
    assert screened_mr_bar(np.array([1.0, 2.0, 4.0])) == pytest.approx(1.5)


def test_lag1_by_hand() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    # deviations -1.5 -0.5 0.5 1.5: lagged products 0.75 - 0.25 + 0.75 = 1.25; sum of squares 5
    assert lag1(values) == pytest.approx(0.25)


def test_cycle_mean_by_hand() -> None:
    # baseline mean 11.4167; moving ranges 2 1 2 1 2 1 1 1 2 1 2 -> 16/11; sigma = that / 1.128
    judged = [14.0, 15.0, 14.0, 15.0]
    ev = judge(BASE + judged, len(BASE), "increase")
    centre = sum(BASE) / 12
    sigma = (16 / 11) / 1.128
    r = max(lag1(np.array(BASE)), 0.0)
    se = sigma * math.sqrt(1 / 4 + 1 / 12) * math.sqrt((1 + r) / (1 - r))
    assert ev.t == pytest.approx((14.5 - centre) / se)
    assert ev.verdict == "improved"
    assert [r.kind for r in ev.reasons] == ["cycle_mean"]
    assert judge(BASE + judged, len(BASE), "decrease").verdict == "deteriorated"


def test_one_wild_week_is_not_a_verdict() -> None:
    # a rule-1 point that today decides the verdict alone
    ev = judge([*BASE, 11.0, 12.0, 30.0, 11.0], len(BASE), "increase")
    assert ev.verdict == "no_signal"


def test_improvement_then_sustained_fall_is_mixed() -> None:
    judged = [20.0] * 6 + [11.0] * 8
    ev = judge(BASE + judged, len(BASE), "increase")
    assert ev.verdict == "mixed"
    assert {(r.kind, r.direction) for r in ev.reasons} == {
        ("cycle_mean", "up"),
        ("sustained_run", "down"),
    }


def test_too_little_data() -> None:
    assert judge([1.0, None, 2.0], 1, "increase").verdict == "insufficient_data"
    assert judge([1.0, 2.0, None], 2, "increase").verdict == "insufficient_data"
    with pytest.raises(ValueError):
        judge(BASE, 6, "up")


def _simulate(phi: float, shift: float, seed: int, count: int = 3000) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    m, k = 26, 13
    verdicts: dict[str, int] = {}
    for _ in range(count):
        e = rng.standard_normal(m + k)
        x = np.empty(m + k)
        x[0] = e[0]
        for t in range(1, m + k):
            x[t] = phi * x[t - 1] + math.sqrt(1 - phi**2) * e[t]
        x[m:] += shift
        v = judge(x, m, "increase").verdict
        verdicts[v] = verdicts.get(v, 0) + 1
    return {v: c / count for v, c in verdicts.items()}


def test_stable_processes_rarely_earn_a_verdict() -> None:
    rates = _simulate(0.0, 0.0, seed=11)
    false = 1 - rates.get("no_signal", 0.0)
    assert false <= 0.05
    # the closed form ignores sigma's estimation error, so it is a floor
    expected = false_verdict_rate(13)
    assert expected <= false <= 2.5 * expected


def test_sustained_shifts_are_found_and_never_called_worse() -> None:
    rates = _simulate(0.0, 1.5, seed=12)
    assert rates.get("improved", 0.0) >= 0.80
    assert rates.get("deteriorated", 0.0) == 0.0


def test_autocorrelated_noise_raises_false_verdicts_as_documented() -> None:
    # the module docstring gives 5.5 % and 12.8 % from 20,000 series; 3,000 give about +-1 %
    assert _simulate(0.3, 0.0, seed=13).get("no_signal", 0.0) == pytest.approx(0.945, abs=0.02)
    assert _simulate(0.5, 0.0, seed=14).get("no_signal", 0.0) == pytest.approx(0.872, abs=0.025)


def test_false_verdict_rate_closed_form() -> None:
    # two normal tails beyond 2.75 (0.0059598) plus 2 / 256 for the run of 8
    assert false_verdict_rate(13) == pytest.approx(0.0059598 + 0.0078125, rel=1e-4)
    assert false_verdict_rate(5) == pytest.approx(0.0059598, rel=1e-4)
    # beyond 3: 0.0026998
    assert false_verdict_rate(5, threshold=3.0) == pytest.approx(0.0026998, rel=1e-4)
