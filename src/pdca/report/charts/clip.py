"""Control limits drawn no further than the values a KPI can take.

Limits are the data's spread around its centre, and nothing stops them from
passing the end of a scale: a small team's eNPS gets a lower limit of −166.2,
though no eNPS is below −100. Check keeps the computed value (the statistics
run on it, and the JSON carries it); the chart draws such a limit at the end of
the range, labels it as clipped and gives the computed value in its tooltip,
so the axis does not stretch into values that cannot happen. A target, warn
level, baseline or benchmark outside the range is not drawn at all: it cannot
be reached (``pdca validate`` rejects one in a playbook).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pdca.report.charts.references import Reference, reference_labels
from pdca.report.charts.style import LINE_STYLES
from pdca.report.svg import as_float, fmt_value, with_unit

LIMIT_KINDS = frozenset({"centre", "median", "upper", "lower"})
"""Lines computed from the data, clipped to the range; the others are left out beyond it."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """The range of a metric's values (its ``range`` in ``pdca check``); None is open."""

    low: float | None = None
    high: float | None = None

    @classmethod
    def read(cls, value: Any) -> Bounds:
        """From ``{"low": .., "high": ..}`` or ``(low, high)``; junk is an open end."""
        if isinstance(value, Mapping):
            low, high = as_float(value.get("low")), as_float(value.get("high"))
        elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
            low, high = as_float(value[0]), as_float(value[1])
        else:
            return cls()
        if low is not None and high is not None and low > high:
            return cls()
        return cls(low, high)

    def clip(self, value: float) -> float:
        if self.low is not None and value < self.low:
            return self.low
        if self.high is not None and value > self.high:
            return self.high
        return value

    def inside(self, value: float) -> bool:
        return self.clip(value) == value

    def words(self, unit: str) -> str:
        """``from −100 to 100``, ``0 or more``: for tooltips and the chart's description."""
        low = with_unit(fmt_value(self.low), unit) if self.low is not None else None
        high = with_unit(fmt_value(self.high), unit) if self.high is not None else None
        if low and high:
            return f"from {low} to {high}"
        if low or high:
            return f"{low} or more" if low else f"{high} or less"
        return "any value"


OPEN = Bounds()
"""No range: every value can happen, nothing is clipped."""


@dataclass(frozen=True, slots=True)
class Fitted:
    """The reference lines as drawn: values inside the range, labels, tooltips, and the
    computed value of each limit that was clipped (by kind)."""

    refs: list[Reference]
    labels: dict[str, str]
    tips: dict[str, str]
    computed: dict[str, float]


def fit_references(refs: Sequence[Reference], bounds: Bounds, unit: str) -> Fitted:
    """The lines to draw, their margin labels and their tooltips.

    A limit beyond the range is drawn at its end, labelled "Lower limit clipped at
    −100", its tooltip giving the computed value; other lines beyond it are dropped.
    """
    fitted: list[Reference] = []
    computed: dict[str, float] = {}
    for kind, value in refs:
        drawn = bounds.clip(value)
        if drawn != value and kind not in LIMIT_KINDS:
            continue
        if drawn != value:
            computed[kind] = value
        fitted.append((kind, drawn))
    labels = reference_labels(fitted, unit)
    tips = dict(labels)
    for kind, drawn in fitted:
        if kind in computed:
            edge = with_unit(fmt_value(drawn), unit)
            name = LINE_STYLES[kind].label
            labels[kind] = f"{name} clipped at {edge}"
            tips[kind] = (
                f"{name} {with_unit(fmt_value(computed[kind]), unit)}, clipped at {edge}: "
                f"the values run {bounds.words(unit)}"
            )
    return Fitted(fitted, labels, tips, computed)


def clipped_note(values: Sequence[float], bounds: Bounds, unit: str) -> str:
    """``"; drawn at −100 where beyond the values, from −100 to 100"`` when any of the
    limits ``values`` is outside the range; empty when none is."""
    edges = sorted({bounds.clip(v) for v in values if not bounds.inside(v)})
    if not edges:
        return ""
    at = " and ".join(with_unit(fmt_value(e), unit) for e in edges)
    return f"; drawn at {at} where beyond the values, {bounds.words(unit)}"
