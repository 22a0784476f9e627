"""Pearson / Spearman correlation with alignment by period and t-based p-values."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdca.check.stats.correlate import align, correlate, r_p_value, ranks, t_two_sided_p


def test_pearson_matches_numpy_corrcoef():
    rng = np.random.default_rng(11)
    x = rng.normal(0, 1, 30)
    y = 0.6 * x + rng.normal(0, 1, 30)
    res = correlate(list(x), list(y))
    assert res.n == 30
    assert res.pearson_r == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    assert res.caution is None


def test_spearman_hand_computed_with_ties():
    # x = 1, 2, 2, 3, 5 -> ranks 1, 2.5, 2.5, 4, 5 (the tied 2s share (2 + 3) / 2)
    # y = 2, 1, 4, 3, 6 -> ranks 2, 1, 4, 3, 5
    # rank deviations from the mean rank 3: dx = -2, -.5, -.5, 1, 2 ; dy = -1, -2, 1, 0, 2
    # Σ dx·dy = 2 + 1 - .5 + 0 + 4 = 6.5 ; Σ dx² = 9.5 ; Σ dy² = 10
    # rho = 6.5 / √95 = 0.666886
    x, y = [1.0, 2.0, 2.0, 3.0, 5.0], [2.0, 1.0, 4.0, 3.0, 6.0]
    assert list(ranks(np.array(x))) == [1.0, 2.5, 2.5, 4.0, 5.0]
    res = correlate(x, y)
    assert res.spearman_rho == pytest.approx(0.666886, abs=1e-6)
    assert res.spearman_rho == pytest.approx(np.corrcoef(ranks(np.array(x)), [2, 1, 4, 3, 5])[0, 1])


def test_spearman_sees_monotone_relations_pearson_understates():
    x = [float(i) for i in range(1, 13)]
    res = correlate(x, [v**4 for v in x])
    assert res.spearman_rho == pytest.approx(1.0)
    assert res.pearson_r < 0.95
    assert res.spearman_p == 0.0


def test_t_distribution_p_values():
    # closed forms: df = 1 (Cauchy) p = 1 - (2/π) atan|t| ; df = 2: p = 1 - |t| / √(2 + t²)
    assert t_two_sided_p(1.0, 1) == pytest.approx(0.5, abs=1e-12)
    assert t_two_sided_p(3.0, 2) == pytest.approx(1 - 3 / math.sqrt(11), abs=1e-12)
    # table values: t(0.975; 10) = 2.228139, t(0.975; 20) = 2.085963 -> p = 0.05
    assert t_two_sided_p(2.228139, 10) == pytest.approx(0.05, abs=1e-6)
    assert t_two_sided_p(-2.085963, 20) == pytest.approx(0.05, abs=1e-6)
    # huge df tends to the normal: 1.959964 -> 0.05
    assert t_two_sided_p(1.959964, 1e6) == pytest.approx(0.05, abs=1e-5)
    assert t_two_sided_p(0.0, 5) == pytest.approx(1.0)


def test_r_p_value_hand_computed():
    # n = 3, r = 0.5: t = 0.5 √(1 / 0.75) = 1/√3, df = 1
    # p = 1 - (2/π) atan(1/√3) = 1 - (2/π)(π/6) = 2/3
    assert r_p_value(0.5, 3) == pytest.approx(2 / 3, abs=1e-12)
    assert r_p_value(1.0, 5) == 0.0
    assert r_p_value(0.3, 2) is None


def test_alignment_by_period_key():
    weeks = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(6)]
    a = {w: float(i) for i, w in enumerate(weeks)}  # 0..5
    b = {w: 10.0 - 2 * i for i, w in enumerate(weeks[2:], start=2)}  # weeks 2..5
    b[weeks[3]] = None  # a missing value drops the pair
    keys, xa, xb = align(a, b)
    assert keys == [weeks[2], weeks[4], weeks[5]]
    assert list(xa) == [2.0, 4.0, 5.0] and list(xb) == [6.0, 2.0, 0.0]
    res = correlate(a, b)
    assert res.n == 3 and res.pearson_r == pytest.approx(-1.0)
    # the same as lists with keys
    res2 = correlate(list(a.values()), list(b.values()), keys_a=list(a), keys_b=list(b))
    assert res2 == res


def test_plain_lists_pair_by_position_and_bad_keys_rejected():
    assert correlate([1.0, 2.0, 3.0, None], [2.0, 4.0, 7.0, 8.0]).n == 3
    with pytest.raises(ValueError, match="keys"):
        correlate([1.0, 2.0], [1.0, 2.0], keys_a=["w1"])


def test_caution_with_few_periods():
    res = correlate([1.0, 2.0, 3.0, 4.0, 6.0], [2.0, 1.0, 4.0, 3.0, 5.0])
    assert res.n == 5 and res.caution == "few periods (n=5): treat as a hint"
    assert res.pearson_p is not None and 0 < res.pearson_p < 1
    many = correlate(list(range(10)), [1, 3, 2, 5, 4, 6, 8, 7, 9, 10])
    assert many.n == 10 and many.caution is None


def test_no_correlation_for_constant_or_two_points():
    flat = correlate([1.0, 2.0, 3.0, 4.0], [5.0] * 4)
    assert flat.pearson_r is None and flat.spearman_rho is None and flat.caution
    two = correlate([1.0, 2.0], [3.0, 1.0])
    assert two.pearson_r is None and two.n == 2
    json.dumps(flat.to_json(), allow_nan=False)


pairs = st.lists(
    st.tuples(
        st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none()),
        st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(pairs)
def test_correlate_never_raises(data):
    res = correlate([a for a, _ in data], [b for _, b in data])
    for v in (res.pearson_r, res.spearman_rho):
        assert v is None or -1.0 <= v <= 1.0
    for p in (res.pearson_p, res.spearman_p):
        assert p is None or 0.0 <= p <= 1.0
    json.dumps(res.to_json(), allow_nan=False)
