"""When a task may be worked on: its phase reached and its dependencies finished.

Readiness is derived, never chosen: a task is ``ready`` when the cycle has
reached its phase and each of its dependencies is done or skipped, otherwise it
waits as ``pending``, and a ready (or started) task whose dependency is reopened
goes back to pending. Every rule that changes a task calls :func:`refresh`
afterwards, so the stored statuses always agree with that definition.
"""

from __future__ import annotations

from collections.abc import Iterable

from pdca.engine.draft import Draft
from pdca.playbook.model import PHASE_INDEX, Playbook, Task
from pdca.state.model import FINISHED, TaskState


def active(d: Draft) -> dict[str, TaskState]:
    return {tid: row for tid, row in d.tasks.items() if not row.archived}


def deps_done(pb: Playbook, d: Draft, tid: str) -> bool:
    for dep in pb.tasks[tid].depends_on:
        row = d.tasks.get(dep)
        if row is not None and not row.archived and row.status not in FINISHED:
            return False
    return True


def phase_reached(d: Draft, task: Task) -> bool:
    if d.cycle is None or d.cycle.is_closed:
        return False
    return PHASE_INDEX.get(task.phase, 0) <= PHASE_INDEX[d.cycle.phase]


def open_work(pb: Playbook, d: Draft) -> list[str]:
    """Tasks of the current phase or earlier that are neither done nor skipped."""
    if d.cycle is None or d.cycle.is_closed:
        return []
    current = PHASE_INDEX[d.cycle.phase]
    return [
        tid
        for tid, row in active(d).items()
        if row.status not in FINISHED and PHASE_INDEX.get(row.phase, 0) <= current
    ]


def has_open_work(d: Draft) -> bool:
    """Whether :func:`open_work` would name any task; stops at the first it finds."""
    if d.cycle is None or d.cycle.is_closed:
        return False
    current = PHASE_INDEX[d.cycle.phase]
    return any(
        not row.archived and row.status not in FINISHED and PHASE_INDEX.get(row.phase, 0) <= current
        for row in d.tasks.values()
    )


def why_waiting(pb: Playbook, d: Draft, tid: str) -> str:
    """Why a task is pending, in words: its phase is not reached, or what it waits for."""
    task = pb.tasks[tid]
    if d.cycle is not None and not phase_reached(d, task):
        return (
            f"it belongs to the {task.phase} phase and cycle {d.cycle.number} is in {d.cycle.phase}"
        )
    waiting = [
        f"{dep} ({d.tasks[dep].status.replace('_', ' ')})"
        for dep in task.depends_on
        if dep in d.tasks and not d.tasks[dep].archived and d.tasks[dep].status not in FINISHED
    ]
    return f"it waits for {', '.join(waiting)}" if waiting else "its dependencies are not done"


def refresh(pb: Playbook, d: Draft, only: Iterable[str] | None = None) -> None:
    """Pending tasks whose time has come become ready; ready ones whose input was
    reopened go back to pending. One pass suffices: readiness depends only on
    dependencies being done or skipped, which this never changes.

    ``only`` limits the pass to these tasks: after one task's status changed, only
    it and its direct dependents can change readiness, and ``pdca run`` finishing
    one task after another must not look at every task each time."""
    if d.cycle is None or d.cycle.is_closed:
        return
    names = list(d.tasks) if only is None else [t for t in only if t in d.tasks]
    rows = [(t, d.tasks[t]) for t in names]
    for tid, row in rows:
        if row.archived or tid not in pb.tasks:
            continue
        task = pb.tasks[tid]
        can_go = phase_reached(d, task) and deps_done(pb, d, tid)
        if row.status == "pending" and can_go:
            d.set_status(tid, "ready")
        elif not can_go and (
            row.status == "ready" or (row.status == "in_progress" and tid not in d.running)
        ):
            d.set_status(tid, "pending", note=why_waiting(pb, d, tid))


_DEPENDENTS: list[tuple[Playbook, dict[str, tuple[str, ...]]]] = []
"""The last playbook :func:`dependents` was asked about, and its map (one entry)."""


def dependents(pb: Playbook, tid: str) -> tuple[str, ...]:
    """The tasks that depend directly on ``tid``, in playbook order.

    The map is built once per playbook (a run asks after every task it finishes)."""
    if not _DEPENDENTS or _DEPENDENTS[0][0] is not pb:
        found: dict[str, list[str]] = {}
        for other, task in pb.tasks.items():
            for dep in task.depends_on:
                found.setdefault(dep, []).append(other)
        _DEPENDENTS[:] = [(pb, {k: tuple(v) for k, v in found.items()})]
    return _DEPENDENTS[0][1].get(tid, ())


def downstream(pb: Playbook, roots: Iterable[str]) -> list[str]:
    """Every task that depends, directly or not, on one of ``roots``, in playbook order."""
    dependents: dict[str, list[str]] = {}
    for tid, task in pb.tasks.items():
        for dep in task.depends_on:
            dependents.setdefault(dep, []).append(tid)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        for nxt in dependents.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return [t for t in pb.tasks if t in seen]
