"""How often ``pdca check`` gives a false verdict, measured end to end on simulated data.

A playbook of 720 metrics (per KPI kind: 120 stable, 60 with a sustained
1.5-sd improvement from the cycle start; independent weekly noise) is written
as CSV files and checked by ``pdca check --format json`` in a separate
process. The goals: at most 5 % of stable metrics get a verdict in a 13-week
cycle, at least 80 % of the improvements are called ``improved`` and none
``deteriorated``. Seeds are fixed, so the counts are the same on every run.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from honesty_sim import BASELINE_WEEKS, FIRST_DAY, WEEKS, Series
from honesty_suite import (
    KINDS,
    VALUE_COLUMN,
    VERDICT_GIVEN,
    Planned,
    Suite,
    Tally,
    plan_suite,
    reference_verdict,
    run_check,
    tally,
    wilson,
    write_suite,
)

STABLE, SHIFTED, SEED = 120, 60, 20261203

pytestmark = pytest.mark.slow  # writes ~1.3M rows and spawns pdca check


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Suite, dict[str, Any], Tally]:
    suite = write_suite(
        tmp_path_factory.mktemp("honesty"), plan_suite(stable=STABLE, shifted=SHIFTED, seed=SEED)
    )
    report, _ = run_check(suite.playbook)
    return suite, report, tally(suite, report)


def _by_kind(result: Tally, group: str, verdicts: tuple[str, ...]) -> str:
    parts = []
    for kind in KINDS:
        hits, n = result.count(group, verdicts, kind=kind)
        parts.append(f"{kind} {hits}/{n}")
    return ", ".join(parts)


def test_at_most_5_percent_of_stable_metrics_get_a_verdict(checked: Any) -> None:
    _, _, result = checked
    hits, n = result.count("stable", VERDICT_GIVEN, phi=0.0)
    assert n == STABLE * len(KINDS)
    assert hits <= 0.05 * n, _by_kind(result, "stable", VERDICT_GIVEN)


def test_at_least_80_percent_of_sustained_improvements_are_called_improved(checked: Any) -> None:
    _, _, result = checked
    hits, n = result.count("shifted", ("improved",), phi=0.0)
    assert n == SHIFTED * len(KINDS)
    assert hits >= 0.8 * n, _by_kind(result, "shifted", ("improved",))


def test_no_sustained_improvement_is_called_deteriorated(checked: Any) -> None:
    _, _, result = checked
    for kind in KINDS:
        hits, n = result.count("shifted", ("deteriorated",), phi=0.0, kind=kind)
        assert n == SHIFTED
        assert hits == 0, f"{kind}: {hits} of {n} improvements called deteriorated"


def test_pdca_weekly_values_are_the_ones_computed_from_the_rows(checked: Any) -> None:
    """The data path (CSV, filter, ISO weeks, KPI) measures exactly what was simulated."""
    suite, report, _ = checked
    for sim in suite.metrics:
        series = report["metrics"][sim.metric]["series"]
        assert len(series) == WEEKS, sim.metric
        assert series[0]["start"] == FIRST_DAY.isoformat()
        assert not any(p.get("partial") for p in series)
        got = np.array([p["value"] for p in series], dtype=float)
        # DuckDB and numpy add a week's values in different orders: equal up to float
        # rounding, far below any difference the verdict could see
        assert np.allclose(got, sim.weekly, rtol=1e-12, atol=0), sim.metric
        assert [p["n"] for p in series] == list(sim.series.n), sim.metric


def test_every_metric_is_judged_on_26_baseline_weeks(checked: Any) -> None:
    suite, report, result = checked
    for sim in suite.metrics:
        signal = report["metrics"][sim.metric]["signal"]
        assert signal["limits"]["baseline_points"] == BASELINE_WEEKS, sim.metric
    verdicts = Counter(v for counter in result.groups.values() for v in counter.elements())
    assert verdicts["insufficient_data"] == 0


def _small_suite(folder: Path) -> Suite:
    return write_suite(folder, plan_suite(stable=3, shifted=2, seed=7))


def test_csv_holds_the_volumes_and_responses_the_generator_claims(tmp_path: Path) -> None:
    suite = _small_suite(tmp_path)
    for kind in KINDS:
        path = tmp_path / "data" / f"{kind}_phi0.csv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert set(rows[0]) == {"series", "day"} | (
            {VALUE_COLUMN[kind]} if kind != "count" else set()
        )
        for sim in (s for s in suite.metrics if s.kind == kind):
            mine = [r for r in rows if r["series"] == sim.metric]
            weeks = [
                (np.datetime64(r["day"]) - np.datetime64(FIRST_DAY)).astype(int) // 7 for r in mine
            ]
            assert list(np.bincount(weeks, minlength=WEEKS)) == list(sim.series.n)
            assert len(mine) == sim.rows == sim.series.n.sum()
            if kind == "rate":
                assert {r["resolved"] for r in mine} <= {"yes", "no"}
            elif kind == "csat":
                assert {r["score"] for r in mine} <= {"1", "2", "3", "4", "5"}
            elif kind == "mean":
                assert all(float(r["minutes"]) > 0 for r in mine)


def test_suite_playbook_validates(tmp_path: Path) -> None:
    suite = _small_suite(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "pdca", "validate", str(suite.playbook)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_huge_shifts_are_called_by_the_direction_that_is_better(tmp_path: Path) -> None:
    """Hand-made series, far beyond any noise: rates up are better, minutes and counts down."""
    n = np.full(WEEKS, 50)
    cycle = np.arange(WEEKS) >= BASELINE_WEEKS
    up = np.where(cycle, 0.9, 0.5)
    planned = [
        Planned("rate-up", "rate", 0.0, True, Series(n, up, 0.07), seed=1),
        Planned("rate-down", "rate", 0.0, True, Series(n, 1 - up, 0.07), seed=2),
        Planned("minutes-down", "mean", 0.0, True, Series(n, np.where(cycle, 10, 20), 1, 3), 3),
        Planned("count-up", "count", 0.0, True, Series(np.where(cycle, 90, 40), n, 7), seed=4),
    ]
    suite = write_suite(tmp_path, planned)
    report, _ = run_check(suite.playbook, "--no-cache")
    verdict = {m: e["signal"]["verdict"] for m, e in report["metrics"].items()}
    assert verdict == {
        "rate-up": "improved",
        "rate-down": "deteriorated",
        "minutes-down": "improved",
        "count-up": "deteriorated",
    }
    weekly = {s.metric: s.weekly for s in suite.metrics}
    assert weekly["rate-up"][cycle].mean() > 80 > 60 > weekly["rate-up"][~cycle].mean()
    assert weekly["minutes-down"][cycle].mean() < 12 < 18 < weekly["minutes-down"][~cycle].mean()


def test_reference_reading_of_the_rules_by_hand() -> None:
    base = [10.0, 12.0] * 13  # centre 11, MR-bar 2, limits 5.68 .. 16.32, sigma 1.773
    assert reference_verdict(np.array(base + [11.0, 12.0, 10.0] * 4 + [11.0]), "increase") == (
        "no_signal"
    )
    assert reference_verdict(np.array(base + [11.0] * 12 + [17.0]), "increase") == "improved"
    assert reference_verdict(np.array(base + [11.0] * 12 + [17.0]), "decrease") == "deteriorated"
    # rule 2: nine weeks a little below the centre (10.5) are a shift down
    assert reference_verdict(np.array(base + [11.5] * 4 + [10.5] * 9), "decrease") == "improved"
    # rule 5: two of three beyond 2 sigma (14.55) above; the later rule-2 run below wins
    late_down = base + [15.0, 11.5, 15.0] + [10.5] * 10
    assert reference_verdict(np.array(late_down), "increase") == "deteriorated"


def test_wilson_interval_matches_hand_computed_values() -> None:
    # 10 of 100: p = 0.1, z = 1.96 -> (0.0552, 0.1744) (Wilson 1927, as in R's prop.test
    # without continuity correction)
    lo, hi = wilson(10, 100)
    assert (round(lo, 4), round(hi, 4)) == (0.0552, 0.1744)
    # 0 of 50: the upper end is z^2 / (n + z^2) = 3.8415 / 53.8415
    assert wilson(0, 50) == (0.0, pytest.approx(0.071348, abs=1e-6))
