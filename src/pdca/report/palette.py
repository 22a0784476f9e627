"""Every colour the report's SVG draws with, in a light and a dark version.

A chart is inline SVG inside the page, so a page stylesheet can repaint it:
each colour drawn through :func:`pdca.report.svg.el` keeps its presentation
attribute (``fill="#2b5c8a"``, for a viewer without CSS) and gains a
``style="fill:var(--pdca-series,#2b5c8a)"`` naming its role. The HTML reports
declare the roles' values for light pages and, under
``prefers-color-scheme: dark``, for dark ones (:func:`css_variables`), so the
legend, the axis labels and the status inks stay readable on a dark page
instead of being dark ink on a dark ground. The light value is the key: the
chart code keeps writing plain colours and a colour with no role here is drawn
as written in both schemes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Paint:
    """One role's colour: on a white page and on the dark report page."""

    name: str
    light: str
    dark: str


PAINTS: tuple[Paint, ...] = (
    Paint("paper", "#ffffff", "#1b2430"),
    Paint("ink", "#1f2933", "#e4e7eb"),
    Paint("muted", "#52606d", "#aeb8c4"),
    Paint("faint", "#9aa5b1", "#748192"),
    Paint("grid", "#e4e7eb", "#313c4a"),
    Paint("soft", "#f5f7fa", "#232d3a"),
    Paint("series", "#2b5c8a", "#84b6e8"),
    Paint("limit", "#66717e", "#95a1ae"),
    Paint("edge", "#8895a7", "#7f8ca0"),
    Paint("met", "#1e6b43", "#74d3a0"),
    Paint("met-bg", "#e3f4ea", "#17382a"),
    Paint("better", "#1f7a4d", "#5fd193"),
    Paint("risk", "#8a5a00", "#f2bd55"),
    Paint("risk-bg", "#fdf1d8", "#3b2d0d"),
    Paint("off", "#a3281d", "#ff9488"),
    Paint("off-bg", "#fbe4e2", "#44191a"),
    Paint("worse", "#c2410c", "#ff9d61"),
    Paint("none-bg", "#eef0f3", "#2b3543"),
    Paint("err", "#6a3d9a", "#cdaaf2"),
    Paint("err-bg", "#efe6f7", "#302342"),
    Paint("blue", "#1f5f99", "#8fc2f2"),
    Paint("blue-bg", "#e6f0fa", "#18314b"),
    Paint("marker", "#6b4c9a", "#bc9fea"),
    Paint("warn-fill", "#f5b942", "#f5b942"),
    Paint("warn", "#94610f", "#e4ac4e"),
    Paint("baseline", "#3f6e8c", "#8cb7d6"),
    Paint("benchmark", "#7a4f7d", "#d59ed8"),
    Paint("objective-bg", "#fff6e0", "#3b3118"),
    Paint("objective", "#b7892b", "#dcb55d"),
    Paint("mdc-blue", "#1d5fa6", "#82b3ee"),
    Paint("mdc-orange", "#c2560c", "#ffa066"),
    Paint("mdc-grey", "#6b7280", "#a3aab6"),
    Paint("mdc-purple", "#6d3fa6", "#c3a3f0"),
)
"""The roles, each with a colour the light palette uses once (the key of :data:`BY_LIGHT`)."""

BY_LIGHT: dict[str, Paint] = {p.light: p for p in PAINTS}

PAINTED = frozenset({"fill", "stroke", "stop-color"})
"""The SVG properties that carry a colour role."""


ROLE_STYLES: dict[tuple[str, str], str] = {
    (prop, colour): f"{prop}:var(--pdca-{paint.name},{paint.light})"
    for prop in PAINTED
    for colour, paint in BY_LIGHT.items()
}
"""``(property, light colour)`` → its ``style`` declaration, made once: charts draw tens of
thousands of elements and look this up for each coloured attribute."""


def role_style(prop: str, colour: str) -> str | None:
    """``fill:var(--pdca-series,#2b5c8a)`` for a colour with a role, None for any other."""
    return ROLE_STYLES.get((prop, colour.lower()))


def css_variables(scheme: str = "light") -> str:
    """The ``--pdca-*`` declarations of one scheme, for a ``:root`` rule."""
    pick = (lambda p: p.dark) if scheme == "dark" else (lambda p: p.light)
    return " ".join(f"--pdca-{p.name}: {pick(p)};" for p in PAINTS)
