"""The outside of a full-width chart: the ``<svg>`` tag, its accessible name, the empty state.

Every full chart opens the same way (``viewBox`` + ``width="100%"`` so it scales
with its column, ``role="img"`` with a title and a description a screen reader
announces), and a chart with nothing to draw says so in a chart-sized frame
instead of showing empty axes a reader could take for a flat line at zero.
"""

from __future__ import annotations

from pdca.report.charts.style import WIDTH
from pdca.report.svg import (
    FAINT,
    FONT,
    INK,
    MUTED,
    PLACEHOLDER_FILL,
    SVG_NS,
    el,
    esc,
    num,
    truncate,
    uid,
)


def svg_open(width: float, height: float, ident: str, extra: str = "") -> str:
    """The opening ``<svg>`` tag, labelled by the title and description :func:`svg_head` makes."""
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {num(width)} {num(height)}" width="100%"'
        f' preserveAspectRatio="xMidYMid meet" role="img"'
        f' aria-labelledby="{ident}-title {ident}-desc" font-family="{esc(FONT)}"{extra}>'
    )


def svg_head(ident: str, name: str, desc: str) -> str:
    """The accessible name and the summary a reader who cannot see the chart hears."""
    return (
        f'<title id="{ident}-title">{esc(name)}</title><desc id="{ident}-desc">{esc(desc)}</desc>'
    )


def placeholder(title_text: str = "", message: str = "No data yet", detail: str = "") -> str:
    """The empty-state picture: a chart-sized frame saying so, instead of empty axes
    that a reader could mistake for a flat line at zero."""
    ident = uid("empty", title_text, message, detail)
    height = 150.0 if title_text else 120.0
    top = 34.0 if title_text else 10.0
    parts = [svg_open(WIDTH, height, ident), svg_head(ident, title_text or message, message)]
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
