"""The range of a KPI's values: validate's errors and warnings, check's ``range``, clipped charts.

Playbooks are real files checked by a real ``pdca`` process; every place
reported is counted by hand in the playbook text (line, then column of the
value). The chart's geometry is read back from the SVG.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pdca.builtins.kpis import CALCULATORS
from pdca.kpi import PERCENT, FunctionKpi, Kpi, KpiQuery
from pdca.playbook.ranges import declared_range, range_words
from pdca.report.charts import control_chart
from pdca.report.charts.clip import Bounds
from pdca.report.svg import SVG_NS

NS = f"{{{SVG_NS}}}"
START = date(2025, 9, 1)  # a Monday
WEEKS = 16
AS_OF = (START + timedelta(weeks=WEEKS) - timedelta(days=1)).isoformat()  # the last Sunday


def pdca(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pdca", *map(str, args)], capture_output=True, text=True, check=False
    )


def write(folder: Path, metrics: str, extra: str = "") -> Path:
    """A playbook over a weekly survey of 16 weeks: in even weeks one answer (a score of
    10, 4 stars), in odd weeks three (scores 10, 0 and 8, 2 stars each): eNPS 100 and 0
    by turns, from one answer and from three."""
    rows = ["ts,score,stars"]
    for week in range(WEEKS):
        day = START + timedelta(weeks=week, days=1)
        answers = [(10, 4)] if week % 2 == 0 else [(10, 2), (0, 2), (8, 2)]
        rows += [f"{day} 1{i}:00,{score},{stars}" for i, (score, stars) in enumerate(answers)]
    (folder / "survey.csv").write_text("\n".join(rows) + "\n")
    path = folder / "playbook.yaml"
    path.write_text(
        "playbook: p\n"  # 1
        "title: Ranges\n"  # 2
        "sources: {s: {type: csv, path: survey.csv, timestamp: ts}}\n"  # 3
        f"{extra}"
        f"metrics:\n{metrics}"
    )
    return path


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": error: " in line or ": warning: " in line]


# -- what each built-in KPI declares --------------------------------------------------------


def test_every_built_in_kpi_declares_its_range() -> None:
    ranges = {cls.name: declared_range(cls()) for cls in CALCULATORS}
    assert ranges == {
        "nps": (-100, 100),
        "enps": (-100, 100),
        "csat": (0, 100),
        "rate": (0, 100),
        "sla": (0, 100),
        "retention": (0, 100),
        "churn": (0, 100),
        "count": (0, None),
        "count_distinct": (0, None),
        **{
            name: (None, None)
            for name in (
                "mean",
                "median",
                "sum",
                "min",
                "max",
                "percentile",
                "ratio",
                "ces",
                "servqual_gap",
                "clv",
            )
        },
    }
    assert range_words((0, 100)) == "from 0 to 100"
    assert range_words((0, None)) == "0 or more"
    assert range_words((None, 5)) == "5 or less"


BOUNDED = {"nps": "score", "enps": "score", "csat": "score", "sla": "score", "rate": "flag"}
BOUNDED |= {"retention": "who", "churn": "who", "count": None, "count_distinct": "who"}


@pytest.mark.parametrize("name", sorted(BOUNDED))
def test_a_bounded_kpi_stays_in_its_range_on_untidy_data(name: str) -> None:
    """Scores from -5 to 15 and text, yes/no/maybe flags, a few customers: every value of
    window and series lies in the declared range (seeded, so the data is the same on
    every run)."""
    rng = np.random.default_rng(11)
    con = duckdb.connect()
    con.execute("CREATE TABLE t (__ts TIMESTAMP, score VARCHAR, flag VARCHAR, who VARCHAR)")
    rows = []
    for _ in range(400):
        ts = f"{START + timedelta(days=int(rng.integers(0, 70)))} 10:00"
        score = str(round(float(rng.uniform(-5, 15)), 1)) if rng.random() < 0.9 else "n/a"
        flag = str(rng.choice(["yes", "no", "maybe", "1", "0"]))
        rows.append((ts, score, flag, f"c{int(rng.integers(0, 25))}"))
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    kpi = next(cls() for cls in CALCULATORS if cls.name == name)
    params = {"sla": {"limit": 8}}.get(name, {})
    q = KpiQuery(
        con=con,
        table="t",
        field=BOUNDED[name],
        params=params,
        period="week",
        window_start=datetime(2025, 10, 13),
        end=datetime(2025, 11, 10),
        history_start=datetime(2025, 9, 1),
    )
    result = kpi.compute(q)
    low, high = declared_range(kpi)
    values = [v.value for v in (result.window, *result.series.values()) if v.value is not None]
    assert len(values) >= 5
    assert all((low is None or v >= low) and (high is None or v <= high) for v in values)


def test_a_malformed_declared_range_is_not_a_range() -> None:
    class Odd(Kpi):
        name = "odd"

    for bad in [(5, 1), (0,), "0..100", (0, float("inf")), (True, 5), None]:
        kpi = Odd()
        kpi.value_range = bad  # type: ignore[assignment]
        assert declared_range(kpi) is None, bad
    assert declared_range(FunctionKpi("f", len, value_range=PERCENT)) == (0, 100)
    assert declared_range(object()) == (None, None)  # an object without the attribute


# -- pdca validate: errors --------------------------------------------------------------------


OUT_OF_RANGE = """\
  pulse:
    source: s
    kpi: enps
    field: score
    target: 150
    baseline: -120
    warn: 100
    benchmark: {value: 101, source: survey}
  answers:
    source: s
    kpi: count
    target: -1
    direction: decrease
  fcr:
    source: s
    kpi: rate
    field: score
    target: 120
"""


def test_values_outside_the_kpis_range_are_errors_at_their_place(tmp_path: Path) -> None:
    path = write(tmp_path, OUT_OF_RANGE)
    proc = pdca("validate", path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    # metrics: is line 4; pulse starts on line 5, its target on line 9 at column 13
    assert lines(proc.stdout) == [
        f"{path}:9:13: error: metric 'pulse': target 150 is outside the values KPI 'enps' can "
        "take (from -100 to 100); write a target from -100 to 100",
        f"{path}:10:15: error: metric 'pulse': baseline -120 is outside the values KPI 'enps' "
        "can take (from -100 to 100); write a baseline from -100 to 100",
        f"{path}:12:24: error: metric 'pulse': benchmark value 101 is outside the values KPI "
        "'enps' can take (from -100 to 100); write a benchmark value from -100 to 100",
        f"{path}:16:13: error: metric 'answers': target -1 is outside the values KPI 'count' "
        "can take (0 or more); write a target of 0 or more",
        f"{path}:22:13: error: metric 'fcr': target 120 is outside the values KPI 'rate' can "
        "take (from 0 to 100); write a target from 0 to 100",
    ]


def test_the_ends_of_a_range_are_inside_it(tmp_path: Path) -> None:
    metrics = (
        "  pulse: {source: s, kpi: enps, field: score, target: 100, baseline: -100}\n"
        "  answers: {source: s, kpi: count, target: 0, direction: decrease}\n"
        "  fcr: {source: s, kpi: rate, field: score, target: 100, warn: 99, baseline: 0}\n"
        "  mean: {source: s, kpi: mean, field: score, target: -5000}\n"
    )
    proc = pdca("validate", write(tmp_path, metrics))
    assert proc.returncode == 0, proc.stdout
    assert lines(proc.stdout) == []


# -- pdca validate: warnings ------------------------------------------------------------------


def test_a_percent_written_as_a_fraction_is_a_warning(tmp_path: Path) -> None:
    metrics = (
        "  csat:\n"  # 5
        "    source: s\n"
        "    kpi: csat\n"
        "    field: score\n"
        "    target: 0.85\n"  # 9
        "    warn: 0.785\n"  # 10
        "    baseline: 0\n"  # 11: 0 is a percent too, no warning of its own
    )
    path = write(tmp_path, metrics)
    proc = pdca("validate", path)
    assert proc.returncode == 0
    assert lines(proc.stdout) == [
        f"{path}:9:13: warning: metric 'csat': target 0.85 looks like a fraction; csat is a "
        "percent from 0 to 100: did you mean 85?",
        f"{path}:10:11: warning: metric 'csat': warn 0.785 looks like a fraction; csat is a "
        "percent from 0 to 100: did you mean 78.5?",
    ]
    assert f"{path}: ok: playbook 'p'" in proc.stdout


@pytest.mark.parametrize(
    "metric",
    [
        # 0 and 1 are percents as well as fractions: nothing says which was meant
        "{source: s, kpi: rate, field: score, target: 1, baseline: 0}",
        # one value above 1 shows the others are percents (a poor baseline of 0.5 %)
        "{source: s, kpi: rate, field: score, target: 85, baseline: 0.5}",
        # a mean or a ratio is no percent: 0.85 is a fine target
        "{source: s, kpi: mean, field: score, target: 0.85, warn: 0.8}",
        "{source: s, kpi: enps, field: score, target: 0.5}",
    ],
)
def test_no_fraction_warning_where_the_values_may_be_meant(tmp_path: Path, metric: str) -> None:
    proc = pdca("validate", write(tmp_path, f"  m: {metric}\n"))
    assert proc.returncode == 0
    assert lines(proc.stdout) == []


def test_a_percentile_q_between_0_and_1_is_a_warning(tmp_path: Path) -> None:
    metrics = (
        "  p90:\n"  # 5
        "    source: s\n"
        "    kpi: percentile\n"
        "    field: score\n"
        "    params: {q: 0.9}\n"  # 9: q's value at column 17
        "    target: 9\n"
        "  p1: {source: s, kpi: percentile, field: score, params: {q: 1}, target: 9}\n"
        "  p95: {source: s, kpi: percentile, field: score, params: {q: 95}, target: 9}\n"
    )
    path = write(tmp_path, metrics)
    proc = pdca("validate", path)
    assert proc.returncode == 0
    assert lines(proc.stdout) == [
        f"{path}:9:17: warning: metric 'p90': q is a percentile from 0 to 100: 0.9 means the "
        "0.9th percentile; did you mean 90?"
    ]
    as_json = json.loads(pdca("validate", path, "--format", "json").stdout)
    (problem,) = as_json[0]["problems"]
    assert (problem["severity"], problem["line"], problem["col"]) == ("warning", 9, 17)


# -- a plugin KPI's range and warnings --------------------------------------------------------

PLUGIN = '''\
from pdca import hookimpl
from pdca.kpi import PERCENT, FunctionKpi, SqlKpi


class Stars(SqlKpi):
    """The mean star rating, on a scale of 1 to 5."""

    name = "stars"
    summary = "mean(field) of 1-5 star ratings"
    value_range = (1, 5)
    param_docs = {"weight": "how much each rating counts"}

    def warnings(self, field, params):
        if params.get("weight") == 0:
            return [("weight", "weight 0 leaves every rating out")]
        return []

    def sql(self, q):
        return f"avg(TRY_CAST({q.column} AS DOUBLE))"


class Upside(SqlKpi):
    name = "upside"
    summary = "declares its range the wrong way round"
    value_range = (5, 1)

    def sql(self, q):
        return f"avg(TRY_CAST({q.column} AS DOUBLE))"


def top_share(values):
    """Percent of ratings of 4 or more."""
    return 100 * sum(1 for v in values if float(v) >= 4) / len(values)


@hookimpl
def pdca_register_kpis(register):
    register(Stars())
    register(Upside())
    register(FunctionKpi("top_share", top_share, value_range=PERCENT))
'''


def test_a_plugin_kpi_declares_a_range_and_warns(tmp_path: Path) -> None:
    (tmp_path / "ratings.py").write_text(PLUGIN)
    metrics = (
        "  stars:\n"  # 6
        "    source: s\n"
        "    kpi: stars\n"
        "    field: stars\n"
        "    params: {weight: 0}\n"  # 10: weight's value at column 22
        "    target: 6\n"  # 11
        "  top: {source: s, kpi: top_share, field: stars, target: 0.6}\n"  # 12: col 58
        "  odd: {source: s, kpi: upside, field: stars, target: 3}\n"  # 13: kpi at col 25
    )
    path = write(tmp_path, metrics, "plugins: [ratings.py]\n")
    proc = pdca("validate", path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert lines(proc.stdout) == [
        f"{path}:10:22: warning: metric 'stars': weight 0 leaves every rating out",
        f"{path}:11:13: error: metric 'stars': target 6 is outside the values KPI 'stars' can "
        "take (from 1 to 5); write a target from 1 to 5",
        f"{path}:12:58: warning: metric 'top': target 0.6 looks like a fraction; top_share is "
        "a percent from 0 to 100: did you mean 60?",
        f"{path}:13:25: error: metric 'odd': KPI 'upside' declares value_range (5, 1), which is "
        "not (low, high) with numbers or None and low <= high; fix the KPI plugin",
    ]
    # once the playbook is fixed, check gives the plugin's range with each metric
    fixed = path.read_text().replace("target: 6", "target: 4.5").replace("weight: 0", "weight: 1")
    fixed = fixed.replace("target: 0.6", "target: 60").replace("kpi: upside", "kpi: stars")
    path.write_text(fixed)
    assert pdca("validate", path).returncode == 0
    doc = check_json(path)
    assert doc["metrics"]["stars"]["range"] == {"low": 1, "high": 5}
    assert doc["metrics"]["top"]["range"] == {"low": 0, "high": 100}
    # the 28-day window holds weeks 12-15: 4 stars twice, 2 stars six times
    assert doc["metrics"]["stars"]["value"] == (2 * 4 + 6 * 2) / 8
    assert doc["metrics"]["top"]["value"] == 100 * 2 / 8


# -- pdca check: range ------------------------------------------------------------------------


def check_json(path: Path, code: int = 0) -> dict:
    proc = pdca("check", path, "--format", "json", "--as-of", AS_OF)
    assert proc.returncode == code, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


CYCLE = f"cycle: {{start: {START + timedelta(weeks=12)}}}\n"  # 12 baseline weeks, 4 judged
PULSE = (
    "  pulse: {title: Pulse, source: s, kpi: enps, field: score, target: 60}\n"
    "  pulse_xmr: {title: Pulse XmR, source: s, kpi: enps, field: score, target: 60, chart: xmr}\n"
    "  answers: {source: s, kpi: count, target: 3}\n"
    "  mean: {source: s, kpi: mean, field: score, target: 9}\n"
)


def test_check_gives_each_metric_its_range_and_keeps_the_computed_limits(
    tmp_path: Path,
) -> None:
    broken = "  broken: {source: s, kpi: rate, field: ts, target: 80}\n"
    doc = check_json(write(tmp_path, PULSE + broken, CYCLE), code=1)  # 1: a metric failed
    metrics = doc["metrics"]
    assert metrics["pulse"]["range"] == {"low": -100, "high": 100}
    assert metrics["answers"]["range"] == {"low": 0, "high": None}
    assert metrics["mean"]["range"] == {"low": None, "high": None}
    # a metric that cannot be measured still says what its KPI's values can be
    assert metrics["broken"]["status"] == "error"
    assert metrics["broken"]["range"] == {"low": 0, "high": 100}
    # the 12 baseline weeks' eNPS is 100 and 0 by turns: centre 50, every moving range 100,
    # so the XmR limits are 50 -/+ 2.66 x 100: -216 and 316, far beyond what an eNPS can be
    xmr = metrics["pulse_xmr"]
    assert [p["value"] for p in xmr["series"]] == [100.0, 0.0] * 8
    limits = xmr["signal"]["limits"]
    assert limits["centre"] == 50.0
    assert limits["lower"] == pytest.approx(-216.0, abs=1e-9)
    assert limits["upper"] == pytest.approx(316.0, abs=1e-9)
    # the advice names the limits as the eNPS can be, not the computed -216 and 316
    advice = xmr["signal"]["target_check"]["message"]
    assert "(-100 to 100, at the end of the values the KPI can take)" in advice
    assert "-216" not in advice and "316" not in advice
    # Laney p': the centre is the answers' eNPS, (6 x 100 + 18 x 0) / 24 = 25; each week's
    # (value - 25) x sqrt(n) is 75 (n 1) or -25 x sqrt(3) (n 3), so every moving range is
    # 75 + 25 sqrt(3) and the per-answer sigma that over d2 = 1.128; limits 25 -/+ 3 sigma /
    # sqrt(n): -289.6 and 339.6 for one answer, -156.7 and 206.7 for three
    pulse = metrics["pulse"]
    assert pulse["signal"]["limits"]["chart"] == "p_prime"
    assert pulse["signal"]["limits"]["centre"] == pytest.approx(25.0, rel=1e-12)
    sigma = (75 + 25 * math.sqrt(3)) / 1.128
    for point in pulse["series"]:
        half = 3 * sigma / math.sqrt(point["n"])
        assert point["lower"] == pytest.approx(25 - half, rel=1e-12)
        assert point["upper"] == pytest.approx(25 + half, rel=1e-12)
    assert pulse["series"][0]["lower"] == pytest.approx(-289.6, abs=0.05)


# -- the report draws the limits inside the range ---------------------------------------------


def chart_of(html: str, metric: str) -> ET.Element:
    found = re.search(
        rf'<figure class="chart" data-metric="{metric}"[^>]*>.*?(<svg.*?</svg>)', html, re.S
    )
    assert found, f"no chart for {metric}"
    return ET.fromstring(found[1])


def with_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [el for el in root.iter() if cls in (el.get("class") or "").split()]


def value_to_y(root: ET.Element) -> tuple[float, float]:
    """(a, b) with y = a + b * value, from two drawn points of different values."""
    pts = {}
    for g in with_class(root, "pdca-point"):
        circle = list(g.iter(f"{NS}circle"))[-1]
        pts[float(g.get("data-value"))] = float(circle.get("cy"))
    (v0, y0), (v1, y1) = min(pts.items()), max(pts.items())
    b = (y1 - y0) / (v1 - v0)
    return y0 - b * v0, b


def path_levels(d: str) -> list[float]:
    """The y of every level of a stepped path ``M x y H x V y H x ...``."""
    tokens = re.findall(r"([MHV])([-0-9.]+)(?: ([-0-9.]+))?", d)
    return [float(b if cmd == "M" else a) for cmd, a, b in tokens if cmd in "MV"]


def test_the_report_draws_limits_beyond_the_range_at_its_ends(tmp_path: Path) -> None:
    path = write(tmp_path, PULSE, CYCLE)
    out = tmp_path / "report.html"
    proc = pdca("report", path, "--format", "html", "-o", out, "--as-of", AS_OF)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()

    xmr = chart_of(html, "pulse_xmr")
    a, b = value_to_y(xmr)
    (lower,) = with_class(xmr, "pdca-lower")
    (upper,) = with_class(xmr, "pdca-upper")
    assert float(lower.get("y1")) == pytest.approx(a + b * -100, abs=0.02)
    assert float(upper.get("y1")) == pytest.approx(a + b * 100, abs=0.02)
    assert float(lower.get("data-computed")) == pytest.approx(-216.0, abs=1e-9)
    assert float(upper.get("data-computed")) == pytest.approx(316.0, abs=1e-9)
    labels = {el.text for el in with_class(xmr, "pdca-ref-label")}
    assert {"Lower limit clipped at −100", "Upper limit clipped at 100", "Target 60"} <= labels
    assert "Lower limit −216, clipped at −100" in lower.find(f"{NS}title").text
    # the axis covers the range, not the computed limits
    ticks = [float(t.get("data-value")) for t in with_class(xmr, "pdca-ytick")]
    assert min(ticks) >= -100 and max(ticks) <= 100

    stepped = chart_of(html, "pulse")
    a, b = value_to_y(stepped)
    floor, ceiling = a + b * -100, a + b * 100  # y grows downwards
    steps = with_class(stepped, "pdca-limit-step")
    assert steps
    levels = [y for step in steps for y in path_levels(step.get("d"))]
    assert all(ceiling - 0.02 <= y <= floor + 0.02 for y in levels)
    # every week's limits lie beyond the range (-289.6 / -156.7 and 339.6 / 206.7)
    (lower_step,) = with_class(stepped, "pdca-lower-step")
    (upper_step,) = with_class(stepped, "pdca-upper-step")
    assert path_levels(lower_step.get("d")) == pytest.approx([floor] * WEEKS, abs=0.02)
    assert path_levels(upper_step.get("d")) == pytest.approx([ceiling] * WEEKS, abs=0.02)
    assert "drawn at −100 where beyond the values, from −100 to 100" in (
        lower_step.find(f"{NS}title").text
    )


def test_bounds_read_what_check_writes_and_ignore_junk() -> None:
    assert Bounds.read({"low": -100, "high": 100}) == Bounds(-100.0, 100.0)
    assert Bounds.read({"low": 0, "high": None}) == Bounds(0.0, None)
    assert Bounds.read((None, 5)) == Bounds(None, 5.0)
    for junk in [None, "0..100", {"low": 5, "high": 1}, (1, 2, 3), {"low": "x"}]:
        assert Bounds.read(junk) == Bounds(), junk
    assert Bounds(0.0, None).clip(-3.5) == 0.0 and Bounds(0.0, None).clip(1e9) == 1e9
    assert Bounds(-100.0, 100.0).words("") == "from −100 to 100"
    assert Bounds(0.0, None).words("%") == "0% or more"
    assert Bounds(None, 5.0).words("") == "5 or less"
    assert Bounds().words("") == "any value"


def weekly(lowers: list[float]) -> list[dict]:
    return [
        {
            "period": f"2026-W{i + 2:02d}",
            "start": (date(2026, 1, 5) + timedelta(weeks=i)).isoformat(),
            "value": v,
            "n": 10,
            "lower": lo,
            "upper": v + 40,
        }
        for i, (v, lo) in enumerate(zip([10.0, 20.0, 30.0, 40.0], lowers, strict=True))
    ]


def test_each_step_is_clipped_on_its_own_and_lines_beyond_the_range_are_not_drawn() -> None:
    svg = control_chart(
        weekly([-130.0, -40.0, -100.0, -250.0]),
        centre=25,
        target=150,  # outside: never drawn
        baseline=-120,  # outside: never drawn
        warn=20,
        chart="p_prime",
        value_range={"low": -100, "high": 100},
    )
    root = ET.fromstring(svg)
    a, b = value_to_y(root)
    (lower,) = with_class(root, "pdca-lower-step")
    # coordinates are written to 0.01 units of the page: within 0.05 of a value here
    got = [(y - a) / b for y in path_levels(lower.get("d"))]
    assert got == pytest.approx([-100, -40, -100, -100], abs=0.05)
    (upper,) = with_class(root, "pdca-upper-step")
    got = [(y - a) / b for y in path_levels(upper.get("d"))]
    assert got == pytest.approx([50, 60, 70, 80], abs=0.05)
    assert "clipped" not in upper.find(f"{NS}title").text
    assert with_class(root, "pdca-target") == [] and with_class(root, "pdca-baseline") == []
    assert len(with_class(root, "pdca-warn")) == 1
    # without a range the same limits are drawn as they are
    free = ET.fromstring(control_chart(weekly([-130.0, -40.0, -100.0, -250.0]), chart="p_prime"))
    a, b = value_to_y(free)
    (lower,) = with_class(free, "pdca-lower-step")
    got = [(y - a) / b for y in path_levels(lower.get("d"))]
    assert got == pytest.approx([-130, -40, -100, -250], abs=0.1)
