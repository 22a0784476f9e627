"""Small SVG building blocks shared by the report charts: escaping, numbers, ticks, palette.

Everything drawn in a report ends up inline in one HTML file that may be mailed,
archived or printed, so these helpers produce plain SVG 1.1 text with
presentation attributes: no CSS classes that need a stylesheet, no
JavaScript, no fonts or images fetched from anywhere. A colour with a role in
:mod:`pdca.report.palette` also names it in a ``style`` (a CSS custom property
falling back to the same colour), so the page can repaint it for dark mode.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pdca.report.palette import PAINTED, role_style

SVG_NS = "http://www.w3.org/2000/svg"

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
"""Fonts every reader already has: a report must not fetch one to be legible."""

# Calm, print-safe palette. Each line style also has a dash pattern so the chart
# still reads on a grayscale printout, and nothing relies on a background colour.
INK = "#1f2933"
MUTED = "#52606d"
FAINT = "#9aa5b1"
GRID = "#e4e7eb"
AXIS = "#9aa5b1"
SERIES = "#2b5c8a"
PLACEHOLDER_FILL = "#f5f7fa"

STATUS_STYLES: dict[str, dict[str, str]] = {
    # status: fill (pale, for boxes), stroke/ink (dark, for text and borders), label
    "met": {"fill": "#e3f4ea", "ink": "#1e6b43", "label": "Met"},
    "at_risk": {"fill": "#fdf1d8", "ink": "#8a5a00", "label": "At risk"},
    "off_track": {"fill": "#fbe4e2", "ink": "#a3281d", "label": "Off track"},
    "no_data": {"fill": "#eef0f3", "ink": "#52606d", "label": "No data"},
    "error": {"fill": "#efe6f7", "ink": "#6a3d9a", "label": "Error"},
}
"""The five KPI statuses: green / amber / red / grey / purple, always with a word."""

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(value: Any) -> str:
    """XML-escape any value for text or a double-quoted attribute.

    Titles and labels come from playbooks and customer data, so they are
    hostile until proven otherwise; control characters that XML 1.0 forbids are
    dropped too, or one stray byte in a ticket subject would make the whole
    report's SVG unparseable.
    """
    text = _XML_INVALID.sub("", str(value))
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def num(x: float) -> str:
    """A coordinate with two decimals at most: enough for any zoom, and small output."""
    if not math.isfinite(x):
        raise ValueError(f"non-finite coordinate {x!r}")
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def attrs(values: Mapping[str, Any]) -> str:
    """Attributes in the given order; None values are left out, floats are rounded.

    A colour with a palette role adds its custom property to a ``style`` attribute
    (after any ``style`` given), so a stylesheet can repaint it."""
    parts, styles = [], []
    for key, value in values.items():
        if value is None:
            continue
        name = key.replace("_", "-")
        if isinstance(value, float):
            parts.append(f' {name}="{num(value)}"')
            continue
        if name == "style":
            styles.insert(0, esc(str(value).rstrip(";")))
            continue
        text = esc(value)
        parts.append(f' {name}="{text}"')
        if name in PAINTED:
            role = role_style(name, text)
            if role:
                styles.append(role)  # made of palette names and hex digits: nothing to escape
    if styles:
        parts.append(f' style="{";".join(styles)}"')
    return "".join(parts)


def el(tag: str, content: str | None = None, /, **values: Any) -> str:
    """One element; ``content`` is inserted as is (already SVG), None makes it empty.

    Attribute names use ``_`` for ``-`` (``stroke_width``); a trailing ``_`` is
    dropped so Python keywords can be used (``class_``).
    """
    clean = {k.rstrip("_"): v for k, v in values.items()}
    if content is None:
        return f"<{tag}{attrs(clean)}/>"
    return f"<{tag}{attrs(clean)}>{content}</{tag}>"


def title(text: str) -> str:
    """A ``<title>`` child: the tooltip and accessible name of its parent."""
    return f"<title>{esc(text)}</title>"


def uid(kind: str, *payload: Any) -> str:
    """A short id that is stable for the same input (reproducible reports, golden tests)
    yet differs between charts, so several SVGs can share one HTML page."""
    digest = hashlib.sha1(repr((kind, payload)).encode("utf-8", "replace")).hexdigest()
    return f"pdca-{kind}-{digest[:10]}"


def text_width(text: str, size: float) -> float:
    """Rough rendered width of ``text`` in a sans-serif face.

    SVG has no text measurement without a browser; this over-estimates a little
    (0.6 em per glyph, narrow glyphs less) so labels laid out with it never collide.
    """
    narrow = sum(1 for ch in text if ch in "il.,:;|!'()[]1 ")
    wide = sum(1 for ch in text if ch in "MWmw@%")
    return size * (0.6 * (len(text) - narrow - wide) + 0.34 * narrow + 0.86 * wide)


def truncate(text: str, max_width: float, size: float) -> str:
    """``text`` cut with an ellipsis so it fits ``max_width`` (the full text goes in a title).

    The cut falls between words ("Agent coaching on…", not "Agent coaching on empathy a…"):
    a half word reads as a different word. Only a first word too long for the room is
    cut inside."""
    if text_width(text, size) <= max_width:
        return text
    # the longest prefix that fits with the ellipsis: widths grow with length, so a
    # binary search measures log(n) prefixes instead of every one
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid] + "…", size) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    if lo < len(text) and not text[lo].isspace():
        space = cut.rstrip().rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip(" ,;:·-–—") + "…"


# --- numbers -----------------------------------------------------------------

NICE_STEPS: tuple[float, ...] = (1.0, 2.0, 2.5, 5.0, 10.0)
"""Tick steps are these times a power of ten: the steps people count in."""


def nice_step(span: float, max_ticks: int = 6) -> float:
    """The smallest nice step that covers ``span`` in at most ``max_ticks - 1`` intervals."""
    if not math.isfinite(span) or span <= 0:
        raise ValueError(f"span must be a positive number, not {span!r}")
    raw = span / max(1, max_ticks - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for mult in NICE_STEPS:
        step = mult * magnitude
        if step >= raw * (1 - 1e-9):
            return step
    return 10.0 * magnitude  # pragma: no cover - the loop always returns


def step_decimals(step: float) -> int:
    """Decimals needed to write multiples of a nice ``step`` exactly (0.25 → 2, 5 → 0)."""
    if not math.isfinite(step) or step <= 0:
        return 0
    exponent = math.floor(math.log10(step) + 1e-9)
    quarter = abs(step / 10.0**exponent - 2.5) < 1e-6
    return max(0, -exponent + (1 if quarter else 0))


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Evenly spaced nice tick values whose first ≤ ``lo`` and last ≥ ``hi``.

    Heckbert's "nice numbers" with 2.5 added to the 1-2-5 steps, because a
    percentage axis in steps of 25 reads better than one in steps of 20 or 50.
    A zero-width range is widened around its value first, so a constant series
    still gets an axis with the value in the middle.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"tick range must be finite, not ({lo!r}, {hi!r})")
    if lo > hi:
        lo, hi = hi, lo
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        pad = abs(lo) * 0.1
        if not (hi + pad) - (lo - pad) > 0:  # zero, or too tiny to widen in floats
            pad = 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, max_ticks)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    while last - first + 1 > max_ticks + 1:  # rounding out both ends can add a tick
        step = nice_step(step * (last - first) * 1.0001, max_ticks)
        first = math.floor(lo / step + 1e-9)
        last = math.ceil(hi / step - 1e-9)
    decimals = step_decimals(step)
    return [_clean(round(k * step, decimals)) for k in range(first, last + 1)]


def _clean(x: float) -> float:
    return 0.0 if x == 0 else x


MINUS = "\u2212"
"""Typographic minus: a hyphen next to a number is easy to miss on a printout."""


def fmt_fixed(x: float, decimals: int) -> str:
    """``x`` with thousands separators and a real minus sign."""
    text = f"{abs(x):,.{decimals}f}"
    return (MINUS + text) if x < 0 and float(text.replace(",", "")) != 0 else text


def fmt_value(x: float | None) -> str:
    """A measured value at a precision a manager reads: 3 significant digits, at least units.

    Used for tooltips and line labels, where the exact float (26.6666667) is noise.
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 1000:
        decimals = 0
    elif ax >= 10:
        decimals = 1
    elif ax >= 1:
        decimals = 2
    else:
        decimals = min(6, 2 - math.floor(math.log10(ax)))
    text = fmt_fixed(x, decimals)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def with_unit(value: str, unit: str) -> str:
    """``27.1 min``, but ``95%`` (a percent sign hugs its number)."""
    if not unit:
        return value
    return f"{value}{unit}" if unit in ("%", "‰", "°") else f"{value} {unit}"


def finite(values: Iterable[Any]) -> list[float]:
    """The values that are real numbers: None, NaN, inf and non-numbers are missing."""
    out = []
    for v in values:
        f = as_float(v)
        if f is not None:
            out.append(f)
    return out


def as_float(v: Any) -> float | None:
    """``v`` as a finite float, or None when it is missing or not a number."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None
