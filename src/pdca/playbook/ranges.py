"""A metric's numbers against the range of its KPI's values.

A CSAT is a percent from 0 to 100, so ``target: 0.8`` would be "met" by any
score above 0.8 % and an NPS target of 150 can never be met. Both are written
in good faith (a fraction where a percent was meant, a unit mixed up), and
nothing downstream would notice: Check would just report "met" or "off_track"
for ever. So a target, warn level, baseline or benchmark outside the range the
KPI declares (:attr:`pdca.kpi.Kpi.value_range`) is an error, and values of a
percent KPI that all look like fractions get a warning.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pdca.kpi import PERCENT, UNBOUNDED, ValueRange
from pdca.playbook.model import Metric

Finding = tuple[str, str, str]
"""``(severity, message, key)``: ``key`` is the metric's key the finding points at
(``target``, ``warn``, ``baseline``, ``benchmark`` or ``kpi``)."""


def declared_range(kpi: Any) -> ValueRange | None:
    """The KPI's ``value_range`` as two finite numbers or None, low <= high; None when a
    plugin declared something else (validation reports it)."""
    value = getattr(kpi, "value_range", UNBOUNDED)
    if not isinstance(value, tuple | list) or len(value) != 2:
        return None
    ends = []
    for end in value:
        if end is None:
            ends.append(None)
        elif isinstance(end, int | float) and not isinstance(end, bool) and math.isfinite(end):
            ends.append(end)
        else:
            return None
    low, high = ends
    if low is not None and high is not None and low > high:
        return None
    return low, high


def number(value: float) -> str:
    """A playbook number as written: ``85``, ``0.785``, never ``78.50000000000001``."""
    return f"{round(value, 9):.15g}"


def range_words(value_range: ValueRange) -> str:
    """``from 0 to 100``, ``0 or more``, ``100 or less``; ``any value`` when unbounded."""
    low, high = value_range
    if low is not None and high is not None:
        return f"from {number(low)} to {number(high)}"
    if low is not None:
        return f"{number(low)} or more"
    if high is not None:
        return f"{number(high)} or less"
    return "any value"


def inside(value: float, value_range: ValueRange) -> bool:
    low, high = value_range
    return (low is None or value >= low) and (high is None or value <= high)


def metric_values(metric: Metric) -> Iterator[tuple[str, float]]:
    """The numbers a metric is judged and drawn against, keyed as written."""
    given = [
        ("target", metric.target),
        ("warn", metric.warn),
        ("baseline", metric.baseline),
        ("benchmark", metric.benchmark.value if metric.benchmark else None),
    ]
    for key, value in given:
        if value is not None and not math.isnan(value):
            yield key, value


def findings(metric: Metric, kpi: Any, context: str) -> list[Finding]:
    """Errors for values outside the KPI's range, warnings for percents written as fractions."""
    value_range = declared_range(kpi)
    if value_range is None:
        return [
            (
                "error",
                f"{context}: KPI '{metric.kpi}' declares value_range "
                f"{getattr(kpi, 'value_range', None)!r}, which is not (low, high) with numbers "
                "or None and low <= high; fix the KPI plugin",
                "kpi",
            )
        ]
    out: list[Finding] = []
    words = range_words(value_range)
    advice = words if words.startswith("from") else f"of {words}"
    values = list(metric_values(metric))
    for key, value in values:
        if not inside(value, value_range):
            what = "benchmark value" if key == "benchmark" else key
            out.append(
                (
                    "error",
                    f"{context}: {what} {number(value)} is outside the values KPI "
                    f"'{metric.kpi}' can take ({words}); write a {what} {advice}",
                    key,
                )
            )
    if tuple(value_range) == PERCENT:
        out.extend(_fractions(metric, [(k, v) for k, v in values if k != "benchmark"], context))
    return out


def _fractions(metric: Metric, values: list[tuple[str, float]], context: str) -> list[Finding]:
    """A warning per value strictly between 0 and 1, when every value is from 0 to 1:
    target 1 with baseline 0 may be meant (a percent can be 0 or 1), 0.85 hardly."""
    if not values or not all(0 <= v <= 1 for _, v in values):
        return []
    return [
        (
            "warning",
            f"{context}: {key} {number(v)} looks like a fraction; {metric.kpi} is a percent "
            f"from 0 to 100: did you mean {number(v * 100)}?",
            key,
        )
        for key, v in values
        if 0 < v < 1
    ]
