"""The report's SVG drawing layer: well-formed, geometrically right, escaped, robust.

The geometry is read back from the SVG itself (point centres, line positions,
tick labels), so these tests check what a reader would see, not how the code
computes it.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pdca.check.stats.spc import compute_limits, detect_signals
from pdca.report.charts import (
    LINE_STYLES,
    control_chart,
    dependency_graph,
    sparkline,
    status_badge,
)
from pdca.report.depgraph import layer_nodes, wrap
from pdca.report.svg import (
    MINUS,
    SVG_NS,
    esc,
    fmt_value,
    nice_step,
    nice_ticks,
    text_width,
    truncate,
)

NS = f"{{{SVG_NS}}}"
HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' \x01"


# --- helpers -------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def local(el: ET.Element) -> str:
    return el.tag.removeprefix(NS)


def with_class(root: ET.Element, cls: str, tag: str | None = None) -> list[ET.Element]:
    out = []
    for el in root.iter():
        if cls in (el.get("class") or "").split() and (tag is None or local(el) == tag):
            out.append(el)
    return out


def circles(g: ET.Element) -> list[ET.Element]:
    return [c for c in g.iter(f"{NS}circle")]


def point_xy(g: ET.Element) -> tuple[float, float]:
    c = circles(g)[-1]  # the filled dot (a signal's ring comes first)
    return float(c.get("cx")), float(c.get("cy"))


def tooltip(el: ET.Element) -> str:
    t = el.find(f"{NS}title")
    return t.text or "" if t is not None else ""


def weekly(values: list[Any], first: date = date(2026, 1, 5), **extra: Any) -> list[dict]:
    out = []
    for i, v in enumerate(values):
        start = first + timedelta(weeks=i)
        iso = start.isocalendar()
        out.append(
            {
                "period": f"{iso[0]}-W{iso[1]:02d}",
                "start": start.isoformat(),
                "value": v,
                "n": 100 + i,
                **extra,
            }
        )
    return out


def value_to_y(root: ET.Element) -> tuple[float, float]:
    """(a, b) with y = a + b * value, fitted on the drawn points."""
    pts = [(float(g.get("data-value")), point_xy(g)[1]) for g in with_class(root, "pdca-point")]
    (v0, y0), (v1, y1) = min(pts), max(pts)
    assert v1 != v0
    b = (y1 - y0) / (v1 - v0)
    return y0 - b * v0, b


def ref_y(root: ET.Element, kind: str) -> float:
    (line,) = with_class(root, f"pdca-{kind}", "line")
    assert line.get("y1") == line.get("y2")
    return float(line.get("y1"))


def text_of(root: ET.Element) -> str:
    return " ".join(t for t in root.itertext())


SERIES = [23.1, 25.0, 24.2, 26.8, 22.9, 24.4, 25.7, 23.8, 24.9, 25.2, 24.0, 23.5]


# --- nice numbers ----------------------------------------------------------------


def mantissa(step: float) -> float:
    """1, 2, 2.5 or 5 for a nice step, robust to the float noise of a difference of ticks."""
    m = round(step / 10 ** math.floor(math.log10(step) + 1e-6), 4)
    return 1.0 if m == 10 else m


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (0, 1),
        (0.3, 0.7),
        (-13, 7),
        (97.5, 99.9),
        (0, 100),
        (1e6, 3.2e6),
        (12, 12),
        (0, 0),
        (-0.001, 0.002),
        (15.7, 33.6),
        (-1e-9, 1e-9),
    ],
)
def test_nice_ticks_cover_the_range_in_nice_steps(lo: float, hi: float) -> None:
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    assert 2 <= len(ticks) <= 7
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    assert all(math.isclose(s, steps[0], rel_tol=1e-6) for s in steps)
    assert mantissa(steps[0]) in (1.0, 2.0, 2.5, 5.0)
    # Tick values are exact decimals, not 0.30000000000000004.
    assert all(len(repr(t)) <= 12 or "e" in repr(t) for t in ticks)


@given(
    st.floats(min_value=-1e7, max_value=1e7, allow_nan=False),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_nice_ticks_property(lo: float, width: float) -> None:
    # Below ~1e-6 of the magnitude, float spacing itself is no longer "nice".
    assume(width == 0 or width > 1e-6 * max(1.0, abs(lo)))
    hi = lo + width
    ticks = nice_ticks(lo, hi)
    slack = 1e-9 * (1 + abs(lo) + abs(hi))  # float noise, far below a pixel
    assert ticks[0] <= lo + slack and ticks[-1] >= hi - slack
    assert 2 <= len(ticks) <= 7
    assert mantissa(ticks[1] - ticks[0]) in (1.0, 2.0, 2.5, 5.0)


def test_nice_step_prefers_two_and_a_half() -> None:
    assert nice_step(100, 5) == 25
    assert nice_step(10, 6) == 2
    assert nice_step(7, 6) == 2
    with pytest.raises(ValueError):
        nice_step(0)
    with pytest.raises(ValueError):
        nice_ticks(0, math.inf)


def test_value_formatting() -> None:
    assert fmt_value(26.666666) == "26.7"
    assert fmt_value(3.14159) == "3.14"
    assert fmt_value(0.01234) == "0.0123"
    assert fmt_value(1234.56) == "1,235"  # thousands are grouped, no spurious decimals
    assert fmt_value(-2.5) == f"{MINUS}2.5"
    assert fmt_value(0) == "0"
    assert fmt_value(None) == "n/a"
    assert fmt_value(math.nan) == "n/a"


def test_escape_covers_markup_quotes_and_forbidden_controls() -> None:
    assert esc("<a href='x'>&\"</a>\x00\x1f") == ("&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;")


# --- control chart: structure ------------------------------------------------------


def test_control_chart_is_self_contained_accessible_svg() -> None:
    svg = control_chart(
        weekly(SERIES), centre=24.5, lower=20, upper=29, target=26, title="CSAT", unit="%"
    )
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    vb = [float(v) for v in root.get("viewBox").split()]
    assert vb[:2] == [0, 0] and vb[2] > 0 and vb[3] > 0
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    for ref in root.get("aria-labelledby").split():
        assert ref in ids
    assert root.find(f"{NS}title").text == "CSAT"
    desc = root.find(f"{NS}desc").text
    assert "12 periods" in desc and "Target 26%" in desc
    # No script, no style sheet, nothing fetched.
    tags = {local(el) for el in root.iter()}
    assert not tags & {"script", "style", "image", "foreignObject", "a", "use"}
    assert "http" not in svg.replace(SVG_NS, "")
    assert "url(" not in svg


def test_highest_value_is_drawn_highest() -> None:
    root = parse(control_chart(weekly(SERIES)))
    pts = with_class(root, "pdca-point")
    assert len(pts) == len(SERIES)
    ys = [point_xy(g)[1] for g in pts]
    assert ys.index(min(ys)) == SERIES.index(max(SERIES))
    assert ys.index(max(ys)) == SERIES.index(min(SERIES))
    xs = [point_xy(g)[0] for g in pts]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_reference_lines_and_ticks_follow_the_value_mapping() -> None:
    root = parse(
        control_chart(
            weekly(SERIES),
            centre=24.5,
            lower=20.1,
            upper=28.9,
            target=26,
            warn=25,
            baseline=23,
            benchmark=27.5,
        )
    )
    a, b = value_to_y(root)
    assert b < 0  # larger values are higher up
    for g in with_class(root, "pdca-point"):
        assert point_xy(g)[1] == pytest.approx(a + b * float(g.get("data-value")), abs=0.02)
    for kind, value in [
        ("centre", 24.5),
        ("lower", 20.1),
        ("upper", 28.9),
        ("target", 26),
        ("warn", 25),
        ("baseline", 23),
        ("benchmark", 27.5),
    ]:
        assert ref_y(root, kind) == pytest.approx(a + b * value, abs=0.02), kind
    ticks = with_class(root, "pdca-ytick")
    for t in ticks:
        assert float(t.get("y")) - 3.8 == pytest.approx(
            a + b * float(t.get("data-value")), abs=0.02
        )
    # The target is labelled, with its value, in the target's colour.
    (label,) = with_class(root, "pdca-target-label")
    assert label.text == "Target 26"
    assert label.get("fill") == LINE_STYLES["target"].colour
    # The warn zone spans exactly warn..target.
    (zone,) = with_class(root, "pdca-warn-zone")
    top, height = float(zone.get("y")), float(zone.get("height"))
    assert top == pytest.approx(ref_y(root, "target"), abs=0.02)
    assert top + height == pytest.approx(ref_y(root, "warn"), abs=0.02)


def tick_values(root: ET.Element) -> list[float]:
    return [float(t.get("data-value")) for t in with_class(root, "pdca-ytick")]


def test_tick_labels_are_nice_and_cover_data_and_reference_lines() -> None:
    root = parse(control_chart(weekly(SERIES), upper=80, lower=-3, target=55))
    ticks = tick_values(root)
    assert ticks[0] <= -3 and ticks[-1] >= 80
    assert mantissa(ticks[1] - ticks[0]) in (1.0, 2.0, 2.5, 5.0)
    labels = [t.text for t in with_class(root, "pdca-ytick")]
    assert labels[0].startswith(MINUS)  # a real minus sign on negative ticks
    # Every line and point is inside the tick range, drawn between the outer grid lines.
    a, b = value_to_y(root)
    y_top, y_bottom = a + b * ticks[-1], a + b * ticks[0]
    for kind in ("upper", "lower", "target"):
        assert y_top - 0.01 <= ref_y(root, kind) <= y_bottom + 0.01


def test_limits_far_outside_the_data_stay_on_the_chart() -> None:
    root = parse(control_chart(weekly([5, 6, 5.5]), target=500, benchmark=-200))
    ticks = tick_values(root)
    assert ticks[0] <= -200 and ticks[-1] >= 500
    vb_height = float(root.get("viewBox").split()[3])
    for kind in ("target", "benchmark"):
        assert 0 < ref_y(root, kind) < vb_height


def test_none_limits_are_simply_not_drawn() -> None:
    root = parse(
        control_chart(weekly(SERIES), centre=None, lower=None, upper=math.nan, target=None)
    )
    assert with_class(root, "pdca-ref") == []
    assert "Natural process limits" not in text_of(root)
    only_upper = parse(control_chart(weekly(SERIES), upper=30))
    assert [el.get("class") for el in with_class(only_upper, "pdca-ref")] == ["pdca-ref pdca-upper"]


def test_negative_values() -> None:
    values = [-5.5, -2.0, -8.25, 1.5, -3.0]
    root = parse(control_chart(weekly(values), centre=-3.45, direction="decrease"))
    ys = [point_xy(g)[1] for g in with_class(root, "pdca-point")]
    assert ys.index(min(ys)) == values.index(max(values))
    ticks = tick_values(root)
    assert ticks[0] <= -8.25 and ticks[-1] >= 1.5
    assert "Lower is better" in text_of(root)


# --- control chart: signals, markers, gaps -------------------------------------------


def spike_chart(direction: str = "increase") -> tuple[ET.Element, list[float], Any]:
    values = [*SERIES, 40.0, 24.1, 24.6]
    limits = compute_limits(values, baseline=12)
    signals = [s.to_json() for s in detect_signals(values, limits)]
    assert any(s["rule"] == 1 and 12 in s["periods"] for s in signals)
    root = parse(
        control_chart(
            weekly(values),
            centre=limits.centre,
            lower=limits.lower,
            upper=limits.upper,
            signals=signals,
            direction=direction,
        )
    )
    return root, values, limits


def test_point_beyond_the_upper_limit_is_drawn_as_a_signal() -> None:
    root, _values, _limits = spike_chart()
    (sig,) = with_class(root, "pdca-signal")
    assert sig.get("data-index") == "12"
    assert "rule 1" in tooltip(sig) and "beyond" in tooltip(sig)
    assert sig.get("data-rules") == "1"
    assert point_xy(sig)[1] < ref_y(root, "upper")
    normal = with_class(root, "pdca-point")[0]
    sig_dot, normal_dot = circles(sig)[-1], circles(normal)[-1]
    assert float(sig_dot.get("r")) > float(normal_dot.get("r"))
    assert sig_dot.get("fill") != normal_dot.get("fill")
    assert len(circles(sig)) == 2  # a ring: the signal shows on a grayscale print too
    assert "pdca-signal-better" in sig.get("class")
    assert "Signal: better" in text_of(root)


def test_signal_colour_follows_the_metric_direction() -> None:
    root, _, _ = spike_chart(direction="decrease")
    (sig,) = with_class(root, "pdca-signal")
    assert "pdca-signal-worse" in sig.get("class")
    assert "(worse)" in tooltip(sig)
    undirected = parse(
        control_chart(
            weekly(SERIES),
            signals=[
                {"rule": 4, "description": "alternating", "periods": [1, 2], "direction": None}
            ],
        )
    )
    assert len(with_class(undirected, "pdca-signal-unclear")) == 2


def test_signals_with_bad_indices_are_ignored() -> None:
    root = parse(
        control_chart(
            weekly(SERIES),
            signals=[{"rule": 1, "description": "x", "periods": [-1, 99, "a"], "direction": "up"}],
        )
    )
    assert with_class(root, "pdca-signal") == []
    mixed = parse(
        control_chart(
            weekly(SERIES),
            signals=[{"rule": "?", "description": None, "periods": ["a", 2, None], "direction": 1}],
        )
    )
    (sig,) = with_class(mixed, "pdca-signal")
    assert sig.get("data-index") == "2" and "pdca-signal-unclear" in sig.get("class")


def marker_xs(root: ET.Element) -> list[float]:
    return [float(g.get("data-x")) for g in with_class(root, "pdca-marker")]


def test_markers_fall_between_the_right_periods() -> None:
    pts = weekly(SERIES)  # weeks start 2026-01-05, 01-12, ...
    markers = [
        {"date": "2026-01-26", "label": "On a period start"},  # period 3 starts that day
        {"date": date(2026, 2, 11), "label": "Mid-period"},  # inside period 5 (02-09..02-15)
        {"date": "2025-06-01", "label": "Too early"},
        {"date": "2027-01-01", "label": "Too late"},
    ]
    root = parse(control_chart(pts, markers=markers))
    xs = [point_xy(g)[0] for g in with_class(root, "pdca-point")]
    on_start, mid = marker_xs(root)
    assert xs[2] < on_start < xs[3]
    # A marker inside a period goes before the first period wholly after it,
    # as the countermeasure-effect analysis splits before/after.
    assert xs[5] < mid < xs[6]
    labels = [tooltip(g) for g in with_class(root, "pdca-marker")]
    assert labels == ["On a period start — 2026-01-26", "Mid-period — 2026-02-11"]
    desc = root.find(f"{NS}desc").text
    assert "Too early (2025-06-01)" in desc and "Too late" in desc
    assert "Countermeasure" in text_of(root)  # in the legend


def test_a_definition_break_is_drawn_and_named_apart_from_countermeasures() -> None:
    pts = weekly(SERIES)
    both = [
        {"date": "2026-01-26", "label": "New script"},
        {"date": "2026-02-16", "label": "Definition changed", "kind": "break"},
    ]
    root = parse(control_chart(pts, markers=both))
    plain, broken = with_class(root, "pdca-marker")
    assert with_class(root, "pdca-marker-break") == [broken]
    assert plain.find(f"{NS}line").get("stroke") == "#6b4c9a"
    assert plain.find(f"{NS}line").get("stroke-dasharray") == "4 3"
    assert broken.find(f"{NS}line").get("stroke") == "#595959"
    assert broken.find(f"{NS}line").get("stroke-dasharray") == "1.5 2.5"
    desc = root.find(f"{NS}desc").text
    assert "Countermeasures: New script — 2026-01-26." in desc
    assert (
        "Definition changes (the periods before measured another way): "
        "Definition changed — 2026-02-16." in desc
    )
    assert text_of(root).endswith("Value Countermeasure Definition changed")  # the legend
    # only a break: no countermeasure anywhere, in the legend or the description
    alone = parse(control_chart(pts, markers=both[1:]))
    assert text_of(alone).endswith("Value Definition changed")
    assert "Countermeasure" not in text_of(alone)
    assert "Countermeasure" not in alone.find(f"{NS}desc").text
    (swatch,) = [
        line
        for line in alone.iter(f"{NS}line")
        if line.get("stroke") == "#595959"
        and line.get("y1") != line.get("y2")
        and line not in with_class(alone, "pdca-marker")[0].findall(f"{NS}line")
    ]
    assert swatch.get("stroke-dasharray") == "1.5 2.5"  # its legend sample draws the same


def test_markers_in_one_slot_share_a_line_each_keep_a_label_and_never_overlap() -> None:
    pts = weekly(SERIES)
    same = [{"date": f"2026-02-{d:02d}", "label": f"Change {d}"} for d in (10, 11, 12)]
    root = parse(control_chart(pts, markers=same))
    groups = with_class(root, "pdca-marker")
    assert [g.find(f"{NS}text").text for g in groups] == ["Change 10", "Change 11", "Change 12"]
    assert [len(g.findall(f"{NS}line")) for g in groups] == [1, 0, 0]  # one line for the slot
    rows = [float(g.find(f"{NS}text").get("y")) for g in groups]
    assert rows[1] - rows[0] == rows[2] - rows[1] == 15.0  # stacked a row apart
    assert {g.get("data-x") for g in groups} == {groups[0].get("data-x")}
    many = [{"date": "2026-02-10", "label": f"Change {k}"} for k in range(1, 7)]
    groups = with_class(parse(control_chart(pts, markers=many)), "pdca-marker")
    assert [g.find(f"{NS}text").text for g in groups] == [
        "Change 1",
        "Change 2",
        "Change 3",
        "+ 3 more",
    ]
    assert tooltip(groups[-1]).count("Change") == 3  # the ones not drawn, by name
    near = [
        {"date": (date(2026, 1, 6) + timedelta(weeks=k)).isoformat(), "label": "x" * 30}
        for k in range(6)
    ]
    root = parse(control_chart(pts, markers=near))
    boxes = []
    for g in with_class(root, "pdca-marker"):
        text = g.find(f"{NS}text")
        x, y, w = float(text.get("x")), float(text.get("y")), text_width(text.text, 10.5)
        x0 = x if text.get("text-anchor") == "start" else x - w
        boxes.append((x0, x0 + w, y))
    for i, (a0, a1, ay) in enumerate(boxes):
        for b0, b1, by in boxes[i + 1 :]:
            assert ay != by or a1 <= b0 or b1 <= a0, "marker labels overlap"


def test_missing_values_break_the_line() -> None:
    root = parse(control_chart(weekly([1.0, 2.0, None, 3.0, 4.0])))
    lines = with_class(root, "pdca-series", "path")
    assert len(lines) == 2
    assert all(len(re.findall(r"[ML]", p.get("d"))) == 2 for p in lines)
    assert len(with_class(root, "pdca-point")) == 4
    # An isolated value between two gaps is a dot without a line.
    root = parse(control_chart(weekly([1.0, None, 2.0, None, 3.0, 4.0])))
    assert len(with_class(root, "pdca-series", "path")) == 1
    assert len(with_class(root, "pdca-point")) == 4


def test_partial_last_period_is_hollow_and_stands_apart_from_the_line() -> None:
    pts = weekly([10.0, 12.0, 11.0, 9.0])
    pts[-1]["partial"] = True
    root = parse(control_chart(pts))
    (partial,) = with_class(root, "pdca-partial")
    assert partial.get("data-index") == "3"
    dot = circles(partial)[-1]
    assert dot.get("fill") == "#ffffff"
    assert "Partial period" in tooltip(partial)
    assert with_class(root, "pdca-series-partial") == []  # no link: a week just begun
    (solid,) = with_class(root, "pdca-series", "path")  # is not a dive of the line
    assert len(re.findall(r"[ML]", solid.get("d"))) == 3
    x_partial = float(circles(partial)[-1].get("cx"))
    assert all(float(x) < x_partial for x in re.findall(r"[ML]([\d.]+) ", solid.get("d")))
    # the headline is the latest complete period (11), not the week still running (9)
    (headline,) = [t.text for t in root.iter() if (t.text or "").startswith("Latest ")]
    assert headline == f"Latest {pts[2]['period']}: 11"
    only = parse(control_chart([{**pts[0], "partial": True}]))
    assert any((t.text or "").endswith("(partial)") for t in only.iter())


def test_x_labels_are_thinned_and_never_overlap() -> None:
    root = parse(control_chart(weekly([float(i % 7) for i in range(156)])))
    labels = with_class(root, "pdca-xlabel")
    assert 3 <= len(labels) < 40
    assert labels[-1].get("data-index") == "155"  # the latest period is always labelled
    xs = [float(t.get("x")) for t in labels]
    widths = [text_width(t.text, 10.5) for t in labels]
    for i in range(len(xs) - 1):
        assert xs[i + 1] - xs[i] >= (widths[i] + widths[i + 1]) / 2 + 4
    vb_width = float(root.get("viewBox").split()[2])
    assert xs[0] - widths[0] / 2 >= 0 and xs[-1] + widths[-1] / 2 <= vb_width
    few = parse(control_chart(weekly(SERIES[:5])))
    assert len(with_class(few, "pdca-xlabel")) == 5


def test_empty_series_is_a_placeholder() -> None:
    for points in ([], weekly([None, None])):
        svg = control_chart(points, title="CSAT " + HOSTILE)
        root = parse(svg)
        assert root.get("role") == "img"
        assert "No data yet" in text_of(root)
        assert with_class(root, "pdca-point") == []
    assert "2 period(s) so far" in text_of(parse(control_chart(weekly([None, None]))))


def test_single_point() -> None:
    root = parse(control_chart(weekly([97.5]), target=99.9, unit="%"))
    (pt,) = with_class(root, "pdca-point")
    assert with_class(root, "pdca-series", "path") == []
    assert len(with_class(root, "pdca-xlabel")) == 1
    y = point_xy(pt)[1]
    assert ref_y(root, "target") < y  # 99.9 above 97.5
    assert "Latest 2026-W02: 97.5%" in text_of(root)


def test_all_equal_values_get_a_real_axis() -> None:
    root = parse(control_chart(weekly([12.0] * 10), centre=12, upper=12, lower=12))
    ticks = tick_values(root)
    assert len(ticks) >= 3 and ticks[0] < 12 < ticks[-1]
    ys = {point_xy(g)[1] for g in with_class(root, "pdca-point")}
    assert len(ys) == 1
    assert ys.pop() == pytest.approx(ref_y(root, "centre"))
    zero = parse(control_chart(weekly([0, 0, 0])))
    assert tick_values(zero)[0] < 0 < tick_values(zero)[-1]


def test_hostile_text_is_escaped_everywhere() -> None:
    pts = weekly([1.0, 2.0, 3.0])
    pts[1]["period"] = HOSTILE
    svg = control_chart(
        pts,
        title=HOSTILE,
        unit="<b>&",
        target=2.5,
        signals=[{"rule": 1, "description": HOSTILE, "periods": [2], "direction": "up"}],
        markers=[{"date": pts[1]["start"], "label": HOSTILE}],
    )
    root = parse(svg)
    assert "<script" not in svg and "<b>" not in svg
    assert all(local(el) != "script" for el in root.iter())
    assert root.find(f"{NS}title").text.startswith('<script>alert(1)</script> & "quoted"')
    assert "\x01" not in svg
    assert "&lt;b&gt;&amp;" in svg
    # The same through the other charts.
    graph = dependency_graph(
        [{"id": HOSTILE, "label": HOSTILE, "kind": "task", "status": HOSTILE, "phase": "<do>"}],
        [],
        title=HOSTILE,
    )
    for other in (graph, status_badge(HOSTILE), status_badge("met", label=HOSTILE)):
        root = parse(other)
        assert "<script" not in other
        assert all(local(el) != "script" for el in root.iter())
        assert "<script>" in text_of(root)


def test_output_is_deterministic_and_ids_are_unique_per_chart() -> None:
    a = control_chart(weekly(SERIES), title="A")
    assert a == control_chart(weekly(SERIES), title="A")
    b = control_chart(weekly(SERIES), title="B")
    ids = lambda s: set(re.findall(r' id="([^"]+)"', s))  # noqa: E731
    assert ids(a) and not ids(a) & ids(b)


def test_bad_direction_is_rejected() -> None:
    with pytest.raises(ValueError, match="direction"):
        control_chart(weekly(SERIES), direction="up")
    with pytest.raises(ValueError, match="direction"):
        sparkline([1, 2], direction="sideways")


def test_odd_inputs_do_not_break_the_chart() -> None:
    pts: list[dict[str, Any]] = [
        {"value": "12.5"},  # no period, no start, value as text
        {"period": 7, "start": "not a date", "value": math.inf},
        {"period": "P3", "start": date(2026, 1, 19), "value": True},  # a bool is no number
        {"period": "P4", "value": 13},
    ]
    root = parse(control_chart(pts, markers=[{"date": "2026-01-20", "label": "x"}]))
    assert [g.get("data-index") for g in with_class(root, "pdca-point")] == ["0", "3"]
    assert with_class(root, "pdca-marker") == []  # periods without dates: nowhere to put it


# --- sparkline ---------------------------------------------------------------------


def test_sparkline_draws_trend_target_and_latest() -> None:
    svg = sparkline([3.0, 4.0, None, 5.0, 6.0], target=5.5)
    root = parse(svg)
    assert root.get("role") == "img" and root.get("width") == "120"
    assert len(with_class(root, "pdca-series", "path")) == 2
    (latest,) = with_class(root, "pdca-latest")
    (target,) = with_class(root, "pdca-target")
    assert float(latest.get("cy")) < float(target.get("y1"))  # 6 is above 5.5
    assert "meets the target" in root.find(f"{NS}title").text
    missed = parse(sparkline([3.0, 4.0, 6.0], target=5.5, direction="decrease"))
    assert "misses the target" in missed.find(f"{NS}title").text
    assert with_class(missed, "pdca-latest")[0].get("fill") != latest.get("fill")


def test_sparkline_edge_cases() -> None:
    assert "No data yet" in text_of(parse(sparkline([])))
    assert "No data yet" in text_of(parse(sparkline([None, math.nan])))
    one = parse(sparkline([4.0]))
    assert len(with_class(one, "pdca-latest")) == 1
    flat = parse(sparkline([2.0, 2.0, 2.0], target=2.0))
    assert math.isfinite(float(with_class(flat, "pdca-latest")[0].get("cy")))


# --- status badge ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "word", "ink"),
    [
        ("met", "Met", "#1e6b43"),
        ("at_risk", "At risk", "#8a5a00"),
        ("off_track", "Off track", "#a3281d"),
        ("no_data", "No data", "#52606d"),
        ("error", "Error", "#6a3d9a"),
        ("Off-track", "Off track", "#a3281d"),
        (None, "No data", "#52606d"),
    ],
)
def test_status_badge_has_colour_word_and_shape(status: str | None, word: str, ink: str) -> None:
    root = parse(status_badge(status))
    assert root.find(f"{NS}title").text == f"Status: {word}"
    (text,) = root.iter(f"{NS}text")
    assert text.text == word and text.get("fill") == ink
    shapes = [local(el) for el in root if local(el) not in ("title", "text", "rect")]
    assert shapes, "an icon shape besides the colour"


def test_status_icons_differ() -> None:
    icons = set()
    for status in ("met", "at_risk", "off_track", "no_data", "error"):
        root = parse(status_badge(status))
        icons.add(
            tuple(
                (local(el), el.get("fill") == "none", el.get("stroke-dasharray") is not None)
                for el in root
                if local(el) not in ("title", "text", "rect")
            )
        )
    assert len(icons) == 5
    unknown = parse(status_badge("weird_state"))
    assert "weird_state" in text_of(unknown)


# --- dependency graph --------------------------------------------------------------


def node_boxes(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for g in with_class(root, "pdca-node"):
        rect = g.find(f"{NS}rect")
        out[g.get("data-id")] = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
    return out


def test_layer_by_longest_path() -> None:
    ids = ["a", "b", "c", "d", "e"]
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c"), ("c", "e")]
    layer, cycles = layer_nodes(ids, edges)
    assert layer == {"a": 0, "b": 1, "c": 2, "d": 0, "e": 3}
    assert cycles == set()
    layer, cycles = layer_nodes(["x", "y", "z"], [("x", "y"), ("y", "z"), ("z", "y")])
    assert layer["x"] == 0 and set(layer) == {"x", "y", "z"}
    assert len(cycles) == 1


def test_dependency_graph_lays_out_left_to_right() -> None:
    nodes = [
        {"id": "src", "label": "Ticket export", "kind": "source"},
        {"id": "nps", "label": "NPS", "kind": "metric", "status": "at_risk"},
        {"id": "t1", "label": "Coach agents", "kind": "task", "status": "done", "phase": "do"},
        {"id": "t2", "label": "Check effect", "kind": "task", "status": "pending"},
        {"id": "obj", "label": "NPS ≥ 30", "kind": "objective", "status": "off_track"},
    ]
    edges = [
        ("src", "nps"),
        ("nps", "t1"),
        ("t1", "t2"),
        ("t2", "obj"),
        ("nps", "obj"),
        ("t1", "ghost"),
        ("t2", "t2"),
        ("src", "nps"),
    ]
    svg = dependency_graph(nodes, edges)
    root = parse(svg)
    assert root.get("role") == "img"
    boxes = node_boxes(root)
    assert set(boxes) == {"src", "nps", "t1", "t2", "obj"}
    paths = with_class(root, "pdca-edge")
    assert len(paths) == 5  # unknown ids, self-loops and duplicates dropped
    marker_ids = {m.get("id") for m in root.iter(f"{NS}marker")}
    for p in paths:
        a, b = p.get("data-from"), p.get("data-to")
        assert boxes[a][0] + boxes[a][2] < boxes[b][0]  # upstream is to the left
        assert p.get("marker-end").removeprefix("url(#").removesuffix(")") in marker_ids
        start = [float(v) for v in re.match(r"M([\d.]+) ([\d.]+)", p.get("d")).groups()]
        assert start[0] == pytest.approx(boxes[a][0] + boxes[a][2])
    # Status shows as colour and as a word.
    obj = next(g for g in with_class(root, "pdca-node") if g.get("data-id") == "obj")
    assert "Off track" in text_of(obj)
    assert obj.find(f"{NS}rect").get("stroke") == "#a3281d"
    t1 = next(g for g in with_class(root, "pdca-node") if g.get("data-id") == "t1")
    assert "TASK · DO" in text_of(t1) and "Done" in text_of(t1)


def test_labels_are_cut_between_words() -> None:
    # 0.6 em a letter, 0.34 em a space, at 10 px: "aaaa bbbb c…" is 66.8 wide and fits
    # 70, but would end in half a word; the cut goes back to the space before it
    assert truncate("aaaa bbbb cccc", 70, 10) == "aaaa bbbb…"
    assert truncate("aaaa bbbb cccc", 80, 10) == "aaaa bbbb cccc"  # 78.8: fits whole
    # one word longer than the room is cut inside: seven x and the ellipsis are 48 wide
    assert truncate("x" * 100, 50, 10) == "x" * 7 + "…"
    assert truncate("Agent coaching, then macros", 100, 10) == "Agent coaching…"


def test_long_labels_wrap_then_truncate_with_full_title() -> None:
    label = (
        "Rewrite the ten most used macros so that they sound human and mention the refund policy"
    )
    root = parse(dependency_graph([{"id": "m", "label": label, "kind": "task"}], []))
    (g,) = with_class(root, "pdca-node")
    assert tooltip(g).startswith(label)
    shown = [t.text for t in g.iter(f"{NS}text")][1:]
    assert len(shown) == 2 and shown[-1].endswith("…")
    assert wrap("short", 100, 12) == ["short"]


def test_cycles_are_drawn_not_fatal() -> None:
    nodes = [{"id": k, "label": k, "kind": "task"} for k in "abc"]
    root = parse(dependency_graph(nodes, [("a", "b"), ("b", "c"), ("c", "b")]))
    (cyc,) = with_class(root, "pdca-cycle")
    assert "cycle" in tooltip(cyc)
    assert "cycle" in root.find(f"{NS}desc").text


def test_empty_graph_placeholder() -> None:
    root = parse(dependency_graph([], [("a", "b")]))
    assert "No tasks to show" in text_of(root)


def test_dependency_graph_of_a_few_hundred_nodes_draws_every_edge_left_to_right() -> None:
    """Its speed is part of bench/bench_report.py (a 1,000-task report draws this graph)."""
    n = 300
    nodes = [
        {
            "id": f"t{i}",
            "label": f"Task {i} with a fairly long descriptive name",
            "kind": "task",
            "status": ("done", "pending", "failed", None)[i % 4],
        }
        for i in range(n)
    ]
    edges = [
        (f"t{j}", f"t{i}") for i in range(1, n) for j in {i // 2, i // 3, max(0, i - 7)} if j != i
    ]
    root = parse(dependency_graph(nodes, edges))
    assert len(with_class(root, "pdca-node")) == n
    boxes = node_boxes(root)
    for a, b in edges:
        assert boxes[a][0] < boxes[b][0]


optional_value = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6))


@given(
    st.lists(optional_value, max_size=60),
    st.lists(optional_value, min_size=7, max_size=7),
    st.sampled_from(["increase", "decrease"]),
)
def test_control_chart_never_breaks(
    values: list[float | None], refs: list[float | None], direction: str
) -> None:
    kinds = ("centre", "lower", "upper", "target", "warn", "baseline", "benchmark")
    svg = control_chart(weekly(values), direction=direction, **dict(zip(kinds, refs, strict=True)))
    root = parse(svg)
    vb_height = float(root.get("viewBox").split()[3])
    for g in with_class(root, "pdca-point"):
        assert 0 < point_xy(g)[1] < vb_height
    for line in with_class(root, "pdca-ref"):
        assert 0 < float(line.get("y1")) < vb_height


def test_repeated_pictures_get_unique_ids_and_keep_their_own_names() -> None:
    from pdca.report.figures import unique_ids

    pic = (
        '<svg role="img" aria-labelledby="pdca-b-1-title pdca-b-1-desc">'
        '<title id="pdca-b-1-title">Met</title><desc id="pdca-b-1-desc">d</desc>'
        '<rect fill="url(#pdca-b-1)"/><g id="pdca-b-1"/></svg>'
    )
    page = f'<p id="pdca-b-1-title">text, not a picture</p>{pic}<hr>{pic}{pic}'
    out = str(unique_ids(page))
    first, second, third = out.split("<svg ")[1:]
    assert 'id="pdca-b-1-title"' in first and "url(#pdca-b-1)" in first
    assert second.startswith('role="img" aria-labelledby="pdca-b-1-title-2 pdca-b-1-desc-2"')
    assert 'id="pdca-b-1-title-2"' in second and "url(#pdca-b-1-2)" in second
    assert 'id="pdca-b-1-2"' in second  # the prefix id renamed on its own, not inside others
    assert 'aria-labelledby="pdca-b-1-title-3 pdca-b-1-desc-3"' in third
    assert out.startswith('<p id="pdca-b-1-title">')  # HTML outside pictures is left alone
    assert unique_ids("<p>no pictures</p>") == "<p>no pictures</p>"
