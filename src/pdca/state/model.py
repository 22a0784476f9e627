"""What the store hands the engine (a :class:`State`) and what it takes back (:class:`Changes`).

The engine never touches the database: it reads a State, decides, and returns
Changes; the store writes them in the same transaction it read the State in.
That keeps every rule of the cycle testable with plain objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pdca.state.annotations import NO_ANNOTATIONS, Annotations
from pdca.state.checkins import Checkin
from pdca.state.digests import Mark

TASK_STATUSES: tuple[str, ...] = (
    "pending",
    "ready",
    "in_progress",
    "done",
    "blocked",
    "skipped",
    "failed",
)
FINISHED: frozenset[str] = frozenset({"done", "skipped"})
"""Statuses that let dependents go ahead and count towards a complete phase."""

CYCLE_PHASES: tuple[str, ...] = ("plan", "do", "check", "act", "closed")
DECISIONS: tuple[str, ...] = ("standardize", "adjust", "abandon")

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


@dataclass(frozen=True)
class TaskState:
    """One task's row in one cycle."""

    id: str
    status: str
    phase: str
    owner: str
    updated: str
    archived: bool = False
    attempts: int = 0
    failures: int = 0
    by: str | None = None
    note: str | None = None
    on: str | None = None
    """The day (``YYYY-MM-DD``) of the last status change; ``updated`` is when it was recorded."""

    @property
    def done_on(self) -> str | None:
        """The day the task was completed, or None while it is not done."""
        return self.on if self.status == "done" else None


@dataclass(frozen=True)
class CycleState:
    """``started`` is the day the cycle opened (``YYYY-MM-DD``); ``recorded`` the
    wall-clock time that was written; ``closed_on`` the day it closed."""

    number: int
    phase: str
    started: str
    phase_since: str
    closed: str | None = None
    recorded: str | None = None
    closed_on: str | None = None

    @property
    def is_closed(self) -> bool:
        return self.phase == "closed"


@dataclass(frozen=True)
class Attempt:
    """One run of an automated task; ``outcome`` is running, ok, failed, interrupted
    (its run died) or cancelled (its run was stopped and ended it)."""

    task: str
    number: int
    started: str
    outcome: str = "running"
    finished: str | None = None
    exit_code: int | None = None
    duration: float | None = None
    output: str | None = None
    error: str | None = None
    host: str | None = None
    pid: int | None = None


@dataclass(frozen=True)
class Decision:
    """The act-phase verdict on one objective: proposed by the engine, taken by a person."""

    objective: str
    status: str
    proposed: str
    decision: str | None = None
    by: str | None = None
    note: str | None = None
    decided: str | None = None
    decided_on: str | None = None


@dataclass(frozen=True)
class Lesson:
    """A decision note, carried from cycle to cycle."""

    cycle: int
    objective: str
    decision: str
    note: str
    by: str | None
    decided: str | None


@dataclass(frozen=True)
class Snapshot:
    """The metrics as measured when the cycle entered check."""

    taken: str
    as_of: str
    report: Mapping[str, Any]


@dataclass(frozen=True)
class Event:
    """One line of the audit log: who changed what, when, and why."""

    kind: str
    at: str
    cycle: int | None = None
    by: str | None = None
    subject: str | None = None
    old: str | None = None
    new: str | None = None
    note: str | None = None
    data: Mapping[str, Any] | None = None
    id: int | None = None
    on: str | None = None
    """The day it happened (``YYYY-MM-DD``); ``at`` is when it was recorded."""

    def data_json(self) -> str | None:
        return None if self.data is None else json.dumps(self.data, sort_keys=True, default=str)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "on": self.on or self.at[:10],
            "recorded": self.at,
            "cycle": self.cycle,
            "by": self.by,
            "kind": self.kind,
            "subject": self.subject,
            "old": self.old,
            "new": self.new,
            "note": self.note,
            "data": dict(self.data) if self.data is not None else None,
        }


@dataclass(frozen=True)
class PlaybookRef:
    """What the store records about the playbook a transaction is for."""

    id: str
    title: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class State:
    """Everything the engine needs about one playbook, read in one transaction.

    ``tasks``, ``running``, ``baselines``, ``snapshot`` and ``decisions`` are
    those of the current (latest) cycle; ``cycles``, ``lessons`` and
    ``annotations`` span all.
    """

    playbook: str
    cycle: CycleState | None = None
    tasks: Mapping[str, TaskState] = field(default_factory=_empty)
    running: Mapping[str, Attempt] = field(default_factory=_empty)
    baselines: Mapping[str, float | None] = field(default_factory=_empty)
    baseline_origins: Mapping[str, str] = field(default_factory=_empty)
    snapshot: Snapshot | None = None
    decisions: Mapping[str, Decision] = field(default_factory=_empty)
    cycles: tuple[CycleState, ...] = ()
    lessons: tuple[Lesson, ...] = ()
    revision: int = 0
    annotations: Annotations = NO_ANNOTATIONS
    """Excluded points and rebases of every metric, across cycles (from the audit log)."""
    checkins: Mapping[str, tuple[Checkin, ...]] = field(default_factory=_empty)
    """Each objective's check-ins, oldest first, across cycles (from the audit log)."""
    digests: Mapping[str, tuple[Mark, ...]] = field(default_factory=_empty)
    """Each person's digest and reminder marks, oldest first (from the audit log)."""


@dataclass
class Changes:
    """What one transaction writes. Task rows are whole rows, keyed by (cycle, task)."""

    cycles: dict[int, CycleState] = field(default_factory=dict)
    tasks: dict[tuple[int, str], TaskState] = field(default_factory=dict)
    attempts: dict[tuple[int, str, int], Attempt] = field(default_factory=dict)
    baselines: dict[tuple[int, str], tuple[float | None, str]] = field(default_factory=dict)
    decisions: dict[tuple[int, str], Decision] = field(default_factory=dict)
    snapshot: tuple[int, Snapshot] | None = None
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.cycles
            or self.tasks
            or self.attempts
            or self.baselines
            or self.decisions
            or self.snapshot
            or self.events
        )
