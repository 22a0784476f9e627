"""Reading a playbook's rows into the model: the engine's State and ``pdca history``.

Everything here runs inside a transaction the store opened, so a State is one
moment of the store. Rows are checked on the way in: SQLite has no checksums,
and a value damaged on disk must stop the command with a clear message instead
of steering the engine.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from pdca.errors import StateError
from pdca.state import events as ev
from pdca.state import schema as s
from pdca.state.annotations import KINDS as annotation_kinds
from pdca.state.annotations import Annotations
from pdca.state.checkins import CHECKIN
from pdca.state.checkins import fold as fold_checkins
from pdca.state.digests import KINDS as digest_kinds
from pdca.state.digests import fold as fold_digests
from pdca.state.model import (
    CYCLE_PHASES,
    DECISIONS,
    TASK_STATUSES,
    Attempt,
    CycleState,
    Decision,
    Event,
    Lesson,
    Snapshot,
    State,
    TaskState,
)
from pdca.state.times import parse_utc


def load(
    conn: sa.Connection, name: str, pid: str, revision: int, cycle: int | None = None
) -> State:
    """The state, or StateError when a stored value is damaged (bytes changed on disk).

    ``name`` is the store as people know it, for the message.
    """
    try:
        state = _read_state(conn, pid, revision, cycle)
    except ValueError as exc:  # a JSON column or a time that does not parse
        raise StateError(damaged(name, f"a stored value cannot be read: {exc}")) from None
    problem = _implausible(state)
    if problem:
        raise StateError(damaged(name, problem))
    return state


def damaged(name: str, problem: str) -> str:
    return (
        f"{name} holds damaged state for this playbook ({problem}); it may be "
        "corrupt: move it away and restore a backup (pdca state import)"
    )


def history(
    conn: sa.Connection,
    name: str,
    playbook_id: str,
    *,
    cycle: int | None = None,
    subject: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Cycles, decisions, attempts and events (oldest first) for ``pdca history``."""
    c, d, a = s.cycles.c, s.decisions.c, s.attempts.c
    cq = sa.select(s.cycles).where(c.playbook == playbook_id).order_by(c.number)
    dq = sa.select(s.decisions).where(d.playbook == playbook_id)
    aq = sa.select(s.attempts).where(a.playbook == playbook_id)
    if cycle is not None:
        cq = cq.where(c.number == cycle)
        dq = dq.where(d.cycle == cycle)
        aq = aq.where(a.cycle == cycle)
    if subject is not None:
        dq = dq.where(d.objective == subject)
        aq = aq.where(a.task == subject)
    return {
        "cycles": [_cycle(r) for r in conn.execute(cq).all()],
        "decisions": [
            (r.cycle, _decision(r)) for r in conn.execute(dq.order_by(d.cycle, d.objective)).all()
        ],
        "attempts": [
            (r.cycle, _attempt(r))
            for r in conn.execute(aq.order_by(a.cycle, a.started, a.task, a.number))
        ],
        "events": _events(conn, name, playbook_id, cycle, subject, limit),
    }


def _read_state(conn: sa.Connection, pid: str, revision: int, cycle: int | None = None) -> State:
    cyc = s.cycles.c
    query = sa.select(s.cycles).where(cyc.playbook == pid).order_by(cyc.number)
    if cycle is not None:
        query = query.where(cyc.number <= cycle)
    cycle_rows = conn.execute(query).all()
    all_cycles = tuple(_cycle(r) for r in cycle_rows)
    lessons = _lessons(conn, pid)
    noted = ev.query(conn, pid, kinds=(*annotation_kinds, CHECKIN, *digest_kinds))
    notes = Annotations.fold(noted)
    said = fold_checkins(noted)
    marks = fold_digests(noted)
    if cycle is not None:
        lessons = tuple(x for x in lessons if x.cycle <= cycle)
    if not all_cycles or (cycle is not None and all_cycles[-1].number != cycle):
        return State(
            pid,
            revision=revision,
            lessons=lessons,
            annotations=notes,
            checkins=said,
            digests=marks,
        )
    current = all_cycles[-1]
    n = current.number
    t = s.tasks.c
    tasks = {
        r.task: TaskState(
            id=r.task,
            status=r.status,
            phase=r.phase,
            owner=r.owner,
            updated=r.updated,
            archived=bool(r.archived),
            attempts=r.attempts,
            failures=r.failures,
            by=r.by,
            note=r.note,
            on=r.on,
        )
        for r in conn.execute(sa.select(s.tasks).where(t.playbook == pid, t.cycle == n)).all()
    }
    a = s.attempts.c
    running = {
        r.task: _attempt(r)
        for r in conn.execute(
            sa.select(s.attempts).where(a.playbook == pid, a.cycle == n, a.outcome == "running")
        ).all()
    }
    b = s.baselines.c
    base_rows = conn.execute(
        sa.select(b.metric, b.value, b.origin).where(b.playbook == pid, b.cycle == n)
    ).all()
    snap = s.snapshots.c
    snap_row = conn.execute(
        sa.select(snap.taken, snap.as_of, snap.report)
        .where(snap.playbook == pid, snap.cycle == n)
        .order_by(snap.id.desc())
        .limit(1)
    ).first()
    d = s.decisions.c
    decisions = {
        r.objective: _decision(r)
        for r in conn.execute(sa.select(s.decisions).where(d.playbook == pid, d.cycle == n)).all()
    }
    return State(
        playbook=pid,
        cycle=current,
        tasks=tasks,
        running=running,
        baselines={r.metric: r.value for r in base_rows},
        baseline_origins={r.metric: r.origin for r in base_rows},
        snapshot=(
            Snapshot(snap_row.taken, snap_row.as_of, json.loads(snap_row.report))
            if snap_row
            else None
        ),
        decisions=decisions,
        cycles=all_cycles,
        lessons=lessons,
        revision=revision,
        annotations=notes,
        checkins=said,
        digests=marks,
    )


def _lessons(conn: sa.Connection, pid: str) -> tuple[Lesson, ...]:
    d = s.decisions.c
    rows = conn.execute(
        sa.select(s.decisions)
        .where(d.playbook == pid, d.decision.is_not(None), d.note.is_not(None))
        .order_by(d.cycle, d.decided, d.objective)
    ).all()
    return tuple(
        Lesson(r.cycle, r.objective, r.decision, r.note, r.by, r.decided) for r in rows if r.note
    )


def _events(
    conn: sa.Connection,
    name: str,
    pid: str,
    cycle: int | None,
    subject: str | None,
    limit: int | None,
) -> list[Event]:
    try:
        return ev.query(conn, pid, cycle=cycle, subject=subject, limit=limit)
    except ValueError as exc:  # an event's JSON data that does not parse
        raise StateError(damaged(name, f"a stored value cannot be read: {exc}")) from None


def _attempt(r: Any) -> Attempt:
    return Attempt(
        task=r.task,
        number=r.number,
        started=r.started,
        outcome=r.outcome,
        finished=r.finished,
        exit_code=r.exit_code,
        duration=r.duration,
        output=r.output,
        error=r.error,
        host=r.host,
        pid=r.pid,
    )


def _cycle(r: Any) -> CycleState:
    return CycleState(
        r.number, r.phase, r.started, r.phase_since, r.closed, r.recorded, r.closed_on
    )


def _decision(r: Any) -> Decision:
    return Decision(
        objective=r.objective,
        status=r.status,
        proposed=r.proposed,
        decision=r.decision,
        by=r.by,
        note=r.note,
        decided=r.decided,
        decided_on=r.decided_on,
    )


def _implausible(state: State) -> str | None:
    """What in a loaded state cannot have been written by pdca (None when all is well).

    SQLite has no checksums: a changed byte inside a value reads back as another
    value. Those that would break the engine later are caught here instead.
    """
    for c in state.cycles:
        if c.phase not in CYCLE_PHASES:
            return f"cycle {c.number} has the unknown phase {c.phase!r}"
        for stamp in (c.started, c.phase_since, c.closed, c.recorded, c.closed_on):
            if stamp is not None and parse_utc(stamp) is None:
                return f"cycle {c.number} has the time {stamp!r}"
    for t in state.tasks.values():
        if t.status not in TASK_STATUSES:
            return f"task {t.id!r} has the unknown status {t.status!r}"
        if t.phase not in CYCLE_PHASES:
            return f"task {t.id!r} has the unknown phase {t.phase!r}"
        if parse_utc(t.updated) is None:
            return f"task {t.id!r} has the time {t.updated!r}"
    for a in state.running.values():
        if parse_utc(a.started) is None:
            return f"a run of task {a.task!r} has the time {a.started!r}"
    for d in state.decisions.values():
        if d.proposed not in DECISIONS or d.decision not in (None, *DECISIONS):
            return f"the decision on {d.objective!r} is {d.decision or d.proposed!r}"
    if state.snapshot is not None and parse_utc(state.snapshot.as_of) is None:
        return f"the check snapshot has the date {state.snapshot.as_of!r}"
    return None
