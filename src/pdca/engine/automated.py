"""Automated tasks: which runs next, and the record of each attempt to run it.

An attempt is written as started before its action runs and as finished after,
in separate transactions, so a crash between them leaves a ``running`` attempt
that the next ``pdca run`` finds and declares interrupted instead of a task
stuck in progress. A run that is stopped (SIGTERM, Ctrl-C) records its attempt
as ``cancelled`` before it exits. Neither counts against ``retries``: the
action did not fail, pdca stopped.

A failed attempt with ``retry_delay`` waits before the next: the delay doubles
with each failure and counts from the moment the task went back to ready (its
``updated`` time), so no extra state is needed to know when it is due.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pdca.engine.draft import CycleError, Draft
from pdca.engine.readiness import dependents, refresh
from pdca.playbook.model import PHASE_INDEX, Playbook
from pdca.state.model import Attempt, TaskState
from pdca.state.times import parse_utc


def retry_due(pb: Playbook, row: TaskState) -> datetime | None:
    """When a ready task that failed may run again, or None: at once.

    The n-th retry waits ``retry_delay`` times 2**(n-1) after the failure."""
    task = pb.tasks.get(row.id)
    if task is None or not task.retry_delay or row.failures <= 0:
        return None
    since = parse_utc(row.updated)
    if since is None:
        return None
    wait = task.retry_delay * 2 ** min(row.failures - 1, 40)
    return since + timedelta(seconds=min(wait, 3650 * 86400.0))


def iso(moment: datetime) -> str:
    """A time as the state writes it (ISO 8601 UTC to the millisecond)."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_ORDER: list[tuple[Playbook, tuple[str, ...]]] = []
"""The last playbook :func:`run_order` was asked about, and its order (one entry)."""


def run_order(pb: Playbook) -> tuple[str, ...]:
    """The playbook's automated tasks in the order they run: earliest phase, then
    playbook order. Worked out once per playbook: a run asks before every attempt."""
    if not _ORDER or _ORDER[0][0] is not pb:
        ranked = sorted(
            (PHASE_INDEX.get(task.phase, 0), index, tid)
            for index, (tid, task) in enumerate(pb.tasks.items())
            if task.automated
        )
        _ORDER[:] = [(pb, tuple(tid for _, _, tid in ranked))]
    return _ORDER[0][1]


def next_automated(pb: Playbook, d: Draft) -> str | None:
    """The ready automated task to run next: earliest phase, then playbook order
    (a ready task's dependencies are all finished, so this respects dependencies).
    A task waiting out its ``retry_delay`` is passed over until it is due."""
    now = parse_utc(d.now)
    for tid in run_order(pb):
        row = d.tasks.get(tid)
        if row is None or row.archived or row.status != "ready":
            continue
        due = retry_due(pb, row) if row.failures > 0 else None
        if due is not None and now is not None and due > now:
            continue
        return tid
    return None


def next_retry(pb: Playbook, d: Draft) -> tuple[str, datetime] | None:
    """The automated task whose delayed retry comes first, and when: (task, time)."""
    waiting = []
    for tid, task in pb.tasks.items():
        row = d.tasks.get(tid)
        if task.automated and row is not None and not row.archived and row.status == "ready":
            due = retry_due(pb, row)
            if due is not None:
                waiting.append((due, tid))
    if not waiting:
        return None
    due, tid = min(waiting)
    return tid, due


def start_attempt(pb: Playbook, d: Draft, tid: str, host: str, pid: int) -> Attempt:
    """Record "attempt N started" before running it, so a crash leaves a trace."""
    row = d.tasks[tid]
    if row.status != "ready":
        raise CycleError(f"task '{tid}' is {row.status}, not ready to run")
    number = row.attempts + 1
    attempt = Attempt(tid, number, d.now, "running", host=host, pid=pid)
    d.put_attempt(attempt)
    d.set_status(tid, "in_progress", note=f"attempt {number} running", attempts=number)
    d.event("attempt_started", subject=tid, new="running", data={"attempt": number})
    return attempt


def finish_attempt(
    pb: Playbook,
    d: Draft,
    tid: str,
    number: int,
    *,
    ok: bool,
    exit_code: int | None,
    output: str,
    duration: float,
    error: str | None,
) -> str | None:
    """Record a run's result; returns the task's new status, or None when the attempt
    is no longer the task's running one (another run declared it interrupted)."""
    attempt = d.running.get(tid)
    if d.cycle is None or attempt is None or attempt.number != number:
        return None
    outcome = "ok" if ok else "failed"
    d.put_attempt(
        replace(
            attempt,
            outcome=outcome,
            finished=d.now,
            exit_code=exit_code,
            duration=round(duration, 3),
            output=output,
            error=error,
        )
    )
    d.event(
        "attempt_finished",
        subject=tid,
        new=outcome,
        data={
            "attempt": number,
            "exit_code": exit_code,
            "duration": round(duration, 3),
            "error": error,
        },
    )
    row = d.tasks.get(tid)
    if row is None or row.archived or row.status != "in_progress":
        return row.status if row else None
    task = pb.tasks[tid]
    if ok:
        d.set_status(tid, "done", note=f"attempt {number} ok")
    else:
        failures = row.failures + 1
        if failures <= task.retries:
            when = ""
            due = retry_due(pb, replace(row, updated=d.now, failures=failures))
            if due is not None:
                when = f" at {iso(due)}"
            d.set_status(
                tid,
                "ready",
                note=f"attempt {number} failed ({error}); retry {failures} of {task.retries}{when}",
                failures=failures,
            )
        else:
            d.set_status(tid, "failed", note=f"attempt {number} failed: {error}", failures=failures)
    refresh(pb, d, only=(tid, *dependents(pb, tid)))
    return d.tasks[tid].status


def interrupt_stale(d: Draft, stale: Callable[[Attempt], bool]) -> list[Attempt]:
    """Attempts whose runner died: recorded as interrupted, their task ready to run again.

    An interrupted attempt does not count against ``retries``: the action did
    not fail, pdca stopped.
    """
    found = []
    for tid, attempt in list(d.running.items()):
        if not stale(attempt):
            continue
        found.append(attempt)
        d.put_attempt(
            replace(
                attempt,
                outcome="interrupted",
                finished=d.now,
                error="pdca stopped before recording the result",
            )
        )
        d.event(
            "attempt_finished",
            subject=tid,
            new="interrupted",
            data={"attempt": attempt.number, "error": "the run stopped before the result"},
        )
        row = d.tasks.get(tid)
        if row is not None and row.status == "in_progress":
            d.set_status(tid, "ready", note=f"attempt {attempt.number} interrupted; runs again")
    return found


def cancel_attempt(d: Draft, tid: str, number: int, why: str) -> bool:
    """Record the running attempt as cancelled (pdca run was stopped and ended the
    action); its task is ready to run again. False when it is not the running one."""
    attempt = d.running.get(tid)
    if d.cycle is None or attempt is None or attempt.number != number:
        return False
    error = f"pdca run was stopped ({why}) and ended the action"
    d.put_attempt(replace(attempt, outcome="cancelled", finished=d.now, error=error))
    data = {"attempt": number, "error": error}
    d.event("attempt_finished", subject=tid, new="cancelled", data=data)
    row = d.tasks.get(tid)
    if row is not None and row.status == "in_progress":
        d.set_status(tid, "ready", note=f"attempt {number} cancelled ({why}); runs again")
    return True


def record_process(d: Draft, tid: str, number: int, process: Mapping[str, Any]) -> bool:
    """Note in the audit log the process group an attempt's action runs in (its id,
    start time, boot, host), so a later run can end it if this one is killed."""
    attempt = d.running.get(tid)
    if d.cycle is None or attempt is None or attempt.number != number:
        return False
    d.event("attempt_process", subject=tid, data={"attempt": number, **process})
    return True


def record_orphan(
    d: Draft, tid: str, number: int, process: Mapping[str, Any], pids: list[int]
) -> None:
    """Note that this run ended the processes an earlier, killed run's attempt left."""
    d.event(
        "attempt_orphan_ended",
        subject=tid,
        data={"attempt": number, "pgid": process.get("pgid"), "pids": pids},
        note=f"ended {len(pids)} process{'es' if len(pids) != 1 else ''} of attempt {number} "
        "left running by a pdca run that was killed",
    )
