"""Phases of a chart and points left out of it: what ``pdca rebase`` and ``pdca exclude`` change.

A rebase on a day starts a new phase at the first period that starts on or
after it (the rule countermeasure markers follow: a period the change happened
in the middle of is a mix of both processes, so it stays with the old one).
The current phase's limits rest on its own periods only, its rules read only
its periods, and MDC's assurance compares the target with its limits: after a
countermeasure has moved the process, assurance answers for the new process,
not for a mixture of old and new. Earlier phases keep their own limits for the
chart, computed from all of their periods.

Unless the metric's ``baseline_periods`` or the cycle's start say otherwise,
a rebased phase's limits rest on its first ``min_baseline`` values and are
then frozen, as they are for the first phase: later periods are judged
against them, and a phase shorter than that is read as a run chart.

An excluded period keeps its value on the chart (drawn hollow, with its
reason) and becomes a missing value for the statistics: missing periods keep
their index, so a run neither breaks nor grows across it.

Check proposes a rebase when the current phase shows a sustained shift the
good way (the shift rule still running at the latest point) with at least a
shift's length of it (``shift_points``) after a countermeasure was done; the
new phase would start at the first period on or after that day. "The new
process will consistently meet 30" is then a statement about the new phase,
and the old limits would keep calling every week of it a signal.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pdca.state.annotations import NO_ANNOTATIONS, NO_NOTES, Annotations, MetricNotes

if TYPE_CHECKING:
    from pdca.playbook.model import Playbook
    from pdca.state.model import Event, State

COUNTERMEASURE_PHASES = ("do",)
"""Tasks whose completion is a countermeasure: the do phase's work (plan tasks find
causes, check and act tasks judge and standardise; none of them changes the process)."""

SHIFT_RULE = 2
"""The rule number of a run on one side of the centre in every preset."""


@dataclass(frozen=True)
class Recorded:
    """What the state adds to Check's reading of the data: people's notes on the
    charts, and the days countermeasures were done, per metric."""

    annotations: Annotations = NO_ANNOTATIONS
    changes: Mapping[str, tuple[tuple[str, str], ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """metric -> ((day done, task id), ...), oldest first."""

    def notes(self, metric: str) -> MetricNotes:
        return self.annotations.of(metric)

    @classmethod
    def from_state(
        cls, pb: Playbook, state: State, task_events: Iterable[Event] | None = None
    ) -> Recorded:
        """The state's annotations and the days countermeasures were done.

        ``task_events`` (the audit log's ``task_changed`` events, oldest first)
        give every cycle's countermeasures, each task's latest status in its cycle
        deciding; without them, the current cycle's rows do.
        """
        done: dict[tuple[int | None, str], str | None] = {}
        if task_events is None:
            for tid, row in state.tasks.items():
                done[(None, tid)] = row.done_on
        else:
            for e in task_events:
                if e.kind == "task_changed" and e.subject:
                    done[(e.cycle, e.subject)] = (e.on or e.at[:10]) if e.new == "done" else None
        changes: dict[str, set[tuple[str, str]]] = {}
        for (_, tid), day in done.items():
            task = pb.tasks.get(tid)
            if task is None or day is None or task.phase not in COUNTERMEASURE_PHASES:
                continue
            objective = pb.objectives.get(task.objective or "")
            for mid in objective.metrics if objective else ():
                changes.setdefault(mid, set()).add((day, tid))
        return cls(
            state.annotations,
            MappingProxyType({m: tuple(sorted(v)) for m, v in changes.items()}),
        )

    @classmethod
    def from_store(cls, pb: Playbook, store: Any, state: State | None = None) -> Recorded:
        """:meth:`from_state` with every cycle's countermeasures, read from ``store``;
        ``state`` when it was already read, else the store's current one."""
        current = store.read(pb.id) if state is None else state
        return cls.from_state(pb, current, store.events(pb.id, ("task_changed",)))


NOTHING_RECORDED = Recorded()


def mark_excluded(points: Sequence[dict[str, Any]], notes: MetricNotes) -> list[float | None]:
    """Each point's value for the statistics: None for an excluded one, which also
    gets ``excluded`` (its reason, who and when) for the chart and the JSON."""
    values: list[float | None] = []
    for p in points:
        note = notes.excluded.get(str(p.get("start")))
        if note is None:
            values.append(p.get("value"))
        else:
            p["excluded"] = note.to_json()
            values.append(None)
    return values


def starts(points: Sequence[Mapping[str, Any]], notes: MetricNotes) -> list[tuple[int, str | None]]:
    """Where each phase begins: ``(index of its first point, rebase day)``; the
    first phase is ``(0, None)``. A rebase after the last point has no phase yet."""
    days = [str(p["start"]) for p in points]
    found: dict[int, str] = {}
    for day in sorted(notes.rebases):
        k = bisect_left(days, day)
        if 0 < k < len(days):
            found[k] = day  # two rebases before the same period: the later day names it
        elif k == 0 and days:
            found[0] = day
    out: list[tuple[int, str | None]] = [(0, found.pop(0, None))]
    out.extend(sorted(found.items()))
    return out


def frozen_length(values: Sequence[float | None], needed: int) -> int:
    """Periods a rebased phase's limits rest on when nothing else says: up to its
    ``needed``-th value (``check: {min_baseline}``), after which the limits are frozen
    and later periods are judged against them; all of them while there are fewer."""
    seen = 0
    for i, v in enumerate(values):
        seen += v is not None
        if seen == needed:
            return i + 1
    return len(values)


def phase_entry(
    points: Sequence[Mapping[str, Any]],
    begin: int,
    end: int,
    day: str | None,
    limits: Mapping[str, Any] | None,
    notes: MetricNotes,
) -> dict[str, Any]:
    """One phase for the JSON: its name, periods, limits, and the rebase's reason."""
    note = notes.rebases.get(day) if day else None
    return {
        "phase": day or "baseline",
        "first": points[begin]["period"],
        "last": points[end - 1]["period"],
        "periods": end - begin,
        "centre": None if limits is None else limits.get("centre"),
        "lower": None if limits is None else limits.get("lower"),
        "upper": None if limits is None else limits.get("upper"),
        "reason": note.reason if note else None,
        "by": note.by if note else None,
    }


def proposal(
    signal: Mapping[str, Any],
    points: Sequence[Mapping[str, Any]],
    begin: int,
    direction: str,
    changes: Sequence[tuple[str, str]],
) -> dict[str, Any] | None:
    """A rebase Check proposes, or None: a shift the good way that is still running at
    the latest point of the current phase and began after a countermeasure."""
    if signal.get("variation") != "improvement":
        return None
    good = "up" if direction == "increase" else "down"
    present = [i for i, p in enumerate(points) if i >= begin and p.get("value") is not None]
    if not present:
        return None
    latest = present[-1]
    phase_day = str(points[begin]["start"])
    needed = int((signal.get("rule_set") or {}).get("shift_points") or 9)
    for rule in signal.get("rules") or ():
        if rule.get("rule") != SHIFT_RULE or rule.get("direction") != good:
            continue
        indices = rule.get("indices") or []
        if not indices or indices[-1] != latest:
            continue
        # the latest countermeasure of this phase that the run has a shift's length after
        # (a run may begin a point early, by chance, on the good side already)
        for done, task in sorted(changes, reverse=True):
            after = [i for i in indices if str(points[i]["start"]) >= done]
            if done < phase_day or len(after) < needed:
                continue
            first = points[after[0]]
            return {
                "on": str(first["start"]),
                "period": first["period"],
                "periods": len(after),
                "after": {"task": task, "done_on": done},
                "message": (
                    f"A sustained shift the good way since {first['period']} ({len(after)} "
                    f"periods) follows task '{task}', done on {done}: the process has "
                    f"changed. Rebase the limits from {first['start']} so the limits and "
                    "assurance read the new process."
                ),
            }
    return None


__all__ = [
    "NOTHING_RECORDED",
    "NO_NOTES",
    "Recorded",
    "mark_excluded",
    "phase_entry",
    "proposal",
    "starts",
]
