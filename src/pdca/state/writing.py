"""Writing the engine's Changes, inside the transaction that read the State.

The playbook's row is taken first (:func:`lock`): on PostgreSQL that row lock
is what serialises writers to one playbook, and its revision counts every
write. Then :func:`apply` turns the Changes into as few statements as it can
(one executemany per table and kind), because a busy ``pdca run`` writes many
rows while other commands wait for the lock.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from pdca.state import events as ev
from pdca.state import schema as s
from pdca.state.model import Changes, PlaybookRef, State
from pdca.state.times import now_utc


def lock(conn: sa.Connection, kind: str, ref: PlaybookRef) -> int:
    """Take the playbook's write lock (its row) and bump its revision."""
    bump = (
        sa.update(s.playbooks)
        .where(s.playbooks.c.id == ref.id)
        .values(revision=s.playbooks.c.revision + 1, title=ref.title, path=ref.path)
        .returning(s.playbooks.c.revision)
    )
    revision = conn.execute(bump).scalar_one_or_none()
    if revision is None:
        insert = _insert_ignore(kind, s.playbooks).values(
            id=ref.id, title=ref.title, path=ref.path, created=now_utc(), revision=0
        )
        conn.execute(insert)
        revision = conn.execute(bump).scalar_one()
    return int(revision)


def apply(conn: sa.Connection, state: State, ch: Changes) -> None:
    """Write ``ch``; ``state`` (read in this transaction) tells new rows from existing ones."""
    pid = state.playbook
    current = state.cycle.number if state.cycle else None
    known_cycles = {c.number for c in state.cycles}
    for number, cyc in sorted(ch.cycles.items()):
        values = {
            "phase": cyc.phase,
            "started": cyc.started,
            "phase_since": cyc.phase_since,
            "closed": cyc.closed,
            "recorded": cyc.recorded,
            "closed_on": cyc.closed_on,
        }
        if number in known_cycles:
            conn.execute(
                sa.update(s.cycles)
                .where(s.cycles.c.playbook == pid, s.cycles.c.number == number)
                .values(**values)
            )
        else:
            conn.execute(sa.insert(s.cycles).values(playbook=pid, number=number, **values))
    _upsert(
        conn,
        s.tasks,
        ("cycle", "task"),
        [
            (
                cycle == current and tid in state.tasks,
                {
                    "playbook": pid,
                    "cycle": cycle,
                    "task": tid,
                    "status": row.status,
                    "phase": row.phase,
                    "owner": row.owner,
                    "archived": row.archived,
                    "attempts": row.attempts,
                    "failures": row.failures,
                    "updated": row.updated,
                    "by": row.by,
                    "note": row.note,
                    "on": row.on,
                },
            )
            for (cycle, tid), row in ch.tasks.items()
        ],
    )
    running = {(current, a.task, a.number) for a in state.running.values()}
    _upsert(
        conn,
        s.attempts,
        ("cycle", "task", "number"),
        [
            (
                key in running,
                {
                    "playbook": pid,
                    "cycle": key[0],
                    "task": att.task,
                    "number": att.number,
                    "started": att.started,
                    "finished": att.finished,
                    "outcome": att.outcome,
                    "exit_code": att.exit_code,
                    "duration": att.duration,
                    "output": att.output,
                    "error": att.error,
                    "host": att.host,
                    "pid": att.pid,
                },
            )
            for key, att in ch.attempts.items()
        ],
    )
    _upsert(
        conn,
        s.baselines,
        ("cycle", "metric"),
        [
            (
                cycle == current and metric in state.baselines,
                {
                    "playbook": pid,
                    "cycle": cycle,
                    "metric": metric,
                    "value": value,
                    "origin": origin,
                },
            )
            for (cycle, metric), (value, origin) in ch.baselines.items()
        ],
    )
    _upsert(
        conn,
        s.decisions,
        ("cycle", "objective"),
        [
            (
                cycle == current and oid in state.decisions,
                {
                    "playbook": pid,
                    "cycle": cycle,
                    "objective": oid,
                    "status": dec.status,
                    "proposed": dec.proposed,
                    "decision": dec.decision,
                    "by": dec.by,
                    "note": dec.note,
                    "decided": dec.decided,
                    "decided_on": dec.decided_on,
                },
            )
            for (cycle, oid), dec in ch.decisions.items()
        ],
    )
    if ch.snapshot is not None:
        cycle, snap = ch.snapshot
        conn.execute(
            sa.insert(s.snapshots).values(
                playbook=pid,
                cycle=cycle,
                taken=snap.taken,
                as_of=snap.as_of,
                report=json.dumps(snap.report, default=str),
            )
        )
    if ch.events:
        ev.insert(conn, pid, ch.events)


def _upsert(
    conn: sa.Connection,
    table: sa.Table,
    keys: tuple[str, ...],
    rows: list[tuple[bool, dict[str, Any]]],
) -> None:
    """Insert new rows and update existing ones, each group in one executemany."""
    inserts = [values for exists, values in rows if not exists]
    updates = [values for exists, values in rows if exists]
    if inserts:
        conn.execute(sa.insert(table), inserts)
    if updates:
        where = [table.c.playbook == sa.bindparam("k_playbook")]
        where += [table.c[k] == sa.bindparam(f"k_{k}") for k in keys]
        stmt = (
            sa.update(table)
            .where(*where)
            .values(
                {c: sa.bindparam(f"v_{c}") for c in updates[0] if c not in keys and c != "playbook"}
            )
        )
        params = []
        for values in updates:
            p = {f"v_{c}": v for c, v in values.items() if c not in keys and c != "playbook"}
            p["k_playbook"] = values["playbook"]
            p.update({f"k_{k}": values[k] for k in keys})
            params.append(p)
        conn.execute(stmt, params)


def _insert_ignore(kind: str, table: sa.Table) -> Any:
    """INSERT that leaves an existing row alone: two first writers may race to create it."""
    if kind == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()
