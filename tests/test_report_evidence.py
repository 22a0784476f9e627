"""What a report says about Check's verdicts: per-n limits, run charts, evidence, the budget.

One playbook with three metrics, each read on a different chart by design:

* ``fcr`` is a rate over weeks whose volumes swing from 6 to 200 tickets: a
  Laney p′ chart, whose limits step with each week's n;
* ``handle`` (minutes, lower is better) doubles for four weeks after the cycle
  starts and then sits below its baseline for eight: evidence both ways, the
  verdict ``mixed``;
* ``chat`` has 8 baseline weeks, fewer than the 12 needed for limits: a run
  chart with its median and no verdict.

The same three carry the Making Data Count readings: ``fcr`` is common cause
with its target of 80 inside the latest week's limits (hit or miss),
``handle`` ends below its centre where lower is better (improvement, low) with
a target of 25 below its lower limit (fail), ``chat`` has neither.

Reports are read as files a manager would open (HTML parsed for its SVG, and
in Chromium for the drawn geometry), Markdown and text as printed, and a
stored check snapshot is edited in the real SQLite state to stand for one
written by an older pdca or by a hostile hand.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from browser import Chromium
from pdca.report.charts.axes import Columns, PlotArea, Point, YScale
from pdca.report.charts.limits import step_lines
from pdca.report.charts.mdc import assurance_icon, variation_icon
from pdca.report.charts.style import PLOT_HEIGHT
from test_check_charts import write_tickets
from test_report import SCRIPT, Clock, Page, Pdca, fake_clock

START = date(2025, 9, 1)  # a Monday; the cycle starts 18 weeks later
AS_OF = "2026-03-29"
BASE = [30, 31, 29, 30, 32, 30, 29, 31, 30, 28, 30, 31, 29, 30, 31, 30, 29, 30]
JUDGED = [60, 61, 60, 59, 27, 27, 26, 27, 28, 27, 26, 27]

PLAYBOOK = """\
playbook: ev
title: Evidence
owners:
  maria: {name: Maria Lopez}
sources:
  t: {type: csv, path: tickets.csv, timestamp: ts}
  calls: {type: csv, path: calls.csv, timestamp: ts}
  chats: {type: csv, path: chats.csv, timestamp: ts}
metrics:
  fcr: {title: First-contact resolution, source: t, kpi: rate, field: resolved, target: 80}
  handle:
    title: Handling time
    source: calls
    kpi: mean
    field: minutes
    target: 25
    direction: decrease
    unit: min
  chat: {title: Chat wait, source: chats, kpi: mean, field: minutes, target: 9, direction: decrease}
objectives:
  o: {title: Better service, owner: maria, metrics: [fcr, handle, chat]}
tasks:
  coach: {title: Coach agents, owner: maria, objective: o}
cycle: {start: 2026-01-05}
"""


def make_playbook(folder: Path) -> Path:
    write_tickets(folder)
    rows = ["ts,minutes"]
    for week, v in enumerate(BASE + JUDGED):  # five calls a week, all of the week's value
        rows += [f"{START + timedelta(weeks=week, days=d)} 10:00,{v}" for d in range(5)]
    (folder / "calls.csv").write_text("\n".join(rows) + "\n")
    rows = ["ts,minutes"]
    for week in range(10, 30):  # chat started 8 weeks before the cycle
        rows += [
            f"{START + timedelta(weeks=week, days=d)} 11:00,{10 + (week * 7 + d) % 5}"
            for d in range(3)
        ]
    (folder / "chats.csv").write_text("\n".join(rows) + "\n")
    path = folder / "playbook.yaml"
    path.write_text(PLAYBOOK)
    return path


@pytest.fixture(scope="module")
def clock() -> Iterator[Clock]:
    with fake_clock() as fake:
        yield fake


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Pdca:
    """The playbook never run: reports come from a fresh check."""
    return Pdca(make_playbook(tmp_path_factory.mktemp("fresh")), clock)


@pytest.fixture(scope="module")
def doc(fresh: Pdca) -> dict[str, Any]:
    return json.loads(fresh.report("--format", "json", "--as-of", AS_OF))


@pytest.fixture(scope="module")
def html(fresh: Pdca) -> str:
    return fresh.report("--format", "html", "-o", "-", "--as-of", AS_OF)


@pytest.fixture(scope="module")
def page(html: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report as a file, for the browser."""
    path = tmp_path_factory.mktemp("page").resolve() / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def figure(html: str, metric: str) -> str:
    """The SVG of one metric's chart in the HTML report."""
    found = re.search(
        rf'<figure class="chart" data-metric="{metric}"[^>]*>(.*?)</figure>', html, re.S
    )
    assert found, f"no chart for {metric}"
    return found.group(1)


def test_the_three_metrics_are_read_on_the_charts_they_were_built_for(doc: dict) -> None:
    signals = {mid: m["signal"] for mid, m in doc["metrics"].items()}
    assert signals["fcr"]["limits"]["chart"] == "p_prime"
    assert signals["handle"]["verdict"] == "mixed"
    assert {(r["kind"], r["direction"]) for r in signals["handle"]["reasons"]} == {
        ("cycle_mean", "up"),
        ("sustained_run", "down"),
    }
    assert signals["chat"]["limits"]["chart"] == "run"
    assert signals["chat"]["verdict"] == "insufficient_data"


# -- per-n limits as steps ------------------------------------------------------------------------


def test_a_step_path_by_hand() -> None:
    # bands 100 wide from x=40; values 0..10 over PLOT_HEIGHT from y=300 up
    area = PlotArea(
        Columns(left=40.0, width=400.0, band=100.0, period_width=10.0),
        YScale((0.0, 10.0), ("0", "10"), 0.0, 10.0),
        top=300.0 - PLOT_HEIGHT,
        bottom=300.0,
    )
    pts = [
        Point(0, "w1", None, 5.0, 10, False, lower=2.0, upper=8.0),
        Point(1, "w2", None, 5.0, 40, False, lower=3.5, upper=6.5),
        Point(2, "w3", None, None, 0, False),  # no n: no limits, a gap in the steps
        Point(3, "w4", None, 5.0, 10, False, lower=2.0, upper=8.0),
    ]
    paths = step_lines(area, pts, "")
    d = [re.search(r' d="([^"]+)"', p).group(1) for p in paths]  # type: ignore[union-attr]
    y = {v: 300.0 - v / 10 * PLOT_HEIGHT for v in (2.0, 3.5, 6.5, 8.0)}  # 256, 223, 157, 124

    def fmt(v: float) -> str:
        return f"{v:g}"

    assert d == [  # upper first, each stretch its own path: level, riser, level
        f"M40 {fmt(y[8.0])} H140 V{fmt(y[6.5])} H240",
        f"M340 {fmt(y[8.0])} H440",
        f"M40 {fmt(y[2.0])} H140 V{fmt(y[3.5])} H240",
        f"M340 {fmt(y[2.0])} H440",
    ]
    assert 'data-first="0" data-last="1"' in paths[0] and 'data-first="3"' in paths[1]
    assert "from each period" in paths[0] and "n: 6.5 to 8</title>" in paths[0]


def test_the_html_steps_are_each_weeks_own_limits(doc: dict, html: str) -> None:
    svg = figure(html, "fcr")
    series = doc["metrics"]["fcr"]["series"]
    # the value axis, recovered from two tick labels: y = a + b * value
    tick_marks = [
        (float(v), float(y) - 3.8)
        for y, v in re.findall(
            r'<text x="[\d.]+" y="([\d.]+)"[^>]*class="pdca-ytick" data-value="([^"]+)"', svg
        )
    ]
    assert len(tick_marks) >= 2
    (v0, y0), (v1, y1) = tick_marks[0], tick_marks[-1]
    slope = (y1 - y0) / (v1 - v0)

    def y_of(v: float) -> float:
        return y0 + slope * (v - v0)

    # the bands, recovered from the points' centres
    cx = {
        int(i): float(x)
        for i, x in re.findall(
            r'<g class="pdca-point[^"]*" data-index="(\d+)"[^>]*>.*?<circle cx="([\d.]+)"',
            svg,
            re.S,
        )
    }
    band = cx[1] - cx[0]
    for side in ("upper", "lower"):
        paths = re.findall(rf'<path[^>]*class="pdca-limit-step pdca-{side}-step"[^>]*>', svg)
        assert len(paths) == 1, "every week has an n, so one unbroken step per side"
        d = re.search(r' d="([^"]+)"', paths[0]).group(1)  # type: ignore[union-attr]
        moves = re.findall(r"([MVH])([\d.]+)(?: ([\d.]+))?", d)
        assert moves[0][0] == "M"
        assert float(moves[0][1]) == pytest.approx(cx[0] - band / 2, abs=0.01)
        levels = [float(moves[0][2])] + [float(v) for k, v, _ in moves[1:] if k == "V"]
        ends = [float(v) for k, v, _ in moves if k == "H"]
        assert len(levels) == len(ends) == len(series)
        for i, p in enumerate(series):
            drawn = min(max(p[side], 0.0), 100.0)  # a rate's limits end at 0 and 100
            assert levels[i] == pytest.approx(y_of(drawn), abs=0.02), (side, i)
            assert ends[i] == pytest.approx(cx[i] + band / 2, abs=0.02), (side, i)
    # the first week (18 tickets) has an upper limit above 100 %: drawn at 100, kept in JSON
    assert series[0]["upper"] > 100
    # the smallest week has the widest limits: the steps are not a flat pair of lines
    small = min(range(len(series)), key=lambda i: series[i]["n"])
    large = max(range(len(series)), key=lambda i: series[i]["n"])
    width = [series[i]["upper"] - series[i]["lower"] for i in (small, large)]
    assert width[0] > 2 * width[1]
    assert 'class="pdca-ref pdca-upper"' not in svg, "no flat limit drawn beside the steps"
    assert "Laney p′" in svg


def test_the_browser_draws_the_steps_inside_the_plot(chromium: Chromium, page: Path) -> None:
    run = chromium.run(
        page,
        {
            "steps": "JSON.stringify([...document.querySelectorAll("
            "'figure[data-metric=fcr] .pdca-limit-step')].map(p => {"
            " const svg = p.ownerSVGElement;"
            " const axis = svg.querySelector('.pdca-xaxis');"
            " const b = p.getBBox();"
            " return {x: b.x, y: b.y, w: b.width, h: b.height,"
            " left: +axis.getAttribute('x1'), right: +axis.getAttribute('x2'),"
            " top: +axis.dataset.plotTop, bottom: +axis.getAttribute('y1'),"
            " shown: p.getBoundingClientRect().width,"
            " stroke: getComputedStyle(p).stroke}; }))",
        },
    )
    assert run.errors == [], [str(m) for m in run.errors]
    steps = run.values["steps"]
    assert len(steps) == 2
    for s in steps:
        assert s["w"] > 0.9 * (s["right"] - s["left"]), "across the whole plot"
        assert s["h"] > 0, "the limits step with the weeks' n"
        assert s["left"] - 0.5 <= s["x"] and s["x"] + s["w"] <= s["right"] + 0.5
        assert s["top"] - 0.5 <= s["y"] and s["y"] + s["h"] <= s["bottom"] + 0.5
        assert s["shown"] > 300 and s["stroke"] not in ("none", "")


# -- the run chart ----------------------------------------------------------------------------


def test_a_run_chart_draws_its_median_and_no_limits(doc: dict, html: str) -> None:
    svg = figure(html, "chat")
    signal = doc["metrics"]["chat"]["signal"]
    # a run chart's centre is the median of all its weeks (Anhøj): by hand, the 20 weeks
    # take each of the means 11, 11.67, 12, 12.33 and 13 four times, so the median is 12
    weeks = sorted(sum(10 + (w * 7 + d) % 5 for d in range(3)) / 3 for w in range(10, 30))
    assert weeks[9] == weeks[10] == 12.0
    assert signal["limits"]["centre"] == 12.0 == signal["run_chart"]["median"]
    medians = re.findall(r'class="pdca-ref pdca-median" data-value="([^"]+)"', svg)
    assert [float(v) for v in medians] == [pytest.approx(signal["limits"]["centre"])]
    assert "pdca-limit-step" not in svg and "pdca-ref pdca-upper" not in svg
    assert "pdca-ref pdca-centre" not in svg
    assert "Run chart: too few baseline periods for limits." in svg
    page = Page(html)
    note = "8 baseline values, 12 needed for control limits"
    assert note in signal["note"] and note in page.all_text


# -- mixed, everywhere ----------------------------------------------------------------------------


def test_mixed_is_shown_with_both_reasons_in_every_format(fresh: Pdca, doc: dict) -> None:
    reasons = [r["message"] for r in doc["metrics"]["handle"]["signal"]["reasons"]]
    assert len(reasons) == 2
    words = "moved both ways, no verdict"
    assert doc["metrics"]["handle"]["reading"] == f"{words} ({reasons[0]}; but {reasons[1]})"
    for fmt in ("html", "a3", "markdown", "text"):
        out = fresh.report("--format", fmt, "-o", "-", "--as-of", AS_OF)
        flat = " ".join(out.split())
        if fmt in ("html", "a3"):
            flat = " ".join(Page(out).all_text.split())
        assert words in flat or "both ways" in flat, fmt
        for message in reasons:
            if fmt == "a3":
                continue  # the A3 has a line per metric, its evidence is in the report
            assert message in flat, (fmt, message)
    html = fresh.report("--format", "html", "-o", "-", "--as-of", AS_OF)
    block = re.search(r'<div class="evidence" data-verdict="mixed">(.*?)</div>', html, re.S)
    assert block, "the mixed verdict has its evidence block"
    ways = re.findall(r'<li class="reason way-(\w+)" data-kind="(\w+)"', block.group(1))
    assert sorted(ways) == [("down", "sustained_run"), ("up", "cycle_mean")]


# -- stored snapshots: hostile text and older versions ----------------------------------------


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Pdca:
    """The cycle checked as of AS_OF and stored in SQLite, as a team would run it."""
    pdca = Pdca(make_playbook(tmp_path_factory.mktemp("stored")), clock)
    pdca("run", "--as-of", "2026-01-05", at="2026-01-05T08:00:00.000Z")
    pdca("task", "done", "coach", "--by", "maria", at="2026-01-09T10:00:00.000Z")
    pdca("run", "--as-of", AS_OF, at="2026-03-30T08:00:00.000Z")
    return pdca


def edit_snapshot(pdca: Pdca, change: Any) -> dict[str, Any]:
    """Rewrite the stored check snapshot with ``change(report)``; return the original."""
    db = pdca.playbook.parent / ".pdca" / "state.db"
    with sqlite3.connect(db) as con:
        (sid, text), *_ = con.execute(
            "SELECT id, report FROM pdca_snapshots WHERE as_of = ? ORDER BY id DESC", (AS_OF,)
        ).fetchall()
        original = json.loads(text)
        edited = json.loads(text)
        change(edited)
        con.execute("UPDATE pdca_snapshots SET report = ? WHERE id = ?", (json.dumps(edited), sid))
    return original


def test_a_snapshot_without_a_budget_gets_one_from_its_metrics(stored: Pdca) -> None:
    original = edit_snapshot(stored, lambda r: r.pop("false_alarms"))
    try:
        doc = json.loads(stored.report("--format", "json", "--as-of", AS_OF))
        assert doc["measured"]["source"] == "snapshot"
        rates = [
            m["signal"]["false_alarm_rate"]
            for m in original["metrics"].values()
            if m["signal"]["false_alarm_rate"] is not None
        ]
        assert len(rates) == 2  # fcr and handle; chat has no verdict to be false
        budget = doc["false_alarms"]
        assert budget["judged_metrics"] == 2
        assert budget["expected"] == pytest.approx(rates[0] + rates[1])
        assert budget["chance_of_any"] == pytest.approx(1 - (1 - rates[0]) * (1 - rates[1]))
        assert budget["expected"] == pytest.approx(original["false_alarms"]["expected"])
        md = stored.report("--format", "markdown", "-o", "-", "--as-of", AS_OF)
        assert "these 2 judged metrics would give about" in " ".join(md.split())
        # older still: no rates either, so no sentence at all rather than a made-up one
        edit_snapshot(
            stored,
            lambda r: [m["signal"].pop("false_alarm_rate", None) for m in r["metrics"].values()],
        )
        doc = json.loads(stored.report("--format", "json", "--as-of", AS_OF))
        assert doc["false_alarms"] is None
        html = stored.report("--format", "html", "-o", "-", "--as-of", AS_OF)
        assert "false verdict" not in html and 'class="budget"' not in html
    finally:
        edit_snapshot(stored, lambda r: (r.clear(), r.update(original)))


HOSTILE = f"{SCRIPT} **bold** [a](javascript:alert(1)) | x | \x1b[31mred"


def test_a_hostile_reason_stays_text_in_every_format(stored: Pdca) -> None:
    def plant(report: dict[str, Any]) -> None:
        report["metrics"]["handle"]["signal"]["reasons"][0]["message"] = HOSTILE
        report["metrics"]["chat"]["signal"]["note"] = HOSTILE
        report["metrics"]["fcr"]["signal"]["variation"] = ["not", "a", "reading"]

    original = edit_snapshot(stored, plant)
    try:
        html = stored.report("--format", "html", "-o", "-", "--as-of", AS_OF)
        assert SCRIPT not in html and "<script" not in html.lower()
        assert "&lt;script&gt;" in html
        assert SCRIPT in Page(html).all_text, "shown as the text it is"
        a3 = stored.report("--format", "a3", "-o", "-", "--as-of", AS_OF)
        assert SCRIPT not in a3 and "<script" not in a3.lower()
        md = stored.report("--format", "markdown", "-o", "-", "--as-of", AS_OF)
        assert SCRIPT not in md and "&lt;script&gt;" in md
        # Markdown would read a link, emphasis or a table cell: each is escaped
        assert not re.search(r"(?<!\\)\]\(javascript:", md) and r"\](javascript:" in md
        assert "**bold**" not in md and r"\*\*bold\*\*" in md
        assert " | x | " not in md and r"\| x \|" in md
        assert "\x1b" not in md
        # a terminal: click keeps escape sequences (its own colours too) when color is on
        argv = ["report", str(stored.playbook), "--format", "text", "--as-of", AS_OF]
        with contextlib.chdir(stored.playbook.parent):
            text = CliRunner().invoke(stored.cli, argv, color=True).stdout
        assert "\x1b[31mred" not in text, "stored text cannot colour the terminal"
        assert "\\x1b[31mred" in text  # shown as the escape it is
    finally:
        edit_snapshot(stored, lambda r: (r.clear(), r.update(original)))


# -- variation and assurance ------------------------------------------------------------------

EXPECTED = {
    "fcr": ("common_cause", "hit_or_miss"),
    "handle": ("improvement", "fail"),
    "chat": ("none", "none"),
}


def test_the_check_readings_behind_the_icons(doc: dict[str, Any]) -> None:
    sig = {mid: m["signal"] for mid, m in doc["metrics"].items()}
    assert (sig["handle"]["variation"], sig["handle"]["variation_side"]) == ("improvement", "low")
    assert sig["handle"]["variation_rules"] == [5]  # 2 of the last 3 beyond 2 sigma, low
    assert sig["handle"]["assurance"] == "fail"
    # handle's XmR limits by hand: centre 541/18, moving ranges of the 18 baseline weeks
    base = [30, 31, 29, 30, 32, 30, 29, 31, 30, 28, 30, 31, 29, 30, 31, 30, 29, 30]
    mr = sum(abs(a - b) for a, b in itertools.pairwise(base)) / 17
    lower = sum(base) / 18 - 2.66 * mr
    assert lower > 25  # the process never gets down to the target: fail
    assert sig["handle"]["limits"]["lower"] == pytest.approx(lower)
    last = [p for p in doc["metrics"]["fcr"]["series"] if not p.get("partial")][-1]
    assert last["lower"] < 80 < last["upper"]  # hit or miss, on the latest week's own n
    assert sig["chat"]["variation"] is None and sig["chat"]["assurance"] is None


def test_the_summary_table_has_an_icon_pair_per_metric(html: str) -> None:
    rows = re.findall(
        r'<tr data-metric="(\w+)" data-variation="(\w+)" data-assurance="(\w+)">(.*?)</tr>',
        html,
        re.S,
    )
    assert {mid: (v, a) for mid, v, a, _ in rows} == EXPECTED
    cells = {mid: body for mid, _, _, body in rows}
    assert "<title" in cells["handle"]
    assert "Variation: special cause variation: improvement (low)" in cells["handle"]
    assert "Assurance: the target will consistently be missed" in cells["handle"]
    assert "Variation: common cause variation" in cells["fcr"]
    assert "Assurance: no assurance reading" in cells["chat"]
    # and beside each metric's heading
    head = re.search(r'id="metric-handle".*?<div class="metric-head">(.*?)</div>', html, re.S)
    assert head and "pdca-mdc-variation-improvement" in head.group(1)


@pytest.mark.parametrize(
    ("kind", "side", "ink", "letter"),
    [
        ("improvement", "high", "#1d5fa6", "H"),
        ("concern", "low", "#c2560c", "L"),
        ("neither", "high", "#6d3fa6", "H"),
        ("common_cause", "high", "#6b7280", None),
        (None, None, "#6b7280", None),
    ],
)
def test_variation_icons_differ_by_colour_and_shape(
    kind: str | None, side: str | None, ink: str, letter: str | None
) -> None:
    svg = variation_icon(kind, side)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert f'stroke="{ink}"' in svg
    letters = re.findall(r">([HL])</text>", svg)
    assert letters == ([letter] if letter else [])


def test_assurance_icons_say_pass_fail_or_either() -> None:
    for kind, letter in (("pass", "P"), ("fail", "F"), ("hit_or_miss", "?"), (None, "–")):
        assert re.findall(r">(.)</text>", assurance_icon(kind)) == [letter]


def test_markdown_and_text_say_it_in_words(fresh: Pdca) -> None:
    md = fresh.report("--format", "markdown", "-o", "-", "--as-of", AS_OF)
    table = md.split("## At a glance", 1)[1].split("##", 1)[0]
    assert (
        "| Handling time | special cause variation: improvement (low) | "
        "the target will consistently be missed |" in table
    )
    assert "| Chat wait | no variation reading (too few periods for limits) |" in table
    text = fresh.report("--format", "text", "--as-of", AS_OF)
    flat = " ".join(text.split())
    assert (
        "special cause variation: improvement (low); assurance: the target will "
        "consistently be missed" in flat
    )


def test_the_a3_has_the_icons(fresh: Pdca) -> None:
    a3 = fresh.report("--format", "a3", "-o", "-", "--as-of", AS_OF)
    rows = re.findall(r'<tr data-metric="handle">(.*?)</tr>', a3, re.S)
    confirmed = [r for r in rows if "pdca-mdc-" in r]  # section 6, effect confirmation
    assert len(confirmed) == 1
    assert "pdca-mdc-variation-improvement" in confirmed[0]
    assert "pdca-mdc-assurance-fail" in confirmed[0]


def test_the_icons_in_a_browser_are_drawn_and_labelled(chromium: Chromium, page: Path) -> None:
    run = chromium.run(
        page,
        {
            "icons": "JSON.stringify([...document.querySelectorAll('#summary svg.pdca-mdc')]"
            ".map(s => { const b = s.getBoundingClientRect();"
            " return {cls: s.getAttribute('class'), w: b.width, h: b.height,"
            " label: s.querySelector('title').textContent,"
            " by: s.getAttribute('aria-labelledby'),"
            " titled: !!document.getElementById(s.getAttribute('aria-labelledby'))}; }))",
        },
    )
    assert run.errors == [], [str(m) for m in run.errors]
    icons = run.values["icons"]
    assert len(icons) == 2 * len(EXPECTED)
    for icon in icons:
        assert icon["w"] == pytest.approx(30, abs=1) and icon["h"] == pytest.approx(30, abs=1)
        assert icon["titled"] and icon["label"].split(":")[0] in ("Variation", "Assurance")
    labels = [i["label"] for i in icons]
    assert "Variation: special cause variation: improvement (low)" in labels
    assert "At a glance" in Page(page.read_text(encoding="utf-8")).all_text


def test_status_says_variation_and_assurance_under_each_metric(stored: Pdca) -> None:
    text = stored("status", "--as-of", AS_OF).stdout
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if line.split()[:1] == ["handle"])
    assert lines[row + 1].strip() == "special cause improvement (low); target consistently missed"
    row = next(i for i, line in enumerate(lines) if line.split()[:1] == ["fcr"])
    assert lines[row + 1].strip() == "common cause; target hit or miss"
    row = next(i for i, line in enumerate(lines) if line.split()[:1] == ["chat"])
    assert "cause" not in lines[row + 1]  # a run chart has neither reading
    doc = json.loads(stored("status", "--as-of", AS_OF, "--format", "json").stdout)
    assert doc["metrics"]["handle"]["signal"]["variation"] == "improvement"
    assert doc["metrics"]["handle"]["signal"]["assurance"] == "fail"
