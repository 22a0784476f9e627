"""The control chart's geometry: its periods, the value axis, where things go on the page.

Kept apart from the drawing so the one question every other part asks ("where is
period 7, where is 30 minutes?") has one answer: a :class:`PlotArea`. Periods are
equal-width bands (a period is a period, whatever its calendar length), values
map linearly onto :data:`~pdca.report.charts.style.PLOT_HEIGHT`, and the axis
labels are thinned or spread so they never print on top of each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pdca.report.charts.style import LABEL_FONT, PLOT_HEIGHT, SMALL_FONT, TICK_FONT, WIDTH
from pdca.report.svg import (
    AXIS,
    GRID,
    MUTED,
    as_float,
    el,
    esc,
    fmt_fixed,
    nice_ticks,
    step_decimals,
    text_width,
)


@dataclass(frozen=True, slots=True)
class Point:
    """One period as the chart reads it: junk in the input becomes None, not an error."""

    index: int
    period: str
    start: date | None
    value: float | None
    n: Any
    partial: bool
    lower: float | None = None
    upper: float | None = None
    """The period's own limits on a per-n chart (from its n), or its phase's on a chart
    with rebases; None otherwise."""
    centre: float | None = None
    """Its phase's centre on a chart with rebases; None otherwise."""
    excluded: str | None = None
    """Why the period is left out of the limits and rules (``pdca exclude``); None when
    it counts."""


def as_date(value: Any) -> date | None:
    """A date from a ``date``, ``datetime`` or ISO string; None when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _reason(note: Any) -> str | None:
    """An excluded point's reason: the note's ``reason``, or a plain mark."""
    if not note:
        return None
    if isinstance(note, Mapping):
        return str(note.get("reason") or "excluded")
    return "excluded"


def read_points(points: Sequence[Mapping[str, Any]]) -> list[Point]:
    """The periods in order; a period without a name is called by its position (1, 2, …)."""
    out = []
    for i, p in enumerate(points):
        out.append(
            Point(
                index=i,
                period=str(p.get("period") if p.get("period") is not None else i + 1),
                start=as_date(p.get("start")),
                value=as_float(p.get("value")),
                n=p.get("n"),
                partial=bool(p.get("partial", False)),
                lower=as_float(p.get("lower")),
                upper=as_float(p.get("upper")),
                centre=as_float(p.get("centre")),
                excluded=_reason(p.get("excluded")),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class YScale:
    """The value axis: round tick values with their labels, and the range it spans."""

    ticks: tuple[float, ...]
    labels: tuple[str, ...]
    lo: float
    hi: float


def y_scale(domain: Sequence[float]) -> YScale:
    """Round ticks around every value in ``domain`` (data and reference lines alike)."""
    d_lo, d_hi = min(domain), max(domain)
    ticks = nice_ticks(d_lo, d_hi, max_ticks=6)
    y_lo, y_hi = ticks[0], ticks[-1]
    # A value on the outermost tick would sit on the frame edge, half-hidden by
    # the axis line: leave a little air there (not a whole extra tick step).
    span = y_hi - y_lo
    if d_lo - y_lo < 0.02 * span:
        y_lo -= 0.03 * span
    if y_hi - d_hi < 0.02 * span:
        y_hi += 0.03 * span
    tick_dec = step_decimals(ticks[1] - ticks[0]) if len(ticks) > 1 else 0
    return YScale(tuple(ticks), tuple(fmt_fixed(t, tick_dec) for t in ticks), y_lo, y_hi)


@dataclass(frozen=True, slots=True)
class Columns:
    """The horizontal layout: tick labels on the left, line labels on the right, and a
    band per period in between."""

    left: float
    width: float
    band: float
    period_width: float
    """Width of the longest period label, which decides how many labels fit."""

    def x_at(self, i: float) -> float:
        """The centre of period ``i``'s band."""
        return self.left + (i + 0.5) * self.band

    def boundary(self, slot: int) -> float:
        """The boundary left of period ``slot`` (``len(points)`` is the right edge)."""
        return self.left + slot * self.band


def columns(scale: YScale, points: Sequence[Point], right_labels: Sequence[str]) -> Columns:
    """Margins wide enough for the tick labels and the reference-line labels; the right
    margin also leaves room for half the last period's label, which is centred on it."""
    n = len(points)
    left = max(36.0, max(text_width(t, TICK_FONT) for t in scale.labels) + 14)
    period_w = max(text_width(p.period, SMALL_FONT) for p in points)
    right = 14.0
    if right_labels:
        right = max(right, max(text_width(t, LABEL_FONT) for t in right_labels) + 14)
    band_guess = (WIDTH - left - right) / n
    right = max(right, period_w / 2 - band_guess / 2 + 4)
    plot_w = WIDTH - left - right
    return Columns(left=left, width=plot_w, band=plot_w / n, period_width=period_w)


@dataclass(frozen=True, slots=True)
class PlotArea:
    """Where the plot sits on the page: its columns, its top and bottom, its value axis."""

    cols: Columns
    scale: YScale
    top: float
    bottom: float

    @property
    def left(self) -> float:
        return self.cols.left

    @property
    def width(self) -> float:
        return self.cols.width

    def x_at(self, i: float) -> float:
        return self.cols.x_at(i)

    def y_at(self, v: float) -> float:
        return self.bottom - (v - self.scale.lo) / (self.scale.hi - self.scale.lo) * PLOT_HEIGHT


def y_axis(area: PlotArea) -> list[str]:
    """Grid lines with their tick labels, then the x-axis line along the bottom."""
    left, right = area.left, area.left + area.width
    parts = []
    for t, label in zip(area.scale.ticks, area.scale.labels, strict=True):
        ty = area.y_at(t)
        parts.append(el("line", x1=left, x2=right, y1=ty, y2=ty, stroke=GRID, stroke_width=1))
        parts.append(
            el(
                "text",
                esc(label),
                x=left - 8,
                y=ty + 3.8,
                text_anchor="end",
                font_size=TICK_FONT,
                fill=MUTED,
                class_="pdca-ytick",
                data_value=repr(t),
            )
        )
    parts.append(
        el(
            "line",
            x1=left,
            x2=right,
            y1=area.bottom,
            y2=area.bottom,
            stroke=AXIS,
            class_="pdca-xaxis",
            data_plot_top=area.top,
        )
    )
    return parts


def x_labels(area: PlotArea, points: Sequence[Point]) -> list[str]:
    """Period labels, thinned so they never overlap; the latest period always shows."""
    n = len(points)
    bottom = area.bottom
    every = max(1, math.ceil((area.cols.period_width + 10) / area.cols.band))
    parts = []
    for p in points:
        if (n - 1 - p.index) % every:
            continue
        cx = area.x_at(p.index)
        parts.append(el("line", x1=cx, x2=cx, y1=bottom, y2=bottom + 4, stroke=AXIS))
        parts.append(
            el(
                "text",
                esc(p.period),
                x=cx,
                y=bottom + 17,
                text_anchor="middle",
                font_size=SMALL_FONT,
                fill=MUTED,
                class_="pdca-xlabel",
                data_index=str(p.index),
            )
        )
    return parts


def spread(wanted: list[float], gap: float, lo: float, hi: float) -> list[float]:
    """Move label positions apart by at least ``gap`` while staying near their lines.

    A greedy top-down then bottom-up pass: right-hand labels for a target at 30
    and a limit at 30.4 would otherwise print on top of each other.
    """
    if not wanted:
        return []
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    pos = [wanted[i] for i in order]
    for k in range(1, len(pos)):
        pos[k] = max(pos[k], pos[k - 1] + gap)
    if pos[-1] > hi:
        pos[-1] = hi
        for k in range(len(pos) - 2, -1, -1):
            pos[k] = min(pos[k], pos[k + 1] - gap)
    if pos[0] < lo:
        shift = lo - pos[0]
        pos = [p + shift for p in pos]
    out = [0.0] * len(wanted)
    for k, i in enumerate(order):
        out[i] = pos[k]
    return out
