"""Cycles and phases: opening a cycle, moving it plan -> do -> check -> act -> closed,
and keeping an open cycle in step with the playbook as it is edited.

A phase is complete when every task of that phase, and of earlier phases, is
done or skipped, so reopening earlier work holds the cycle back. do -> check
stores the metrics snapshot (measured outside, by the runner); check -> act
applies :mod:`pdca.engine.act`; act -> closed needs every objective decided,
and any ``adjust`` opens the next cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from pdca.engine.act import (
    metric_statuses,
    ratchet_baselines,
    record_proposal,
    undecided,
    when_holds,
    when_note,
)
from pdca.engine.draft import Draft
from pdca.engine.readiness import active, has_open_work, open_work, refresh
from pdca.engine.schedule import opening_day
from pdca.playbook.model import PHASE_INDEX, PHASES, Playbook
from pdca.state.model import CycleState, Snapshot, TaskState

ACT = PHASE_INDEX["act"]


def open_cycle(pb: Playbook, d: Draft, number: int) -> None:
    """Open cycle ``number``: every task starts over; baselines ratchet from the last check."""
    previous = d.snapshot
    old_baselines, old_origins = dict(d.baselines), dict(d.origins)
    day = opening_day(pb, d, number)
    d.on = max(d.on, day)  # a cycle that opens on its planned start opens no earlier
    on, d.on = d.on, day  # the opening, and readiness at it, happen on the opening day
    d.begin_cycle(CycleState(number, "plan", day, d.now, recorded=d.now))
    measured = previous.report.get("metrics", {}) if previous is not None else {}
    ratchet_baselines(pb, d, number, measured, old_baselines, old_origins)
    d.event(
        "cycle_opened",
        new="plan",
        data={
            "ratcheted": number - 1 if number > 1 and measured else None,
            "baselines": dict(d.baselines),
        },
    )
    d.event("phase_changed", old=None, new="plan")
    for tid, task in pb.tasks.items():
        d.put_task(TaskState(tid, "pending", task.phase, task.owner, d.now, on=day))
    refresh(pb, d)
    d.on = on


def set_phase(pb: Playbook, d: Draft, new: str, *, then_refresh: bool = True) -> None:
    assert d.cycle is not None
    old = d.cycle.phase
    closed = d.now if new == "closed" else None
    closed_on = d.on if new == "closed" else None
    d.set_cycle(replace(d.cycle, phase=new, phase_since=d.now, closed=closed, closed_on=closed_on))
    d.event("phase_changed", old=old, new=new)
    if then_refresh:
        refresh(pb, d)


def advance(pb: Playbook, d: Draft) -> str:
    """Move the cycle on as far as needs no measuring and no person.

    Returns why it stopped: ``work`` (tasks of the current phase are open),
    ``measure`` (do is complete: measure, then :func:`enter_check`), ``decide``
    (act tasks are finished, objectives await a decision) or ``finished`` (the
    last cycle closed with no objective to adjust).
    """
    for _ in range(len(PHASES) * 3 + 2):
        if d.cycle is None:
            open_cycle(pb, d, 1)
            continue
        if d.cycle.is_closed:
            return "finished"
        if has_open_work(d):
            return "work"
        phase = d.cycle.phase
        if phase == "plan":
            set_phase(pb, d, "do")
        elif phase == "do":
            return "measure"
        elif phase == "check":
            enter_act(pb, d)
        else:
            if undecided(pb, d):
                return "decide"
            close_cycle(pb, d)
    raise AssertionError("advance() did not settle")  # pragma: no cover


def enter_check(pb: Playbook, d: Draft, report: Mapping[str, Any], as_of: date) -> bool:
    """Store the snapshot measured while do was complete; False if the cycle moved meanwhile."""
    if d.cycle is None or d.cycle.phase != "do" or open_work(pb, d):
        return False
    snap = Snapshot(d.now, as_of.isoformat(), dict(report))
    d.snapshot = snap
    d.changes.snapshot = (d.number, snap)
    d.event(
        "metrics_measured",
        data={
            "as_of": as_of.isoformat(),
            "statuses": {mid: m.get("status") for mid, m in report.get("metrics", {}).items()},
            **_stale_mark(report),
        },
    )
    set_phase(pb, d, "check")
    return True


def _stale_mark(report: Mapping[str, Any]) -> dict[str, Any]:
    """``stale_sources`` for the event of a snapshot taken with ``pdca run --allow-stale``."""
    stale = report.get("stale_data") or []
    return {"stale_sources": [s.get("source") for s in stale]} if stale else {}


def enter_act(pb: Playbook, d: Draft) -> None:
    """Skip act tasks whose ``when`` is false; propose standardize or adjust per objective."""
    statuses = metric_statuses(d)
    set_phase(pb, d, "act", then_refresh=False)  # skip first: a task that does not apply
    for tid, row in active(d).items():  # is never announced as ready
        task = pb.tasks.get(tid)
        if task is None or task.phase != "act" or when_holds(task, statuses):
            continue
        if row.status in ("pending", "ready", "blocked"):
            d.set_status(tid, "skipped", note=when_note(task, statuses))
    for oid in pb.objectives:
        record_proposal(pb, d, oid, statuses)
    refresh(pb, d)


def close_cycle(pb: Playbook, d: Draft) -> None:
    set_phase(pb, d, "closed")
    if any(dec.decision == "adjust" for oid, dec in d.decisions.items() if oid in pb.objectives):
        open_cycle(pb, d, d.number + 1)


# -- keeping the cycle in step with the playbook ----------------------------------------


def reconcile(pb: Playbook, d: Draft) -> None:
    """Bring the stored cycle in line with the playbook as it is now, then readiness."""
    sync(pb, d)
    refresh(pb, d)


def sync(pb: Playbook, d: Draft) -> None:
    """New tasks join the current cycle, removed ones are archived, edits are recorded.

    The playbook was validated before this runs, so an edit that would break
    the cycle (a dependency cycle, a reference to nothing) never gets here.
    """
    if d.cycle is None or d.cycle.is_closed:
        return
    statuses = metric_statuses(d)
    in_act = PHASE_INDEX[d.cycle.phase] >= ACT
    for tid, task in pb.tasks.items():
        row = d.tasks.get(tid)
        if row is None:
            d.put_task(TaskState(tid, "pending", task.phase, task.owner, d.now, on=d.on))
            d.event("task_added", subject=tid, new="pending")
            if in_act and task.phase == "act" and not when_holds(task, statuses):
                d.set_status(tid, "skipped", note=when_note(task, statuses))
            continue
        edits = {}
        if row.phase != task.phase:
            edits["phase"] = (row.phase, task.phase)
        if row.owner != task.owner:
            edits["owner"] = (row.owner, task.owner)
        if row.archived:
            d.put_task(replace(row, archived=False, phase=task.phase, owner=task.owner))
            d.event("task_restored", subject=tid, new=row.status)
        elif edits:
            d.put_task(replace(row, phase=task.phase, owner=task.owner))
            d.event("task_edited", subject=tid, data=edits)
    for tid, row in list(d.tasks.items()):
        if tid not in pb.tasks and not row.archived:
            d.put_task(replace(row, archived=True, updated=d.now))
            d.event("task_archived", subject=tid, old=row.status)
    for mid, metric in pb.metrics.items():
        if mid not in d.baselines:
            d.set_baseline(mid, metric.baseline, "playbook")
    if in_act:
        for oid in pb.objectives:
            if oid not in d.decisions:
                record_proposal(pb, d, oid, statuses)
