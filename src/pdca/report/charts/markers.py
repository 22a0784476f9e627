"""Chart markers: a vertical line where something changed, with its name.

Two kinds: a countermeasure (dashed, purple) where a change to the process took
effect, and a definition break (dotted, grey) where the metric's own definition
changed, so the periods before it were measured another way. They are told apart
in the legend and in the chart's description, so a break is never read as an
improvement someone made.

A marker goes on the boundary before the first period wholly after the change,
so the chart splits where :mod:`pdca.check.stats.effects` splits "before" from
"after". Markers in the same slot share one line (stacked dashes at one x would
be unreadable) but each keeps its own label, stacked on rows above the plot (up
to :data:`MAX_STACK`, the rest counted on the last), and labels that would
collide go on further rows. A marker outside the charted periods is not drawn but is named in
the chart's description, so it is never silently lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pdca.report.charts.axes import Columns, Point, as_date
from pdca.report.charts.style import BREAK_COLOUR, MARKER_COLOUR, SMALL_FONT, WIDTH
from pdca.report.svg import el, esc, text_width, truncate
from pdca.report.svg import title as tooltip

ROW_HEIGHT = 15.0
"""Vertical room per row of marker labels above the plot."""
MAX_STACK = 4
"""Labels drawn at one line at most; the last of them then says how many more there are."""
LABEL_WIDTH = 200.0
"""The room one marker label may take, in chart units."""
COUNTERMEASURE = "countermeasure"
BREAK = "break"
"""A marker's ``kind``: a countermeasure (the default) or a break in the metric's definition."""
KIND_WORDS = {
    COUNTERMEASURE: ("Countermeasure", "Countermeasures"),
    BREAK: ("Definition changed", "Definition changes (the periods before measured another way)"),
}
"""The legend entry and the description's heading of each kind."""
STROKES = {COUNTERMEASURE: (MARKER_COLOUR, "4 3"), BREAK: (BREAK_COLOUR, "1.5 2.5")}
"""Each kind's line colour and dash pattern (legend swatches draw the same)."""


def marker_slot(marker_day: date, points: list[Point]) -> int | None:
    """Where a countermeasure line goes: before the first period that starts on or after
    its date (slot k = the boundary left of period k; len(points) = right edge).

    This matches the before/after split of :mod:`pdca.check.stats.effects`: that period
    is the first one wholly after the change. None when the date lies outside the
    charted periods or the periods have no start dates.
    """
    starts = [p.start for p in points]
    if not starts or any(s is None for s in starts):
        return None
    known: list[date] = [s for s in starts if s is not None]
    if marker_day < known[0]:
        return None
    for k, s in enumerate(known):
        if s >= marker_day:
            return k
    gaps = [(b - a).days for a, b in itertools.pairwise(known) if b > a]
    length = min(gaps) if gaps else 7
    if (marker_day - known[-1]).days < length:
        return len(known)
    return None


@dataclass(frozen=True, slots=True)
class MarkerLabel:
    """One drawn marker: its line's x, its (cut) label, the full tooltip, its label row."""

    x: float
    text: str
    tip: str
    row: int
    anchor: str
    """``start`` (label right of the line) or ``end`` when that would leave the chart."""
    line: bool = True
    """Whether this label draws the slot's line: only the first (topmost) of a slot does."""
    kind: str = COUNTERMEASURE
    """:data:`COUNTERMEASURE` or :data:`BREAK`: how the line and label are drawn."""


@dataclass(frozen=True, slots=True)
class Markers:
    """The markers laid out: what is drawn, on how many label rows, and what is left out."""

    labels: tuple[MarkerLabel, ...]
    rows: int
    skipped: tuple[str, ...]
    """``label (date)`` of markers outside the charted periods or without a date."""

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds of marker drawn, for the legend."""
        return frozenset(m.kind for m in self.labels)

    @property
    def height(self) -> float:
        """The room the label rows take above the plot."""
        return ROW_HEIGHT * self.rows + (6 if self.rows else 0)

    def summary(self) -> list[str]:
        """The markers in words, for the chart's accessible description."""
        out = []
        for kind in (COUNTERMEASURE, BREAK):
            tips = [m.tip.replace("\n", "; ") for m in self.labels if m.kind == kind]
            if tips:
                out.append(f"{KIND_WORDS[kind][1]}: " + "; ".join(tips) + ".")
        if self.skipped:
            out.append("Outside the charted periods: " + "; ".join(self.skipped) + ".")
        return out


def place_markers(
    markers: Iterable[Mapping[str, Any]], points: list[Point], cols: Columns
) -> Markers:
    """Group the markers by slot and give each label the first row where it fits."""
    by_slot: dict[int, list[tuple[str, str, str]]] = {}
    skipped: list[str] = []
    for m in markers:
        kind = BREAK if m.get("kind") == BREAK else COUNTERMEASURE
        label = str(m.get("label") or KIND_WORDS[kind][0])
        raw = m.get("date")
        day = as_date(raw)
        slot = marker_slot(day, points) if day is not None else None
        when = day.isoformat() if day is not None else str(raw)
        if slot is None:
            skipped.append(f"{label} ({when})")
            continue
        by_slot.setdefault(slot, []).append((label, f"{label} — {when}", kind))
    labels: list[MarkerLabel] = []
    row_ends: list[float] = []
    for slot, group in sorted(by_slot.items()):
        x = cols.boundary(slot)
        shown = group if len(group) <= MAX_STACK else group[: MAX_STACK - 1]
        texts = [lab for lab, _, _ in shown]
        kinds = [k for _, _, k in shown]
        if len(shown) < len(group):
            texts.append(f"+ {len(group) - len(shown)} more")
            kinds.append(COUNTERMEASURE)
        tips = [t for _, t, _ in shown] + ["\n".join(t for _, t, _ in group[len(shown) :])]
        for k, raw in enumerate(texts):
            text = truncate(raw, LABEL_WIDTH, SMALL_FONT)
            w = text_width(text, SMALL_FONT) + 10
            anchor = "start" if x + w <= WIDTH - 2 else "end"
            x0, x1 = (x, x + w) if anchor == "start" else (x - w, x)
            row = next((r for r, end in enumerate(row_ends) if x0 > end + 6), None)
            if row is None:
                row_ends.append(x1)
                row = len(row_ends) - 1
            row_ends[row] = max(row_ends[row], x1)
            labels.append(MarkerLabel(x, text, tips[k], row, anchor, line=k == 0, kind=kinds[k]))
    return Markers(tuple(labels), len(row_ends), tuple(skipped))


def draw_markers(layout: Markers, top: float, bottom: float) -> list[str]:
    """Each marker's line from its label row (starting at ``top``) down to the x-axis."""
    parts = []
    for m in layout.labels:
        ly = top + 11 + m.row * ROW_HEIGHT
        colour, dashes = STROKES[m.kind]
        line = (
            el(
                "line",
                x1=m.x,
                x2=m.x,
                y1=ly + 3,
                y2=bottom,
                stroke=colour,
                stroke_width=1.3,
                stroke_dasharray=dashes,
            )
            if m.line
            else ""
        )
        parts.append(
            el(
                "g",
                tooltip(m.tip)
                + line
                + el(
                    "text",
                    esc(m.text),
                    x=m.x + (4 if m.anchor == "start" else -4),
                    y=ly,
                    text_anchor=m.anchor,
                    font_size=SMALL_FONT,
                    fill=colour,
                ),
                class_="pdca-marker"
                + (" pdca-marker-break" if m.kind == BREAK else "")
                + ("" if m.line else " pdca-marker-stacked"),
                data_x=m.x,
            )
        )
    return parts
