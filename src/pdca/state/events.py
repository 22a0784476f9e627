"""The audit log: every change to a cycle, task or decision, with who, when and why.

Events are written in the same transaction as the change they describe, so the
log and the state can never disagree. ``by`` is the owner id a person gave with
``--by``; None means the engine did it (``pdca run``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from pdca.state import schema as s
from pdca.state.model import Event

KINDS: dict[str, str] = {
    "cycle_opened": "a cycle opened",
    "phase_changed": "the cycle entered a phase",
    "task_changed": "a task changed status",
    "task_added": "a task joined the cycle (new in the playbook)",
    "task_archived": "a task left the playbook and was archived",
    "task_restored": "an archived task came back to the playbook",
    "task_edited": "a task's phase or owner changed in the playbook",
    "attempt_started": "an automated task started a run",
    "attempt_finished": "an automated task's run ended",
    "attempt_process": "an automated task's command started (its process group)",
    "attempt_orphan_ended": "pdca ended the processes a killed run's attempt left running",
    "metrics_measured": "the metrics were measured for check",
    "decision_proposed": "the engine proposed a decision for an objective",
    "decision_taken": "a person took or changed a decision",
    "point_excluded": "a metric's period was left out of its limits and rules",
    "point_included": "an excluded period was counted again",
    "metric_rebased": "a metric's limits start afresh from a day (a new phase)",
    "rebase_removed": "a rebase was withdrawn",
    "objective_checkin": "an objective's owner said how confident they are it will be met",
    "digest_sent": "a person's digest was made for sending (the next one starts after it)",
    "reminder_sent": "a person was sent a reminder of their work coming due",
}


def insert(conn: sa.Connection, playbook: str, events: Iterable[Event]) -> None:
    rows = [
        {
            "playbook": playbook,
            "cycle": e.cycle,
            "at": e.at,
            "by": e.by,
            "kind": e.kind,
            "subject": e.subject,
            "old": e.old,
            "new": e.new,
            "note": e.note,
            "data": e.data_json(),
            "on": e.on or e.at[:10],
        }
        for e in events
    ]
    if rows:
        conn.execute(sa.insert(s.events), rows)


def query(
    conn: sa.Connection,
    playbook: str,
    *,
    cycle: int | None = None,
    subject: str | None = None,
    limit: int | None = None,
    kinds: Iterable[str] | None = None,
) -> list[Event]:
    """Events oldest first; with ``limit``, the most recent ``limit`` of them."""
    c = s.events.c
    q = sa.select(s.events).where(c.playbook == playbook)
    if kinds is not None:
        q = q.where(c.kind.in_(list(kinds)))
    if cycle is not None:
        q = q.where(c.cycle == cycle)
    if subject is not None:
        q = q.where(c.subject == subject)
    q = q.order_by(c.id.desc())
    if limit is not None:
        q = q.limit(limit)
    rows = conn.execute(q).all()
    return [
        Event(
            kind=r.kind,
            at=r.at,
            cycle=r.cycle,
            by=r.by,
            subject=r.subject,
            old=r.old,
            new=r.new,
            note=r.note,
            data=json.loads(r.data) if r.data else None,
            id=r.id,
            on=r.on or r.at[:10],
        )
        for r in reversed(rows)
    ]


def describe(e: Event) -> str:
    """One event as a sentence fragment for ``pdca history``."""
    subject = e.subject or ""
    data: dict[str, Any] = dict(e.data or {})
    if e.kind == "cycle_opened":
        text = f"cycle {e.cycle} opened"
        if data.get("ratcheted"):
            text += f" (baselines ratcheted from cycle {data['ratcheted']})"
    elif e.kind == "phase_changed":
        text = f"phase {e.old or '-'} -> {e.new}"
    elif e.kind == "task_changed":
        text = f"task {subject}: {_status(e.old)} -> {_status(e.new)}"
    elif e.kind == "task_added":
        text = f"task {subject} joined the cycle ({e.new})"
    elif e.kind == "task_archived":
        text = f"task {subject} archived (removed from the playbook; was {_status(e.old)})"
    elif e.kind == "task_restored":
        text = f"task {subject} restored (back in the playbook)"
    elif e.kind == "task_edited":
        text = f"task {subject} edited: " + ", ".join(
            f"{k} {v[0]} -> {v[1]}" for k, v in sorted(data.items())
        )
    elif e.kind == "attempt_started":
        text = f"task {subject}: attempt {data.get('attempt')} started"
    elif e.kind == "attempt_finished":
        text = f"task {subject}: attempt {data.get('attempt')} {e.new}"
        if data.get("duration") is not None:
            text += f" in {data['duration']:.1f} s"
        if data.get("error"):
            text += f" ({data['error']})"
    elif e.kind == "attempt_process":
        text = (
            f"task {subject}: attempt {data.get('attempt')} runs as process group "
            f"{data.get('pgid')}"
        )
    elif e.kind == "attempt_orphan_ended":
        text = f"task {subject}: {e.note or 'ended what a killed run left running'}"
    elif e.kind == "metrics_measured":
        text = f"metrics measured as of {data.get('as_of')}"
        statuses = data.get("statuses") or {}
        if statuses:
            text += ": " + ", ".join(f"{m} {st}" for m, st in statuses.items())
        if data.get("stale_sources"):
            text += f" (on stale data of {', '.join(map(str, data['stale_sources']))})"
    elif e.kind == "decision_proposed":
        text = f"objective {subject} is {_status(e.old)}: proposed {e.new}"
    elif e.kind in ("point_excluded", "point_included"):
        label = data.get("label") or e.new
        verb = "excluded from" if e.kind == "point_excluded" else "counted again in"
        text = f"metric {subject}: {label} {verb} its limits and rules"
    elif e.kind == "metric_rebased":
        text = f"metric {subject}: limits rebased from {data.get('label') or e.new}"
    elif e.kind == "rebase_removed":
        text = f"metric {subject}: rebase from {data.get('label') or e.new} withdrawn"
    elif e.kind == "objective_checkin":
        text = f"objective {subject}: check-in, confidence {e.new}/10"
    elif e.kind in ("digest_sent", "reminder_sent"):
        what = "digest" if e.kind == "digest_sent" else "due-soon reminder"
        channel = data.get("channel") or "mark"
        text = f"{what} for {subject} ({channel})"
    elif e.kind == "decision_taken":
        text = f"objective {subject}: decision {e.new}"
        if e.old:
            text += f" (was {e.old})"
    else:
        text = f"{e.kind} {subject}".strip()
    return text


def _status(name: str | None) -> str:
    return (name or "-").replace("_", " ")


def cycles_json(history: dict[str, Any]) -> list[dict[str, Any]]:
    """The cycles of a ``Store.history`` result with their decisions, oldest first.

    ``pdca history --format json`` and the report document show cycles the same way.
    """
    return [
        {
            "number": c.number,
            "phase": c.phase,
            "started": c.started,
            "recorded": c.recorded,
            "closed": c.closed,
            "closed_on": c.closed_on,
            "decisions": {
                d.objective: {
                    "status": d.status,
                    "proposed": d.proposed,
                    "decision": d.decision,
                    "by": d.by,
                    "note": d.note,
                    "decided": d.decided,
                    "decided_on": d.decided_on,
                }
                for n, d in history["decisions"]
                if n == c.number
            },
        }
        for c in history["cycles"]
    ]
