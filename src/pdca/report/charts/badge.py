"""The status badge: a small pill with an icon and a word for a KPI or objective status.

The word and the icon's shape carry the meaning (✓ met, ▲ at risk, ✕ off
track, ! error, – no data); the pale colour only repeats it, so the badge reads
on a grayscale printout and for colour-blind readers alike.
"""

from __future__ import annotations

import math

from pdca.report.svg import FONT, STATUS_STYLES, SVG_NS, el, esc, num, text_width, uid


def status_icon(status: str, cx: float, cy: float, ink: str) -> str:
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
        + status_icon(key, 14.0, h / 2, style["ink"])
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
