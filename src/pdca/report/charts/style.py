"""How the charts look: the page width, the plot height, colours, fonts and line styles.

One table for every chart and for the report's legend, so a target is the same
green dash-dot on the control chart, in the sparkline and in the key under it,
and each reference line keeps a dash of its own for grayscale printouts.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 720.0
"""viewBox width of a full chart: about a printed page's text width at 96 dpi."""
PLOT_HEIGHT = 220.0

TICK_FONT = 11.0
LABEL_FONT = 11.0
SMALL_FONT = 10.5
"""Font sizes of the y-axis ticks, the line and legend labels, and the period and marker labels."""

SIGNAL_BETTER = "#1f7a4d"
SIGNAL_WORSE = "#c2410c"
SIGNAL_UNDIRECTED = "#8a5a00"
MARKER_COLOUR = "#6b4c9a"
BREAK_COLOUR = "#595959"
"""A definition break's line: grey, so it never reads as a countermeasure's purple."""
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
    "median": LineStyle(
        "Median", "#52606d", 1.2, None, "Median (run chart: too few baseline periods for limits)"
    ),
    "upper": LineStyle("Upper limit", "#66717e", 1.2, "6 4", "Natural process limits"),
    "lower": LineStyle("Lower limit", "#66717e", 1.2, "6 4", "Natural process limits"),
    "target": LineStyle("Target", "#1f7a4d", 2.0, "10 3 2 3", "Target"),
    "warn": LineStyle("Warn", "#94610f", 1.4, "1.5 3", "Warn level"),
    "baseline": LineStyle("Baseline", "#3f6e8c", 1.4, "8 3 2 3 2 3", "Baseline"),
    "benchmark": LineStyle("Benchmark", "#7a4f7d", 1.4, "12 4", "Benchmark"),
}
"""Reference lines in drawing order (later ones on top). Exposed for the report legend."""

SIGNAL_COLOURS = {"better": SIGNAL_BETTER, "worse": SIGNAL_WORSE, "unclear": SIGNAL_UNDIRECTED}
"""A signal's colour by verdict: whether it points the good way for the metric."""
SIGNAL_LEGEND = {
    "better": "Signal: better",
    "worse": "Signal: worse",
    "unclear": "Signal: unstable",
}
