"""What a person does by hand: start, finish, block, skip or reopen a task, and decide an objective.

A person's update carries the day it happened (``--on``, the draft's ``on``),
which may be earlier than the day it is recorded: teams enter updates late.
That day is refused when it is after today, before the cycle opened, or before
the task's previous change, because every analysis trusts it.

Each action is refused, with the reason and what to do instead, unless the
task's state allows it and the person is accountable for it; a task pdca is
running itself may only be blocked. Readiness is refreshed afterwards, so a
finished task releases the ones that wait for it within the same transaction.
"""

from __future__ import annotations

from dataclasses import replace

from pdca.engine.act import metric_statuses, record_proposal
from pdca.engine.draft import CycleError, Draft
from pdca.engine.permissions import check_person, may_act_on_task, may_decide
from pdca.engine.readiness import deps_done, downstream, phase_reached, refresh, why_waiting
from pdca.playbook.messages import suggest
from pdca.playbook.model import Playbook
from pdca.state.model import DECISIONS, Decision

PERSON_ACTIONS = ("start", "done", "block", "reopen", "skip")
SKIPPABLE = frozenset({"pending", "ready", "in_progress", "blocked"})
REOPENABLE = frozenset({"done", "blocked", "failed", "skipped"})


def person(pb: Playbook, d: Draft, action: str, tid: str, by: str, note: str | None) -> list[str]:
    """A person's change to a task. Returns, for ``reopen``, the done tasks downstream
    that used its output (left done: whether to redo them is a person's call)."""
    require_open(d)
    if action not in PERSON_ACTIONS:
        raise CycleError(f"unknown task action '{action}' (one of {', '.join(PERSON_ACTIONS)})")
    if tid not in pb.tasks:
        archived = d.tasks.get(tid)
        if archived is not None:
            raise CycleError(f"task '{tid}' was removed from the playbook (archived)")
        raise CycleError(f"no task '{tid}' in playbook '{pb.id}'{suggest(tid, pb.tasks)}")
    task = pb.tasks[tid]
    check_person(pb, by, may_act_on_task(pb, task), f"task '{tid}' (owner {task.owner})")
    row = d.tasks[tid]
    status = row.status
    check_day(d, f"task '{tid}'", row.on)
    note = note.strip() if note and note.strip() else None
    running = d.running.get(tid)
    if running is not None and action != "block":
        raise CycleError(
            f"task '{tid}' is being run by pdca (attempt {running.number}, started "
            f"{running.started} by process {running.pid} on {running.host}); wait for the "
            "result, or, if that run died, `pdca run` will notice and run the task again"
        )
    if action == "start":
        if status != "ready":
            raise CycleError(refusal(f"start task '{tid}'", tid, status, pb, d))
        d.set_status(tid, "in_progress", by=by, note=note)
    elif action == "done":
        if status not in ("ready", "in_progress"):
            raise CycleError(refusal(f"mark task '{tid}' done", tid, status, pb, d))
        d.set_status(tid, "done", by=by, note=note)
    elif action == "block":
        if not note:
            raise CycleError(f"blocking task '{tid}' needs --note: say what it is waiting for")
        if status not in ("pending", "ready", "in_progress"):
            raise CycleError(refusal(f"block task '{tid}'", tid, status, pb, d))
        d.set_status(tid, "blocked", by=by, note=note)
    elif action == "skip":
        if not note:
            raise CycleError(f"skipping task '{tid}' needs --note: say why it will not be done")
        if status not in SKIPPABLE:
            raise CycleError(refusal(f"skip task '{tid}'", tid, status, pb, d))
        d.set_status(tid, "skipped", by=by, note=note)
    else:
        if status not in REOPENABLE:
            raise CycleError(
                f"task '{tid}' is {status.replace('_', ' ')}; only done, blocked, failed or "
                "skipped tasks can be reopened"
            )
        can_go = phase_reached(d, task) and deps_done(pb, d, tid)
        d.set_status(tid, "ready" if can_go else "pending", by=by, note=note, failures=0)
    refresh(pb, d)
    if action != "reopen":
        return []
    return [t for t in downstream(pb, [tid]) if t in d.tasks and d.tasks[t].status == "done"]


def not_after_today(d: Draft) -> None:
    """Refuse a draft's ``on`` after today (the day of ``d.now``, the recording clock)."""
    if d.on > d.now[:10]:
        raise CycleError(f"--on {d.on} is after today ({d.now[:10]}): record what has happened")


def check_day(d: Draft, what: str, previous: str | None = None) -> None:
    """Refuse the draft's ``on`` (the day a person says it happened) when it cannot be.

    Today is the day of ``d.now``, the clock the change is recorded by.
    """
    not_after_today(d)
    on = d.on
    if d.cycle is not None and on < d.cycle.started[:10]:
        raise CycleError(
            f"--on {on} is before cycle {d.cycle.number} opened ({d.cycle.started[:10]})"
        )
    if previous is not None and on < previous[:10]:
        raise CycleError(f"--on {on} is before the last change to {what} (on {previous[:10]})")


def refusal(what: str, tid: str, status: str, pb: Playbook, d: Draft) -> str:
    """Why ``what`` cannot be done to a task in ``status``, and who put it there."""
    row = d.tasks[tid]
    who = f" by {row.by}" if row.by else ""
    if status == "pending":
        return f"cannot {what}: it is pending ({why_waiting(pb, d, tid)})"
    if status == "in_progress":
        return f"cannot {what}: it is already in progress (started{who})"
    if status == "blocked":
        return f"cannot {what}: it is blocked{who} ({row.note}); reopen it first"
    if status in ("done", "skipped", "failed"):
        return f"cannot {what}: it is already {status}{who}; reopen it first if it must be redone"
    return f"cannot {what}: it is {status.replace('_', ' ')}"


def decide(
    pb: Playbook, d: Draft, oid: str, decision: str, by: str, note: str | None
) -> Decision | None:
    """A person takes (or changes) the decision on an objective. Returns the previous one."""
    require_open(d)
    assert d.cycle is not None
    if d.cycle.phase != "act":
        raise CycleError(
            f"decisions are taken in the act phase; cycle {d.cycle.number} is in "
            f"{d.cycle.phase} (finish its tasks and run `pdca run` to get there)"
        )
    if oid not in pb.objectives:
        known = ", ".join(pb.objectives) or "none"
        raise CycleError(
            f"no objective '{oid}' in playbook '{pb.id}'{suggest(oid, pb.objectives)} "
            f"(objectives: {known})"
        )
    if decision not in DECISIONS:
        raise CycleError(f"decision must be one of {', '.join(DECISIONS)}, not '{decision}'")
    check_person(pb, by, may_decide(pb, oid), f"the decision on objective '{oid}'")
    check_day(d, f"objective '{oid}'")
    if not note or not note.strip():
        raise CycleError(
            "a decision needs --note: what this cycle taught; it carries over as a lesson"
        )
    previous = d.decisions.get(oid)
    if previous is None:
        record_proposal(pb, d, oid, metric_statuses(d))
        previous = d.decisions[oid]
    d.put_decision(
        replace(
            previous,
            decision=decision,
            by=by,
            note=note.strip(),
            decided=d.now,
            decided_on=d.on,
        )
    )
    d.event(
        "decision_taken",
        by=by,
        subject=oid,
        old=previous.decision,
        new=decision,
        note=note.strip(),
        data={"proposed": previous.proposed, "status": previous.status},
    )
    return previous if previous.decision is not None else None


def require_open(d: Draft) -> None:
    """Refuse a person's change when there is no open cycle to make it in."""
    if d.cycle is None:
        raise CycleError("no cycle yet: run `pdca run PLAYBOOK` to open cycle 1")
    if d.cycle.is_closed:
        raise CycleError(
            f"cycle {d.cycle.number} is closed and no objective needed another cycle; "
            "the playbook is finished"
        )
