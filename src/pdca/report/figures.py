"""The pictures in a report: the SVG charts for HTML, the mermaid graph for Markdown.

The charts (:mod:`pdca.report.charts`) escape every text they draw, so their
SVG is marked safe (``Markup``) right here, where it is made, and never from
template input: a template cannot smuggle markup through these helpers. They
also turn the report document's shape (a metric with its series, signal and
markers) into the chart functions' arguments, so templates just say
``chart(metric, title)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from pdca.check.mdc_words import readings
from pdca.report.charts.badge import status_badge
from pdca.report.charts.control import control_chart
from pdca.report.charts.frame import placeholder
from pdca.report.charts.mdc import assurance_icon, variation_icon
from pdca.report.charts.sparkline import sparkline
from pdca.report.depgraph import dependency_graph
from pdca.report.filters import status_label, task_label
from pdca.report.mermaid import mermaid_ids, mermaid_text
from pdca.report.palette import css_variables
from pdca.report.svg import as_float

MERMAID_MAX_NODES = 200
"""Above this, the Markdown report leaves the graph out: GitHub and GitLab refuse (or
cannot lay out) much larger mermaid diagrams."""


_MERMAID_CLASSES: Mapping[str, str] = {
    "done": "fill:#e3f4ea,stroke:#1e6b43,color:#1e6b43",
    "active": "fill:#e6f0fa,stroke:#1f5f99,color:#1f5f99",
    "waiting": "fill:#ffffff,stroke:#52606d,color:#1f2933",
    "problem": "fill:#fbe4e2,stroke:#a3281d,color:#a3281d",
    "warn": "fill:#fdf1d8,stroke:#8a5a00,color:#8a5a00",
    "objective": "fill:#fff6e0,stroke:#b7892b,color:#1f2933",
}
_MERMAID_STATUS: Mapping[str, str] = {
    "done": "done",
    "skipped": "waiting",
    "pending": "waiting",
    "ready": "active",
    "in_progress": "active",
    "blocked": "warn",
    "failed": "problem",
    "met": "done",
    "at_risk": "warn",
    "off_track": "problem",
    "error": "problem",
}


def mermaid(graph: Mapping[str, Any]) -> str:
    """The task/objective graph as a mermaid flowchart (no fences); empty when it has no
    nodes or more than :data:`MERMAID_MAX_NODES`."""
    nodes = list(graph.get("nodes") or [])
    if not nodes or len(nodes) > MERMAID_MAX_NODES:
        return ""
    ids = mermaid_ids(n["id"] for n in nodes)
    lines = ["flowchart LR"]
    classes: dict[str, list[str]] = {}
    for n in nodes:
        nid = ids[n["id"]]
        objective = n.get("kind") == "objective"
        word = status_label(n.get("status")) if objective else task_label(n.get("status"))
        label = f"{mermaid_text(n.get('label'))}<br/>{mermaid_text(word)}"
        left, right = ('{{"', '"}}') if objective else ('["', '"]')
        lines.append(f"    {nid}{left}{label}{right}")
        cls = _MERMAID_STATUS.get(str(n.get("status")), "waiting")
        classes.setdefault("objective" if objective and cls == "waiting" else cls, []).append(nid)
    for a, b in graph.get("edges") or []:
        if a in ids and b in ids:
            lines.append(f"    {ids[a]} --> {ids[b]}")
    for cls, members in classes.items():
        lines.append(f"    classDef {cls} {_MERMAID_CLASSES[cls]}")
        lines.append(f"    class {','.join(members)} {cls}")
    return "\n".join(lines)


MARKER_LABEL_CHARS = 48
"""A countermeasure's label on a chart is cut to this, between words; the full titles are
in the report."""


DEFINITION_CHANGED = "Definition changed"
"""The marker where a metric's definition (source, KPI, field, filter, params) changed."""


def chart_markers(metric: Mapping[str, Any]) -> list[dict[str, str]]:
    """One marker per countermeasure, in date order, each with its own label: the chart
    stacks the labels of those that share a line (finished in the same period). The
    day the metric's definition changed (``definition.changed_on``) is one too."""
    out = []
    for m in sorted(metric.get("markers") or [], key=lambda m: str(m.get("date"))):
        label = str(m.get("label") or "Countermeasure")
        if len(label) > MARKER_LABEL_CHARS:
            cut = label[: MARKER_LABEL_CHARS - 1]
            if not label[MARKER_LABEL_CHARS - 1].isspace() and " " in cut:
                cut = cut[: cut.rfind(" ")]
            label = cut.rstrip(" ,;:·-–—") + "…"
        out.append({"date": str(m.get("date")), "label": label})
    changed = (metric.get("definition") or {}).get("changed_on")
    if changed:
        # a break, not a countermeasure: the periods before it were measured another way
        out.append({"date": str(changed), "label": DEFINITION_CHANGED, "kind": "break"})
    return out


def chart(metric: Mapping[str, Any], title: str = "") -> Markup:
    """The metric's control chart: series, centre line and limits, target, warn, baseline,
    benchmark, signals and countermeasure markers (an inline SVG).

    The chart Check read the metric on (``signal.limits.chart``) decides the limits:
    a per-n chart's series points carry their own ``lower`` and ``upper``, drawn as
    steps; a run chart has a median and no limits."""
    if metric.get("error"):
        return Markup(placeholder(title, "Could not be measured", str(metric["error"])))
    signal = metric.get("signal") or {}
    limits = signal.get("limits") or {}
    rules = [
        {**r, "periods": r.get("indices", r.get("periods")) or []}
        for r in signal.get("rules") or []
    ]
    benchmark = (metric.get("benchmark") or {}).get("value")
    return Markup(
        control_chart(
            metric.get("series") or [],
            centre=limits.get("centre"),
            lower=limits.get("lower"),
            upper=limits.get("upper"),
            target=metric.get("target"),
            warn=metric.get("warn"),
            baseline=metric.get("baseline"),
            benchmark=benchmark,
            signals=rules,
            markers=chart_markers(metric),
            direction=metric.get("direction") or "increase",
            title=str(title or ""),
            unit=str(metric.get("unit") or ""),
            chart=str(limits.get("chart") or "xmr"),
            value_range=metric.get("range"),
        )
    )


def mr_chart(metric: Mapping[str, Any], title: str = "") -> Markup:
    """The moving range chart under an XmR chart, when the metric's rules read it (rule 10,
    as in the ``wheeler`` preset): each period's jump from the one before, the mean
    moving range and its upper limit, jumps beyond it ringed. Empty otherwise."""
    signal = metric.get("signal") or {}
    limits = signal.get("limits") or {}
    rules = (signal.get("rule_set") or {}).get("rules") or []
    if metric.get("error") or 10 not in rules or limits.get("chart") != "xmr":
        return Markup("")
    points, previous = [], None
    for p in metric.get("series") or []:
        if p.get("partial"):
            continue
        value = as_float(p.get("value"))
        jump = abs(value - previous) if value is not None and previous is not None else None
        points.append({"period": p.get("period"), "start": p.get("start"), "value": jump})
        previous = value if value is not None else previous
    jumps = [
        {"rule": 10, "periods": list((r.get("indices") or [])[1:]), "direction": None}
        for r in signal.get("rules") or []
        if r.get("rule") == 10
    ]
    name = str(title or metric.get("title") or "")
    return Markup(
        control_chart(
            points,
            centre=limits.get("mr_bar"),
            upper=limits.get("mr_upper"),
            signals=jumps,
            direction="decrease",
            title=f"Moving range: {name}" if name else "Moving range",
            unit=str(metric.get("unit") or ""),
            value_range={"low": 0, "high": None},
        )
    )


def spark(
    metric: Mapping[str, Any], periods: int = 26, width: float = 120, height: float = 28
) -> Markup:
    """A word-sized trend of the last ``periods`` full periods, with the target."""
    values = [p.get("value") for p in metric.get("series") or [] if not p.get("partial")]
    return Markup(
        sparkline(
            values[-periods:],
            target=metric.get("target"),
            direction=metric.get("direction") or "increase",
            width=float(width),
            height=float(height),
        )
    )


def badge(status: Any, label: Any = None) -> Markup:
    """A status pill (icon + word) as an inline SVG."""
    key = str(status or "no_data")
    word = label if label is not None else status_label(key)
    return Markup(status_badge("no_data" if key == "not_measured" else key, str(word)))


def mdc_icons(signal: Any, which: str = "both") -> Markup:
    """A metric's variation and assurance icons (Making Data Count): ``both`` side by
    side, or only the ``variation`` or the ``assurance`` one."""
    kind, side, assured = readings(signal)
    parts = []
    if which in ("both", "variation"):
        parts.append(variation_icon(kind, side))
    if which in ("both", "assurance"):
        parts.append(assurance_icon(assured))
    return Markup('<span class="mdc-icons">' + "".join(parts) + "</span>")


_VIEWBOX = re.compile(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"')


def graph_svg(graph: Mapping[str, Any], title: str = "") -> Markup:
    """The dependency graph at its natural size (the page scrolls it, never shrinks it)."""
    svg = dependency_graph(
        graph.get("nodes") or [], [tuple(e) for e in graph.get("edges") or []], title=str(title)
    )
    size = _VIEWBOX.search(svg)
    if size:
        svg = svg.replace('width="100%"', f'width="{size[1]}" height="{size[2]}"', 1)
    return Markup(svg)


_SVG_ID = re.compile(r' id="([^"]+)"')


def unique_ids(html: str) -> Markup:
    """The page with every SVG's ids made unique: a repeated picture (the same badge on
    three cards, two empty sparklines) gets ``-2``, ``-3``... on its ids and on its own
    references to them (``aria-labelledby``, ``url(#...)``), so the page stays valid
    HTML and each picture keeps its own accessible name. The pictures' ids are stable
    hashes of what they show, which is what makes repeats possible.

    Pictures are found with ``str.find`` and ids with a pattern that starts with a
    literal: a report of a thousand tasks is megabytes, and this runs on all of it."""
    text = str(html)
    seen: set[str] = set()
    out: list[str] = []
    pos = 0
    while (start := text.find("<svg ", pos)) >= 0:
        end = text.find("</svg>", start)
        end = len(text) if end < 0 else end + len("</svg>")
        out.append(text[pos:start])
        out.append(_renumber(text[start:end], seen))
        pos = end
    out.append(text[pos:])
    return Markup("".join(out))


def _renumber(block: str, seen: set[str]) -> str:
    """One picture with each id already ``seen`` on the page renamed, in one pass."""
    fresh: dict[str, str] = {}
    for ident in _SVG_ID.findall(block):
        if ident in fresh:
            continue
        if ident not in seen:
            seen.add(ident)
            continue
        k = 2
        while f"{ident}-{k}" in seen:
            k += 1
        fresh[ident] = f"{ident}-{k}"
        seen.add(fresh[ident])
    if not fresh:
        return block
    names = "|".join(re.escape(i) for i in sorted(fresh, key=len, reverse=True))
    return re.sub(rf'(?<=["#\s])({names})(?=["\s)])', lambda m: fresh[m[1]], block)


def chart_colours() -> Markup:
    """CSS rules giving the charts' colour roles their light values, and their dark ones
    on a screen that prefers dark (print stays light: paper is white)."""
    return Markup(
        f":root {{ {css_variables('light')} }}\n"
        f"@media screen and (prefers-color-scheme: dark) {{ :root {{ {css_variables('dark')} }} }}"
    )
