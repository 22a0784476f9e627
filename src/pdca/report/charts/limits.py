"""Limits that follow each period's volume: the stepped lines of a per-n control chart.

On a p, Laney p′ or Laney u′ chart a week of 14 responses has wider limits than a
week of 400, so one flat pair of lines would call the small week's wobble a signal
and hide a real change in the large one. Each period's own limits (``lower`` and
``upper`` on the series point, from Check) are drawn as a step across the period's
band; a period without limits (no n, or still partial) leaves a gap rather than a
line the data never had. A limit beyond the range of the KPI's values is drawn at
the range's end (:mod:`.clip`), and its tooltip says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from pdca.report.charts.axes import PlotArea, Point
from pdca.report.charts.clip import OPEN, Bounds, clipped_note
from pdca.report.charts.style import LINE_STYLES
from pdca.report.svg import el, fmt_value, num, with_unit
from pdca.report.svg import title as tooltip

PER_N_NAMES = {"p": "binomial", "p_prime": "Laney p′", "u_prime": "Laney u′"}
"""The name a per-n chart goes by in the legend and the summary."""


def has_steps(points: Sequence[Point]) -> bool:
    """Whether any period carries limits of its own (a per-n chart from Check, or a
    chart whose limits were rebased)."""
    return any(p.lower is not None or p.upper is not None for p in points)


def has_phases(points: Sequence[Point]) -> bool:
    """Whether the chart has phases (a rebase): each period carries its phase's centre."""
    return any(p.centre is not None for p in points)


def _source(chart: str, phased: bool) -> str:
    """Where the stepped lines come from, for labels: each period's n, or each phase."""
    if chart in PER_N_NAMES:
        return "from each period's n" + (" and phase" if phased else "")
    return "of each phase"


def step_legend(chart: str, phased: bool = False) -> str:
    """The legend entry: ``Limits from each period's n (Laney p′)``, ``Limits of each phase``."""
    name = PER_N_NAMES.get(chart)
    lines = "Centre and limits" if phased else "Limits"
    return f"{lines} {_source(chart, phased)}" + (f" ({name})" if name else "")


def step_values(points: Sequence[Point], bounds: Bounds = OPEN) -> list[float]:
    """Every per-period limit as drawn, so the value axis can include them all."""
    return [bounds.clip(v) for p in points for v in (p.lower, p.upper) if v is not None]


def step_runs(points: Sequence[Point], side: str) -> list[list[tuple[int, float]]]:
    """Stretches of consecutive periods that have a ``side`` (lower/upper) limit."""
    out: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for p in points:
        value = getattr(p, side)
        if value is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append((p.index, value))
    if current:
        out.append(current)
    return out


def step_lines(
    area: PlotArea, points: Sequence[Point], unit: str, bounds: Bounds = OPEN, chart: str = "p"
) -> list[str]:
    """A stepped path per side and stretch: level across each period's band, a riser
    between periods, nothing over a period without limits; never beyond ``bounds``.
    On a chart with phases the centre steps too."""
    parts = []
    phased = has_phases(points)
    source = _source(chart, phased)
    for side in ("upper", "lower", *(("centre",) if phased else ())):
        style = LINE_STYLES[side]
        for run in step_runs(points, side):
            d = []
            for k, (i, v) in enumerate(run):
                y, x_end = num(area.y_at(bounds.clip(v))), num(area.cols.boundary(i + 1))
                if k == 0:
                    d.append(f"M{num(area.cols.boundary(i))} {y}")
                else:
                    d.append(f"V{y}")
                d.append(f"H{x_end}")
            values = [v for _, v in run]
            lo, hi = min(values), max(values)
            span = fmt_value(lo) if lo == hi else f"{fmt_value(lo)} to {fmt_value(hi)}"
            note = clipped_note(values, bounds, unit)
            parts.append(
                el(
                    "path",
                    tooltip(f"{style.label} {source}: {with_unit(span, unit)}{note}"),
                    d=" ".join(d),
                    fill="none",
                    stroke=style.colour,
                    stroke_width=style.width,
                    stroke_dasharray=style.dash,
                    class_=f"pdca-limit-step pdca-{side}-step",
                    data_first=str(run[0][0]),
                    data_last=str(run[-1][0]),
                )
            )
    return parts


def step_summary(points: Sequence[Point], chart: str, unit: str, bounds: Bounds = OPEN) -> str:
    """The screen-reader sentence: the limits vary with each period's volume (or each
    phase), and how far."""
    name = PER_N_NAMES.get(chart)
    if name:
        text = f"Process limits vary with each period's volume (n), {name} chart"
        if has_phases(points):
            text += ", and were recalculated at each rebase"
    else:
        text = "Process limits were recalculated at each rebase (a new phase)"
    for side in ("lower", "upper"):
        values = [getattr(p, side) for p in points if getattr(p, side) is not None]
        if values:
            lo, hi = min(values), max(values)
            text += (
                f"; {side} limit {with_unit(fmt_value(lo), unit)}"
                if lo == hi
                else f"; {side} limit from {with_unit(fmt_value(lo), unit)} to "
                f"{with_unit(fmt_value(hi), unit)}"
            )
            text += clipped_note(values, bounds, unit)
    return text + "."
