"""The Check reading: the chart that fits the KPI, a minimum baseline, and the verdict.

Values are checked against hand computations; rates against fixed-seed simulation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from honesty_sim import BASELINE_WEEKS, CYCLE_WEEKS, weekly_volumes
from pdca.check.stats.evidence import BUDGET_DRAWS, expected_false_rate, judge
from pdca.check.stats.reading import read_series, screened_limits

BASE = [10.0, 12.0, 11.0, 13.0, 10.0, 12.0, 11.0, 13.0, 10.0, 12.0, 11.0, 13.0]
"""Twelve baseline values: centre 11.5, every moving range 1, 2 or 3."""


def test_xmr_limits_screen_one_wild_moving_range_before_freezing() -> None:
    base = [10.0, 11.0] * 6 + [40.0, 10.0, 11.0]  # one outage week: ranges 29 and 30
    ranges = np.abs(np.diff(base))
    mean = ranges.mean()
    kept = ranges[ranges <= 3.267 * mean]
    assert kept.size == ranges.size - 2  # the two ranges around 40 go, nothing else
    limits = screened_limits(np.array(base), len(base))
    assert limits.mr_bar == pytest.approx(kept.mean(), rel=1e-12) == pytest.approx(1.0)
    assert limits.centre == pytest.approx(np.mean(base))


def test_per_n_limits_follow_each_periods_own_n_by_hand() -> None:
    values = [70.0, 80.0, 60.0, 75.0, 65.0, 72.0, 68.0, 74.0, 66.0, 71.0, 69.0, 70.0, 90.0]
    n = [10, 40, 20, 100, 25, 50, 30, 80, 15, 60, 35, 45, 12]
    r = read_series(values, n, baseline=12, direction="increase", chart="p_prime", min_points=8)
    v, w = np.array(values[:12]), np.array(n[:12], dtype=float)
    centre = (v * w).sum() / w.sum()
    z = (v - centre) * np.sqrt(w)
    mr = np.abs(np.diff(z))
    unit = mr[mr <= 3.267 * mr.mean()].mean() / 1.128
    assert r.chart == "p_prime" and r.per_n is not None
    assert r.per_n.centre == pytest.approx(centre, rel=1e-12)
    assert r.per_n.unit_sigma == pytest.approx(unit, rel=1e-12)
    assert r.lower is not None and r.upper is not None
    for i, count in enumerate(n):
        assert r.upper[i] == pytest.approx(centre + 3 * unit / math.sqrt(count), rel=1e-12)
        assert r.lower[i] == pytest.approx(centre - 3 * unit / math.sqrt(count), rel=1e-12)
    # the summary limits are those at the baseline's median n
    typical = float(np.median(w))
    assert r.limits.upper == pytest.approx(centre + 2.66 * 1.128 * unit / math.sqrt(typical))
    doc = r.to_json()
    assert doc["limits"]["chart"] == "p_prime"
    assert doc["limits"]["unit_sigma"] == pytest.approx(unit, rel=1e-12)


def test_a_small_week_is_judged_by_small_week_limits() -> None:
    # one 8-response week at 45 % in a process at 70 %: out on XmR, routine for 8 responses
    rng = np.random.default_rng(3)
    n = np.full(30, 150)
    n[27] = 8
    values = 100 * rng.binomial(n, 0.7) / n
    values[27] = 45.0
    xmr = read_series(values, n, baseline=26, direction="increase", chart="xmr")
    pp = read_series(values, n, baseline=26, direction="increase", chart="p_prime")
    assert any(s.rule == 1 and 27 in s.periods for s in xmr.signals)
    assert not any(27 in s.periods for s in pp.signals if s.rule == 1)
    assert pp.lower is not None and pp.lower[27] is not None and pp.lower[27] < 45.0


def test_opposite_evidence_in_one_cycle_is_mixed_with_both_reasons() -> None:
    # the cycle mean is far above the baseline, but its last 8 weeks all lie below the centre
    judged = [30.0] * 6 + [11.0] * 8
    r = read_series(BASE + judged, baseline=12, direction="increase")
    assert r.verdict == "mixed"
    assert sorted((x.kind, x.direction) for x in r.reasons) == [
        ("cycle_mean", "up"),
        ("sustained_run", "down"),
    ]
    assert all(x.message for x in r.reasons)
    assert [x["kind"] for x in r.to_json()["reasons"]] == ["cycle_mean", "sustained_run"]


def test_a_sustained_shift_is_improved_and_one_wild_week_is_not() -> None:
    up = read_series(BASE + [15.0] * 10, baseline=12, direction="increase")
    assert up.verdict == "improved" and {x.direction for x in up.reasons} == {"up"}
    assert read_series(BASE + [15.0] * 10, baseline=12, direction="decrease").verdict == (
        "deteriorated"
    )
    wild = read_series([*BASE, 11.5, 40.0, 11.5, 11.0, 12.0], baseline=12, direction="increase")
    assert any(s.rule == 1 for s in wild.signals)  # the chart still shows the week
    assert wild.verdict == "no_signal"


def test_a_baseline_shorter_than_the_minimum_is_a_run_chart_without_verdict() -> None:
    series = BASE[:11] + [15.0] * 10
    r = read_series(series, baseline=11, direction="increase")
    assert r.verdict == "insufficient_data" and r.chart == "run"
    assert r.run is not None and r.note and "11 baseline values, 12 needed" in r.note
    # Anhøj on all 21 values: median 13.0 by hand, values on it are not counted
    assert r.run.median == 13.0
    assert r.run.useful == 21 - series.count(13.0)
    doc = r.to_json()
    assert doc["limits"]["chart"] == "run" and doc["limits"]["upper"] is None
    assert doc["run_chart"]["longest_run_limit"] == round(math.log2(r.run.useful) + 3)
    # the playbook can accept a shorter baseline
    assert read_series(series, baseline=11, direction="increase", min_baseline=11).verdict == (
        "improved"
    )


def test_without_a_baseline_there_is_no_verdict_but_the_rules_show() -> None:
    r = read_series(BASE + [15.0] * 10, baseline=None, direction="increase")
    assert r.verdict == "insufficient_data" and r.note and "cycle.start" in r.note
    assert r.signals  # the shift shows on the chart of the whole series


def test_baseline_signals_are_reported_apart() -> None:
    base = [10.0, 12.0, 11.0, 13.0, 10.0, 12.0, 30.0, 11.0, 13.0, 10.0, 12.0, 11.0, 13.0]
    r = read_series([*base, 11.0, 12.0, 11.5], baseline=13, direction="increase", min_points=8)
    assert [s.rule for s in r.baseline_signals] == [1]
    assert r.baseline_signals[0].periods == (6,)
    assert r.to_json()["baseline_rules"][0]["periods"] == [6]


def test_bad_chart_and_missing_n_are_rejected() -> None:
    with pytest.raises(ValueError, match="chart must be one of"):
        read_series(BASE, baseline=6, direction="increase", chart="c")
    with pytest.raises(ValueError, match="needs each period's n"):
        read_series(BASE, baseline=6, direction="increase", chart="p_prime")


def _judge_rate(m: int, k: int, seed: int, count: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(count):
        x = rng.standard_normal(m + k)
        hits += judge(x, m, "increase").verdict != "no_signal"
    return hits / count


@pytest.mark.parametrize(("m", "k"), [(12, 13), (26, 13), (52, 8)])
def test_the_false_alarm_budget_matches_the_verdict_it_budgets_for(m: int, k: int) -> None:
    # the budget is a vectorised replica of judge(); judge itself, run series by series
    # on other seeds, must agree within the two simulations' binomial errors
    budget = expected_false_rate(m, k)
    count = 4000
    simulated = _judge_rate(m, k, seed=100 + m + k, count=count)
    se = math.sqrt(budget * (1 - budget) * (1 / count + 1 / BUDGET_DRAWS))
    assert abs(simulated - budget) <= 4 * se, (budget, simulated)
    assert expected_false_rate(m, k) == budget  # same figure every time


def test_short_baselines_cost_more_false_alarms() -> None:
    rates = [expected_false_rate(m, 13) for m in (12, 26, 52)]
    assert rates[0] > rates[1] > rates[2] > 0
    assert expected_false_rate(26, 1) == 0.0  # one judged week can never be sustained
    assert expected_false_rate(1, 13) == 0.0


def test_stable_rates_with_swinging_volumes_rarely_get_a_verdict_on_p_prime() -> None:
    # 400 stable series of a 70 % rate, weekly volumes 6..200: p' keeps false verdicts low
    # where one pair of XmR limits cannot, and XmR's extra verdicts come from small weeks
    rng = np.random.default_rng(7)
    weeks = BASELINE_WEEKS + CYCLE_WEEKS
    verdicts = {"xmr": 0, "p_prime": 0}
    for _ in range(400):
        n = weekly_volumes(rng, weeks)
        values = 100 * rng.binomial(n, 0.7) / n
        for chart in verdicts:
            r = read_series(values, n, baseline=BASELINE_WEEKS, direction="increase", chart=chart)
            verdicts[chart] += r.verdict != "no_signal"
    assert verdicts["p_prime"] / 400 <= 0.05
    budget = expected_false_rate(BASELINE_WEEKS, CYCLE_WEEKS)
    assert verdicts["p_prime"] / 400 == pytest.approx(budget, abs=0.025)
