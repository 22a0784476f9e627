"""The process-behaviour chart of one metric: the picture a manager reads first.

This module puts the chart together, top to bottom: a header with the title,
which way is better and the latest complete value; rows for countermeasure
labels; the plot (warn zone, grid, reference lines, markers, the series, period
labels); the legend; and a description a screen reader reads out in place of
the picture. The parts are drawn by their own modules; :mod:`.axes` decides
where everything goes.

The chart Check read the metric on decides the lines: an XmR chart has a centre
and one pair of limits; a per-n chart (``p``, ``p_prime``, ``u_prime``) has limits
that step with each period's n (:mod:`.limits`); a run chart (a baseline too short
for limits) has only its median.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pdca.report.charts.axes import PlotArea, Point, columns, read_points, x_labels, y_axis, y_scale
from pdca.report.charts.clip import Bounds, fit_references
from pdca.report.charts.frame import placeholder, svg_head, svg_open
from pdca.report.charts.legend import legend, legend_items
from pdca.report.charts.limits import (
    has_phases,
    has_steps,
    step_legend,
    step_lines,
    step_summary,
    step_values,
)
from pdca.report.charts.markers import draw_markers, place_markers
from pdca.report.charts.references import reference_lines, references, warn_zone
from pdca.report.charts.series import series_lines, series_points
from pdca.report.charts.signals import describe_signals, signal_map
from pdca.report.charts.style import PLOT_HEIGHT, WIDTH
from pdca.report.svg import INK, MUTED, el, esc, fmt_value, truncate, uid, with_unit


def control_chart(
    points: Sequence[Mapping[str, Any]],
    *,
    centre: float | None = None,
    lower: float | None = None,
    upper: float | None = None,
    target: float | None = None,
    warn: float | None = None,
    baseline: float | None = None,
    benchmark: float | None = None,
    signals: Iterable[Mapping[str, Any]] = (),
    markers: Iterable[Mapping[str, Any]] = (),
    direction: str = "increase",
    title: str = "",
    unit: str = "",
    chart: str = "xmr",
    value_range: Any = None,
) -> str:
    """A process-behaviour chart of one metric, as an inline SVG string.

    ``points`` are periods in time order (``period``, ``start``, ``value``, ``n``,
    optional ``partial``); a None value leaves a gap, a partial last period is drawn
    hollow. ``signals`` (from :func:`pdca.check.stats.spc.detect_signals`, as JSON)
    highlight their periods, coloured by whether they point the good way for
    ``direction``. ``markers`` (``date``, ``label``) become vertical countermeasure
    lines between periods. The y-range always includes every reference line, so a
    target far from the data is still on the chart (the gap is the message).

    ``chart`` is the chart Check read the series on. When points carry their own
    ``lower`` and ``upper`` (a per-n chart), those are drawn as stepped lines instead
    of ``lower`` and ``upper``; on a ``run`` chart ``centre`` is the median and no
    limits are drawn.

    ``value_range`` is the range of the KPI's values (``{"low": -100, "high": 100}``,
    the metric's ``range`` in ``pdca check``): limits beyond it are drawn at its end and
    labelled as clipped, other lines beyond it are left out (:mod:`.clip`).
    """
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', not {direction!r}")
    pts = read_points(points)
    present = [p for p in pts if p.value is not None]
    if not present:
        detail = (
            f"{len(pts)} period(s) so far, none with a value."
            if pts
            else "The chart appears after the first measured period."
        )
        return placeholder(title, "No data yet", detail)

    signals = list(signals)
    stepped = chart != "run" and has_steps(pts)
    flat = chart != "run" and not stepped
    phased = stepped and has_phases(pts)
    bounds = Bounds.read(value_range)
    fitted = fit_references(
        references(
            {
                "centre": centre if chart != "run" and not phased else None,
                "median": centre if chart == "run" else None,
                "upper": upper if flat else None,
                "lower": lower if flat else None,
                "target": target,
                "warn": warn,
                "baseline": baseline,
                "benchmark": benchmark,
            }
        ),
        bounds,
        unit,
    )
    refs, ref_labels = fitted.refs, fitted.labels
    ref_values = dict(refs)
    # y scale: every value and every reference line is inside the axis.
    domain = [p.value for p in present if p.value is not None] + [v for _, v in refs]
    scale = y_scale(domain + (step_values(pts, bounds) if stepped else []))
    cols = columns(scale, pts, list(ref_labels.values()))
    placed = place_markers(markers, pts, cols)

    # Top to bottom: the header, the marker label rows, the plot, the legend.
    head, y = header(title, direction, unit, present, 8.0)
    marker_top = y
    top = y + placed.height + 6
    area = PlotArea(cols, scale, top, top + PLOT_HEIGHT)
    sig_map = signal_map(signals, len(pts), direction)
    dots, verdicts_seen = series_points(area, present, sig_map, unit)
    body = [
        *warn_zone(area, ref_values),
        *y_axis(area),
        *(step_lines(area, pts, unit, bounds, chart) if stepped else []),
        *reference_lines(area, refs, ref_labels, fitted.tips, fitted.computed),
        *draw_markers(placed, marker_top, area.bottom),
        *series_lines(area, pts),
        *dots,
        *x_labels(area, pts),
    ]
    items = legend_items(
        present,
        verdicts_seen,
        refs,
        placed.kinds,
        step_legend(chart, phased) if stepped else None,
    )
    legend_parts, legend_y = legend(items, cols.left, area.bottom + 38, ref_values)
    height = legend_y + 10

    summary = [
        f"{len(pts)} period{'s' if len(pts) != 1 else ''} from {pts[0].period} to "
        f"{pts[-1].period}; {len(present)} with a value.",
        f"{latest_text(present, unit)}.",
        f"{better_text(direction).rstrip(' ↑↓')}.",
    ]
    if refs:
        summary.append("; ".join(fitted.tips[k] for k, _ in refs) + ".")
    if stepped:
        summary.append(step_summary(pts, chart, unit, bounds))
    elif chart == "run":
        summary.append("Run chart: too few baseline periods for limits.")
    summary.append(describe_signals(signals, pts) if sig_map else "No signals.")
    left_out = [p for p in pts if p.excluded is not None]
    if left_out:
        summary.append(
            "Left out of the limits and rules (drawn hollow): "
            + "; ".join(f"{p.period} ({p.excluded})" for p in left_out)
            + "."
        )
    summary.extend(placed.summary())

    key = [
        (p.period, p.value, p.excluded) + ((p.lower, p.upper, p.centre) if stepped else ())
        for p in pts
    ]
    ident = uid("cc", title, key, refs, len(signals))
    return "".join(
        [
            svg_open(WIDTH, height, ident),
            svg_head(ident, title or "Control chart", " ".join(summary)),
            *head,
            *body,
            *legend_parts,
            "</svg>",
        ]
    )


def better_text(direction: str) -> str:
    return "Higher is better ↑" if direction == "increase" else "Lower is better ↓"


def latest_text(present: Sequence[Point], unit: str) -> str:
    """The headline value. A period still running (often a day or two of data) is a poor
    headline: the latest complete one, and the partial one only when it is all there is."""
    complete = [p for p in present if not p.partial]
    last = complete[-1] if complete else present[-1]
    return f"Latest {last.period}: {with_unit(fmt_value(last.value), unit)}" + (
        " (partial)" if last.partial else ""
    )


def header(
    title: str, direction: str, unit: str, present: Sequence[Point], y: float
) -> tuple[list[str], float]:
    """The title, which way is better (and the unit), and the latest value, from ``y``
    down; the parts and the y below them."""
    parts: list[str] = []
    if title:
        parts.append(
            el(
                "text",
                esc(truncate(title, WIDTH - 8, 15)),
                x=2.0,
                y=y + 15,
                font_size=15,
                font_weight="600",
                fill=INK,
            )
        )
        y += 24
    caption = better_text(direction) + (f"  ·  Unit: {unit}" if unit else "")
    parts.append(el("text", esc(caption), x=2.0, y=y + 12, font_size=11.5, fill=MUTED))
    parts.append(
        el(
            "text",
            esc(truncate(latest_text(present, unit), WIDTH / 2, 11.5)),
            x=WIDTH - 2,
            y=y + 12,
            text_anchor="end",
            font_size=11.5,
            font_weight="600",
            fill=INK,
        )
    )
    return parts, y + 22
