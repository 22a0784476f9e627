"""What the owner believes beside what the data says: check-ins and the watermelon.

An objective can look green in every meeting and be red inside: the owner's
confidence is 8 while the chart says the process, as it is, cannot reach the
target. pdca says so plainly, because more effort will not close that gap; only
a change to the process will. The data's side is MDC's assurance (the target
beyond the limits the wrong way: ``fail``) or an objective off track with no
improvement signal on any of its metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pdca.state.checkins import CONFIDENT, Checkin, falling

SHOWN = 5
"""Check-ins a status shows per objective: enough to see the trend."""


def confidence(
    objective: Mapping[str, Any],
    metrics: Mapping[str, Mapping[str, Any]],
    history: tuple[Checkin, ...],
) -> dict[str, Any]:
    """The status keys an objective gains: ``checkin`` (the latest or None),
    ``checkins`` (the last few, oldest first), ``confidence_falling`` and
    ``watermelon`` (the plain sentence, or None)."""
    latest = history[-1] if history else None
    return {
        "checkin": latest.to_json() if latest else None,
        "checkins": [c.to_json() for c in history[-SHOWN:]],
        "confidence_falling": falling(history),
        "watermelon": (
            watermelon(objective, metrics) if latest and latest.confidence >= CONFIDENT else None
        ),
    }


def watermelon(
    objective: Mapping[str, Any], metrics: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """Why the data disagrees with a confident owner, or None when it does not."""
    mine = [(mid, metrics[mid]) for mid in objective.get("metrics") or () if mid in metrics]
    for mid, m in mine:
        sig = m.get("signal") or {}
        if sig.get("assurance") == "fail":
            return (
                f"the data says the current process cannot reach {_num(m.get('target'))} "
                f"({mid}: the target lies beyond its process limits); a higher confidence "
                "needs a change to the process, not more effort"
            )
    improving = any(
        (m.get("signal") or {}).get("variation") == "improvement"
        or (m.get("signal") or {}).get("verdict") == "improved"
        for _, m in mine
    )
    if objective.get("status") == "off_track" and not improving:
        return (
            "the objective is off track and none of its metrics shows an improvement "
            "signal; a higher confidence needs a change to the process, not more effort"
        )
    return None


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)
