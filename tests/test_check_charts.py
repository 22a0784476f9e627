"""``pdca check`` end to end: the chart each KPI is read on, the minimum baseline, the budget."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pdca.check.stats.evidence import expected_false_rate
from pdca.cli import cli

START = date(2025, 9, 1)  # a Monday
CYCLE = date(2026, 1, 5)  # 18 baseline weeks, then 12 judged weeks
AS_OF = "2026-03-29"  # a Sunday: the last week is complete


def write_tickets(folder: Path, seed: int = 5) -> list[int]:
    """30 weeks of tickets with swinging volumes; a stable 70 % resolved on first contact."""
    rng = np.random.default_rng(seed)
    volumes = [int(v) for v in np.clip(np.round(rng.lognormal(np.log(35), 0.8, 30)), 6, 200)]
    rows = ["ts,resolved,minutes"]
    for week, n in enumerate(volumes):
        monday = START + timedelta(weeks=week)
        for i in range(n):
            day = monday + timedelta(days=i % 5)
            resolved = "yes" if rng.random() < 0.7 else "no"
            rows.append(f"{day} 09:{i % 60:02d},{resolved},{rng.normal(30, 5):.2f}")
    (folder / "tickets.csv").write_text("\n".join(rows) + "\n")
    return volumes


def playbook(folder: Path, metrics: str, check: str = "") -> Path:
    path = folder / "playbook.yaml"
    path.write_text(
        "playbook: p\ntitle: Charts\n"
        "sources: {t: {type: csv, path: tickets.csv, timestamp: ts}}\n"
        f"metrics:\n{metrics}"
        f"cycle: {{start: {CYCLE}}}\n{check}"
    )
    return path


def check_json(path: Path) -> dict:
    result = CliRunner().invoke(cli, ["check", str(path), "--format", "json", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


FCR = "  fcr: {source: t, kpi: rate, field: resolved, target: 80}\n"


def test_a_rate_is_read_on_laney_p_prime_with_limits_from_each_weeks_n(tmp_path: Path) -> None:
    volumes = write_tickets(tmp_path)
    fcr = check_json(playbook(tmp_path, FCR))["metrics"]["fcr"]
    limits = fcr["signal"]["limits"]
    assert limits["chart"] == "p_prime" and limits["baseline_points"] == 18
    points = fcr["series"]
    assert [p["n"] for p in points] == volumes
    # each week's half-width times sqrt(n) is the same: 3 x the per-response sigma
    for p in points:
        assert p["upper"] - limits["centre"] == pytest.approx(
            3 * limits["unit_sigma"] / math.sqrt(p["n"]), rel=1e-9
        )
        assert limits["centre"] - p["lower"] == pytest.approx(p["upper"] - limits["centre"])
    # the centre is the pooled baseline rate, by hand from the weeks' values and n
    base = points[:18]
    pooled = sum(p["value"] * p["n"] for p in base) / sum(p["n"] for p in base)
    assert limits["centre"] == pytest.approx(pooled, rel=1e-12)
    assert fcr["signal"]["verdict"] == "no_signal"
    assert fcr["signal"]["false_alarm_rate"] == expected_false_rate(18, 12)


def test_a_metric_may_ask_for_another_chart(tmp_path: Path) -> None:
    write_tickets(tmp_path)
    doc = check_json(playbook(tmp_path, FCR.replace("target: 80}", "target: 80, chart: xmr}")))
    fcr = doc["metrics"]["fcr"]
    assert fcr["signal"]["limits"]["chart"] == "xmr"
    assert not any("upper" in p for p in fcr["series"])


def test_a_short_baseline_is_a_run_chart_until_the_minimum(tmp_path: Path) -> None:
    write_tickets(tmp_path)
    minutes = "  handle: {source: t, kpi: mean, field: minutes, target: 25, direction: decrease}\n"
    path = playbook(tmp_path, minutes, "check: {min_baseline: 20}\n")
    sig = check_json(path)["metrics"]["handle"]["signal"]
    assert sig["verdict"] == "insufficient_data"
    assert sig["limits"]["chart"] == "run" and sig["false_alarm_rate"] is None
    assert "18 baseline values, 20 needed" in sig["note"]
    assert sig["run_chart"]["useful_points"] <= 30
    # the default minimum (12) is met by the 18 weeks
    sig = check_json(playbook(tmp_path, minutes))["metrics"]["handle"]["signal"]
    assert sig["limits"]["chart"] == "xmr" and sig["verdict"] == "no_signal"


def test_check_says_how_many_false_verdicts_to_expect(tmp_path: Path) -> None:
    write_tickets(tmp_path)
    metrics = (
        FCR + "  handle: {source: t, kpi: mean, field: minutes, target: 25, direction: decrease}\n"
    )
    doc = check_json(playbook(tmp_path, metrics))
    budget = doc["false_alarms"]
    rates = [m["signal"]["false_alarm_rate"] for m in doc["metrics"].values()]
    assert budget["judged_metrics"] == 2
    assert budget["expected"] == pytest.approx(sum(rates))
    assert budget["chance_of_any"] == pytest.approx(1 - (1 - rates[0]) * (1 - rates[1]))
    text = CliRunner().invoke(cli, ["check", str(tmp_path / "playbook.yaml"), "--as-of", AS_OF])
    assert "On stable processes, 2 judged metric(s) would give about" in text.output


@pytest.mark.parametrize(
    ("metric", "check", "message"),
    [
        (
            "  m: {source: t, kpi: mean, field: minutes, target: 25, chart: p}\n",
            "",
            "chart 'p' assumes percentages of yes/no outcomes",
        ),
        (
            "  m: {source: t, kpi: mean, field: minutes, target: 25, chart: c}\n",
            "",
            "chart",
        ),
        (FCR, "check: {min_baseline: 1}\n", "min_baseline"),
    ],
)
def test_bad_chart_settings_are_located_errors(
    tmp_path: Path, metric: str, check: str, message: str
) -> None:
    write_tickets(tmp_path)
    path = playbook(tmp_path, metric, check)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_a_baseline_below_the_minimum_is_a_warning(tmp_path: Path) -> None:
    write_tickets(tmp_path)
    path = playbook(tmp_path, FCR.replace("target: 80}", "target: 80, baseline_periods: 8}"))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0
    assert "warning" in result.output and "below check.min_baseline (12)" in result.output
