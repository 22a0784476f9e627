"""The team's review across playbooks: a roll-up, a person's inbox, a meeting's agenda.

Each playbook's status document (:func:`pdca.engine.review.review`) is the unit;
everything here reads those documents and never the state, so a portfolio is
exactly the single statuses side by side, and what it adds can be checked
against them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from pdca.state.model import FINISHED

SIGNAL_VERDICTS = ("improved", "deteriorated", "mixed")
SPECIAL = ("improvement", "concern", "neither")
MISSES = "the process as it is will consistently miss the target"
DUE_HORIZON = 14
"""Days ahead a due date adds urgency; later ones add none yet."""


def summary(docs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The roll-up of several status documents (keyed by playbook id)."""
    objectives: Counter[str] = Counter()
    out: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "overdue",
            "blocked",
            "failed",
            "stale_work",
            "stale_data",
            "signals",
            "watermelons",
            "falling_confidence",
        )
    }
    attention = 0
    for pid, doc in docs.items():
        for o in doc["objectives"].values():
            objectives[o["status"]] += 1
        for oid, o in doc["objectives"].items():
            if o.get("watermelon"):
                out["watermelons"].append(
                    {"playbook": pid, "objective": oid, "message": o["watermelon"]}
                )
            if o.get("confidence_falling"):
                out["falling_confidence"].append({"playbook": pid, "objective": oid})
        attention += sum(len(ids) for ids in doc["attention"].values())
        for tid, t in doc["tasks"].items():
            item = {"playbook": pid, "task": tid, "owner": t["owner"], "due": t["due"]}
            if t["overdue"]:
                out["overdue"].append(item)
            if t["status"] in ("blocked", "failed"):
                out[t["status"]].append(item)
            if t.get("stale"):
                out["stale_work"].append({**item, "quiet_days": t["quiet_days"]})
        for mid, m in doc["metrics"].items():
            if m.get("stale"):
                out["stale_data"].append(
                    {"playbook": pid, "metric": mid, "data_until": m.get("data_until")}
                )
            sig = m.get("signal") or {}
            if sig.get("verdict") in SIGNAL_VERDICTS or sig.get("variation") in SPECIAL:
                out["signals"].append(
                    {
                        "playbook": pid,
                        "metric": mid,
                        "verdict": sig.get("verdict"),
                        "variation": sig.get("variation"),
                    }
                )
    return {
        "playbooks": len(docs),
        "objectives": dict(sorted(objectives.items())),
        "attention": attention,
        **out,
    }


def urgency(task: Mapping[str, Any], today: date) -> tuple[float, list[dict[str, Any]]]:
    """How urgent a task is for its owner, and why: each reason with its points.

    In the manner of Taskwarrior's urgency: a sum of plain terms, each shown, so
    the order can be argued with. Overdue 12 (plus half a point a day late, up
    to 7); due within 14 days up to 12 (the sooner the more); blocking open work
    a point per task, up to 8; failed 6, in progress 4, ready 2, blocked −5 (it
    waits on someone else); gone quiet 3.
    """
    why: list[dict[str, Any]] = []
    due = date.fromisoformat(task["due"]) if task.get("due") else None
    if task.get("overdue"):
        late = (today - due).days if due else 0
        extra = min(late, 14) * 0.5
        why.append(
            {
                "reason": f"overdue {late} day{'s' if late != 1 else ''}" if due else "overdue",
                "points": 12.0 + extra,
            }
        )
    elif due is not None and 0 <= (due - today).days <= DUE_HORIZON:
        left = (due - today).days
        when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
        why.append({"reason": f"due {when}", "points": 12.0 * max(0.2, 1 - left / DUE_HORIZON)})
    if task.get("blocks"):
        n = int(task["blocks"])
        why.append(
            {"reason": f"blocks {n} task{'s' if n != 1 else ''}", "points": float(min(n, 8))}
        )
    status = task.get("status")
    weight = {"failed": 6.0, "in_progress": 4.0, "ready": 2.0, "blocked": -5.0}.get(status or "")
    if weight is not None:
        words = {
            "failed": "failed: needs repair",
            "in_progress": "in progress",
            "ready": "ready to start",
            "blocked": "blocked: waits on others",
        }
        why.append({"reason": words[str(status)], "points": weight})
    if task.get("stale"):
        why.append({"reason": f"no update for {task['quiet_days']} days", "points": 3.0})
    return sum(w["points"] for w in why), why


DECISION_POINTS = 10.0
"""An objective waiting for its owner's decision in the act phase."""


def inbox(
    docs: Mapping[str, Mapping[str, Any]], people: Mapping[str, set[str]], today: date
) -> list[dict[str, Any]]:
    """A person's open items across playbooks, most urgent first.

    ``docs`` are status documents already kept to the person's tasks (``--owner``);
    ``people`` gives, per playbook, the owner ids that stand for the person (the
    person and their teams), which decides the objectives they answer for.
    """
    items: list[dict[str, Any]] = []
    for pid, doc in docs.items():
        for tid, t in doc["tasks"].items():
            if t["status"] in FINISHED or (t["status"] == "pending" and not t["overdue"]):
                continue
            points, why = urgency(t, today)
            items.append(
                {
                    "playbook": pid,
                    "kind": "task",
                    "id": tid,
                    "title": t["title"],
                    "status": t["status"],
                    "due": t["due"],
                    "urgency": points,
                    "why": why,
                }
            )
        cycle = doc.get("cycle") or {}
        for oid, o in doc["objectives"].items():
            if o.get("owner") not in people.get(pid, set()):
                continue
            if cycle.get("phase") == "act" and not o.get("decision"):
                why = [{"reason": "decision pending (act phase)", "points": DECISION_POINTS}]
                items.append(
                    {
                        "playbook": pid,
                        "kind": "decision",
                        "id": oid,
                        "title": o["title"],
                        "status": o["status"],
                        "due": o.get("due"),
                        "urgency": DECISION_POINTS,
                        "why": why,
                    }
                )
    items.sort(key=lambda i: (-i["urgency"], i["due"] or "9999-12-31", i["playbook"], i["id"]))
    return items


def agenda(docs: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What a 20-minute weekly review should discuss, in order: signals, unreachable
    targets, overdue and blocked work, pending decisions, stale data, then what the
    owners' confidence and quiet work say. Empty means nothing needs discussing."""
    rows: list[tuple[int, dict[str, Any]]] = []

    def add(rank: int, pid: str, kind: str, subject: str, text: str) -> None:
        rows.append((rank, {"playbook": pid, "kind": kind, "subject": subject, "text": text}))

    for pid, doc in docs.items():
        for mid, m in doc["metrics"].items():
            sig = m.get("signal") or {}
            verdict, variation = sig.get("verdict"), sig.get("variation")
            if verdict in SIGNAL_VERDICTS or variation in SPECIAL:
                said = ", ".join(
                    str(x).replace("_", " ")
                    for x in (verdict if verdict in SIGNAL_VERDICTS else None, variation)
                    if x
                )
                add(0, pid, "signal", mid, f"{m['title']}: {said}")
            check = sig.get("target_check") or {}
            if sig.get("assurance") == "fail" or check.get("code") == "unreachable":
                add(
                    1,
                    pid,
                    "unreachable_target",
                    mid,
                    f"{m['title']}: {check.get('message') or MISSES}",
                )
        for tid, t in doc["tasks"].items():
            if t["overdue"] or t["status"] in ("blocked", "failed"):
                state = "overdue" if t["overdue"] else t["status"]
                add(2, pid, "work", tid, f"{t['title']} ({t['owner']}): {state}")
        cycle = doc.get("cycle") or {}
        for oid, o in doc["objectives"].items():
            if cycle.get("phase") == "act" and not o.get("decision"):
                add(3, pid, "decision", oid, f"{o['title']}: decide (proposed {o.get('proposed')})")
        for mid, m in doc["metrics"].items():
            if m.get("stale"):
                add(4, pid, "stale_data", mid, f"{m['title']}: data until {m.get('data_until')}")
        for oid, o in doc["objectives"].items():
            if o.get("watermelon"):
                add(5, pid, "watermelon", oid, f"{o['title']}: {o['watermelon']}")
            if o.get("confidence_falling"):
                add(5, pid, "falling_confidence", oid, f"{o['title']}: confidence fell twice")
        for tid, t in doc["tasks"].items():
            if t.get("stale"):
                quiet = f"no update for {t['quiet_days']} days"
                add(6, pid, "stale_work", tid, f"{t['title']} ({t['owner']}): {quiet}")
    rows.sort(key=lambda r: r[0])
    return [r for _, r in rows]
