"""Tasks in dependency order, without a graph library.

Every command that loads a playbook checks that its dependencies do not loop,
and ``pdca status`` and ``pdca run`` walk the tasks in dependency order. Both
need only a topological order, which a few lines give in one pass over the
edges; networkx (an import that costs more than the whole check) is left to
the commands that draw or search the graph, and to naming the tasks of a loop
when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class _Task(Protocol):
    depends_on: Sequence[str]


def task_order(tasks: Mapping[str, _Task]) -> list[str] | None:
    """Task ids with each after everything it depends on (playbook order among those
    ready together), or None when dependencies loop. Dependencies on tasks that do
    not exist are ignored, as the graph leaves them out."""
    waiting = {tid: 0 for tid in tasks}
    dependents: dict[str, list[str]] = {}
    for tid, task in tasks.items():
        for dep in task.depends_on:
            if dep in tasks:
                waiting[tid] += 1
                dependents.setdefault(dep, []).append(tid)
    order = [tid for tid, n in waiting.items() if n == 0]
    for tid in order:  # grows while it is walked: each task joins once its last input did
        for nxt in dependents.get(tid, ()):
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                order.append(nxt)
    return order if len(order) == len(tasks) else None
