"""The control chart's horizontal reference lines: limits, target, warn level, baseline, benchmark.

Each line is labelled in the right margin with its name and value ("Target 30 min"),
so a reader never has to match a colour to a key; labels of lines close together
are moved apart rather than printed over each other. Between a warn level and a
target the band is tinted amber: "close to the target, on the wrong side".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pdca.report.charts.axes import PlotArea, spread
from pdca.report.charts.style import LABEL_FONT, LINE_STYLES, WARN_FILL
from pdca.report.svg import as_float, el, esc, fmt_value, with_unit
from pdca.report.svg import title as tooltip

Reference = tuple[str, float]
"""A line's kind (a key of :data:`~pdca.report.charts.style.LINE_STYLES`) and value."""


def references(values: Mapping[str, Any]) -> list[Reference]:
    """The lines that have a number, in drawing order; missing or junk values are left out."""
    refs: list[Reference] = []
    for kind in LINE_STYLES:
        f = as_float(values.get(kind))
        if f is not None:
            refs.append((kind, f))
    return refs


def reference_labels(refs: Sequence[Reference], unit: str) -> dict[str, str]:
    """Each line's margin label and tooltip: its name and its value with the unit."""
    return {kind: f"{LINE_STYLES[kind].label} {with_unit(fmt_value(v), unit)}" for kind, v in refs}


def warn_zone(area: PlotArea, ref_values: Mapping[str, float]) -> list[str]:
    """Amber between the warn level and the target; nothing unless both are set."""
    if "warn" not in ref_values or "target" not in ref_values:
        return []
    ya, yb = sorted((area.y_at(ref_values["warn"]), area.y_at(ref_values["target"])))
    return [
        el(
            "rect",
            tooltip("Warn zone: between the warn level and the target"),
            x=area.left,
            y=ya,
            width=area.width,
            height=max(yb - ya, 0.0),
            fill=WARN_FILL,
            fill_opacity=0.16,
            class_="pdca-warn-zone",
        )
    ]


def reference_lines(
    area: PlotArea,
    refs: Sequence[Reference],
    labels: Mapping[str, str],
    tips: Mapping[str, str] | None = None,
    computed: Mapping[str, float] | None = None,
) -> list[str]:
    """The lines across the plot, with their labels spread apart in the right margin.

    ``tips`` replace a line's label as its tooltip; ``computed`` holds the value a
    clipped limit had before it was drawn at the range's end (``data-computed``)."""
    right = area.left + area.width
    label_y = spread([area.y_at(v) for _, v in refs], 12.5, area.top - 4, area.bottom + 10)
    parts = []
    for (kind, value), ly in zip(refs, label_y, strict=True):
        style = LINE_STYLES[kind]
        ry = area.y_at(value)
        parts.append(
            el(
                "line",
                tooltip((tips or labels)[kind]),
                x1=area.left,
                x2=right,
                y1=ry,
                y2=ry,
                stroke=style.colour,
                stroke_width=style.width,
                stroke_dasharray=style.dash,
                class_=f"pdca-ref pdca-{kind}",
                data_value=repr(value),
                data_computed=repr(computed[kind]) if computed and kind in computed else None,
            )
        )
        parts.append(
            el(
                "text",
                esc(labels[kind]),
                x=right + 6,
                y=ly + 3.8,
                font_size=LABEL_FONT,
                font_weight="600" if kind == "target" else None,
                fill=style.colour,
                class_=f"pdca-ref-label pdca-{kind}-label",
            )
        )
    return parts
