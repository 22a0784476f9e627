"""The sparkline: a word-sized trend of one metric for a table cell.

A table cell has no room for axes or a legend, so the sparkline shows only the
shape of the series, the target as a dashed line, and the latest value ringed
in green or orange by whether it meets the target; its tooltip says all that in
words, with the first, latest, lowest and highest values.
"""

from __future__ import annotations

from collections.abc import Sequence

from pdca.report.charts.style import LINE_STYLES, SIGNAL_BETTER, SIGNAL_WORSE
from pdca.report.svg import FAINT, SERIES, SVG_NS, as_float, el, esc, fmt_value, num, uid


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
