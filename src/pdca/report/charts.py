"""Inline SVG charts for the HTML report: control chart, sparkline, status badge, task graph.

Managers read the picture before the table, so each chart must stand on its own:
labelled reference lines instead of a colour key to decode, a word next to
every colour (grayscale printouts, colour-blind readers), tooltips carrying the
exact numbers, and an accessible name and description for screen readers.

Every function returns one self-contained ``<svg>`` string: presentation
attributes only, no script, no external font or URL, all text XML-escaped
(titles and labels come from playbooks and customer data). Charts scale with
their container (``viewBox`` + ``width="100%"``) and stay crisp at any size.
Output is deterministic for the same input, so reports can be diffed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pdca.report.depgraph import dependency_graph
from pdca.report.svg import (
    AXIS,
    FAINT,
    FONT,
    GRID,
    INK,
    MUTED,
    PLACEHOLDER_FILL,
    SERIES,
    STATUS_STYLES,
    SVG_NS,
    as_float,
    el,
    esc,
    fmt_fixed,
    fmt_value,
    nice_ticks,
    num,
    step_decimals,
    text_width,
    truncate,
    uid,
    with_unit,
)
from pdca.report.svg import title as _tooltip

__all__ = [
    "LINE_STYLES",
    "control_chart",
    "dependency_graph",
    "placeholder",
    "sparkline",
    "status_badge",
]

WIDTH = 720.0
"""viewBox width of a full chart: about a printed page's text width at 96 dpi."""
PLOT_HEIGHT = 220.0

SIGNAL_BETTER = "#1f7a4d"
SIGNAL_WORSE = "#c2410c"
SIGNAL_UNDIRECTED = "#8a5a00"
MARKER_COLOUR = "#6b4c9a"
WARN_FILL = "#f5b942"


@dataclass(frozen=True, slots=True)
class LineStyle:
    """How one kind of reference line is drawn; the dash keeps it apart in grayscale."""

    label: str
    colour: str
    width: float
    dash: str | None
    legend: str


LINE_STYLES: dict[str, LineStyle] = {
    "centre": LineStyle("Centre", "#52606d", 1.2, None, "Centre line (average)"),
    "upper": LineStyle("Upper limit", "#7b8794", 1.2, "6 4", "Natural process limits"),
    "lower": LineStyle("Lower limit", "#7b8794", 1.2, "6 4", "Natural process limits"),
    "target": LineStyle("Target", "#1f7a4d", 2.0, "10 3 2 3", "Target"),
    "warn": LineStyle("Warn", "#b7791f", 1.4, "1.5 3", "Warn level"),
    "baseline": LineStyle("Baseline", "#3f6e8c", 1.4, "8 3 2 3 2 3", "Baseline"),
    "benchmark": LineStyle("Benchmark", "#7a4f7d", 1.4, "12 4", "Benchmark"),
}
"""Reference lines in drawing order (later ones on top). Exposed for the report legend."""


# --- control chart -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Point:
    index: int
    period: str
    start: date | None
    value: float | None
    n: Any
    partial: bool


def _as_date(value: Any) -> date | None:
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


def _points(points: Sequence[Mapping[str, Any]]) -> list[_Point]:
    out = []
    for i, p in enumerate(points):
        out.append(
            _Point(
                index=i,
                period=str(p.get("period") if p.get("period") is not None else i + 1),
                start=_as_date(p.get("start")),
                value=as_float(p.get("value")),
                n=p.get("n"),
                partial=bool(p.get("partial", False)),
            )
        )
    return out


def _svg_open(width: float, height: float, ident: str, extra: str = "") -> str:
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {num(width)} {num(height)}" width="100%"'
        f' preserveAspectRatio="xMidYMid meet" role="img"'
        f' aria-labelledby="{ident}-title {ident}-desc" font-family="{esc(FONT)}"{extra}>'
    )


def _head(ident: str, name: str, desc: str) -> str:
    return (
        f'<title id="{ident}-title">{esc(name)}</title><desc id="{ident}-desc">{esc(desc)}</desc>'
    )


def placeholder(title_text: str = "", message: str = "No data yet", detail: str = "") -> str:
    """The empty-state picture: a chart-sized frame saying so, instead of empty axes
    that a reader could mistake for a flat line at zero."""
    ident = uid("empty", title_text, message, detail)
    height = 150.0 if title_text else 120.0
    top = 34.0 if title_text else 10.0
    parts = [_svg_open(WIDTH, height, ident), _head(ident, title_text or message, message)]
    if title_text:
        parts.append(
            el(
                "text",
                esc(truncate(title_text, WIDTH - 8, 14)),
                x=4.0,
                y=20.0,
                font_size=14,
                font_weight="600",
                fill=INK,
            )
        )
    box_h = height - top - 6
    parts.append(
        el(
            "rect",
            x=4.0,
            y=top,
            width=WIDTH - 8,
            height=box_h,
            rx=8,
            fill=PLACEHOLDER_FILL,
            stroke=FAINT,
            stroke_width=1.2,
            stroke_dasharray="6 4",
        )
    )
    mid = top + box_h / 2
    parts.append(
        el(
            "text",
            esc(message),
            x=WIDTH / 2,
            y=mid + (0 if detail else 5),
            text_anchor="middle",
            font_size=15,
            font_weight="600",
            fill=MUTED,
        )
    )
    if detail:
        parts.append(
            el(
                "text",
                esc(truncate(detail, WIDTH - 40, 12)),
                x=WIDTH / 2,
                y=mid + 20,
                text_anchor="middle",
                font_size=12,
                fill=MUTED,
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def _spread(wanted: list[float], gap: float, lo: float, hi: float) -> list[float]:
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


def _marker_slot(marker_day: date, points: list[_Point]) -> int | None:
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


def _signal_map(
    signals: Iterable[Mapping[str, Any]], n: int, direction: str
) -> dict[int, list[tuple[int, str, str]]]:
    """Point index → [(rule, description, verdict)], verdict better / worse / unclear."""
    out: dict[int, list[tuple[int, str, str]]] = {}
    for sig in signals:
        rule = sig.get("rule")
        desc = str(sig.get("description") or "")
        sdir = sig.get("direction")
        if sdir in ("up", "down"):
            verdict = "better" if (sdir == "up") == (direction == "increase") else "worse"
        else:
            verdict = "unclear"
        for i in _signal_indices(sig, n):
            out.setdefault(i, []).append((_as_int(rule), desc, verdict))
    return out


def _as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _signal_indices(sig: Mapping[str, Any], n: int) -> list[int]:
    """The signal's period indices that exist in the series; junk is skipped, not fatal."""
    out = []
    for idx in sig.get("periods") or ():
        i = _as_int(idx, -1)
        if 0 <= i < n:
            out.append(i)
    return out


def _point_verdict(entries: list[tuple[int, str, str]]) -> str:
    verdicts = {v for _, _, v in entries}
    if "worse" in verdicts:
        return "worse"
    if "better" in verdicts:
        return "better"
    return "unclear"


_SIGNAL_COLOURS = {"better": SIGNAL_BETTER, "worse": SIGNAL_WORSE, "unclear": SIGNAL_UNDIRECTED}
_SIGNAL_LEGEND = {
    "better": "Signal: better",
    "worse": "Signal: worse",
    "unclear": "Signal: unstable",
}


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
) -> str:
    """A process-behaviour (XmR) chart of one metric, as an inline SVG string.

    ``points`` are periods in time order (``period``, ``start``, ``value``, ``n``,
    optional ``partial``); a None value leaves a gap, a partial last period is drawn
    hollow. ``signals`` (from :func:`pdca.check.stats.spc.detect_signals`, as JSON)
    highlight their periods, coloured by whether they point the good way for
    ``direction``. ``markers`` (``date``, ``label``) become vertical countermeasure
    lines between periods. The y-range always includes every reference line, so a
    target far from the data is still on the chart (the gap is the message).
    """
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', not {direction!r}")
    pts = _points(points)
    present = [p for p in pts if p.value is not None]
    if not present:
        detail = (
            f"{len(pts)} period(s) so far, none with a value."
            if pts
            else "The chart appears after the first measured period."
        )
        return placeholder(title, "No data yet", detail)

    signals = list(signals)
    markers = list(markers)
    n = len(pts)
    refs: list[tuple[str, float]] = []
    for kind, value in (
        ("centre", centre),
        ("upper", upper),
        ("lower", lower),
        ("target", target),
        ("warn", warn),
        ("baseline", baseline),
        ("benchmark", benchmark),
    ):
        f = as_float(value)
        if f is not None:
            refs.append((kind, f))
    ref_values = dict(refs)

    # y scale: every value and every reference line is inside the axis.
    domain = [p.value for p in present if p.value is not None] + [v for _, v in refs]
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
    tick_labels = [fmt_fixed(t, tick_dec) for t in ticks]

    def fmt_ref(v: float) -> str:
        return with_unit(fmt_value(v), unit)

    ref_labels = {kind: f"{LINE_STYLES[kind].label} {fmt_ref(v)}" for kind, v in refs}

    # Horizontal layout.
    tick_font, label_font, small_font = 11.0, 11.0, 10.5
    left = max(36.0, max(text_width(t, tick_font) for t in tick_labels) + 14)
    period_w = max(text_width(p.period, small_font) for p in pts)
    right = 14.0
    if ref_labels:
        right = max(right, max(text_width(t, label_font) for t in ref_labels.values()) + 14)
    band_guess = (WIDTH - left - right) / n
    right = max(right, period_w / 2 - band_guess / 2 + 4)
    plot_w = WIDTH - left - right
    band = plot_w / n

    def x_at(i: float) -> float:
        return left + (i + 0.5) * band

    # Countermeasure markers and the rows their labels need. Markers in the same
    # slot share one line and one label: stacked lines at one x would be unreadable.
    by_slot: dict[int, list[tuple[str, str]]] = {}
    skipped_markers: list[str] = []
    for m in markers:
        label = str(m.get("label") or "Countermeasure")
        raw = m.get("date")
        day = _as_date(raw)
        slot = _marker_slot(day, pts) if day is not None else None
        when = day.isoformat() if day is not None else str(raw)
        if slot is None:
            skipped_markers.append(f"{label} ({when})")
            continue
        by_slot.setdefault(slot, []).append((label, f"{label} — {when}"))
    placed_markers = [
        (left + slot * band, " · ".join(lab for lab, _ in group), "\n".join(t for _, t in group))
        for slot, group in sorted(by_slot.items())
    ]
    marker_rows: list[tuple[float, str, str, int, str]] = []  # x, text, tooltip, row, anchor
    row_ends: list[float] = []
    for x, label, tip in placed_markers:
        text = truncate(label, 170, small_font)
        w = text_width(text, small_font) + 10
        anchor = "start" if x + w <= WIDTH - 2 else "end"
        x0, x1 = (x, x + w) if anchor == "start" else (x - w, x)
        row = next((r for r, end in enumerate(row_ends) if x0 > end + 6), None)
        if row is None:
            row_ends.append(x1)
            row = len(row_ends) - 1
        row_ends[row] = max(row_ends[row], x1)
        marker_rows.append((x, text, tip, row, anchor))

    # Vertical layout.
    y = 8.0
    head: list[str] = []
    if title:
        head.append(
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
    better = "Higher is better ↑" if direction == "increase" else "Lower is better ↓"
    caption = better + (f"  ·  Unit: {unit}" if unit else "")
    head.append(el("text", esc(caption), x=2.0, y=y + 12, font_size=11.5, fill=MUTED))
    # a period still running (often a day or two of data) is a poor headline: show
    # the latest complete one, and the partial one only when it is all there is
    complete = [p for p in present if not p.partial]
    last = complete[-1] if complete else present[-1]
    latest = f"Latest {last.period}: {with_unit(fmt_value(last.value), unit)}" + (
        " (partial)" if last.partial else ""
    )
    head.append(
        el(
            "text",
            esc(truncate(latest, WIDTH / 2, 11.5)),
            x=WIDTH - 2,
            y=y + 12,
            text_anchor="end",
            font_size=11.5,
            font_weight="600",
            fill=INK,
        )
    )
    y += 22
    marker_top = y
    y += 15.0 * len(row_ends) + (6 if row_ends else 0)
    top = y + 6
    bottom = top + PLOT_HEIGHT

    def y_at(v: float) -> float:
        return bottom - (v - y_lo) / (y_hi - y_lo) * PLOT_HEIGHT

    body: list[str] = []

    # Warn zone: amber between the warn level and the target.
    if "warn" in ref_values and "target" in ref_values:
        ya, yb = sorted((y_at(ref_values["warn"]), y_at(ref_values["target"])))
        body.append(
            el(
                "rect",
                _tooltip("Warn zone: between the warn level and the target"),
                x=left,
                y=ya,
                width=plot_w,
                height=max(yb - ya, 0.0),
                fill=WARN_FILL,
                fill_opacity=0.16,
                class_="pdca-warn-zone",
            )
        )

    # Grid and y-axis.
    for t, label in zip(ticks, tick_labels, strict=True):
        ty = y_at(t)
        body.append(
            el("line", x1=left, x2=left + plot_w, y1=ty, y2=ty, stroke=GRID, stroke_width=1)
        )
        body.append(
            el(
                "text",
                esc(label),
                x=left - 8,
                y=ty + 3.8,
                text_anchor="end",
                font_size=tick_font,
                fill=MUTED,
                class_="pdca-ytick",
                data_value=repr(t),
            )
        )
    body.append(el("line", x1=left, x2=left + plot_w, y1=bottom, y2=bottom, stroke=AXIS))

    # Reference lines, with their labels spread apart in the right margin.
    label_y = _spread([y_at(v) for _, v in refs], 12.5, top - 4, bottom + 10)
    for (kind, value), ly in zip(refs, label_y, strict=True):
        style = LINE_STYLES[kind]
        ry = y_at(value)
        body.append(
            el(
                "line",
                _tooltip(ref_labels[kind]),
                x1=left,
                x2=left + plot_w,
                y1=ry,
                y2=ry,
                stroke=style.colour,
                stroke_width=style.width,
                stroke_dasharray=style.dash,
                class_=f"pdca-ref pdca-{kind}",
                data_value=repr(value),
            )
        )
        body.append(
            el(
                "text",
                esc(ref_labels[kind]),
                x=left + plot_w + 6,
                y=ly + 3.8,
                font_size=label_font,
                font_weight="600" if kind == "target" else None,
                fill=style.colour,
                class_=f"pdca-ref-label pdca-{kind}-label",
            )
        )

    # Countermeasure markers.
    for x, text, tip, row, anchor in marker_rows:
        ly = marker_top + 11 + row * 15
        body.append(
            el(
                "g",
                _tooltip(tip)
                + el(
                    "line",
                    x1=x,
                    x2=x,
                    y1=ly + 3,
                    y2=bottom,
                    stroke=MARKER_COLOUR,
                    stroke_width=1.3,
                    stroke_dasharray="4 3",
                )
                + el(
                    "text",
                    esc(text),
                    x=x + (4 if anchor == "start" else -4),
                    y=ly,
                    text_anchor=anchor,
                    font_size=small_font,
                    fill=MARKER_COLOUR,
                ),
                class_="pdca-marker",
                data_x=x,
            )
        )

    # The series: solid runs between gaps, a dashed link into a partial period.
    radius = min(3.2, max(1.6, band * 0.3))
    # A white halo separates points from the line, but on a dense series the
    # halos would chop the line into dashes.
    halo = "#ffffff" if band >= 8 else None
    runs: list[list[_Point]] = []
    current: list[_Point] = []
    for p in pts:
        if p.value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(p)
    if current:
        runs.append(current)
    for run in runs:
        solid = [p for p in run if not p.partial]
        if len(solid) >= 2:
            d = "M" + " L".join(f"{num(x_at(p.index))} {num(y_at(p.value or 0.0))}" for p in solid)
            body.append(
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
        for a, b in itertools.pairwise(run):
            if b.partial or a.partial:
                body.append(
                    el(
                        "path",
                        d=f"M{num(x_at(a.index))} {num(y_at(a.value or 0.0))}"
                        f" L{num(x_at(b.index))} {num(y_at(b.value or 0.0))}",
                        fill="none",
                        stroke=SERIES,
                        stroke_width=1.6,
                        stroke_dasharray="3 3",
                        class_="pdca-series-partial",
                    )
                )

    sig_map = _signal_map(signals, n, direction)
    verdicts_seen: set[str] = set()
    dots: list[str] = []
    for p in present:
        v = p.value if p.value is not None else 0.0
        cx, cy = x_at(p.index), y_at(v)
        tip = f"{p.period}: {with_unit(fmt_value(v), unit)}"
        if p.n is not None:
            tip += f" (n = {p.n})"
        if p.start is not None:
            tip += f"\nPeriod starting {p.start.isoformat()}"
        if p.partial:
            tip += "\nPartial period: still collecting data"
        entries = sig_map.get(p.index, [])
        for rule, desc, verdict in entries:
            tip += f"\nSignal, rule {rule}: {desc}" + (
                f" ({verdict})" if verdict != "unclear" else ""
            )
        data = {"data_index": str(p.index), "data_value": repr(v)}
        if entries:
            verdict = _point_verdict(entries)
            verdicts_seen.add(verdict)
            colour = _SIGNAL_COLOURS[verdict]
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
                fill="#ffffff" if p.partial else colour,
                stroke=colour if p.partial else "#ffffff",
                stroke_width=1.6 if p.partial else 1,
            )
            rules = ",".join(str(rule) for rule in sorted({e[0] for e in entries}))
            dots.append(
                el(
                    "g",
                    _tooltip(tip) + shape,
                    class_=f"pdca-point pdca-signal pdca-signal-{verdict}"
                    + (" pdca-partial" if p.partial else ""),
                    data_rules=rules,
                    **data,
                )
            )
        else:
            shape = el(
                "circle",
                cx=cx,
                cy=cy,
                r=radius + (0.6 if p.partial else 0),
                fill="#ffffff" if p.partial else SERIES,
                stroke=SERIES if p.partial else halo,
                stroke_width=1.6 if p.partial else 0.8,
            )
            dots.append(
                el(
                    "g",
                    _tooltip(tip) + shape,
                    class_="pdca-point" + (" pdca-partial" if p.partial else ""),
                    **data,
                )
            )
    body.extend(dots)

    # x-axis labels, thinned so they never overlap; the latest period always shows.
    every = max(1, math.ceil((period_w + 10) / band))
    for p in pts:
        if (n - 1 - p.index) % every:
            continue
        cx = x_at(p.index)
        body.append(el("line", x1=cx, x2=cx, y1=bottom, y2=bottom + 4, stroke=AXIS))
        body.append(
            el(
                "text",
                esc(p.period),
                x=cx,
                y=bottom + 17,
                text_anchor="middle",
                font_size=small_font,
                fill=MUTED,
                class_="pdca-xlabel",
                data_index=str(p.index),
            )
        )

    # Legend: only what is drawn, each entry with its own line style or marker.
    legend_items: list[tuple[str, str]] = [("series", "Value")]
    if any(p.partial for p in present):
        legend_items.append(("partial", "Partial period"))
    for verdict in ("better", "worse", "unclear"):
        if verdict in verdicts_seen:
            legend_items.append((f"signal-{verdict}", _SIGNAL_LEGEND[verdict]))
    seen_legend: set[str] = set()
    for kind, _ in refs:
        legend = LINE_STYLES[kind].legend
        if kind == "warn" and "target" in ref_values:
            legend = "Warn zone"
        if legend not in seen_legend:
            seen_legend.add(legend)
            legend_items.append((kind, legend))
    if marker_rows:
        legend_items.append(("marker", "Countermeasure"))

    legend_y = bottom + 38
    lx = left
    legend_parts: list[str] = []
    for kind, label in legend_items:
        w = 26 + text_width(label, label_font) + 16
        if lx + w > WIDTH - 2 and lx > left:
            lx = left
            legend_y += 18
        legend_parts.append(_legend_swatch(kind, lx, legend_y - 4, ref_values))
        legend_parts.append(
            el("text", esc(label), x=lx + 26, y=legend_y, font_size=label_font, fill=INK)
        )
        lx += w
    height = legend_y + 10

    # Accessible summary.
    first = pts[0].period
    summary = [
        f"{n} period{'s' if n != 1 else ''} from {first} to {pts[-1].period}; "
        f"{len(present)} with a value.",
        f"{latest}.",
        f"{better.rstrip(' ↑↓')}.",
    ]
    if refs:
        summary.append("; ".join(ref_labels[k] for k, _ in refs) + ".")
    if sig_map:
        described = []
        for sig in signals:
            idx = _signal_indices(sig, n)
            if idx:
                described.append(
                    f"rule {sig.get('rule')} at {pts[idx[0]].period}"
                    + (f" to {pts[idx[-1]].period}" if len(idx) > 1 else "")
                )
        summary.append(f"Signals: {', '.join(described)}.")
    else:
        summary.append("No signals.")
    if placed_markers:
        summary.append(
            "Countermeasures: "
            + "; ".join(t.replace("\n", "; ") for _, _, t in placed_markers)
            + "."
        )
    if skipped_markers:
        summary.append("Outside the charted periods: " + "; ".join(skipped_markers) + ".")

    ident = uid("cc", title, [(p.period, p.value) for p in pts], refs, len(signals))
    name = title or "Control chart"
    return "".join(
        [
            _svg_open(WIDTH, height, ident),
            _head(ident, name, " ".join(summary)),
            *head,
            *body,
            *legend_parts,
            "</svg>",
        ]
    )


def _legend_swatch(kind: str, x: float, y: float, ref_values: Mapping[str, float]) -> str:
    """A 20-unit sample of each legend entry, drawn exactly like the chart draws it."""
    if kind == "series":
        return el("line", x1=x, x2=x + 20, y1=y, y2=y, stroke=SERIES, stroke_width=2) + el(
            "circle", cx=x + 10, cy=y, r=3.0, fill=SERIES, stroke="#ffffff", stroke_width=0.8
        )
    if kind == "partial":
        return el("circle", cx=x + 10, cy=y, r=3.6, fill="#ffffff", stroke=SERIES, stroke_width=1.6)
    if kind.startswith("signal-"):
        colour = _SIGNAL_COLOURS[kind.removeprefix("signal-")]
        return el(
            "circle", cx=x + 10, cy=y, r=7.4, fill="none", stroke=colour, stroke_width=1.2
        ) + el("circle", cx=x + 10, cy=y, r=4.8, fill=colour, stroke="#ffffff", stroke_width=1)
    if kind == "marker":
        return el(
            "line",
            x1=x + 10,
            x2=x + 10,
            y1=y - 7,
            y2=y + 7,
            stroke=MARKER_COLOUR,
            stroke_width=1.3,
            stroke_dasharray="4 3",
        )
    style = LINE_STYLES[kind]
    parts = []
    if kind == "warn" and "target" in ref_values:
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


# --- sparkline ---------------------------------------------------------------


def sparkline(
    values: Sequence[float | None],
    *,
    target: float | None = None,
    direction: str = "increase",
    width: float = 120,
    height: float = 28,
) -> str:
    """A word-sized trend for a table cell: the line, the target, and the latest value.

    The latest point is ringed and coloured by whether it meets the target
    (better/worse side for ``direction``), with a tooltip saying so, since a table
    cell has no room for a legend. Gaps (None) break the line like on the full chart.
    """
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', not {direction!r}")
    vals = [as_float(v) for v in values]
    present = [(i, v) for i, v in enumerate(vals) if v is not None]
    tgt = as_float(target)
    ident = uid("spark", vals, tgt, direction)
    open_tag = (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {num(width)} {num(height)}"'
        f' width="{num(width)}" height="{num(height)}" role="img"'
        f' aria-labelledby="{ident}-title" style="vertical-align:middle">'
    )
    if not present:
        return (
            open_tag
            + f'<title id="{ident}-title">No data yet</title>'
            + el(
                "line",
                x1=4.0,
                x2=width - 4,
                y1=height / 2,
                y2=height / 2,
                stroke=FAINT,
                stroke_width=1,
                stroke_dasharray="2 3",
            )
            + "</svg>"
        )
    domain = [v for _, v in present] + ([tgt] if tgt is not None else [])
    lo, hi = min(domain), max(domain)
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        lo, hi = lo - 1, hi + 1
    pad = 4.0
    n = len(vals)

    def sx(i: int) -> float:
        return pad + (i * (width - 2 * pad) / (n - 1) if n > 1 else (width - 2 * pad) / 2)

    def sy(v: float) -> float:
        return height - pad - (v - lo) / (hi - lo) * (height - 2 * pad)

    parts = [open_tag]
    last_i, last_v = present[-1]
    status = ""
    colour = SERIES
    if tgt is not None:
        ok = last_v >= tgt if direction == "increase" else last_v <= tgt
        status = "meets the target" if ok else "misses the target"
        colour = SIGNAL_BETTER if ok else SIGNAL_WORSE
    name = (
        f"Trend of {len(present)} value{'s' if len(present) != 1 else ''}: "
        f"first {fmt_value(present[0][1])}, latest {fmt_value(last_v)}, "
        f"range {fmt_value(min(v for _, v in present))} to {fmt_value(max(v for _, v in present))}"
    )
    if tgt is not None:
        name += f"; target {fmt_value(tgt)}, latest {status}"
    parts.append(f'<title id="{ident}-title">{esc(name)}</title>')
    if tgt is not None:
        parts.append(
            el(
                "line",
                x1=pad,
                x2=width - pad,
                y1=sy(tgt),
                y2=sy(tgt),
                stroke=LINE_STYLES["target"].colour,
                stroke_width=1,
                stroke_dasharray="4 2",
                class_="pdca-target",
            )
        )
    run: list[tuple[int, float]] = []
    segments: list[list[tuple[int, float]]] = []
    for i, v in enumerate(vals):
        if v is None:
            if run:
                segments.append(run)
            run = []
        else:
            run.append((i, v))
    if run:
        segments.append(run)
    for seg in segments:
        if len(seg) >= 2:
            d = "M" + " L".join(f"{num(sx(i))} {num(sy(v))}" for i, v in seg)
            parts.append(
                el(
                    "path",
                    d=d,
                    fill="none",
                    stroke=SERIES,
                    stroke_width=1.5,
                    stroke_linejoin="round",
                    stroke_linecap="round",
                    class_="pdca-series",
                )
            )
        else:
            i, v = seg[0]
            parts.append(el("circle", cx=sx(i), cy=sy(v), r=1.8, fill=SERIES))
    parts.append(
        el(
            "circle",
            cx=sx(last_i),
            cy=sy(last_v),
            r=2.6,
            fill=colour,
            stroke="#ffffff",
            stroke_width=0.8,
            class_="pdca-latest",
        )
    )
    parts.append("</svg>")
    return "".join(parts)


# --- status badge --------------------------------------------------------------


def _status_icon(status: str, cx: float, cy: float, ink: str) -> str:
    """A shape per status, so the badge reads without colour: ✓ circle, ▲, ✕, –, !"""
    if status == "met":
        return el("circle", cx=cx, cy=cy, r=5.5, fill=ink) + el(
            "path",
            d=f"M{num(cx - 2.6)} {num(cy + 0.2)} l1.9 1.9 l3.4 -3.8",
            fill="none",
            stroke="#ffffff",
            stroke_width=1.5,
            stroke_linecap="round",
            stroke_linejoin="round",
        )
    if status == "at_risk":
        return el(
            "path",
            d=f"M{num(cx)} {num(cy - 5.6)} L{num(cx + 6)} {num(cy + 4.8)}"
            f" L{num(cx - 6)} {num(cy + 4.8)} Z",
            fill=ink,
        ) + el(
            "path",
            d=f"M{num(cx)} {num(cy - 2)} v3.4 M{num(cx)} {num(cy + 2.9)} v0.2",
            stroke="#ffffff",
            stroke_width=1.4,
            stroke_linecap="round",
        )
    if status == "off_track":
        return el("rect", x=cx - 5.2, y=cy - 5.2, width=10.4, height=10.4, rx=1.5, fill=ink) + el(
            "path",
            d=f"M{num(cx - 2.4)} {num(cy - 2.4)} l4.8 4.8"
            f" M{num(cx + 2.4)} {num(cy - 2.4)} l-4.8 4.8",
            stroke="#ffffff",
            stroke_width=1.5,
            stroke_linecap="round",
        )
    if status == "error":
        r = 5.6
        pts = " ".join(
            f"{num(cx + r * math.cos(math.pi / 8 + k * math.pi / 4))},"
            f"{num(cy + r * math.sin(math.pi / 8 + k * math.pi / 4))}"
            for k in range(8)
        )
        return el("polygon", points=pts, fill=ink) + el(
            "path",
            d=f"M{num(cx)} {num(cy - 3)} v3.6 M{num(cx)} {num(cy + 2.6)} v0.2",
            stroke="#ffffff",
            stroke_width=1.5,
            stroke_linecap="round",
        )
    return el(
        "circle",
        cx=cx,
        cy=cy,
        r=5,
        fill="none",
        stroke=ink,
        stroke_width=1.4,
        stroke_dasharray="2 1.6",
    ) + el(
        "path",
        d=f"M{num(cx - 2.4)} {num(cy)} h4.8",
        stroke=ink,
        stroke_width=1.4,
        stroke_linecap="round",
    )


def status_badge(status: str | None, label: str | None = None) -> str:
    """A small pill: icon + word on a pale status colour (green/amber/red/grey/purple).

    The word and the icon shape carry the meaning; the colour only repeats it.
    An unknown status is shown as written, in grey, rather than guessed at.
    """
    key = (status or "no_data").strip().lower().replace(" ", "_").replace("-", "_")
    style = STATUS_STYLES.get(key)
    if style is None:
        style = {**STATUS_STYLES["no_data"], "label": str(status)}
    text = label if label is not None else style["label"]
    size = 11.5
    w = 8 + 12 + 5 + text_width(text, size) + 9
    h = 20.0
    ident = uid("badge", key, text)
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {num(w)} {num(h)}" width="{num(w)}"'
        f' height="{num(h)}" role="img" aria-labelledby="{ident}-title"'
        f' font-family="{esc(FONT)}" style="vertical-align:middle"'
        f' data-status="{esc(key)}">'
        f'<title id="{ident}-title">Status: {esc(text)}</title>'
        + el(
            "rect",
            x=0.5,
            y=0.5,
            width=w - 1,
            height=h - 1,
            rx=(h - 1) / 2,
            fill=style["fill"],
            stroke=style["ink"],
            stroke_width=0.8,
        )
        + _status_icon(key, 14.0, h / 2, style["ink"])
        + el(
            "text",
            esc(text),
            x=25.0,
            y=h / 2 + 4,
            font_size=size,
            font_weight="600",
            fill=style["ink"],
        )
        + "</svg>"
    )
