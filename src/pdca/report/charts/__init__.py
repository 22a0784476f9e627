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

The charts live in one module each (:mod:`.control`, :mod:`.sparkline`,
:mod:`.badge`, :mod:`pdca.report.depgraph`), the control chart's parts in their
own (:mod:`.axes`, :mod:`.references`, :mod:`.markers`, :mod:`.signals`,
:mod:`.series`, :mod:`.legend`, :mod:`.frame`), the shared look in
:mod:`.style`. This package gathers the public names so ``pdca.report.charts``
stays the one import for callers; the style names the module had before it was
split (``WIDTH``, ``LineStyle``, the colours) are still importable from here.
"""

from __future__ import annotations

from pdca.report.charts.badge import status_badge
from pdca.report.charts.control import control_chart
from pdca.report.charts.frame import placeholder
from pdca.report.charts.sparkline import sparkline
from pdca.report.charts.style import LINE_STYLES
from pdca.report.charts.style import MARKER_COLOUR as MARKER_COLOUR
from pdca.report.charts.style import PLOT_HEIGHT as PLOT_HEIGHT
from pdca.report.charts.style import SIGNAL_BETTER as SIGNAL_BETTER
from pdca.report.charts.style import SIGNAL_UNDIRECTED as SIGNAL_UNDIRECTED
from pdca.report.charts.style import SIGNAL_WORSE as SIGNAL_WORSE
from pdca.report.charts.style import WARN_FILL as WARN_FILL
from pdca.report.charts.style import WIDTH as WIDTH
from pdca.report.charts.style import LineStyle as LineStyle
from pdca.report.depgraph import dependency_graph

__all__ = [
    "LINE_STYLES",
    "control_chart",
    "dependency_graph",
    "placeholder",
    "sparkline",
    "status_badge",
]
