"""Period series over the calendar: zeros for counts, gaps for means, exact numbers in JSON.

A week without tickets is a week with zero tickets; a week without survey
responses has no satisfaction score. Both weeks still happened, so both are in
the series, and the trend counts them as time gone by. The JSON carries the
floats as computed; text, Markdown and HTML round them for people.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner

from pdca.cli import cli
from pdca.cli.textout import number

MONDAY = date(2026, 3, 2)  # ISO week 2026-W10


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 3), result.output
    assert "Traceback" not in result.output
    return result.output


def check_json(path: Path, *args: str) -> dict:
    return json.loads(invoke("check", str(path), "--format", "json", *args))


def playbook(folder: Path, csv: str, metrics: str, extra: str = "") -> Path:
    (folder / "d.csv").write_text(csv, encoding="utf-8")
    path = folder / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources: {d: {type: csv, path: d.csv, timestamp: ts}}\n"
        f"metrics:\n{metrics}{extra}",
        encoding="utf-8",
    )
    return path


# Rows in W10 (two) and W12 (one); nothing in W11, nor in W13 (as of its Wednesday).
GAPPY = "ts,x\n2026-03-03,2\n2026-03-04,4\n2026-03-17,5\n"
BOTH = (
    "  tickets: {source: d, kpi: count, target: 1}\n"
    "  score: {source: d, kpi: mean, field: x, target: 4}\n"
    "  total: {source: d, kpi: sum, field: x, target: 4}\n"
)


def test_a_week_without_rows_is_zero_for_a_count_and_a_gap_for_a_mean(tmp_path: Path) -> None:
    path = playbook(tmp_path, GAPPY, BOTH)
    metrics = check_json(path, "--as-of", "2026-03-25")["metrics"]
    assert metrics["tickets"]["series"] == [
        {"period": "2026-W10", "start": "2026-03-02", "value": 2.0, "n": 2},
        {"period": "2026-W11", "start": "2026-03-09", "value": 0.0, "n": 0},
        {"period": "2026-W12", "start": "2026-03-16", "value": 1.0, "n": 1},
        {"period": "2026-W13", "start": "2026-03-23", "value": 0.0, "n": 0, "partial": True},
    ]
    assert [p["value"] for p in metrics["total"]["series"]] == [6.0, 0.0, 5.0, 0.0]
    assert metrics["score"]["series"] == [
        {"period": "2026-W10", "start": "2026-03-02", "value": 3.0, "n": 2},
        {"period": "2026-W11", "start": "2026-03-09", "value": None, "n": 0, "gap": True},
        {"period": "2026-W12", "start": "2026-03-16", "value": 5.0, "n": 1},
        {
            "period": "2026-W13",
            "start": "2026-03-23",
            "value": None,
            "n": 0,
            "gap": True,
            "partial": True,
        },
    ]


def test_the_series_starts_at_the_first_period_with_data(tmp_path: Path) -> None:
    path = playbook(tmp_path, GAPPY, BOTH)
    series = check_json(path, "--as-of", "2026-04-12")["metrics"]["tickets"]["series"]
    # W10 to W15: not the 104 weeks of history before the data began
    assert [p["period"] for p in series] == [f"2026-W{w}" for w in range(10, 16)]
    assert [p["value"] for p in series] == [2.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert not any(p.get("partial") for p in series)  # as of a Sunday: W15 is complete


def test_monthly_gaps_follow_the_calendar(tmp_path: Path) -> None:
    csv = "ts,x\n2026-01-10,1\n2026-04-02,3\n"
    metrics = "  score: {source: d, kpi: mean, field: x, target: 4, period: month, window: 30d}\n"
    series = check_json(playbook(tmp_path, csv, metrics), "--as-of", "2026-04-30")["metrics"]
    points = [(p["period"], p["value"], p.get("gap", False)) for p in series["score"]["series"]]
    assert points == [
        ("2026-01", 1.0, False),
        ("2026-02", None, True),
        ("2026-03", None, True),
        ("2026-04", 3.0, False),
    ]


def weekly_rows(values: dict[int, float]) -> str:
    """One row on the Wednesday of each listed week (week 0 is 2026-W10)."""
    rows = ["ts,x"]
    for week, value in values.items():
        rows.append(f"{MONDAY + timedelta(weeks=week, days=2)},{value}")
    return "\n".join(rows) + "\n"


def test_trend_slope_is_per_calendar_week_across_gaps(tmp_path: Path) -> None:
    # 10 + week for weeks 0-11 with weeks 3, 4 and 7 missing: a slope of exactly 1
    # per week. Counted among the present weeks only, the same numbers would climb
    # 12 in 8 steps and read steeper.
    values = {w: 10.0 + w for w in range(12) if w not in (3, 4, 7)}
    metrics = "  score: {source: d, kpi: mean, field: x, target: 30}\n"
    path = playbook(tmp_path, weekly_rows(values), metrics)
    as_of = MONDAY + timedelta(weeks=11, days=6)  # the Sunday ending week 11
    m = check_json(path, "--as-of", as_of.isoformat())["metrics"]["score"]
    assert len(m["series"]) == 12
    assert [p["period"] for p in m["series"] if p.get("gap")] == [
        "2026-W13",
        "2026-W14",
        "2026-W17",
    ]
    assert m["trend"]["slope"] == 1.0
    assert m["trend"]["significant"] is True
    assert m["trend"]["direction"] == "improving"
    # the line reaches 30 at week 20: 9 weeks after week 11, 63 days after its Monday
    assert m["trend"]["periods_to_target"] == 9
    assert m["trend"]["target_date"] == (MONDAY + timedelta(weeks=20)).isoformat()


def test_gaps_do_not_break_the_outputs_that_print_series(tmp_path: Path) -> None:
    values = {w: 10.0 + w for w in range(12) if w not in (3, 4, 7)}
    metrics = (
        "  score: {source: d, kpi: mean, field: x, target: 30, window: 7d}\n"
        "  total: {source: d, kpi: sum, field: x, target: 30, window: 7d}\n"
    )
    path = playbook(tmp_path, weekly_rows(values), metrics)
    as_of = (MONDAY + timedelta(weeks=11, days=6)).isoformat()
    text = invoke("check", str(path), "--as-of", as_of, "--correlate")
    assert re.search(r"^score\s+21\s+30\s", text, re.M), text
    (pair,) = check_json(path, "--as-of", as_of, "--correlate")["correlations"]
    # the sum reads 0 in the mean's gap weeks; only the 9 weeks with both values pair up,
    # and there the two are the same numbers
    assert (pair["n"], pair["pearson_r"]) == (9, 1.0)
    html = invoke("report", str(path), "--as-of", as_of, "--format", "html", "-o", "-")
    # the mean's chart: one solid line per run of weeks with a value (0-2, 5-6, 8-11)
    # and 9 points; the sum's: one line through 12 points, zeros included
    charts = [c for c in re.findall(r"<svg.*?</svg>", html, re.S) if "pdca-series" in c]
    lines_points = [(c.count('class="pdca-series"'), c.count('class="pdca-point')) for c in charts]
    assert sorted(lines_points) == [(1, 12), (3, 9)]
    markdown = invoke("report", str(path), "--as-of", as_of, "--format", "markdown", "-o", "-")
    assert "| 21 |" in markdown


# -- exact numbers -------------------------------------------------------------------------

THIRD = "ts,x\n2026-03-02,0\n2026-03-03,0\n2026-03-04,1\n"
ONE_METRIC = "  m: {source: d, kpi: mean, field: x, target: 0.5, benchmark: {value: 0.25}}\n"
CYCLE = "cycle: {start: 2026-03-02, length: 7d}\n"


def test_check_json_carries_exact_values_and_text_rounds_them(tmp_path: Path) -> None:
    path = playbook(tmp_path, THIRD, ONE_METRIC)
    m = check_json(path, "--as-of", "2026-03-08")["metrics"]["m"]
    assert m["value"] == 1 / 3
    assert m["series"][0]["value"] == 1 / 3
    assert m["target_gap"] == 1 / 3 - 0.5
    assert m["benchmark"]["gap"] == 1 / 3 - 0.25
    text = invoke("check", str(path), "--as-of", "2026-03-08")
    assert re.search(r"^m\s+0\.33\s+0\.50\s", text, re.M), text
    assert "0.333" not in text


def test_status_and_report_json_are_exact_and_people_see_rounded_numbers(
    tmp_path: Path,
) -> None:
    path = playbook(tmp_path, THIRD, ONE_METRIC, CYCLE)
    invoke("run", str(path), "--as-of", "2026-03-08")  # measures at check: the snapshot
    status = json.loads(invoke("status", str(path), "--format", "json"))
    assert status["metrics"]["m"]["value"] == 1 / 3
    report = json.loads(invoke("report", str(path), "--format", "json", "-o", "-"))
    m = report["metrics"]["m"]
    assert (m["value"], m["series"][0]["value"]) == (1 / 3, 1 / 3)
    assert m["target_gap"] == 1 / 3 - 0.5
    long = "0.33333"
    status_md = invoke("status", str(path), "--format", "markdown")
    assert "| m | 0.33 | 0.50 |" in status_md and long not in status_md
    assert long not in invoke("status", str(path))
    report_md = invoke("report", str(path), "--format", "markdown", "-o", "-")
    assert "| m | 0.333 | 0.5 |" in report_md and long not in report_md
    for kind in ("html", "a3"):
        page = invoke("report", str(path), "--format", kind, "-o", "-")
        assert ">0.333<" in page or "<b>0.333</b>" in page
        # only machine-read attributes carry the full float
        assert long not in re.sub(r'data-value="[^"]*"', "", page), kind


def test_small_rates_keep_their_distinct_values(tmp_path: Path) -> None:
    csv = weekly_rows({0: 0.00021, 1: 0.00024, 2: 0.00022})
    metrics = (
        "  refunds: {source: d, kpi: mean, field: x, target: 0.0001, window: 7d,"
        " direction: decrease}\n"
    )
    path = playbook(tmp_path, csv, metrics)
    m = check_json(path, "--as-of", "2026-03-22")["metrics"]["refunds"]
    assert [p["value"] for p in m["series"]] == [0.00021, 0.00024, 0.00022]
    assert m["value"] == 0.00022  # the 7-day window holds week 2 only
    text = invoke("check", str(path), "--as-of", "2026-03-22")
    assert re.search(r"^refunds\s+0\.00022\s+0\.0001\s", text, re.M), text


def test_text_numbers_round_for_people() -> None:
    assert number(25.612903225806452) == "25.6"
    assert number(1 / 3) == "0.33"
    assert number(0.00021) == "0.00021"
    assert number(0.0000213) == "0.000021"
    assert number(-0.005) == "-0.005"
    assert number(1137.4) == "1,137"
    assert number(float("nan")) == "-"
    assert number(None) == "-"


def test_non_finite_values_from_a_calculator_become_gaps() -> None:
    from pdca.check.measure import calendar_series
    from pdca.kpi import FunctionKpi, KpiValue

    kpi = FunctionKpi("odd", lambda values: float("nan"))
    computed = {
        date(2026, 3, 2): KpiValue(float("nan"), 3),
        date(2026, 3, 9): KpiValue(float("inf"), 2),
        date(2026, 3, 16): KpiValue(0.1 + 0.2, 4),
    }
    series = calendar_series(computed, kpi, "week", date(2026, 3, 22))
    assert [(p["value"], p["n"], p.get("gap", False)) for p in series] == [
        (None, 3, True),
        (None, 2, True),
        (0.1 + 0.2, 4, False),  # 0.30000000000000004: the float as computed
    ]
    json.dumps(series, allow_nan=False)
