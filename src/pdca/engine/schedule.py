"""Where a cycle sits in the data's time, and when its tasks fall due.

Playbooks write dates for cycle 1 only; later cycles are placed from them, so
a manager never rewrites due dates when a cycle closes with ``adjust``.
"""

from __future__ import annotations

from datetime import date, timedelta

from pdca.playbook.model import Playbook, Task


def planned_start(pb: Playbook, cycle: int) -> date | None:
    """Where cycle ``cycle`` begins in the data's time: ``cycle.start`` plus whole lengths.

    Check computes control limits on the periods before it, so each cycle is
    judged on its own weeks rather than on the history of earlier cycles.
    """
    if pb.cycle.start is None:
        return None
    return pb.cycle.start + timedelta(days=(cycle - 1) * (pb.cycle.length_days or 0))


def effective_due(pb: Playbook, task: Task, cycle: int, started: date | None = None) -> date | None:
    """A task's due date in cycle ``cycle``.

    Due dates are written for cycle 1. A later cycle keeps each task's offset from
    the cycle's start: shifted by how much later the cycle actually started than
    ``cycle.start`` (``started``), or else by whole cycle lengths. A cycle that
    opens late then does not begin with its first tasks already overdue.
    """
    if task.due is None or cycle <= 1:
        return task.due
    if started is not None and pb.cycle.start is not None:
        return task.due + (started - pb.cycle.start)
    if pb.cycle.length_days:
        return task.due + timedelta(days=(cycle - 1) * pb.cycle.length_days)
    return task.due
