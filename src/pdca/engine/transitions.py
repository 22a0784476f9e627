"""The cycle state machine as pure functions over a :class:`Draft` of the stored state.

A Draft starts from the :class:`~pdca.state.model.State` the store read, and
every rule below changes the draft and records what it changed (rows and audit
events) in ``draft.changes``; the store writes those in the same transaction.
Nothing here does I/O or reads the clock: ``now`` comes in with the draft.

The rules, in one place:

* A task is ``ready`` when the cycle has reached its phase and each of its
  dependencies is done or skipped; otherwise it waits as ``pending``. A ready
  (or started) task whose dependency is reopened goes back to pending.
* A phase is complete when every task of that phase, and of earlier phases, is
  done or skipped (so reopening earlier work holds the cycle back).
* do -> check stores the metrics snapshot (measured outside, by the runner);
  check -> act skips act tasks whose ``when`` is false and proposes a decision
  per objective; act -> closed needs every objective decided; any ``adjust``
  opens the next cycle with baselines ratcheted to the values measured at check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from pdca.errors import PdcaError
from pdca.playbook.model import PHASE_INDEX, PHASES, Playbook, Task
from pdca.state.model import (
    DECISIONS,
    FINISHED,
    Attempt,
    Changes,
    CycleState,
    Decision,
    Event,
    Snapshot,
    State,
    TaskState,
)

ACT = PHASE_INDEX["act"]
PERSON_ACTIONS = ("start", "done", "block", "reopen")
REOPENABLE = frozenset({"done", "blocked", "failed", "skipped"})


class CycleError(PdcaError):
    """A change the cycle's rules do not allow; the message says why and what to do."""


class Draft:
    """A working copy of the state that records every change it receives."""

    def __init__(self, state: State, now: str):
        self.state = state
        self.now = now
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
        e = Event(kind=kind, at=self.now, cycle=self.cycle.number if self.cycle else None, **fields)
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
        self.put_task(replace(row, status=new, updated=self.now, by=by, note=note, **fields))
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


# -- reading the draft ------------------------------------------------------------------


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


def metric_statuses(d: Draft) -> dict[str, str]:
    if d.snapshot is None:
        return {}
    return {mid: m.get("status", "no_data") for mid, m in d.snapshot.report["metrics"].items()}


def objective_status(pb: Playbook, oid: str, statuses: Mapping[str, str]) -> str:
    from pdca.check.measure import worst

    return worst(statuses.get(m, "no_data") for m in pb.objectives[oid].metrics)


def when_holds(task: Task, statuses: Mapping[str, str]) -> bool:
    if task.when is None:
        return True
    return statuses.get(task.when.metric, "no_data") in task.when.statuses


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


def team_of(pb: Playbook, owner: str) -> set[str]:
    """The owner and, for a team, every member (teams may contain teams)."""
    seen: set[str] = set()
    todo = [owner]
    while todo:
        oid = todo.pop()
        if oid in seen:
            continue
        seen.add(oid)
        entry = pb.owners.get(oid)
        if entry is not None:
            todo.extend(entry.members)
    return seen


def may_act_on_task(pb: Playbook, task: Task) -> set[str]:
    """Who may change a task: its owner (every member of an owning team) and the
    owner of its objective, who is accountable for the result."""
    allowed = team_of(pb, task.owner)
    if task.objective and task.objective in pb.objectives:
        obj_owner = pb.objectives[task.objective].owner
        if obj_owner:
            allowed |= team_of(pb, obj_owner)
    return allowed


def may_decide(pb: Playbook, oid: str) -> set[str]:
    """Who may decide an objective: its owner (or its team); anyone when it has no owner."""
    owner = pb.objectives[oid].owner
    return team_of(pb, owner) if owner else set(pb.owners)


def check_person(pb: Playbook, by: str, allowed: set[str], what: str) -> None:
    from pdca.playbook.build import suggest

    if by not in pb.owners:
        people = ", ".join(o for o, e in pb.owners.items() if not e.is_team) or "none"
        raise CycleError(
            f"unknown owner '{by}'{suggest(by, pb.owners)}: --by takes the id of a person "
            f"in the playbook's owners ({people})"
        )
    if pb.owners[by].is_team:
        raise CycleError(f"'{by}' is a team: --by names the person who acts, one of its members")
    if by not in allowed:
        people = sorted(p for p in allowed if p in pb.owners and not pb.owners[p].is_team)
        raise CycleError(
            f"{by} may not change {what}; who may: {', '.join(people) or 'nobody'} "
            "(the owner, members of an owning team, and the objective's owner)"
        )


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
            d.put_task(TaskState(tid, "pending", task.phase, task.owner, d.now))
            d.event("task_added", subject=tid, new="pending")
            if in_act and task.phase == "act" and not when_holds(task, statuses):
                d.set_status(tid, "skipped", note=_when_note(task, statuses))
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
                _propose(pb, d, oid, statuses)


def refresh(pb: Playbook, d: Draft) -> None:
    """Pending tasks whose time has come become ready; ready ones whose input was
    reopened go back to pending. One pass suffices: readiness depends only on
    dependencies being done or skipped, which this never changes."""
    if d.cycle is None or d.cycle.is_closed:
        return
    for tid, row in list(d.tasks.items()):
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


# -- phases and cycles ------------------------------------------------------------------


def open_cycle(pb: Playbook, d: Draft, number: int) -> None:
    """Open cycle ``number``: every task starts over; baselines ratchet from the last check."""
    previous = d.snapshot
    old_baselines, old_origins = dict(d.baselines), dict(d.origins)
    d.begin_cycle(CycleState(number, "plan", d.now, d.now))
    measured = previous.report.get("metrics", {}) if previous is not None else {}
    for mid, metric in pb.metrics.items():
        value = measured.get(mid, {}).get("value")
        if number > 1 and value is not None:
            d.set_baseline(mid, value, f"cycle {number - 1}")
        elif mid in old_baselines:
            d.set_baseline(mid, old_baselines[mid], old_origins.get(mid, "playbook"))
        else:
            d.set_baseline(mid, metric.baseline, "playbook")
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
        d.put_task(TaskState(tid, "pending", task.phase, task.owner, d.now))
    refresh(pb, d)


def set_phase(pb: Playbook, d: Draft, new: str, *, then_refresh: bool = True) -> None:
    assert d.cycle is not None
    old = d.cycle.phase
    closed = d.now if new == "closed" else None
    d.set_cycle(replace(d.cycle, phase=new, phase_since=d.now, closed=closed))
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
        if open_work(pb, d):
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
        },
    )
    set_phase(pb, d, "check")
    return True


def enter_act(pb: Playbook, d: Draft) -> None:
    """Skip act tasks whose ``when`` is false; propose standardize or adjust per objective."""
    statuses = metric_statuses(d)
    set_phase(pb, d, "act", then_refresh=False)  # skip first: a task that does not apply
    for tid, row in active(d).items():  # is never announced as ready
        task = pb.tasks.get(tid)
        if task is None or task.phase != "act" or when_holds(task, statuses):
            continue
        if row.status in ("pending", "ready", "blocked"):
            d.set_status(tid, "skipped", note=_when_note(task, statuses))
    for oid in pb.objectives:
        _propose(pb, d, oid, statuses)
    refresh(pb, d)


def _propose(pb: Playbook, d: Draft, oid: str, statuses: Mapping[str, str]) -> None:
    status = objective_status(pb, oid, statuses)
    report = d.snapshot.report if d.snapshot else {}
    proposed, reason = propose(pb, oid, report)
    d.put_decision(Decision(oid, status, proposed))
    d.event("decision_proposed", subject=oid, old=status, new=proposed, note=reason)


def propose(pb: Playbook, oid: str, report: Mapping[str, Any]) -> tuple[str, str]:
    """The decision Check's evidence supports for an objective, and why.

    Standardize needs the target met *and* no metric of the objective getting
    worse by a special-cause signal; a target met without an improvement signal
    may be the process's own noise, so the proposal says so.
    """
    from pdca.check.measure import worst

    metrics = report.get("metrics", {})
    mids = pb.objectives[oid].metrics
    status = worst(metrics.get(m, {}).get("status", "no_data") for m in mids)
    verdicts = {m: (metrics.get(m, {}).get("signal") or {}).get("verdict") for m in mids}
    worse = [m for m in mids if verdicts[m] == "deteriorated"]
    if status != "met":
        return "adjust", f"objective is {status.replace('_', ' ')}"
    if worse:
        return "adjust", f"target met, but {', '.join(worse)} got worse (special-cause signal)"
    unproven = [m for m in mids if verdicts[m] != "improved"]
    if unproven:
        return "standardize", (
            f"target met, but {', '.join(unproven)} shows no improvement signal: "
            "possibly luck; confirm it holds next cycle"
        )
    return "standardize", "target met, with an improvement signal"


def _when_note(task: Task, statuses: Mapping[str, str]) -> str:
    assert task.when is not None
    actual = statuses.get(task.when.metric, "no_data")
    return f"when: {task.when.metric} is {actual}, not {' or '.join(task.when.statuses)}"


def undecided(pb: Playbook, d: Draft) -> list[str]:
    return [
        oid for oid in pb.objectives if oid not in d.decisions or d.decisions[oid].decision is None
    ]


def close_cycle(pb: Playbook, d: Draft) -> None:
    set_phase(pb, d, "closed")
    if any(dec.decision == "adjust" for oid, dec in d.decisions.items() if oid in pb.objectives):
        open_cycle(pb, d, d.number + 1)


# -- people ---------------------------------------------------------------------------


def person(pb: Playbook, d: Draft, action: str, tid: str, by: str, note: str | None) -> list[str]:
    """A person's change to a task. Returns, for ``reopen``, the done tasks downstream
    that used its output (left done: whether to redo them is a person's call)."""
    from pdca.playbook.build import suggest

    _require_open(d)
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
            raise CycleError(_cannot(f"start task '{tid}'", tid, status, pb, d))
        d.set_status(tid, "in_progress", by=by, note=note)
    elif action == "done":
        if status not in ("ready", "in_progress"):
            raise CycleError(_cannot(f"mark task '{tid}' done", tid, status, pb, d))
        d.set_status(tid, "done", by=by, note=note)
    elif action == "block":
        if not note:
            raise CycleError(f"blocking task '{tid}' needs --note: say what it is waiting for")
        if status not in ("pending", "ready", "in_progress"):
            raise CycleError(_cannot(f"block task '{tid}'", tid, status, pb, d))
        d.set_status(tid, "blocked", by=by, note=note)
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


def _cannot(what: str, tid: str, status: str, pb: Playbook, d: Draft) -> str:
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
    from pdca.playbook.build import suggest

    _require_open(d)
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
    if not note or not note.strip():
        raise CycleError(
            "a decision needs --note: what this cycle taught; it carries over as a lesson"
        )
    previous = d.decisions.get(oid)
    if previous is None:
        _propose(pb, d, oid, metric_statuses(d))
        previous = d.decisions[oid]
    d.put_decision(replace(previous, decision=decision, by=by, note=note.strip(), decided=d.now))
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


def _require_open(d: Draft) -> None:
    if d.cycle is None:
        raise CycleError("no cycle yet: run `pdca run PLAYBOOK` to open cycle 1")
    if d.cycle.is_closed:
        raise CycleError(
            f"cycle {d.cycle.number} is closed and no objective needed another cycle; "
            "the playbook is finished"
        )


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


# -- automated tasks --------------------------------------------------------------------


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


def with_baselines(pb: Playbook, baselines: Mapping[str, float | None]) -> Playbook:
    """The playbook with this cycle's (ratcheted) baselines in its metrics."""
    metrics = {
        mid: replace(m, baseline=baselines[mid]) if mid in baselines else m
        for mid, m in pb.metrics.items()
    }
    return replace(pb, metrics=metrics)
