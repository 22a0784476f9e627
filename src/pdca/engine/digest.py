"""The weekly digest: for each person, what changed, what they owe, what comes due.

A digest is read from what ``pdca status`` already computes (each playbook's
status document) and from the audit log, never from anything else, so it
cannot disagree with status or history. Per person and playbook it gathers:

* **changes**: the events on their work since the last digest: task updates
  on the tasks they (or their teams) own or that serve an objective they own,
  check-ins and decisions on the objectives they own or work on, notes on those
  objectives' metrics, and the cycle's own steps (opened, phase, measured).
  Each is shown on the day it happened (``on``) with the moment it was
  recorded (``recorded``) beside it;
* **owes**: their inbox (:func:`pdca.engine.portfolio.inbox`);
* **due_soon**: their unfinished tasks and undecided objectives due within
  :data:`HORIZON_DAYS`, overdue ones being in ``owes`` already;
* **signals**: the Check signals on the metrics of those objectives, ``new``
  when the measurement that found them is among the changes.

Which events are news (:class:`Window`): with ``--since DATE``, those that
happened from that day on; otherwise those recorded after the person's last
digest mark (:mod:`pdca.state.digests`), or, before the first one, those of
the seven days up to the digest's day. Never an event dated after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pdca.engine import portfolio
from pdca.engine.draft import CycleError, Draft
from pdca.engine.people import not_after_today
from pdca.engine.permissions import team_of
from pdca.playbook.model import Playbook
from pdca.state import digests
from pdca.state.events import describe
from pdca.state.model import FINISHED, Changes, Event, State

HORIZON_DAYS = 7
"""How far ahead "coming due" looks."""
FIRST_DAYS = 7
"""Before a person's first digest, the changes of this many days up to its day."""
TASK_KINDS = frozenset(
    {"task_changed", "task_added", "task_archived", "task_restored", "task_edited"}
)
OBJECTIVE_KINDS = frozenset({"objective_checkin", "decision_proposed", "decision_taken"})
METRIC_KINDS = frozenset({"point_excluded", "point_included", "metric_rebased", "rebase_removed"})
CYCLE_KINDS = frozenset({"cycle_opened", "phase_changed", "metrics_measured"})
KINDS = TASK_KINDS | OBJECTIVE_KINDS | METRIC_KINDS | CYCLE_KINDS | frozenset(digests.KINDS)
"""The audit events a digest reads."""


@dataclass(frozen=True)
class Window:
    """Which events are news for one person in one playbook.

    ``after`` is the id of the last digest's audit event: events recorded after
    it are news, and so are those dated after that digest's day (``since``),
    which it could not show (a digest made for an earlier day). Without a last
    digest, ``since`` is the first day counted. ``until`` (this digest's day)
    bounds both: an event dated later is not news yet.
    """

    since: str
    until: str
    source: str
    """``last_digest``, ``since`` (the option) or ``first`` (no digest yet)."""
    after: int | None = None
    last_recorded: str | None = None

    def holds(self, e: Event) -> bool:
        on = e.on or e.at[:10]
        if on > self.until:
            return False
        if self.after is not None:  # what the last digest did not show: later, or dated later
            return (e.id or 0) > self.after or on > self.since
        return on >= self.since

    def to_json(self) -> dict[str, Any]:
        return {"from": self.source, "day": self.since, "last_digest": self.last_recorded}


def window(state: State, person: str, today: date, since: date | None) -> Window:
    """The person's window in one playbook's state (see :class:`Window`)."""
    until = today.isoformat()
    if since is not None:
        return Window(since.isoformat(), until, "since")
    mark = digests.last_digest(state.digests.get(person, ()), until)
    if mark is not None:
        return Window(mark.on, until, "last_digest", mark.event, mark.at)
    first = (today - timedelta(days=FIRST_DAYS - 1)).isoformat()
    return Window(first, until, "first")


@dataclass(frozen=True)
class Scope:
    """What of one playbook a person answers for or works on."""

    owners: frozenset[str]
    """The person and every team that holds them."""
    tasks: frozenset[str]
    objectives: frozenset[str]
    metrics: frozenset[str]

    @classmethod
    def of(cls, pb: Playbook, person: str) -> Scope:
        mine = frozenset(oid for oid in pb.owners if person in team_of(pb, oid))
        owned = {oid for oid, o in pb.objectives.items() if o.owner in mine}
        worked = {t.objective for t in pb.tasks.values() if t.owner in mine and t.objective}
        objectives = owned | worked
        tasks = {tid for tid, t in pb.tasks.items() if t.owner in mine or (t.objective in owned)}
        metrics = {
            m for oid in objectives if oid in pb.objectives for m in pb.objectives[oid].metrics
        }
        return cls(mine, frozenset(tasks), frozenset(objectives), frozenset(metrics))

    def covers(self, e: Event) -> bool:
        if e.kind in TASK_KINDS:
            return e.subject in self.tasks
        if e.kind in OBJECTIVE_KINDS:
            return e.subject in self.objectives
        if e.kind in METRIC_KINDS:
            return e.subject in self.metrics
        return e.kind in CYCLE_KINDS


def people(pb: Playbook) -> list[str]:
    """The playbook's people: its owners that are not teams, in the playbook's order."""
    return [oid for oid, o in pb.owners.items() if not o.is_team]


def change(pid: str, e: Event) -> dict[str, Any]:
    """One event as a digest shows it: the history's sentence, in data time."""
    return {
        "playbook": pid,
        "kind": e.kind,
        "subject": e.subject,
        "text": describe(e),
        "by": e.by,
        "note": e.note,
        "on": e.on or e.at[:10],
        "recorded": e.at,
        "cycle": e.cycle,
    }


def section(
    pb: Playbook,
    doc: Mapping[str, Any],
    events: Iterable[Event],
    person: str,
    win: Window,
    today: date,
) -> dict[str, Any]:
    """One person's part of one playbook: changes, due soon, signals, and the status
    document kept to their tasks (for the inbox)."""
    scope = Scope.of(pb, person)
    news = [e for e in events if e.kind not in digests.KINDS and win.holds(e) and scope.covers(e)]
    measured = any(e.kind == "metrics_measured" for e in news)
    horizon = today + timedelta(days=HORIZON_DAYS)
    due: list[dict[str, Any]] = []
    for tid, t in doc["tasks"].items():
        if t["owner"] not in scope.owners or t["status"] in FINISHED or t["overdue"]:
            continue
        if t["due"] and today <= date.fromisoformat(t["due"]) <= horizon:
            due.append(_due(pb.id, "task", tid, t, today))
    for oid, o in doc["objectives"].items():
        mine = o.get("owner") in scope.owners and not o.get("decision")
        if mine and o.get("due") and today <= date.fromisoformat(o["due"]) <= horizon:
            due.append(_due(pb.id, "objective", oid, o, today))
    signals = []
    for mid, m in doc["metrics"].items():
        sig = m.get("signal") or {}
        verdict, variation = sig.get("verdict"), sig.get("variation")
        if mid not in scope.metrics:
            continue
        if verdict in portfolio.SIGNAL_VERDICTS or variation in portfolio.SPECIAL:
            signals.append(
                {
                    "playbook": pb.id,
                    "metric": mid,
                    "title": m["title"],
                    "status": m["status"],
                    "verdict": verdict,
                    "variation": variation,
                    "measured_as_of": m.get("measured_as_of"),
                    "new": measured,
                }
            )
    kept = {**doc, "tasks": {k: v for k, v in doc["tasks"].items() if v["owner"] in scope.owners}}
    return {
        "since": win.to_json(),
        "changes": [change(pb.id, e) for e in news],
        "due_soon": due,
        "signals": signals,
        "doc": kept,
        "owners": set(scope.owners),
    }


def _due(pid: str, kind: str, key: str, item: Mapping[str, Any], today: date) -> dict[str, Any]:
    return {
        "playbook": pid,
        "kind": kind,
        "id": key,
        "title": item["title"],
        "due": item["due"],
        "days_left": (date.fromisoformat(item["due"]) - today).days,
        "status": item["status"],
    }


def assemble(
    person: str, name: str, email: str | None, parts: Mapping[str, Mapping[str, Any]], today: date
) -> dict[str, Any]:
    """A person's digest from their sections (keyed by playbook id, in order)."""
    docs = {pid: p["doc"] for pid, p in parts.items()}
    owners = {pid: p["owners"] for pid, p in parts.items()}
    changes = [c for p in parts.values() for c in p["changes"]]
    changes.sort(key=lambda c: (c["on"], c["recorded"]))  # stable: playbook order within
    due = [d for p in parts.values() for d in p["due_soon"]]
    due.sort(key=lambda d: (d["due"], d["playbook"], d["id"]))
    return {
        "name": name,
        "email": email,
        "playbooks": list(parts),
        "since": {pid: p["since"] for pid, p in parts.items()},
        "changes": changes,
        "owes": portfolio.inbox(docs, owners, today),
        "due_soon": due,
        "signals": [s for p in parts.values() for s in p["signals"]],
    }


def empty(digest: Mapping[str, Any]) -> bool:
    """Nothing to tell: no change, nothing owed, nothing due, no signal."""
    return not any(digest[k] for k in ("changes", "owes", "due_soon", "signals"))


def mark(
    pb: Playbook,
    person: str,
    day: date,
    now: str,
    *,
    kind: str = digests.DIGEST,
    channel: str = "mark",
    once_a_day: bool = False,
    data: Mapping[str, Any] | None = None,
) -> Any:
    """A ``decide`` function for :meth:`Store.transact` recording that ``person``'s
    digest (or reminder) for ``day`` was made. With ``once_a_day`` (a sender), it
    returns False and writes nothing when one of this channel was already recorded
    for that day: a second run sends nothing."""
    if person not in pb.owners:
        raise CycleError(f"unknown owner '{person}'")

    def decide(state: State) -> tuple[Changes, bool]:
        d = Draft(state, now, day.isoformat())
        not_after_today(d)
        marks = state.digests.get(person, ())
        if once_a_day and digests.sent_on(marks, kind, channel, day.isoformat()):
            return Changes(), False
        d.event(kind, subject=person, new=channel, data={"channel": channel, **(data or {})})
        return d.changes, True

    return decide
