"""XmR limits, the eight rules, verdicts and target sanity, against hand-computed series."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdca.check.stats.evidence import VERDICTS
from pdca.check.stats.reading import Reading, read_series
from pdca.check.stats.spc import (
    ALL_RULES,
    DEFAULT_RULES,
    Limits,
    compute_limits,
    detect_signals,
    target_sanity,
)


def check_series(
    values: Any,
    baseline: int | None = None,
    rules: Any = DEFAULT_RULES,
    direction: str = "increase",
    min_points: int = 8,
) -> Reading:
    """The XmR reading as Check gives it, without the minimum baseline (these series
    are short on purpose: each test shows one rule or one convention)."""
    return read_series(
        values,
        baseline=baseline,
        rules=rules,
        direction=direction,
        min_points=min_points,
        min_baseline=2,
    )


# A frozen set of limits used by the rule tests, so each rule sees known zones:
#   centre = 10, MR̄ = 2
#   sigma  = 2 / 1.128           = 1.773050
#   1σ band: 10 ± 1.773050       = 8.226950 .. 11.773050
#   2σ band: 10 ± 3.546099       = 6.453901 .. 13.546099
#   limits : 10 ± 2.66 × 2 = 5.32 = 4.68 .. 15.32
L = Limits(centre=10.0, mr_bar=2.0, baseline_points=20)

# A baseline with the same limits, for the check_series tests:
#   9, 11, 10, 12, 8, 10, 11, 9 -> sum 80 -> centre 10
#   moving ranges 2, 1, 2, 4, 2, 1, 2 -> sum 14 -> MR̄ = 14 / 7 = 2
# It triggers no rule by itself: no run of 9 on one side (sides - + 0 + - 0 + -),
# no 5 same-sign steps, nothing beyond 2σ, only 12 and 8 beyond 1σ.
BASE = [9.0, 11.0, 10.0, 12.0, 8.0, 10.0, 11.0, 9.0]


def fired(values, rule, limits=L):
    return [(s.periods, s.direction) for s in detect_signals(values, limits, (rule,))]


# --------------------------------------------------------------------------- limits


def test_limits_hand_computed():
    # 10, 12, 11, 13, 12 -> mean 58 / 5 = 11.6
    # moving ranges 2, 1, 2, 1 -> MR̄ = 6 / 4 = 1.5
    # UNPL = 11.6 + 2.66 × 1.5 = 15.59 ; LNPL = 11.6 - 3.99 = 7.61
    # sigma = 1.5 / 1.128 = 1.329787 ; MR chart upper limit = 3.268 × 1.5 = 4.902
    lim = compute_limits([10, 12, 11, 13, 12])
    assert lim.centre == pytest.approx(11.6)
    assert lim.mr_bar == pytest.approx(1.5)
    assert lim.upper == pytest.approx(15.59)
    assert lim.lower == pytest.approx(7.61)
    assert lim.sigma == pytest.approx(1.329787, abs=1e-6)
    assert lim.mr_upper == pytest.approx(4.902)
    assert lim.band(2) == pytest.approx((11.6 - 2.659574, 11.6 + 2.659574), abs=1e-6)
    assert lim.baseline_points == 5


def test_limits_textbook_montgomery_viscosity():
    # Montgomery, "Introduction to Statistical Quality Control", individuals-chart
    # example on the viscosity of aircraft primer paint (15 batches). The book's
    # results: x̄ = 33.52, MR̄ = 0.48, UCL = 34.80, LCL = 32.24, MR-chart UCL = 1.57,
    # and the process is in control.
    # By hand: sum = 502.85 -> x̄ = 33.5233; sum of the 14 moving ranges
    # (0.70 .95 .19 .35 .56 .34 .41 .22 .29 .42 .62 .54 .42 .72) = 6.73 -> MR̄ = 0.480714;
    # UNPL = 33.5233 + 2.66 × 0.480714 = 34.8020; LNPL = 32.2446; 3.268 × MR̄ = 1.5710.
    viscosity = [33.75, 33.05, 34.00, 33.81, 33.46, 34.02, 33.68, 33.27,
                 33.49, 33.20, 33.62, 33.00, 33.54, 33.12, 33.84]  # fmt: skip
    lim = compute_limits(viscosity)
    assert lim.centre == pytest.approx(33.5233, abs=1e-4)
    assert lim.mr_bar == pytest.approx(0.480714, abs=1e-6)
    assert round(lim.upper, 2) == 34.80
    assert round(lim.lower, 2) == 32.24
    assert round(lim.mr_upper, 2) == 1.57
    in_control = check_series(viscosity)
    assert in_control.signals == ()
    assert in_control.verdict == "insufficient_data"  # a first look: no "before" to judge against


def test_limits_on_baseline_only_and_none_values_keep_their_period():
    # Baseline = first 7 periods = 10, None, 12, 11, None, 13, 12: the same five values
    # as the hand example (missing periods skipped, moving ranges between present values).
    vals = [10, None, 12, 11, None, 13, 12, 99, 99]
    lim = compute_limits(vals, baseline=7)
    assert lim.centre == pytest.approx(11.6)
    assert lim.mr_bar == pytest.approx(1.5)
    assert lim.baseline_points == 5
    # 99 at periods 7 and 8 is above 15.59: one rule-1 signal, periods as given
    sig = detect_signals(vals, lim, (1,))
    assert [(s.rule, s.periods, s.direction) for s in sig] == [(1, (7, 8), "up")]


def test_constant_series_has_zero_mr_and_no_signal():
    lim = compute_limits([5.0] * 10)
    assert (lim.centre, lim.mr_bar, lim.upper, lim.lower) == (5.0, 0.0, 5.0, 5.0)
    assert check_series([5.0] * 10, rules=ALL_RULES).signals == ()
    # 0.1 × 10 averages to a hair off 0.1 in floating point: still no signal
    assert check_series([0.1] * 12, rules=ALL_RULES).signals == ()
    assert check_series([0.1] * 12, baseline=6, rules=ALL_RULES).verdict == "no_signal"
    # any later change of a constant process is beyond its zero-width limits
    res = check_series([5.0] * 10 + [5.5], baseline=10)
    assert [(s.rule, s.periods) for s in res.signals] == [(1, (10,))]
    assert res.verdict == "no_signal"  # one period is not a sustained change
    assert check_series([5.0] * 10 + [5.5] * 8, baseline=10).verdict == "improved"


def test_fewer_than_two_baseline_points_gives_no_limits():
    lim = compute_limits([7.0, 8.0, 9.0], baseline=1)
    assert lim.centre == 7.0 and math.isnan(lim.mr_bar) and not lim.available
    assert detect_signals([7.0, 8.0, 9.0], lim, ALL_RULES) == ()
    assert lim.to_json()["mr_bar"] is None and lim.to_json()["upper"] is None
    empty = compute_limits([])
    assert math.isnan(empty.centre) and empty.baseline_points == 0


# --------------------------------------------------------------------------- the rules


def test_rule1_point_beyond_limits():
    assert fired([10, 15.4, 10], 1) == [((1,), "up")]
    assert fired([10, 4.6, 10], 1) == [((1,), "down")]
    # 15.3 is inside 15.32: one hair short
    assert fired([10, 15.3, 4.7, 10], 1) == []
    # consecutive points beyond the same limit form one signal
    assert fired([15.4, 16, 10, 4], 1) == [((0, 1), "up"), ((3,), "down")]


def test_rule2_nine_on_one_side():
    assert fired([10.5] * 9, 2) == [(tuple(range(9)), "up")]
    assert fired([9.5] * 9, 2) == [(tuple(range(9)), "down")]
    assert fired([10.5] * 8 + [9.5], 2) == []
    # a run of 12 is one signal listing all 12 periods
    assert fired([10.5] * 12, 2) == [(tuple(range(12)), "up")]


def test_rule2_point_on_centre_line_breaks_the_run():
    # 4 above, one exactly on the centre (10), 5 above: no 9 on one side
    assert fired([10.5] * 4 + [10.0] + [10.5] * 5, 2) == []


def test_rule2_value_equal_to_centre_up_to_rounding_is_on_it():
    # mean(0.1, 0.2, 0.3) is 0.20000000000000004 in floating point; 0.2 is on the
    # centre line, not 4e-17 below it, so nine 0.2s are no run.
    assert check_series([0.1, 0.2, 0.3] + [0.2] * 9, baseline=3, rules=(2,)).signals == ()
    assert check_series([0.3, 0.2, 0.1] + [0.2] * 9, baseline=3, rules=(2,)).signals == ()


def test_rule2_missing_period_neither_breaks_nor_counts():
    vals = [10.5] * 4 + [None] + [10.5] * 5  # 9 values over 10 periods
    assert fired(vals, 2) == [((0, 1, 2, 3, 5, 6, 7, 8, 9), "up")]
    assert fired([10.5] * 4 + [None] + [10.5] * 4, 2) == []  # only 8 values


def test_rule3_six_rising_or_falling():
    # 9, 9.2, ..., 10.0: 6 points, 5 rising steps
    rising = [9.0, 9.2, 9.4, 9.6, 9.8, 10.0]
    assert fired(rising, 3) == [(tuple(range(6)), "up")]
    assert fired(rising[::-1], 3) == [(tuple(range(6)), "down")]
    assert fired(rising[:5], 3) == []  # 5 points, 4 steps
    # a repeated value breaks the run: 3 then 4 rising points
    assert fired([9.0, 9.2, 9.4, 9.4, 9.6, 9.8, 10.0], 3) == []
    # preceded by a drop: the run starts after it
    assert fired([12.0, *rising], 3) == [(tuple(range(1, 7)), "up")]


def test_rule4_fourteen_alternating():
    alt14 = [9.0, 11.0] * 7
    assert fired(alt14, 4) == [(tuple(range(14)), None)]
    assert fired(alt14[:13], 4) == []
    # a tie in the middle breaks the alternation
    assert fired([9.0, 11.0] * 3 + [11.0] + [9.0, 11.0] * 4, 4) == []


def test_rule5_two_of_three_beyond_two_sigma():
    # 2σ upper = 13.546: 14 is beyond, 13.5 is not
    assert fired([10, 14, 10, 14, 10], 5) == [((1, 3), "up")]
    assert fired([10, 6, 6, 10], 5) == [((1, 2), "down")]
    # 14 _ _ 14: never 2 in any 3 consecutive
    assert fired([10, 14, 10, 10, 14], 5) == []
    # 2 of 3 but on opposite sides
    assert fired([14, 10, 6], 5) == []
    assert fired([13.5, 13.5, 13.5], 5) == []


def test_rule6_four_of_five_beyond_one_sigma():
    # 1σ upper = 11.773: 12 is beyond
    assert fired([12, 12, 10, 12, 12], 6) == [((0, 1, 3, 4), "up")]
    assert fired([8, 8, 8, 10, 8], 6) == [((0, 1, 2, 4), "down")]
    # 12 12 10 12 10 12: every window of 5 holds only 3
    assert fired([12, 12, 10, 12, 10, 12], 6) == []
    assert fired([11.7] * 5, 6) == []  # inside 11.773


def test_rule7_fifteen_within_one_sigma():
    hugging = [10.5, 9.5] * 7 + [10.5]  # |d| = 0.5 < 1.773
    assert fired(hugging, 7) == [(tuple(range(15)), None)]
    assert fired(hugging[:14], 7) == []
    # a point at 11.8 (beyond 1σ) breaks it into 7 + 7
    assert fired([10.5] * 7 + [11.8] + [10.5] * 7, 7) == []


def test_rule8_eight_beyond_one_sigma_either_side():
    mixture = [12.0, 8.0] * 4  # |d| = 2 > 1.773 on alternating sides
    assert fired(mixture, 8) == [(tuple(range(8)), None)]
    assert fired(mixture[:7], 8) == []
    assert fired([11.78] * 8, 8) == [(tuple(range(8)), "up")]
    assert fired([11.77] * 8, 8) == []  # just inside 11.77305


def test_default_rules_are_1_2_3_5_and_unknown_rule_rejected():
    assert DEFAULT_RULES == (1, 2, 3, 5)
    # alternation of 14 is there, but rule 4 is not a default
    assert detect_signals([9.0, 11.0] * 7, L) == ()
    with pytest.raises(ValueError, match="rule"):
        detect_signals([1.0, 2.0], L, (11,))


def test_signals_sorted_by_first_period_then_rule():
    vals = [16.0, 10.5, 10.5, 14.0, 14.0, 10.5, 10.5, 10.5, 10.5]
    sig = detect_signals(vals, L, ALL_RULES)
    keys = [(s.periods[0], s.rule) for s in sig]
    assert keys == sorted(keys)
    assert {(1, (0,)), (2, tuple(range(9))), (5, (3, 4))} <= {(s.rule, s.periods) for s in sig}


# --------------------------------------------------------------------------- verdicts


def test_phase_two_shift_is_caught_and_limits_do_not_move():
    # 10 weeks at 13 after the baseline: within the limits (15.32) but 9+ on one side
    series = BASE + [13.0] * 10
    res = check_series(series, baseline=8, direction="increase")
    assert res.verdict == "improved"
    assert res.limits.centre == pytest.approx(10.0) and res.limits.mr_bar == pytest.approx(2.0)
    assert res.judged_from == 8
    assert (2, tuple(range(8, 18))) in [(s.rule, s.periods) for s in res.signals]
    assert {r.direction for r in res.reasons} == {"up"}
    # more post-baseline points never change frozen limits
    longer = check_series(series + [13.0] * 20, baseline=8)
    assert longer.limits == res.limits
    # whereas limits on all points (no baseline split) absorb the shift:
    # centre = (80 + 130) / 18 = 11.667; MR̄ = (14 + |13 - 9|) / 17 = 1.0588
    unsplit = compute_limits(series)
    assert unsplit.centre == pytest.approx(11.6667, abs=1e-4)
    assert unsplit.mr_bar == pytest.approx(1.0588, abs=1e-4)


def test_same_shift_is_a_deterioration_when_lower_is_better():
    res = check_series(BASE + [13.0] * 10, baseline=8, direction="decrease")
    assert res.verdict == "deteriorated"
    down = check_series(BASE + [7.0] * 10, baseline=8, direction="decrease")
    assert down.verdict == "improved"


def test_the_verdict_needs_sustained_evidence_not_a_rule():
    # 8 weeks at 13 after the baseline: one short of rule 2 and no rule fires, but the
    # cycle mean is 3 / (1.773 x sqrt(1/8 + 1/8)) = 3.38 standard errors up, and all 8
    # lie above the centre: improved
    res = check_series(BASE + [13.0] * 8, baseline=8, direction="increase")
    assert res.signals == ()
    assert res.verdict == "improved"
    assert sorted(r.kind for r in res.reasons) == ["cycle_mean", "sustained_run"]
    # 3 weeks at 13: 3 / (1.773 x sqrt(1/3 + 1/8)) = 2.50 < 2.75, no run of 8: no signal
    short = check_series(BASE + [13.0] * 3, baseline=8, direction="increase")
    assert short.verdict == "no_signal" and short.reasons == ()


def test_both_directions_give_mixed_or_the_sustained_end():
    # up shift of 9 (periods 8..16), then down shift of 9 (17..25), all inside the limits:
    # the cycle mean is back at the centre, and the last 8 lie below it
    series = BASE + [13.0] * 9 + [7.0] * 9
    res = check_series(series, baseline=8, direction="increase")
    directions = {(s.rule, s.direction) for s in res.signals}
    assert {(2, "up"), (2, "down")} <= directions  # both show on the chart
    assert res.verdict == "deteriorated"
    assert [(r.kind, r.direction) for r in res.reasons] == [("sustained_run", "down")]
    res2 = check_series(BASE + [7.0] * 9 + [13.0] * 9, baseline=8, direction="increase")
    assert res2.verdict == "improved"
    # a big rise whose last 8 weeks fell below the old centre: evidence both ways
    both = check_series(BASE + [18.0] * 6 + [9.0] * 8, baseline=8, direction="increase")
    assert both.verdict == "mixed"
    assert {(r.kind, r.direction) for r in both.reasons} == {
        ("cycle_mean", "up"),
        ("sustained_run", "down"),
    }


def test_directionless_rules_never_decide():
    # 15 judged points hugging the centre: rule 7 fires, but it says "unstable", not which way
    res = check_series(BASE + [10.5, 9.5] * 8, baseline=8, rules=(4, 7))
    assert {s.rule for s in res.signals} == {4, 7}
    assert all(s.direction is None for s in res.signals)
    assert res.verdict == "no_signal"


def test_baseline_only_signals_are_kept_apart():
    # a run of 9 above the centre inside the baseline (limits from all 12 points)
    base = [10.5] * 9 + [1.0, 14.0, 2.0]
    res = check_series([*base, 8.0, 8.5, 8.0], baseline=12)
    assert any(s.rule == 2 for s in res.baseline_signals)
    assert not any(s.rule == 2 for s in res.signals)


def test_signal_straddling_the_baseline_end_counts():
    # last 3 baseline points and 6 judged points above the centre: a run of 9
    base = [9.0, 11.0, 10.0, 12.0, 8.0, 9.0, 10.5, 10.5, 10.5]
    # centre = 90.5 / 9 = 10.0556; 10.5 is above it
    res = check_series(base + [10.5] * 6, baseline=9, rules=(2,))
    assert res.signals[0].periods == tuple(range(6, 15))
    # the chart shows it; as evidence of a change within the cycle it is weak: 6 weeks
    # 0.44 above the centre are 0.66 standard errors, and 6 is short of a run of 8
    assert res.verdict == "no_signal"


@pytest.mark.parametrize(
    ("series", "baseline"),
    [
        ([10.0, 11.0, 12.0, 11.0, 10.0, 11.0, 12.0], None),  # 7 < min_points 8
        (BASE + [13.0] * 4, 1),  # one baseline value: no moving range
        (BASE, 8),  # nothing after the baseline to judge
        ([*BASE, None, None], 8),  # judged periods without values
        ([None] * 20, None),
    ],
)
def test_insufficient_data(series, baseline):
    res = check_series(series, baseline=baseline)
    assert res.verdict == "insufficient_data"
    assert res.signals == ()


def test_min_points_is_a_parameter():
    series = [10.0, 11.0, 12.0, 11.0, 10.0]
    assert check_series(series, baseline=3).verdict == "insufficient_data"
    assert check_series(series, baseline=3, min_points=5).verdict == "no_signal"


def test_bad_direction_rejected():
    with pytest.raises(ValueError, match="direction"):
        check_series(BASE, direction="up")


def test_to_json_contract():
    res = check_series(BASE + [13.0] * 10, baseline=8)
    doc = json.loads(json.dumps(res.to_json(), allow_nan=False))
    # the keys of old stay; reasons, baseline_rules and the variation are additions
    assert set(doc) == {
        "verdict",
        "rules",
        "limits",
        "reasons",
        "baseline_rules",
        "variation",
        "variation_side",
        "variation_rules",
    }
    assert set(doc["limits"]) == {
        "centre",
        "lower",
        "upper",
        "sigma",
        "mr_bar",
        "mr_upper",
        "baseline_points",
        "chart",
    }
    # full precision: JSON is for programs, people get rounded text
    assert doc["limits"] == {
        "chart": "xmr",
        "centre": 10.0,
        "lower": 10.0 - 2.66 * 2.0,
        "upper": 10.0 + 2.66 * 2.0,
        "sigma": 2.0 / 1.128,
        "mr_bar": 2.0,
        "mr_upper": 3.268 * 2.0,
        "baseline_points": 8,
    }
    rule = doc["rules"][0]
    assert set(rule) == {"rule", "description", "periods", "direction"}
    assert rule["rule"] == 2 and rule["direction"] == "up" and rule["periods"][0] == 8
    assert "9 points" in rule["description"]


# --------------------------------------------------------------------------- target sanity


@pytest.mark.parametrize(
    ("target", "direction", "code"),
    [
        # limits 4.68 .. 15.32, limit distance 5.32, 1.5 × 5.32 = 7.98 from the centre
        (12.0, "increase", "within_noise"),
        (15.32, "increase", "within_noise"),  # on the limit counts as inside
        (16.0, "increase", "beyond_limits"),  # 6.0 from the centre <= 7.98
        (17.9, "increase", "beyond_limits"),
        (18.0, "increase", "unreachable"),  # 8.0 > 7.98
        (3.0, "increase", "already_met"),
        (3.0, "decrease", "beyond_limits"),  # 7.0 below the centre
        (1.0, "decrease", "unreachable"),  # 9.0 below
        (16.0, "decrease", "already_met"),
    ],
)
def test_target_sanity(target, direction, code):
    check = target_sanity(L, target, direction)
    assert check.code == code
    assert check.message and f"{target:.4g}" in check.message


def test_target_sanity_names_no_limit_beyond_the_kpis_range():
    # limits 4.68 .. 15.32 on a KPI that cannot go below 5 or above 100
    check = target_sanity(L, 12.0, "increase", (5.0, 100.0))
    assert check.code == "within_noise"
    assert "(5 to 15.32, at the end of the values the KPI can take)" in check.message
    assert "4.68" not in check.message
    # inside the range: the limits as computed, nothing added
    check = target_sanity(L, 12.0, "increase", (0.0, 100.0))
    assert "(4.68 to 15.32)" in check.message


def test_target_sanity_without_limits():
    assert target_sanity(compute_limits([1.0]), 5.0, "increase").code == "unknown"


# --------------------------------------------------------------------------- properties

finite = st.floats(allow_nan=False, allow_infinity=False)
series_st = st.lists(st.one_of(finite, st.none()), max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    series=series_st,
    baseline=st.one_of(st.none(), st.integers(min_value=-2, max_value=70)),
    rules=st.sets(st.sampled_from(ALL_RULES)),
    direction=st.sampled_from(["increase", "decrease"]),
    min_points=st.integers(min_value=0, max_value=12),
)
def test_check_series_never_raises(series, baseline, rules, direction, min_points):
    res = check_series(
        series, baseline=baseline, rules=rules, direction=direction, min_points=min_points
    )
    assert res.verdict in VERDICTS
    json.dumps(res.to_json(), allow_nan=False)
    present = {i for i, v in enumerate(series) if v is not None}
    for sig in (*res.signals, *res.baseline_signals):
        assert sig.rule in rules
        assert list(sig.periods) == sorted(set(sig.periods))
        assert set(sig.periods) <= present
    if res.verdict in ("improved", "deteriorated", "mixed"):
        # a verdict always has its reasons; mixed has both ways
        ways = {r.direction for r in res.reasons}
        assert ways == {"up", "down"} if res.verdict == "mixed" else len(ways) == 1
    else:
        assert res.reasons == ()
    for code_target in (0.0, 1e6):
        assert target_sanity(res.limits, code_target, direction).code in {
            "within_noise",
            "beyond_limits",
            "unreachable",
            "already_met",
            "unknown",
        }


@settings(max_examples=150, deadline=None)
@given(
    base=st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=2, max_size=30),
    extra=st.lists(st.floats(min_value=-1e6, max_value=1e6), max_size=30),
)
def test_limits_frozen_whatever_follows(base, extra):
    assert compute_limits(base + extra, baseline=len(base)) == compute_limits(base)
