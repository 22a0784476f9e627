"""Automated tasks: which runs next, and the record of each attempt to run it.

An attempt is written as started before its action runs and as finished after,
in separate transactions, so a crash between them leaves a ``running`` attempt
that the next ``pdca run`` finds and declares interrupted instead of a task
stuck in progress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from pdca.engine.draft import CycleError, Draft
from pdca.engine.readiness import refresh
from pdca.playbook.model import PHASE_INDEX, Playbook
from pdca.state.model import Attempt


def next_automated(pb: Playbook, d: Draft) -> str | None:
    """The ready automated task to run next: earliest phase, then playbook order
    (a ready task's dependencies are all finished, so this respects dependencies)."""
    best: tuple[int, int, str] | None = None
    for index, (tid, task) in enumerate(pb.tasks.items()):
        row = d.tasks.get(tid)
        if task.automated and row is not None and not row.archived and row.status == "ready":
            key = (PHASE_INDEX.get(task.phase, 0), index, tid)
            if best is None or key < best:
                best = key
    return best[2] if best else None


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
            d.set_status(
                tid,
                "ready",
                note=f"attempt {number} failed ({error}); retry {failures} of {task.retries}",
                failures=failures,
            )
        else:
            d.set_status(tid, "failed", note=f"attempt {number} failed: {error}", failures=failures)
    refresh(pb, d)
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
