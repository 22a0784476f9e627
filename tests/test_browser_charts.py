"""The charts in a real headless Chromium: they render, have a size, and log nothing.

Well-formed SVG is not proof that a person sees a chart: a bad viewBox or a
zero height renders as nothing without any error. These tests open a page
with every kind of chart and look at it the way a browser does. They need the
``chromium`` fixture from ``tests/browser.py`` (skipped without a browser,
failing under ``CI``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from browser import SVG_BOXES_JS, Chromium, png_info
from pdca.check.stats.spc import compute_limits, detect_signals
from pdca.report.charts import control_chart, dependency_graph, sparkline, status_badge

HOSTILE_TITLE = 'Backlog <script>alert(1)</script> & "friends"'


def weekly_points(values: list[float | None], first: date) -> list[dict[str, Any]]:
    out = []
    for i, v in enumerate(values):
        start = first + timedelta(weeks=i)
        year, week, _ = start.isocalendar()
        out.append(
            {
                "period": f"{year}-W{week:02d}",
                "start": start.isoformat(),
                "value": v,
                "n": 240 + (i * 37) % 80,
            }
        )
    return out


def sample_charts() -> dict[str, str]:
    """One of each chart, with realistic data: a planted improvement, a gap, a
    partial week, countermeasure markers, signals computed by the SPC module."""
    rng = random.Random(7)
    nps: list[float | None] = []
    for i in range(26):
        v = 24 + rng.gauss(0, 2.2) + (4.5 if i >= 16 else 0)
        nps.append(None if i == 12 else round(33.5 if i == 9 else v, 1))
    points = weekly_points(nps, date(2025, 12, 29))
    points[-1]["partial"] = True
    limits = compute_limits(nps, baseline=14)
    signals = [s.to_json() for s in detect_signals(nps, limits)]
    nps_chart = control_chart(
        points,
        centre=limits.centre,
        lower=limits.lower,
        upper=limits.upper,
        target=30,
        warn=27,
        baseline=23.5,
        benchmark=31.5,
        signals=signals,
        markers=[
            {"date": "2026-04-15", "label": "Coaching for all agents done"},
            {"date": "2026-05-04", "label": "New refund macro live"},
        ],
        direction="increase",
        title="NPS, support desk (weekly)",
        unit="pts",
    )

    frt = [round(7.5 - 0.08 * i + rng.gauss(0, 0.5), 2) for i in range(40)]
    frt_limits = compute_limits(frt, baseline=20)
    frt_chart = control_chart(
        weekly_points(frt, date(2025, 1, 6)),
        centre=frt_limits.centre,
        lower=frt_limits.lower,
        upper=frt_limits.upper,
        target=4,
        warn=5,
        signals=[s.to_json() for s in detect_signals(frt, frt_limits)],
        markers=[{"date": "2025-03-10", "label": "Triage bot live"}],
        direction="decrease",
        title="First response time (median hours)",
        unit="h",
    )

    nodes = [
        {"id": "tickets", "label": "Ticket export", "kind": "source"},
        {"id": "survey", "label": "NPS survey export", "kind": "source"},
        {"id": "nps", "label": "NPS", "kind": "metric", "status": "at_risk"},
        {"id": "frt", "label": "First response time", "kind": "metric", "status": "met"},
        {
            "id": "coach",
            "label": "Coach agents on empathy scripts",
            "kind": "task",
            "status": "done",
            "phase": "do",
        },
        {
            "id": "macro",
            "label": "Rewrite top-10 macros",
            "kind": "task",
            "status": "running",
            "phase": "do",
        },
        {
            "id": "bot",
            "label": "Triage bot for password resets",
            "kind": "task",
            "status": "failed",
            "phase": "do",
        },
        {
            "id": "check",
            "label": "Check the NPS effect",
            "kind": "task",
            "status": "pending",
            "phase": "check",
        },
        {
            "id": "obj1",
            "label": "NPS ≥ 30 by end of Q2",
            "kind": "objective",
            "status": "off_track",
        },
        {
            "id": "obj2",
            "label": "Median first response under 4 h",
            "kind": "objective",
            "status": "met",
        },
    ]
    edges = [
        ("tickets", "frt"),
        ("survey", "nps"),
        ("nps", "coach"),
        ("nps", "macro"),
        ("frt", "bot"),
        ("coach", "check"),
        ("macro", "check"),
        ("check", "obj1"),
        ("bot", "obj2"),
        ("frt", "obj2"),
    ]
    rows = [
        ("NPS", "at_risk", nps, 30, "increase"),
        ("First response time", "met", frt, 4, "decrease"),
        ("CSAT", "no_data", [], None, "increase"),
        ("Reopen rate", "off_track", [5, 6, 5.5, 7, 8, 7.5, 9], 5, "decrease"),
        ("Backlog age", "error", [3, None, 4, 5], None, "decrease"),
    ]
    table = "".join(
        f"<tr><td>{name}</td><td>{status_badge(status)}</td>"
        f"<td>{sparkline(values, target=target, direction=direction)}</td></tr>"
        for name, status, values, target, direction in rows
    )
    return {
        "nps": nps_chart,
        "frt": frt_chart,
        "table": f"<table><tr><th>KPI</th><th>Status</th><th>Trend</th></tr>{table}</table>",
        "graph": dependency_graph(nodes, edges, title="Cycle 2026-Q2: tasks and objectives"),
        "empty": control_chart([], title="CSAT (new survey)"),
        "hostile": control_chart(
            weekly_points([3.0, 4.0, 2.5], date(2026, 1, 5)), title=HOSTILE_TITLE, target=3
        ),
    }


PAGE_CSS = """
body { font-family: system-ui, sans-serif; color: #1f2933; margin: 32px auto;
       max-width: 960px; padding: 0 24px; }
h1 { font-size: 22px; margin: 0 0 24px; }
section { margin: 0 0 36px; }
table { border-collapse: collapse; }
td, th { padding: 6px 14px; border-bottom: 1px solid #e4e7eb; text-align: left; font-size: 14px; }
"""


def write_sample_page(path: Path, include: tuple[str, ...] | None = None) -> Path:
    """A self-contained HTML page with the sample charts (also used for the docs image)."""
    charts = sample_charts()
    chosen = include or tuple(charts)
    sections = "".join(f'<section id="{key}">{charts[key]}</section>' for key in chosen)
    path.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>pdca charts</title><style>{PAGE_CSS}</style></head>"
        f"<body><h1>Support desk: improvement cycle 2026-Q2</h1>{sections}</body></html>",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_page(tmp_path_factory.mktemp("charts") / "charts.html")


def test_screenshot_shows_a_real_picture(chromium: Chromium, sample_page: Path) -> None:
    png = chromium.screenshot(sample_page, sample_page.with_suffix(".png"), width=1280, height=2000)
    info = png_info(png)
    assert (info["width"], info["height"]) == (1280, 2000)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[info["colour_type"]]
    assert info["bit_depth"] == 8
    assert info["raw_bytes"] == 2000 * (1 + 1280 * channels), "complete image data"
    assert info["file_bytes"] > 40_000, "a page of charts compresses to more than a blank page"
    stats = chromium.image_stats(png)
    assert (stats["width"], stats["height"]) == (1280, 2000)
    assert stats["dominant"] == "#ffffff"  # white paper, no background reliance
    assert stats["dominant_fraction"] < 0.97, "almost everything is one colour"
    assert stats["colours"] > 200  # lines, text antialiasing, status colours


def test_every_chart_has_a_drawn_size_and_the_page_logs_no_errors(
    chromium: Chromium, sample_page: Path
) -> None:
    run = chromium.run(
        sample_page,
        {
            "boxes": SVG_BOXES_JS,
            "scripts": "document.scripts.length",
            "hostile": "document.querySelector('#hostile svg > title').textContent",
        },
    )
    assert run.errors == [], [str(m) for m in run.errors]
    boxes = run.values["boxes"]
    assert len(boxes) == sample_page.read_text(encoding="utf-8").count("<svg ")
    for box in boxes:
        assert box["width"] > 0 and box["height"] > 0, box
    # Full charts fill their column (width 100%); badges and sparklines keep their size.
    sections = [b for b in boxes if b["parent"] == "section"]
    assert {round(b["width"]) for b in sections} == {960}
    # A hostile title is text, never a script.
    assert run.values["scripts"] == 0
    assert run.values["hostile"] == HOSTILE_TITLE


def test_charts_scale_with_the_page(chromium: Chromium, sample_page: Path) -> None:
    wide = chromium.svg_boxes(sample_page, width=1280, height=900)
    narrow = chromium.svg_boxes(sample_page, width=520, height=900)
    assert len(wide) == len(narrow)
    for w, n in zip(wide, narrow, strict=True):
        if w["parent"] != "section":
            continue
        assert n["width"] < w["width"]
        assert n["width"] <= 520
        assert n["height"] / n["width"] == pytest.approx(w["height"] / w["width"], rel=0.02)


def test_dom_keeps_hostile_text_as_text(chromium: Chromium, tmp_path: Path) -> None:
    page = write_sample_page(tmp_path / "hostile.html", include=("hostile",))
    dom = chromium.dom(page)
    assert "<script>alert(1)</script>" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_console_error_detection_is_not_vacuous(chromium: Chromium, tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><meta charset="utf-8"><title>broken</title>'
        '<img src="missing.png"><script>console.error("boom"); console.log("just-a-log-line");'
        "undefinedFunction();</script>",
        encoding="utf-8",
    )
    errors = chromium.console_errors(page)
    assert any("boom" in e for e in errors)
    assert any("undefinedFunction" in e for e in errors)
    assert any("missing.png" in e for e in errors)
    assert not any("just-a-log-line" in e for e in errors)
