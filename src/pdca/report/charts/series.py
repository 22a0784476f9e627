"""The measured values on the control chart: the line through them and a point per period.

A missing value breaks the line (drawing through it would invent data), a
period still collecting data is a hollow point standing apart from the line
(joined to it, a week with two days of answers reads as a dive), and a
point a signal marks is ringed in the signal's colour. Every point carries its
exact value, sample size, start date and signals as a tooltip, and its index
and value as data attributes, so the numbers are there for whoever needs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pdca.report.charts.axes import PlotArea, Point
from pdca.report.charts.signals import Entry, point_verdict
from pdca.report.charts.style import SIGNAL_COLOURS
from pdca.report.svg import SERIES, el, fmt_value, num, with_unit
from pdca.report.svg import title as tooltip


def runs(points: Sequence[Point]) -> list[list[Point]]:
    """The stretches of consecutive periods that have a value."""
    out: list[list[Point]] = []
    current: list[Point] = []
    for p in points:
        if p.value is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append(p)
    if current:
        out.append(current)
    return out


def series_lines(area: PlotArea, points: Sequence[Point]) -> list[str]:
    """Solid runs between gaps; a partial period is left out of the line, drawn on its own."""
    parts = []
    for run in runs(points):
        solid = [p for p in run if not p.partial]
        if len(solid) >= 2:
            d = "M" + " L".join(
                f"{num(area.x_at(p.index))} {num(area.y_at(p.value or 0.0))}" for p in solid
            )
            parts.append(
                el(
                    "path",
                    d=d,
                    fill="none",
                    stroke=SERIES,
                    stroke_width=2,
                    stroke_linejoin="round",
                    stroke_linecap="round",
                    class_="pdca-series",
                )
            )
    return parts


def point_tip(p: Point, v: float, unit: str, entries: Sequence[Entry]) -> str:
    """A point's tooltip: the value, then what a reader may want to check next."""
    tip = f"{p.period}: {with_unit(fmt_value(v), unit)}"
    if p.n is not None:
        tip += f" (n = {p.n})"
    if p.start is not None:
        tip += f"\nPeriod starting {p.start.isoformat()}"
    if p.partial:
        tip += "\nPartial period: still collecting data"
    if p.excluded is not None:
        tip += f"\nExcluded from limits and rules: {p.excluded}"
    for rule, desc, verdict in entries:
        tip += f"\nSignal, rule {rule}: {desc}" + (f" ({verdict})" if verdict != "unclear" else "")
    return tip


def series_points(
    area: PlotArea,
    present: Sequence[Point],
    sig_map: Mapping[int, list[Entry]],
    unit: str,
) -> tuple[list[str], set[str]]:
    """A point per period with a value, and the signal verdicts drawn (for the legend)."""
    band = area.cols.band
    radius = min(3.2, max(1.6, band * 0.3))
    # A white halo separates points from the line, but on a dense series the
    # halos would chop the line into dashes.
    halo = "#ffffff" if band >= 8 else None
    verdicts_seen: set[str] = set()
    dots: list[str] = []
    for p in present:
        v = p.value if p.value is not None else 0.0
        cx, cy = area.x_at(p.index), area.y_at(v)
        entries = sig_map.get(p.index, [])
        tip = point_tip(p, v, unit, entries)
        data = {"data_index": str(p.index), "data_value": repr(v)}
        hollow = p.partial or p.excluded is not None
        marks = (" pdca-partial" if p.partial else "") + (
            " pdca-excluded" if p.excluded is not None else ""
        )
        if entries:
            verdict = point_verdict(entries)
            verdicts_seen.add(verdict)
            colour = SIGNAL_COLOURS[verdict]
            r = radius + 1.8
            shape = el(
                "circle",
                cx=cx,
                cy=cy,
                r=r + 2.6,
                fill="none",
                stroke=colour,
                stroke_width=1.2,
            ) + el(
                "circle",
                cx=cx,
                cy=cy,
                r=r,
                fill="#ffffff" if hollow else colour,
                stroke=colour if hollow else "#ffffff",
                stroke_width=1.6 if hollow else 1,
            )
            rules = ",".join(str(rule) for rule in sorted({e[0] for e in entries}))
            dots.append(
                el(
                    "g",
                    tooltip(tip) + shape,
                    class_=f"pdca-point pdca-signal pdca-signal-{verdict}" + marks,
                    data_rules=rules,
                    **data,
                )
            )
        else:
            shape = el(
                "circle",
                cx=cx,
                cy=cy,
                r=radius + (0.6 if hollow else 0),
                fill="#ffffff" if hollow else SERIES,
                stroke=SERIES if hollow else halo,
                stroke_width=1.6 if hollow else 0.8,
            )
            dots.append(
                el(
                    "g",
                    tooltip(tip) + shape,
                    class_="pdca-point" + marks,
                    **data,
                )
            )
    return dots, verdicts_seen
