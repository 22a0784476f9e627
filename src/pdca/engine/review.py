"""``pdca status``: the team's review of a cycle, as one JSON-ready dict.

Status reads, it never writes. It applies the same reconciliation as a write
would (new tasks join, removed ones are archived, readiness) to a draft that is
thrown away, so the review shows the playbook as edited even before the next
``pdca run``. Metric values come from the current cycle's check snapshot only:
a number measured for another cycle, or today, would not be the one the
cycle's decisions are about.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pdca.engine import transitions as tr
from pdca.engine.confidence import confidence
from pdca.playbook.model import PHASE_INDEX, PHASES, Playbook
from pdca.state.model import FINISHED, State

NOT_MEASURED = "not_measured"
ATTENTION = ("ready", "in_progress", "blocked", "failed")


def review(
    pb: Playbook,
    state: State,
    today: date,
    *,
    owner: str | None = None,
    now: str = "",
    store: str | None = None,
) -> dict[str, Any]:
    """The status report; ``owner`` keeps only that person's (and their teams') tasks."""
    d = tr.Draft(state, now or today.isoformat())
    tr.reconcile(pb, d)
    number = d.cycle.number if d.cycle else 0
    if owner is not None and owner not in pb.owners:
        from pdca.playbook.messages import suggest

        raise tr.CycleError(f"unknown owner '{owner}'{suggest(owner, pb.owners)}")
    mine = _owned_by(pb, owner) if owner else None

    blocks = _downstream_open(pb, d)
    started = date.fromisoformat(d.cycle.started[:10]) if d.cycle else None
    first = tr.first_start(pb, state.cycles)
    cycle = _cycle(pb, d, today)
    overrun = bool(cycle and cycle["overrun"])
    tasks: dict[str, dict[str, Any]] = {}
    for tid, task in pb.tasks.items():
        row = d.tasks.get(tid)
        status = row.status if row else "pending"
        due = tr.effective_due(pb, task, max(number, 1), started, first)
        unfinished = status not in FINISHED
        # a cycle past its length makes all its unfinished work late, dated or not
        late = bool(due and due < today) or (overrun and due is None)
        entry: dict[str, Any] = {
            "title": task.title,
            "status": status,
            "owner": task.owner,
            "phase": task.phase,
            "objective": task.objective,
            "due": due.isoformat() if due else None,
            "overdue": bool(late and unfinished and d.cycle is not None),
            "blocks": blocks.get(tid, 0),
            "automated": task.automated,
            "by": row.by if row else None,
            "note": row.note if row else None,
            "updated": row.updated if row else None,
            "done_on": row.done_on if row else None,
        }
        if status == "in_progress" and row is not None:
            quiet = (today - date.fromisoformat((row.on or row.updated)[:10])).days
            entry["quiet_days"] = quiet
            entry["stale"] = quiet >= pb.stale_after
        if task.automated:
            entry["attempts"] = row.attempts if row else 0
        if status == "pending" and d.cycle is not None and not d.cycle.is_closed:
            entry["waiting_for"] = tr.why_waiting(pb, d, tid)
        if mine is None or task.owner in mine:
            tasks[tid] = entry
    archived = sorted(tid for tid, row in d.tasks.items() if row.archived)

    metrics = _metrics(pb, d)
    objectives = _objectives(pb, d, metrics, started, first)
    for oid, o in objectives.items():
        o.update(confidence(o, metrics, state.checkins.get(oid, ())))
    report: dict[str, Any] = {
        "playbook": pb.id,
        "title": pb.title,
        "as_of": today.isoformat(),
        "state": store,
        "cycle": cycle,
        "metrics": metrics,
        "objectives": objectives,
        "tasks": tasks,
        "archived_tasks": archived,
        "attention": _attention(pb, tasks),
        "stale_work": [tid for tid, t in tasks.items() if t.get("stale")],
        "falling_confidence": [o for o, v in objectives.items() if v["confidence_falling"]],
        # the sources that were stale when ``pdca run --allow-stale`` took the snapshot
        "stale_data": (d.snapshot.report.get("stale_data") if d.snapshot else None) or [],
        "lessons": [
            {
                "cycle": lesson.cycle,
                "objective": lesson.objective,
                "decision": lesson.decision,
                "note": lesson.note,
                "by": lesson.by,
                "decided": lesson.decided,
            }
            for lesson in state.lessons
        ],
    }
    if owner:
        report["owner"] = owner
    report["next"] = _next_steps(pb, d, report)
    return report


def _owned_by(pb: Playbook, person: str) -> set[str]:
    """The person and every team that contains them."""
    return {oid for oid in pb.owners if person in tr.team_of(pb, oid)}


def _cycle(pb: Playbook, d: tr.Draft, today: date) -> dict[str, Any] | None:
    """The cycle's phase and progress, and where ``today`` falls in it.

    ``day`` counts the cycle's opening day as day 1; ``overrun`` is how many days
    an open cycle has run past ``length_days`` (0 when it has not).
    """
    if d.cycle is None:
        return None
    opened = date.fromisoformat(d.cycle.started[:10])
    end = date.fromisoformat(d.cycle.closed_on) if d.cycle.closed_on else today
    day = (end - opened).days + 1
    length = pb.cycle.length_days
    overrun = max(0, day - length) if length and not d.cycle.is_closed else 0
    rows = tr.active(d)
    per_phase = {p: {"done": 0, "total": 0} for p in PHASES}
    for tid, row in rows.items():
        phase = pb.tasks[tid].phase if tid in pb.tasks else row.phase
        per_phase[phase]["total"] += 1
        if row.status in FINISHED:
            per_phase[phase]["done"] += 1
    done = sum(p["done"] for p in per_phase.values())
    return {
        "number": d.cycle.number,
        "phase": d.cycle.phase,
        "started": d.cycle.started[:10],
        "recorded": d.cycle.recorded or d.cycle.started,
        "day": day,
        "length_days": length,
        "overrun": overrun,
        "phase_since": d.cycle.phase_since,
        "closed": d.cycle.closed,
        "closed_on": d.cycle.closed_on,
        "progress": {"done": done, "total": len(rows), "phases": per_phase},
    }


def _metrics(pb: Playbook, d: tr.Draft) -> dict[str, dict[str, Any]]:
    measured = d.snapshot.report.get("metrics", {}) if d.snapshot else {}
    out = {}
    for mid, metric in pb.metrics.items():
        entry = measured.get(mid)
        baseline = d.baselines.get(mid, metric.baseline)
        item: dict[str, Any] = {
            "title": metric.label,
            "value": entry.get("value") if entry else None,
            "target": metric.target,
            "warn": metric.warn,
            "baseline": baseline,
            "baseline_from": d.origins.get(mid, "playbook"),
            "direction": metric.direction,
            "status": entry.get("status", "no_data") if entry else NOT_MEASURED,
            "trend": check_trend(entry),
            "measured_as_of": d.snapshot.as_of if d.snapshot and entry else None,
            "signal": entry.get("signal") if entry else None,
            "data_until": entry.get("data_until") if entry else None,
            "stale": bool(entry.get("stale")) if entry else False,
        }
        if entry and entry.get("benchmark"):
            item["benchmark"] = entry["benchmark"]
        if metric.unit:
            item["unit"] = metric.unit
        out[mid] = item
    return out


def check_trend(entry: Mapping[str, Any] | None) -> str | None:
    """improving / worsening / flat as Check read it (``trend.direction``: the slope over
    the complete periods and its significance, check/readout.py), so status, reports and
    check never disagree; None when Check had too few periods or did not measure."""
    detail = (entry or {}).get("trend")
    direction = detail.get("direction") if isinstance(detail, Mapping) else None
    return direction if direction in ("improving", "worsening", "flat") else None


def _objectives(
    pb: Playbook,
    d: tr.Draft,
    metrics: dict[str, dict[str, Any]],
    started: date | None,
    first: date | None,
) -> dict[str, dict[str, Any]]:
    from pdca.check.measure import worst

    out = {}
    for oid, objective in pb.objectives.items():
        statuses = [metrics[m]["status"] for m in objective.metrics if m in metrics]
        status = (
            NOT_MEASURED
            if d.snapshot is None
            else worst(s if s != NOT_MEASURED else "no_data" for s in statuses)
        )
        dec = d.decisions.get(oid)
        due = tr.effective_due(
            pb, objective, max(d.cycle.number if d.cycle else 1, 1), started, first
        )
        reason = tr.propose(pb, oid, d.snapshot.report)[1] if d.snapshot else None
        out[oid] = {
            "title": objective.title,
            "owner": objective.owner,
            "due": due.isoformat() if due else None,
            "metrics": list(objective.metrics),
            "status": status,
            "stale": any(metrics[m]["stale"] for m in objective.metrics if m in metrics),
            "decision": dec.decision if dec else None,
            "proposed": dec.proposed if dec else None,
            "reason": reason,
            "decided_by": dec.by if dec else None,
            "decided_on": dec.decided_on if dec else None,
            "note": dec.note if dec else None,
        }
    return out


def _attention(pb: Playbook, tasks: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Ready, started, blocked, failed and overdue tasks by owner, most urgent first.

    Urgency: overdue first, then the earliest due date, then how much open work
    waits downstream, then the earlier phase. Owners come in the order of their
    most urgent task.
    """
    order = {tid: i for i, tid in enumerate(pb.tasks)}

    def urgency(tid: str) -> tuple[Any, ...]:
        t = tasks[tid]
        return (
            not t["overdue"],
            t["due"] or "9999-12-31",
            -t["blocks"],
            PHASE_INDEX.get(t["phase"], 9),
            order[tid],
        )

    picked = [
        tid
        for tid, t in tasks.items()
        if t["status"] in ATTENTION or (t["overdue"] and t["status"] not in FINISHED)
    ]
    picked.sort(key=urgency)
    groups: dict[str, list[str]] = {}
    for tid in picked:
        groups.setdefault(tasks[tid]["owner"], []).append(tid)
    return groups


def _downstream_open(pb: Playbook, d: tr.Draft) -> dict[str, int]:
    """For each task, how many unfinished tasks wait on it, directly or not.

    Bit sets over a reverse topological order: one OR per dependency edge, so a
    10,000-task playbook costs milliseconds, not a graph search per task.
    """
    from pdca.engine.readiness import dependents
    from pdca.playbook.order import task_order

    ids = list(pb.tasks)
    bit = {tid: 1 << i for i, tid in enumerate(ids)}
    unfinished = 0
    for tid in ids:
        row = d.tasks.get(tid)
        if row is None or (row.status not in FINISHED and not row.archived):
            unfinished |= bit[tid]
    below: dict[str, int] = {}
    order = task_order(pb.tasks) or ids  # a validated playbook's dependencies never loop
    for tid in reversed(order):
        acc = 0
        for nxt in dependents(pb, tid):
            acc |= bit[nxt] | below.get(nxt, 0)
        below[tid] = acc
    return {tid: (below[tid] & unfinished).bit_count() for tid in ids}


def _a_person(pb: Playbook, owner: str | None) -> str:
    """Someone who may act for ``owner``: the person, or a team's first member."""
    if owner is None or owner not in pb.owners:
        return "OWNER"
    members = tr.team_of(pb, owner)
    people = [o for o in pb.owners if o in members and not pb.owners[o].is_team]
    return people[0] if people else "OWNER"


def _next_steps(pb: Playbook, d: tr.Draft, report: dict[str, Any]) -> list[str]:
    """What to do next, most pressing first, as commands where there is one."""
    path = str(pb.path)
    if d.cycle is None:
        return [f"open cycle 1: pdca run {path}"]
    if d.cycle.is_closed:
        return ["the last cycle is closed with every objective decided: the playbook is done"]
    steps: list[str] = []
    tasks = report["tasks"]
    failed = [tid for tid, t in tasks.items() if t["status"] == "failed"]
    for tid in failed:
        steps.append(
            f"task {tid} failed: fix the cause, then "
            f"pdca task {path} reopen {tid} --by {tasks[tid]['owner']}"
        )
    open_ids = tr.open_work(pb, d)
    phase = d.cycle.phase
    decide = []
    if phase == "act":
        for oid in tr.undecided(pb, d):
            o = report["objectives"][oid]
            decide.append(
                f"decide objective {oid} (proposed: {o['proposed']}): pdca act {path} {oid} "
                f'--decision {o["proposed"]} --by {_a_person(pb, o["owner"])} --note "..."'
            )
    if not open_ids:
        if phase == "act":
            steps.extend(decide)
            if not steps:
                steps.append(f"close cycle {d.cycle.number}: pdca run {path}")
        else:
            nxt = PHASES[PHASES.index(phase) + 1]
            steps.append(f"the {phase} phase is complete; enter {nxt}: pdca run {path}")
        return steps
    automated = [
        tid
        for tid in open_ids
        if tid in tasks and tasks[tid]["automated"] and tasks[tid]["status"] == "ready"
    ]
    if automated:
        steps.append(f"run the ready automated tasks ({', '.join(automated[:3])}): pdca run {path}")
    for owner, ids in report["attention"].items():
        for tid in ids[:2]:
            t = tasks[tid]
            if t["automated"] and t["status"] == "ready":
                continue
            verb = {
                "ready": "start",
                "in_progress": "finish",
                "blocked": "unblock",
                "failed": "repair",
            }.get(t["status"], "unblock what holds up")
            late = " (overdue)" if t["overdue"] else ""
            if t["status"] == "blocked":  # the command that unblocks is reopen
                who = _a_person(pb, owner)
                steps.append(
                    f"{owner}: unblock {tid}{late}: pdca task {path} reopen {tid} --by {who}"
                )
                continue
            steps.append(f"{owner}: {verb} {tid}{late}")
        if len(steps) >= 8:
            break
    return steps + decide
