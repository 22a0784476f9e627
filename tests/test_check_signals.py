"""``pdca check`` reading series as control charts: real shifts vs noise, trends, segments."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pdca.cli import cli

START = date(2025, 9, 1)  # a Monday
CYCLE = date(2026, 1, 5)  # 18 baseline weeks before it, then 12 judged weeks


def check_json(path: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["check", str(path), "--format", "json", *args])
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.output)


def write_surveys(folder: Path, seed: int = 11) -> None:
    """30 weeks of survey responses; satisfaction shifts up by 0.5 at CYCLE, effort never moves.

    Both metrics sit the same distance (0.5) below their targets before the cycle.
    """
    rng = np.random.default_rng(seed)
    rows = ["ts,satisfaction,effort,channel"]
    for week in range(30):
        monday = START + timedelta(weeks=week)
        shift = 0.5 if monday >= CYCLE else 0.0
        for i in range(40):
            day = monday + timedelta(days=i % 5)
            sat = 3.5 + shift + rng.normal(0, 0.8)
            eff = 3.5 + rng.normal(0, 0.8)
            channel = ("email", "chat", "phone")[i % 3]
            rows.append(f"{day} 10:{i:02d},{sat:.3f},{eff:.3f},{channel}")
    (folder / "surveys.csv").write_text("\n".join(rows) + "\n")


def test_planted_shift_is_improved_and_noise_is_no_signal(tmp_path: Path) -> None:
    write_surveys(tmp_path)
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: Shift\n"
        "sources: {s: {type: csv, path: surveys.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  sat: {source: s, kpi: mean, field: satisfaction, target: 4.0}\n"
        "  effort: {source: s, kpi: mean, field: effort, target: 4.0}\n"
        f"cycle: {{start: {CYCLE}}}\n"
    )
    report = check_json(path, "--as-of", "2026-03-29")  # a Sunday: the last week is complete
    sat, effort = report["metrics"]["sat"], report["metrics"]["effort"]
    assert len(sat["series"]) == 30 and "partial" not in sat["series"][-1]
    assert sat["signal"]["verdict"] == "improved"
    assert effort["signal"]["verdict"] == "no_signal"
    # Limits come from the 18 weeks before the cycle and stay frozen.
    assert sat["signal"]["limits"]["baseline_points"] == 18
    before = [p["value"] for p in sat["series"][:18]]
    assert sat["signal"]["limits"]["centre"] == pytest.approx(np.mean(before), abs=1e-4)
    mr_bar = np.mean(np.abs(np.diff(before)))
    assert sat["signal"]["limits"]["upper"] == pytest.approx(
        np.mean(before) + 2.66 * mr_bar, abs=1e-3
    )
    # Each signal names its rule and its periods, after the cycle start.
    rule = sat["signal"]["rules"][0]
    assert rule["direction"] == "up"
    assert all(p >= "2026-W02" for p in rule["periods"])
    assert [sat["series"][i]["period"] for i in rule["indices"]] == rule["periods"]


def test_baseline_periods_on_the_metric_override_the_cycle(tmp_path: Path) -> None:
    write_surveys(tmp_path)
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: Shift\n"
        "sources: {s: {type: csv, path: surveys.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  sat: {source: s, kpi: mean, field: satisfaction, target: 4.0, baseline_periods: 14}\n"
        f"cycle: {{start: {CYCLE}}}\n"
    )
    sat = check_json(path, "--as-of", "2026-03-29")["metrics"]["sat"]
    assert sat["signal"]["limits"]["baseline_points"] == 14


def test_too_few_periods_is_insufficient_data(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(
        "ts,x\n" + "".join(f"2026-03-{d:02d},{d}\n" for d in (2, 9, 16, 23))
    )
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources: {d: {type: csv, path: d.csv, timestamp: ts}}\n"
        "metrics: {m: {source: d, kpi: mean, field: x, target: 30}}\n"
    )
    m = check_json(path, "--as-of", "2026-03-29")["metrics"]["m"]
    assert m["signal"]["verdict"] == "insufficient_data"


def test_trend_and_projected_target_date(tmp_path: Path) -> None:
    # One row per week, values 10, 11, ..., 19: a slope of exactly 1 per week.
    rows = ["ts,x"] + [f"{START + timedelta(weeks=i)},{10 + i}" for i in range(10)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources: {d: {type: csv, path: d.csv, timestamp: ts}}\n"
        "metrics: {m: {source: d, kpi: mean, field: x, target: 25, window: 7d}}\n"
    )
    as_of = START + timedelta(weeks=9, days=6)  # Sunday of the tenth week
    m = check_json(path, "--as-of", as_of.isoformat())["metrics"]["m"]
    assert m["value"] == 19.0
    trend = m["trend"]
    assert trend["slope"] == 1.0
    assert trend["significant"] is True and trend["direction"] == "improving"
    # 19 -> 25 at 1 per week: 6 more weeks after the last period's start.
    assert trend["periods_to_target"] == 6
    assert trend["target_date"] == (START + timedelta(weeks=15)).isoformat()


def test_segments_worst_first(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(
        "ts,x,channel\n"
        "2026-03-02,2,email\n2026-03-03,4,email\n"  # email mean 3 -> off_track
        "2026-03-02,6,chat\n2026-03-04,8,chat\n"  # chat mean 7 -> met
        "2026-03-05,5,phone\n"  # phone 5 -> at_risk (warn 5)
        "2026-03-05,9,\n"  # no channel
    )
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources: {d: {type: csv, path: d.csv, timestamp: ts}}\n"
        "metrics: {m: {source: d, kpi: mean, field: x, target: 6, warn: 5, segment_by: channel}}\n"
    )
    m = check_json(path, "--as-of", "2026-03-08")["metrics"]["m"]
    assert m["value"] == 34 / 6  # (2 + 4 + 6 + 8 + 5 + 9) / 6, unrounded
    assert m["segment_by"] == "channel"
    assert m["segments"] == [
        {"segment": "email", "value": 3.0, "n": 2, "status": "off_track"},
        {"segment": "phone", "value": 5.0, "n": 1, "status": "at_risk"},
        {"segment": "chat", "value": 7.0, "n": 2, "status": "met"},
        {"segment": "(none)", "value": 9.0, "n": 1, "status": "met"},
    ]


def test_segments_of_a_decrease_metric_rank_high_values_worst(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(
        "ts,x,team\n2026-03-02,10,a\n2026-03-02,30,b\n2026-03-02,20,c\n"
    )
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources: {d: {type: csv, path: d.csv, timestamp: ts}}\n"
        "metrics: {m: {source: d, kpi: mean, field: x, target: 5, direction: decrease,"
        " segment_by: team}}\n"
    )
    m = check_json(path, "--as-of", "2026-03-08")["metrics"]["m"]
    assert [s["segment"] for s in m["segments"]] == ["b", "c", "a"]


def test_correlate_reports_pairs_with_caution_when_few(tmp_path: Path) -> None:
    rows = ["ts,wait,csat"]
    waits = [10, 14, 9, 20, 15, 7]
    for i, w in enumerate(waits):
        rows.append(f"{START + timedelta(weeks=i)},{w},{100 - 2 * w}")  # csat falls as wait grows
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources: {d: {type: csv, path: d.csv, timestamp: ts}}\n"
        "metrics:\n  wait: {source: d, kpi: mean, field: wait, target: 10, direction: decrease}\n"
        "  csat: {source: d, kpi: mean, field: csat, target: 80}\n"
    )
    as_of = (START + timedelta(weeks=5, days=6)).isoformat()
    report = check_json(path, "--as-of", as_of, "--correlate")
    (pair,) = report["correlations"]
    assert (pair["a"], pair["b"], pair["n"]) == ("wait", "csat", 6)
    assert pair["pearson_r"] == -1.0  # an exact linear relation
    assert pair["spearman_rho"] == -1.0
    assert "few periods" in pair["caution"]
    text = CliRunner().invoke(cli, ["check", str(path), "--as-of", as_of, "--correlate"]).output
    assert "wait                 csat                  -1.00  -1.00   0.000    6" in text


def test_validate_data_warns_when_target_is_lost_in_noise(tmp_path: Path) -> None:
    write_surveys(tmp_path)
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: Noise\n"
        "sources: {s: {type: csv, path: surveys.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  effort: {source: s, kpi: mean, field: effort, target: 3.55}\n"
        f"cycle: {{start: {CYCLE}}}\n"
    )
    result = CliRunner().invoke(cli, ["validate", "--data", "--as-of", "2026-03-29", str(path)])
    assert result.exit_code == 0
    assert f"{path}:5:57: warning: metric 'effort': The target 3.55 lies inside the natural" in (
        result.output
    )


def test_metrics_over_two_sources_without_cache(tmp_path: Path) -> None:
    """A half-read DuckDB result left by one metric must not break the next source."""
    from pdca.check.measure import check
    from pdca.playbook import load_checked

    (tmp_path / "a.csv").write_text("ts,x\n2026-03-02,1\n2026-03-03,3\n")
    (tmp_path / "b.csv").write_text("ts,y\n2026-03-02,10\n2026-03-04,20\n")
    (tmp_path / "leaky.py").write_text(
        "import pdca\nfrom pdca.kpi import Kpi, KpiResult, KpiValue\n\n"
        "class Leaky(Kpi):\n    name = 'leaky'\n    summary = 'first value, read with fetchone'\n"
        "    def compute(self, q):\n"
        "        row = q.con.execute(f'SELECT {q.column} FROM {q.table} ORDER BY 1').fetchone()\n"
        "        return KpiResult(KpiValue(float(row[0]), 1), {})\n\n"
        "@pdca.hookimpl\ndef pdca_register_kpis(register):\n    register(Leaky())\n"
    )
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nplugins: [leaky.py]\n"
        "sources:\n  a: {type: csv, path: a.csv, timestamp: ts}\n"
        "  b: {type: csv, path: b.csv, timestamp: ts}\n"
        "metrics:\n  first: {source: a, kpi: leaky, field: x, target: 1}\n"
        "  mean_a: {source: a, kpi: mean, field: x, target: 1}\n"
        "  mean_b: {source: b, kpi: mean, field: y, target: 1}\n"
    )
    inspection = load_checked(path)
    report = check(inspection.playbook, inspection.registry, date(2026, 3, 8))
    values = {m: (e["value"], e["status"]) for m, e in report["metrics"].items()}
    assert values == {"first": (1.0, "met"), "mean_a": (2.0, "met"), "mean_b": (15.0, "met")}
