"""The control chart's legend: only what is drawn, each entry a sample of how it is drawn.

A key listing lines that are not on the chart sends the reader looking for
them, so entries follow the chart: "Partial period" only when there is one, one
entry per signal verdict seen, one for the two process limits together. Each
sample is drawn with the chart's own style, dash and colour, so it still
matches on a grayscale printout.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence

from pdca.report.charts.axes import Point
from pdca.report.charts.markers import BREAK, COUNTERMEASURE, KIND_WORDS, STROKES
from pdca.report.charts.references import Reference
from pdca.report.charts.style import (
    LABEL_FONT,
    LINE_STYLES,
    SIGNAL_COLOURS,
    SIGNAL_LEGEND,
    WARN_FILL,
    WIDTH,
)
from pdca.report.svg import INK, SERIES, el, esc, num, text_width

LINE_HEIGHT = 18
"""Vertical room per legend line when the entries wrap."""


def legend_items(
    present: Sequence[Point],
    verdicts_seen: Iterable[str],
    refs: Sequence[Reference],
    marker_kinds: Container[str],
    steps: str | None = None,
) -> list[tuple[str, str]]:
    """``(kind, label)`` per entry, in reading order: the data, the signals, the lines.

    ``steps`` is the legend of per-period limits (a per-n chart), None when there are none.
    """
    kinds = {kind for kind, _ in refs}
    seen = set(verdicts_seen)
    items: list[tuple[str, str]] = [("series", "Value")]
    if any(p.partial for p in present):
        items.append(("partial", "Partial period"))
    if any(p.excluded is not None for p in present):
        items.append(("partial", "Left out of limits and rules"))
    for verdict in ("better", "worse", "unclear"):
        if verdict in seen:
            items.append((f"signal-{verdict}", SIGNAL_LEGEND[verdict]))
    seen_legend: set[str] = set()
    for kind, _ in refs:
        legend = LINE_STYLES[kind].legend
        if kind == "warn" and "target" in kinds:
            legend = "Warn zone"
        if legend not in seen_legend:
            seen_legend.add(legend)
            items.append((kind, legend))
    if steps:
        items.append(("limit-step", steps))
    for kind in (COUNTERMEASURE, BREAK):
        if kind in marker_kinds:
            items.append((f"marker-{kind}", KIND_WORDS[kind][0]))
    return items


def legend(
    items: Sequence[tuple[str, str]], left: float, y: float, ref_kinds: Container[str]
) -> tuple[list[str], float]:
    """The entries in rows from ``(left, y)``, wrapping at the chart's edge; the parts and
    the baseline of the last row."""
    lx = left
    parts: list[str] = []
    for kind, label in items:
        w = 26 + text_width(label, LABEL_FONT) + 16
        if lx + w > WIDTH - 2 and lx > left:
            lx = left
            y += LINE_HEIGHT
        parts.append(legend_swatch(kind, lx, y - 4, ref_kinds))
        parts.append(el("text", esc(label), x=lx + 26, y=y, font_size=LABEL_FONT, fill=INK))
        lx += w
    return parts, y


def legend_swatch(kind: str, x: float, y: float, ref_kinds: Container[str]) -> str:
    """A 20-unit sample of each legend entry, drawn exactly like the chart draws it
    (the warn line with its amber zone when the chart has a target to bound it)."""
    if kind == "series":
        return el("line", x1=x, x2=x + 20, y1=y, y2=y, stroke=SERIES, stroke_width=2) + el(
            "circle", cx=x + 10, cy=y, r=3.0, fill=SERIES, stroke="#ffffff", stroke_width=0.8
        )
    if kind == "partial":
        return el("circle", cx=x + 10, cy=y, r=3.6, fill="#ffffff", stroke=SERIES, stroke_width=1.6)
    if kind.startswith("signal-"):
        colour = SIGNAL_COLOURS[kind.removeprefix("signal-")]
        return el(
            "circle", cx=x + 10, cy=y, r=7.4, fill="none", stroke=colour, stroke_width=1.2
        ) + el("circle", cx=x + 10, cy=y, r=4.8, fill=colour, stroke="#ffffff", stroke_width=1)
    if kind.startswith("marker-"):
        colour, dashes = STROKES[kind.removeprefix("marker-")]
        return el(
            "line",
            x1=x + 10,
            x2=x + 10,
            y1=y - 7,
            y2=y + 7,
            stroke=colour,
            stroke_width=1.3,
            stroke_dasharray=dashes,
        )
    if kind == "limit-step":
        style = LINE_STYLES["upper"]
        return el(
            "path",
            d=f"M{num(x)} {num(y + 3)} H{num(x + 10)} V{num(y - 3)} H{num(x + 20)}",
            fill="none",
            stroke=style.colour,
            stroke_width=style.width,
            stroke_dasharray=style.dash,
        )
    style = LINE_STYLES[kind]
    parts = []
    if kind == "warn" and "target" in ref_kinds:
        parts.append(
            el("rect", x=x, y=y - 6, width=20, height=12, fill=WARN_FILL, fill_opacity=0.16)
        )
    parts.append(
        el(
            "line",
            x1=x,
            x2=x + 20,
            y1=y,
            y2=y,
            stroke=style.colour,
            stroke_width=style.width,
            stroke_dasharray=style.dash,
        )
    )
    return "".join(parts)
