"""Variation and assurance: the two questions a board asks of every metric.

NHS England's *Making Data Count* reads each control chart with two icons:

* **variation**: is the latest point special cause, and which way? The latest
  point with a value is ``common_cause`` when no rule signal includes it.
  Otherwise its side of the centre line decides, as the MDC tools do: above the
  centre on a metric where higher is better is ``improvement`` (``high``),
  below it ``concern`` (``low``), and the other way round when lower is better.
  A point on the centre line takes the way of the directed signals that include
  it; when they disagree, or only undirected rules include it (alternation,
  hugging, a jump on the mR chart), it is ``neither``.

  The clash case follows from this: the last point of a rising trend that is
  still below the centre, on a higher-is-better metric, is ``concern``. The
  trend is good news, the level is not yet; MDC shows the level.
* **assurance**: will the process as it is meet the target? With the limits
  that hold for the latest point (the frozen XmR limits, or that period's own
  limits on a per-n chart): a target on the bad side of both limits is ``pass``
  (every point the process gives meets it), on the good side of both ``fail``,
  between them ``hit_or_miss``. A target exactly on a limit is ``hit_or_miss``,
  as the MDC tools compare strictly (the process reaches that limit, so some
  points miss). No target, or no limits, means no assurance (None).

These are MDC's readings of one chart. pdca's ``verdict`` answers a different
question (did this cycle change the process, with a false-alarm budget) and the
two can differ: a single point outside the limits is special cause variation,
never a verdict on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pdca.check.stats.spc import DOWN, UP, Signal

VARIATIONS: tuple[str, ...] = ("common_cause", "improvement", "concern", "neither")
ASSURANCES: tuple[str, ...] = ("pass", "fail", "hit_or_miss")


@dataclass(frozen=True, slots=True)
class Variation:
    """The latest point's variation type and its side of the centre line."""

    kind: str
    side: str | None
    """``high`` / ``low``; None on the centre line or without a latest point."""
    period: int | None
    """Index of the latest point with a value, into the series as given."""
    rules: tuple[int, ...] = ()
    """Rules whose signals include that point."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "side": self.side, "rules": list(self.rules)}


def variation(
    values: Sequence[float | None],
    centre: float,
    signals: Sequence[Signal],
    direction: str,
) -> Variation | None:
    """MDC's variation of the latest point; None when there is no point or no centre."""
    latest = next(
        (i for i in range(len(values) - 1, -1, -1) if _finite(values[i])),
        None,
    )
    if latest is None or not math.isfinite(centre):
        return None
    value = float(values[latest])  # type: ignore[arg-type]
    eps = 1e-9 * max(abs(centre), 1.0)
    side = "high" if value > centre + eps else "low" if value < centre - eps else None
    flagged = [s for s in signals if latest in s.periods]
    rules = tuple(sorted({s.rule for s in flagged}))
    if not flagged:
        return Variation("common_cause", side, latest)
    if side is None:
        ways = {s.direction for s in flagged if s.direction in (UP, DOWN)}
        if len(ways) != 1:
            return Variation("neither", None, latest, rules)
        way = "high" if ways == {UP} else "low"
    else:
        if not any(s.direction in (UP, DOWN) for s in flagged):
            return Variation("neither", side, latest, rules)
        way = side
    good = "high" if direction == "increase" else "low"
    return Variation("improvement" if way == good else "concern", side, latest, rules)


def assurance(
    target: float | None, lower: float | None, upper: float | None, direction: str
) -> str | None:
    """MDC's assurance of ``target`` against the limits that hold now; None without either."""
    if target is None or not _finite(target) or not _finite(lower) or not _finite(upper):
        return None
    assert lower is not None and upper is not None
    higher_better = direction == "increase"
    if target < lower:
        return "pass" if higher_better else "fail"
    if target > upper:
        return "fail" if higher_better else "pass"
    return "hit_or_miss"


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)
