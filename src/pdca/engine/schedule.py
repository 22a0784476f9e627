"""Where a cycle sits in the data's time, and when its tasks and objectives fall due.

Playbooks write dates for cycle 1 only; later cycles are placed from them, so
a manager never rewrites due dates when a cycle closes with ``adjust``. The
rules (docs/engine.md, "Cycle dates and due dates"):

* cycle 1 opens on ``cycle.start`` when it is given and on or before the as-of
  date of the run that opens it, else on that as-of date;
* a later cycle opens on the day the previous one closed, or on its planned
  start (``cycle.start`` + (n - 1) x length) when that is later;
* a ``due`` date keeps its offset from the start of cycle 1 in every cycle
  (due in cycle N = cycle N's opening day + (due - cycle 1's start)); a
  relative ``due: 14d`` is 14 days after the cycle opens, in every cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol

from pdca.engine.draft import Draft
from pdca.playbook.model import Playbook
from pdca.state.model import CycleState


class _Due(Protocol):
    due: date | None
    due_days: int | None


def planned_start(pb: Playbook, cycle: int) -> date | None:
    """Where cycle ``cycle`` begins in the data's time: ``cycle.start`` plus whole lengths.

    Check computes control limits on the periods before it, so each cycle is
    judged on its own weeks rather than on the history of earlier cycles.
    """
    if pb.cycle.start is None:
        return None
    return pb.cycle.start + timedelta(days=(cycle - 1) * (pb.cycle.length_days or 0))


def opening_day(pb: Playbook, d: Draft, number: int) -> str:
    """The day (``YYYY-MM-DD``) cycle ``number`` opens on, for the draft ``d`` opening it.

    The draft's ``on`` is the as-of date of the run, and its ``cycle`` (for a
    later cycle) the one that just closed.
    """
    on = date.fromisoformat(d.on)
    if number <= 1:
        start = pb.cycle.start
        return (start if start is not None and start <= on else on).isoformat()
    previous = d.cycle
    closed = previous.closed_on if previous is not None and previous.closed_on else None
    day = date.fromisoformat(closed) if closed else on
    planned = planned_start(pb, number)
    if planned is not None and pb.cycle.length_days and planned > day:
        day = planned
    return day.isoformat()


def first_start(pb: Playbook, cycles: Sequence[CycleState]) -> date | None:
    """Cycle 1's start, that due dates are offsets from: ``cycle.start``, else its opening day."""
    if pb.cycle.start is not None:
        return pb.cycle.start
    for c in cycles:
        if c.number == 1:
            return date.fromisoformat(c.started[:10])
    return None


def effective_due(
    pb: Playbook,
    item: _Due,
    cycle: int,
    started: date | None = None,
    first: date | None = None,
) -> date | None:
    """A task's or objective's due date in cycle ``cycle``, which opened on ``started``.

    ``first`` is cycle 1's start (:func:`first_start`; ``cycle.start`` when None).
    A written date is cycle 1's; a later cycle keeps its offset from the cycle's
    start, so a cycle that opens late does not begin with its first tasks already
    overdue. Without the cycle's opening day, a later cycle is placed by whole
    lengths.
    """
    if item.due_days is not None:
        if started is None:
            started = planned_start(pb, cycle)
        return started + timedelta(days=item.due_days) if started is not None else None
    if item.due is None or cycle <= 1:
        return item.due
    anchor = first or pb.cycle.start
    if started is not None and anchor is not None:
        return started + (item.due - anchor)
    if pb.cycle.length_days:
        return item.due + timedelta(days=(cycle - 1) * pb.cycle.length_days)
    return item.due
