"""Is the cycle long enough for the target to show? The plan ``pdca validate --data`` checks."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from pdca.check.cycleplan import plan_cycle
from pdca.check.stats.base import lag1
from pdca.check.stats.perchart import per_n_limits
from pdca.check.stats.power import detection_power, periods_to_detect
from pdca.playbook.model import Cycle, Metric
from pdca.testing import PlaybookBuilder

CYCLE_START = date(2026, 1, 5)
QUARTER = Cycle(CYCLE_START, 90)


def weeks(values: list[float], n: list[int] | None = None) -> list[dict]:
    """Weekly points ending the week before the cycle starts."""
    first = CYCLE_START - timedelta(weeks=len(values))
    return [
        {
            "period": f"w{i}",
            "start": (first + timedelta(weeks=i)).isoformat(),
            "value": v,
            "n": n[i] if n else 30,
        }
        for i, v in enumerate(values)
    ]


def metric(**keys) -> Metric:
    return Metric(**{"id": "m", "source": "s", "kpi": "mean", "target": 14.0, **keys})


ZIGZAG = [10.0, 12.0] * 6  # centre 11, every moving range 2: sigma 2 / 1.128, r < 0 -> 0


def test_xmr_plan_by_hand() -> None:
    plan = plan_cycle(metric(target=13.8), "xmr", weeks(ZIGZAG), QUARTER)
    assert plan is not None
    sigma = 2 / 1.128
    assert (plan.centre, plan.sigma, plan.autocorrelation) == (11.0, pytest.approx(sigma), 0.0)
    assert (plan.baseline_points, plan.gap) == (12, pytest.approx(2.8))
    assert plan.periods_in_cycle == 13  # 90 / 7 = 12.9 weeks
    assert plan.periods_needed == periods_to_detect(2.8, sigma, 12) == 17
    assert plan.power == pytest.approx(detection_power(2.8, sigma, 12, 13))
    assert plan.too_short
    assert plan.message() == (
        "metric 'm': a change of 2.8 (from 11.0 to the target 13.8) needs about 17 weekly "
        "periods to show with 80 % probability; the 90-day cycle holds 13, which give it "
        f"about {round(100 * plan.power)} % — lengthen the cycle to about 119 days, "
        "or expect no verdict"
    )
    # a 119-day cycle holds the 17 weeks: nothing to warn about
    assert not plan_cycle(
        metric(target=13.8), "xmr", weeks(ZIGZAG), Cycle(CYCLE_START, 119)
    ).too_short


def test_decrease_targets_and_targets_already_met() -> None:
    down = plan_cycle(metric(target=8.0, direction="decrease"), "xmr", weeks(ZIGZAG), QUARTER)
    assert down is not None and down.gap == 3.0
    assert plan_cycle(metric(target=10.0), "xmr", weeks(ZIGZAG), QUARTER) is None
    assert plan_cycle(metric(target=11.0), "xmr", weeks(ZIGZAG), QUARTER) is None
    assert (
        plan_cycle(metric(target=12.0, direction="decrease"), "xmr", weeks(ZIGZAG), QUARTER) is None
    )


def test_nothing_to_plan_without_a_length_a_baseline_or_a_spread() -> None:
    assert plan_cycle(metric(), "xmr", weeks(ZIGZAG), Cycle(CYCLE_START, None)) is None
    assert plan_cycle(metric(), "xmr", weeks(ZIGZAG[:11]), QUARTER) is None  # 11 < 12
    assert plan_cycle(metric(), "xmr", weeks([11.0] * 20), QUARTER) is None  # sigma 0
    assert plan_cycle(metric(target=math.nan), "xmr", weeks(ZIGZAG), QUARTER) is None
    # missing values do not count towards the 12
    assert plan_cycle(metric(), "xmr", weeks([*ZIGZAG[:10], None, 10.0]), QUARTER) is None
    # no cycle start: the history so far is the baseline
    assert plan_cycle(metric(), "xmr", weeks(ZIGZAG), Cycle(None, 90)).baseline_points == 12


def test_only_the_periods_before_the_cycle_are_the_baseline() -> None:
    judged = [{"period": "j", "start": CYCLE_START.isoformat(), "value": 50.0, "n": 30}]
    plan = plan_cycle(metric(), "xmr", weeks(ZIGZAG) + judged, QUARTER)
    assert (plan.centre, plan.baseline_points) == (11.0, 12)


def test_proportions_use_the_sigma_of_the_median_volume() -> None:
    """Laney p': a period of n has sigma unit_sigma / sqrt(n); the plan takes the median n."""
    values = [40.0, 44.0, 41.0, 45.0, 39.0, 43.0, 42.0, 44.0, 40.0, 46.0, 41.0, 43.0, 42.0]
    n = [100, 400, 100, 400, 100, 400, 100, 400, 100, 400, 100, 400, 900]  # median 400
    kpi_metric = metric(kpi="csat", target=50.0)
    plan = plan_cycle(kpi_metric, "p_prime", weeks(values, n), QUARTER)
    limits = per_n_limits(values, n, 13, "p_prime")
    assert plan.centre == pytest.approx(limits.centre)
    assert plan.sigma == pytest.approx(limits.unit_sigma / 20)
    z = limits.z(values, n)
    assert plan.autocorrelation == pytest.approx(min(max(lag1(z), 0.0), 0.8))
    assert plan.periods_needed == periods_to_detect(
        50.0 - limits.centre, limits.unit_sigma / 20, 13, autocorrelation=plan.autocorrelation
    )
    # the same values read as XmR would take sigma from their own moving ranges
    assert plan_cycle(kpi_metric, "xmr", weeks(values, n), QUARTER).sigma != plan.sigma


def test_monthly_message_suggests_weekly_periods_and_says_when_no_length_suffices() -> None:
    months = [
        {
            "period": f"m{i}",
            "start": date(2024 + i // 12, i % 12 + 1, 1).isoformat(),
            "value": v,
            "n": 40,
        }
        for i, v in enumerate([20.0, 24.0] * 6)
    ]
    plan = plan_cycle(metric(target=28.0, period="month"), "xmr", months, QUARTER)
    assert plan.periods_in_cycle == 3  # 90 / 30.44
    text = plan.message()
    assert "(from 22.0 to the target 28.0)" in text
    assert "chart it weekly (period: week)," in text
    lost = plan_cycle(metric(target=22.5, period="month"), "xmr", months, QUARTER)
    assert lost.periods_needed is None
    assert lost.message() == (
        "metric 'm': a change of 0.50 (from 22.00 to the target 22.50) is too small against "
        "the noise of its 12 baseline periods to show with 80 % probability in a cycle of "
        f"any length; the 90-day cycle holds 3, which give it {_chance(lost.power)} — aim "
        "for a bigger change, collect a longer baseline, chart it weekly (period: week), or "
        "expect no verdict"
    )
    assert replace(lost, power=0.001).message().count("under 1 %") == 1


def _chance(power: float) -> str:
    return f"about {round(100 * power)} %" if power >= 0.005 else "under 1 %"


# -- pdca validate --data, in a process of its own ------------------------------------------

SCORES = np.arange(11)
# eNPS about 22: 20 % detractors (0-6), 38 % passives, 42 % promoters
ENPS_P = np.array([0.03] * 6 + [0.02, 0.21, 0.17, 0.20, 0.22])


def write_desk(builder: PlaybookBuilder, seed: int = 5) -> tuple[Path, list[float], list[int]]:
    """24 months of an employee survey (300 answers a month) and 26 weeks of handling
    times (30 a week, mean 30, sd 4), all before a 90-day cycle starting 2026-01-05.

    Returns the playbook and the monthly eNPS values and volumes, computed here."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    enps, volumes = [], []
    for i in range(24):
        scores = rng.choice(SCORES, size=300, p=ENPS_P)
        enps.append(100.0 * (np.mean(scores >= 9) - np.mean(scores <= 6)))
        volumes.append(300)
        month = date(2024 + i // 12, i % 12 + 1, 1)
        rows += [
            {"ts": f"{month + timedelta(days=j % 28)} 09:00", "score": int(s)}
            for j, s in enumerate(scores)
        ]
    first = CYCLE_START - timedelta(weeks=26)
    for w in range(26):
        for j in range(30):
            day = first + timedelta(weeks=w, days=j % 5)
            rows.append({"ts": f"{day} 10:{j:02d}", "minutes": round(rng.normal(30, 4), 2)})
    path = (
        builder.source("s", rows=rows, timestamp="ts")
        .metric("enps", source="s", kpi="enps", field="score", target=28, period="month")
        .metric("handle", source="s", kpi="mean", field="minutes", target=27, direction="decrease")
        .cycle(CYCLE_START, "90d")
        .write()
    )
    return path, enps, volumes


def pdca(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pdca", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_validate_data_warns_that_a_quarter_is_too_short_for_a_monthly_target(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path, enps, volumes = write_desk(playbook_builder("desk"))
    text = pdca("validate", "--data", "--as-of", "2026-01-04", path)
    assert text.returncode == 0, text.stderr  # warnings only: validation passes, as before
    lines = text.stdout.splitlines()
    (warning,) = [x for x in lines if ": warning: " in x]
    assert warning.startswith(f"{path}:")
    assert "warning: metric 'enps': a change of " in warning
    assert "monthly periods to show with 80 % probability; the 90-day cycle holds 3" in warning
    assert not any("'handle'" in x for x in lines)  # a big weekly change shows in 13 weeks
    assert lines[-1] == f"{path}: ok: playbook 'desk' with 0 objectives, 2 metrics, 0 tasks"

    out = pdca("validate", "--data", "--as-of", "2026-01-04", "--format", "json", path)
    assert out.returncode == 0, out.stderr
    (problem,) = json.loads(out.stdout)[0]["problems"]
    assert problem["message"] == warning.split(": warning: ", 1)[1]
    plan = problem["cycle_plan"]
    # the figures, from the survey answers as written, not from pdca's SQL
    limits = per_n_limits(enps, volumes, 24, "p_prime")
    sigma = limits.unit_sigma / math.sqrt(300)
    r = min(max(lag1(limits.z(enps, volumes)), 0.0), 0.8)
    gap = 28 - limits.centre
    assert plan["baseline_centre"] == pytest.approx(limits.centre, abs=1e-3)
    assert plan["sigma"] == pytest.approx(sigma, rel=1e-3)
    assert plan["gap"] == pytest.approx(gap, abs=1e-3)
    assert (plan["period"], plan["baseline_points"], plan["periods_in_cycle"]) == ("month", 24, 3)
    needed = periods_to_detect(gap, sigma, 24, autocorrelation=r)
    assert plan["periods_needed"] == needed and needed > 3
    assert plan["power"] == pytest.approx(
        detection_power(gap, sigma, 24, 3, autocorrelation=r), abs=1e-4
    )
    assert f"needs about {needed} monthly periods" in warning
    assert "to the target 28.0)" in warning
