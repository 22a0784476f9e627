"""Check-ins: an objective owner's judgement of whether the objective will be met.

A check-in is a confidence from 1 (it will not) to 10 (it certainly will) with
a note, by a person, on a day. It is an audit event (``objective_checkin``), so
it travels with ``pdca state export``/``import`` and its history is the log.
Status sets it beside the data's own reading: a high confidence where the data
says the process cannot reach the target is a "watermelon" (green outside, red
inside), and a confidence that falls twice in a row needs the team's attention.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

CHECKIN = "objective_checkin"
CONFIDENT = 7
"""A confidence at or above this says "we will make it"."""


@dataclass(frozen=True)
class Checkin:
    """One check-in: ``on`` is the day it was given, ``at`` when it was recorded."""

    objective: str
    confidence: int
    note: str
    by: str | None
    on: str
    at: str
    cycle: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "confidence": self.confidence,
            "note": self.note,
            "by": self.by,
            "on": self.on,
            "recorded": self.at,
            "cycle": self.cycle,
        }


def fold(events: Iterable[Any]) -> Mapping[str, tuple[Checkin, ...]]:
    """Each objective's check-ins in the order given (oldest first); other kinds ignored.
    A stored confidence that is not a whole number from 1 to 10 is left out."""
    out: dict[str, list[Checkin]] = {}
    for e in events:
        if e.kind != CHECKIN or not e.subject:
            continue
        try:
            confidence = int(e.new or "")
        except ValueError:
            continue
        if not 1 <= confidence <= 10:
            continue
        out.setdefault(e.subject, []).append(
            Checkin(e.subject, confidence, e.note or "", e.by, e.on or e.at[:10], e.at, e.cycle)
        )
    return MappingProxyType({k: tuple(v) for k, v in out.items()})


def falling(history: tuple[Checkin, ...]) -> bool:
    """Whether confidence dropped at each of the last two check-ins."""
    if len(history) < 3:
        return False
    a, b, c = (h.confidence for h in history[-3:])
    return a > b > c
