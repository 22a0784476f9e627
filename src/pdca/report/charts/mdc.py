"""Variation and assurance icons: the two pictures a board reads per metric.

pdca draws its own, in the spirit of NHS England's *Making Data Count*: a
circle whose colour says good, bad or neither, with a shape inside that says
what happened, so the icon reads on a grayscale printout too.

* **Variation**: a little run of dots. Flat for common cause (grey); the last
  dots raised (``high``) or lowered (``low``) for special cause, blue when it
  is an improvement, orange for a concern, purple for neither. An ``H`` or
  ``L`` repeats the side in letters.
* **Assurance**: a dashed target line with the process band: ``P`` (pass,
  blue) when the band is all on the good side, ``F`` (fail, orange) when all
  on the bad side, ``?`` (hit or miss, grey) when the target crosses it.

Each icon is an ``<svg role="img">`` with a ``<title>`` that says it in words.
"""

from __future__ import annotations

from pdca.check.mdc_words import SIDE_WORDS, assurance_words, variation_words
from pdca.report.svg import FONT, SVG_NS, el, esc, num, uid

BLUE, ORANGE, GREY, PURPLE = "#1d5fa6", "#c2560c", "#6b7280", "#6d3fa6"
SIZE = 30.0


def _frame(kind: str, ident: str, label: str, ink: str, body: str) -> str:
    c = SIZE / 2
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {num(SIZE)} {num(SIZE)}" width="{num(SIZE)}"'
        f' height="{num(SIZE)}" role="img" aria-labelledby="{ident}-title"'
        f' font-family="{esc(FONT)}" class="pdca-mdc pdca-mdc-{esc(kind)}"'
        f' style="vertical-align:middle">'
        f'<title id="{ident}-title">{esc(label)}</title>'
        + el("circle", cx=c, cy=c, r=c - 1.2, fill="#ffffff", stroke=ink, stroke_width=2.2)
        + body
        + "</svg>"
    )


def variation_icon(kind: str | None, side: str | None) -> str:
    """The variation icon of ``signal.variation`` / ``variation_side``."""
    label = "Variation: " + variation_words(kind, side)
    ink = {"improvement": BLUE, "concern": ORANGE, "neither": PURPLE}.get(kind or "", GREY)
    special = kind in ("improvement", "concern", "neither")
    lift = {"high": -5.0, "low": 5.0}.get(side or "", 0.0) if special else 0.0
    xs = (8.0, 11.5, 15.0, 18.5, 22.0)
    ys = [15.0, 13.8, 15.6, 15.0 + lift, 15.0 + lift] if special else [15.0, 13.6, 16.2, 14.2, 15.4]
    dots = "".join(
        el("circle", cx=x, cy=y, r=1.7, fill=ink if (special and i >= 3) else GREY)
        for i, (x, y) in enumerate(zip(xs, ys, strict=True))
    )
    line = el(
        "path",
        d="M" + " L".join(f"{num(x)} {num(y)}" for x, y in zip(xs, ys, strict=True)),
        fill="none",
        stroke=GREY,
        stroke_width=0.9,
    )
    letter = ""
    if special and side in SIDE_WORDS:
        letter = el(
            "text",
            "H" if side == "high" else "L",
            x=SIZE / 2,
            y=9.5 if side == "low" else 25.5,
            text_anchor="middle",
            font_size=7.5,
            font_weight="700",
            fill=ink,
        )
    ident = uid("mdcv", kind, side)
    return _frame(f"variation-{kind or 'none'}", ident, label, ink, line + dots + letter)


def assurance_icon(kind: str | None) -> str:
    """The assurance icon of ``signal.assurance``."""
    label = "Assurance: " + assurance_words(kind)
    ink = {"pass": BLUE, "fail": ORANGE}.get(kind or "", GREY)
    letter = {"pass": "P", "fail": "F", "hit_or_miss": "?"}.get(kind or "", "–")
    target = el(
        "path",
        d="M6 21 H24",
        stroke=ink,
        stroke_width=1.3,
        stroke_dasharray="2.2 1.6",
    )
    body = target + el(
        "text",
        letter,
        x=SIZE / 2,
        y=18.0,
        text_anchor="middle",
        font_size=12.0,
        font_weight="700",
        fill=ink,
    )
    ident = uid("mdca", kind)
    return _frame(f"assurance-{kind or 'none'}", ident, label, ink, body)
