"""The working copy of a playbook's stored state that every engine rule changes.

The rules in :mod:`pdca.engine.transitions` never write to the store: they
change a :class:`Draft`, and the draft records each change (rows and audit
events) in ``draft.changes``, which the store then writes in one transaction.
Keeping the bookkeeping here means a rule cannot change a row and forget its
audit event, and ``now`` arrives with the draft so no rule reads the clock.

Two times come with a draft: ``now``, the wall-clock moment the change is
recorded, and ``on``, the day it happened (``YYYY-MM-DD``: the as-of date of
``pdca run``, the ``--on`` of a person's update). Every row and event the draft
writes carries both.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pdca.errors import PdcaError
from pdca.state.annotations import KINDS as ANNOTATION_KINDS
from pdca.state.checkins import CHECKIN
from pdca.state.model import (
    Attempt,
    Changes,
    CycleState,
    Decision,
    Event,
    Snapshot,
    State,
    TaskState,
)


class CycleError(PdcaError):
    """A change the cycle's rules do not allow; the message says why and what to do."""


class Draft:
    """A working copy of the state that records every change it receives."""

    def __init__(self, state: State, now: str, on: str | None = None):
        self.state = state
        self.now = now
        self.on = on or now[:10]
        self.cycle: CycleState | None = state.cycle
        self.tasks: dict[str, TaskState] = dict(state.tasks)
        self.running: dict[str, Attempt] = dict(state.running)
        self.baselines: dict[str, float | None] = dict(state.baselines)
        self.origins: dict[str, str] = dict(state.baseline_origins)
        self.snapshot: Snapshot | None = state.snapshot
        self.decisions: dict[str, Decision] = dict(state.decisions)
        self.changes = Changes()

    @property
    def number(self) -> int:
        if self.cycle is None:
            raise CycleError("no cycle has been opened yet")
        return self.cycle.number

    def event(self, kind: str, **fields: Any) -> Event:
        e = Event(
            kind=kind,
            at=self.now,
            on=self.on,
            cycle=self.cycle.number if self.cycle else None,
            **fields,
        )
        self.changes.events.append(e)
        return e

    def set_cycle(self, cycle: CycleState) -> None:
        self.cycle = cycle
        self.changes.cycles[cycle.number] = cycle

    def begin_cycle(self, cycle: CycleState) -> None:
        """Switch the draft to a new cycle: nothing of the old one's tasks carries over."""
        self.set_cycle(cycle)
        self.tasks, self.running, self.decisions = {}, {}, {}
        self.baselines, self.origins, self.snapshot = {}, {}, None

    def put_task(self, row: TaskState) -> None:
        self.tasks[row.id] = row
        self.changes.tasks[(self.number, row.id)] = row

    def set_status(
        self, tid: str, new: str, *, by: str | None = None, note: str | None = None, **fields: Any
    ) -> None:
        row = self.tasks[tid]
        old = row.status
        # The engine moving a task between waiting and ready keeps the day of its last
        # real change: a late ``pdca run`` must not refuse a person's earlier --on.
        on = row.on if by is None and new in ("pending", "ready") and row.on else self.on
        changed = replace(row, status=new, updated=self.now, on=on, by=by, note=note, **fields)
        self.put_task(changed)
        if old != new:
            self.event("task_changed", by=by, subject=tid, old=old, new=new, note=note)

    def put_attempt(self, attempt: Attempt) -> None:
        self.changes.attempts[(self.number, attempt.task, attempt.number)] = attempt
        if attempt.outcome == "running":
            self.running[attempt.task] = attempt
        else:
            self.running.pop(attempt.task, None)

    def set_baseline(self, metric: str, value: float | None, origin: str) -> None:
        self.baselines[metric] = value
        self.origins[metric] = origin
        self.changes.baselines[(self.number, metric)] = (value, origin)

    def put_decision(self, decision: Decision) -> None:
        self.decisions[decision.objective] = decision
        self.changes.decisions[(self.number, decision.objective)] = decision

    def settled(self, revision: int) -> State | None:
        """The state as the store holds it once these changes are written at ``revision``.

        ``pdca run`` hands it to its next transaction, which then needs no read of
        the whole state when nobody else wrote meanwhile. None when it cannot be
        told without reading: a decision with a note (the lessons are ordered by the
        store) or an annotation or check-in (folded from the audit log)."""
        if any(d.decision and d.note for d in self.changes.decisions.values()):
            return None
        noted = (*ANNOTATION_KINDS, CHECKIN)
        if any(e.kind in noted for e in self.changes.events):
            return None
        cycles = {c.number: c for c in self.state.cycles}
        cycles.update(self.changes.cycles)
        return replace(
            self.state,
            cycle=self.cycle,
            tasks=self.tasks,
            running=self.running,
            baselines=self.baselines,
            baseline_origins=self.origins,
            snapshot=self.snapshot,
            decisions=self.decisions,
            cycles=tuple(cycles[n] for n in sorted(cycles)),
            revision=revision,
        )
