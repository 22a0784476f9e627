"""Before/after a countermeasure: means, change, and signals that began after the marker."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdca.check.stats.effects import countermeasure_effect, effects_for

MONDAY = date(2024, 1, 1)
BASE = [9.0, 11.0, 10.0, 12.0, 8.0, 10.0, 11.0, 9.0]  # centre 10, MR̄ 2 (see test_spc)


def weekly(values, start=MONDAY):
    return [(start + timedelta(weeks=i), v) for i, v in enumerate(values)]


def test_before_after_with_marker_inside_a_week():
    # weeks 0..7 = BASE, week 8 (2024-02-26) = 20, weeks 9..17 = 13
    # marker Wednesday 2024-02-28 falls inside week 8: that week is left out.
    # before mean = 80 / 8 = 10 ; after mean = 9 × 13 / 9 = 13
    # change = 3 = 30 % of 10 ; nine weeks at 13 > centre 10: rule 2 from week 9
    series = weekly([*BASE, 20.0] + [13.0] * 9)
    eff = countermeasure_effect(series, date(2024, 2, 28), direction="increase")
    assert eff.excluded_period == date(2024, 2, 26)
    assert (eff.n_before, eff.n_after) == (8, 9)
    assert eff.before_mean == pytest.approx(10.0) and eff.after_mean == pytest.approx(13.0)
    assert eff.change == pytest.approx(3.0) and eff.change_pct == pytest.approx(30.0)
    assert eff.limits.centre == pytest.approx(10.0) and eff.limits.mr_bar == pytest.approx(2.0)
    assert eff.signal_after
    assert [(s.rule, s.periods) for s in eff.signals] == [(2, tuple(range(9, 18)))]
    assert eff.first_signal_date == date(2024, 3, 4)
    assert eff.verdict == "improved"


def test_marker_on_a_period_start_keeps_that_period_after():
    series = weekly(BASE + [13.0] * 9)
    eff = countermeasure_effect(series, date(2024, 2, 26))  # week 8's first day
    assert eff.excluded_period is None
    assert (eff.n_before, eff.n_after) == (8, 9)
    assert eff.signals[0].periods[0] == 8
    assert eff.verdict is None  # no direction asked


@pytest.mark.parametrize("day", [29, 30, 31])
def test_a_task_done_late_in_a_month_leaves_its_own_month_out(day: int) -> None:
    # monthly periods, February the shortest gap (28 days): a task done on 29-31
    # March still falls inside March, which mixes both regimes
    months = [date(2025, m, 1) for m in range(10, 13)] + [date(2026, m, 1) for m in range(1, 7)]
    values = [10.0, 11.0, 10.0, 11.0, 10.0, 99.0, 20.0, 21.0, 20.0]  # March is the 99
    e = countermeasure_effect(list(zip(months, values, strict=True)), date(2026, 3, day))
    assert e.excluded_period == date(2026, 3, 1)
    assert (e.n_before, e.n_after) == (5, 3)
    assert e.before_mean == pytest.approx(52 / 5) and e.after_mean == pytest.approx(61 / 3)
    # on 1 April the marker starts April: March is wholly before it
    e = countermeasure_effect(list(zip(months, values, strict=True)), date(2026, 4, 1))
    assert e.excluded_period is None and e.n_before == 6


def test_lower_is_better_and_unsorted_input():
    # BASE with its last two weeks swapped (same centre 10, MR̄ 2) so that it ends above
    # the centre; with BASE's final 9 the run below would begin before the marker.
    before = [9.0, 11.0, 10.0, 12.0, 8.0, 10.0, 9.0, 11.0]
    series = weekly(before + [7.0] * 9)
    eff = countermeasure_effect(list(reversed(series)), date(2024, 2, 26), direction="decrease")
    # after mean 7: change -3 = -30 %
    assert eff.change == pytest.approx(-3.0) and eff.change_pct == pytest.approx(-30.0)
    assert eff.limits.mr_bar == pytest.approx(2.0)
    assert eff.verdict == "improved"
    assert eff.signals[0].periods == tuple(range(8, 17))
    # with BASE the run of 10 below starts at week 7, before the marker: no credit
    assert not countermeasure_effect(weekly(BASE + [7.0] * 9), date(2024, 2, 26)).signal_after


def test_change_without_signal():
    # after: 10.5, 9.5 alternating for 8 weeks -> mean 10, nothing beyond noise
    eff = countermeasure_effect(weekly(BASE + [10.5, 9.5] * 4), date(2024, 2, 26))
    assert eff.change == pytest.approx(0.0)
    assert not eff.signal_after and eff.first_signal_date is None


def test_signal_that_began_before_the_marker_is_not_credited():
    # before: 8, 9, 8, 9, 11, 11, 11, 11 -> centre 78 / 8 = 9.75
    # the last 4 before weeks and 6 after weeks are above it: one run of 10 starting
    # at week 4, before the marker, so the countermeasure gets no credit for it.
    before = [8.0, 9.0, 8.0, 9.0, 11.0, 11.0, 11.0, 11.0]
    eff = countermeasure_effect(
        weekly(before + [11.0] * 6), date(2024, 2, 26), rules=(2,), direction="increase"
    )
    assert eff.limits.centre == pytest.approx(9.75)
    assert not eff.signal_after and eff.verdict == "no_signal"
    # the same after stretch following a stable before stretch is credited
    eff2 = countermeasure_effect(
        weekly(BASE + [11.0] * 9), date(2024, 2, 26), rules=(2,), direction="increase"
    )
    assert eff2.signal_after and eff2.verdict == "improved"


def test_missing_values_and_datetimes():
    series = weekly([*BASE, None, 13.0, 13.0])
    eff = countermeasure_effect(series, datetime(2024, 2, 26, 15, 30))
    assert eff.marker == date(2024, 2, 26)
    assert (eff.n_before, eff.n_after) == (8, 2)
    assert eff.after_mean == pytest.approx(13.0)


def test_nothing_before_or_nothing_after():
    series = weekly(BASE)
    early = countermeasure_effect(series, date(2023, 6, 1), direction="increase")
    assert early.n_before == 0 and early.before_mean is None and early.change is None
    assert early.verdict == "insufficient_data" and not early.limits.available
    late = countermeasure_effect(series, date(2025, 1, 1), direction="increase")
    assert late.n_after == 0 and late.after_mean is None and late.verdict == "insufficient_data"
    assert late.excluded_period is None  # 2025 is far beyond the last week
    zero = countermeasure_effect(weekly([0.0] * 4 + [1.0] * 4), date(2024, 1, 29))
    assert zero.change == pytest.approx(1.0) and zero.change_pct is None


def test_effects_for_several_markers_and_json():
    series = weekly(BASE + [13.0] * 9)
    effs = effects_for(series, [date(2024, 2, 26), date(2024, 1, 15)], direction="increase")
    assert [e.marker for e in effs] == [date(2024, 2, 26), date(2024, 1, 15)]
    doc = json.loads(json.dumps(effs[0].to_json(), allow_nan=False))
    assert doc["marker"] == "2024-02-26" and doc["signal_after"] is True
    assert doc["first_signal_date"] == "2024-02-26"
    assert doc["change_pct"] == 30.0 and doc["limits"]["centre"] == 10.0
    with pytest.raises(ValueError, match="direction"):
        countermeasure_effect(series, date(2024, 2, 26), direction="higher")


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none()), max_size=40
    ),
    offset=st.integers(min_value=-30, max_value=400),
)
def test_effect_never_raises(values, offset):
    eff = countermeasure_effect(
        weekly(values), MONDAY + timedelta(days=offset), direction="increase"
    )
    assert eff.verdict in ("improved", "deteriorated", "no_signal", "insufficient_data")
    assert eff.n_before + eff.n_after <= sum(v is not None for v in values)
    json.dumps(eff.to_json(), allow_nan=False)
