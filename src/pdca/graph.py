"""The playbook as a dependency graph: what feeds what, and what must be done first.

Edges point downstream: source -> metric -> objective, and for tasks
dependency -> dependent -> objective. Node keys are ``kind:id`` so a task and a
metric may share an id. A thin wrapper over networkx, as dbt's graph is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:
    from pdca.playbook.model import Playbook

KINDS = ("source", "metric", "objective", "task")


def key(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def build(playbook: Playbook) -> nx.DiGraph:
    """The whole playbook graph; references to missing entries are left out."""
    g = nx.DiGraph()
    for sid, source in playbook.sources.items():
        g.add_node(key("source", sid), kind="source", id=sid, label=sid, type=source.type)
    for mid, metric in playbook.metrics.items():
        g.add_node(key("metric", mid), kind="metric", id=mid, label=metric.label)
        if metric.source in playbook.sources:
            g.add_edge(key("source", metric.source), key("metric", mid))
    for oid, objective in playbook.objectives.items():
        g.add_node(key("objective", oid), kind="objective", id=oid, label=objective.title)
        for mid in objective.metrics:
            if mid in playbook.metrics:
                g.add_edge(key("metric", mid), key("objective", oid))
    for tid, task in playbook.tasks.items():
        g.add_node(
            key("task", tid),
            kind="task",
            id=tid,
            label=task.title,
            phase=task.phase,
            owner=task.owner,
            hours=task.estimate_hours or 0.0,
        )
    for tid, task in playbook.tasks.items():
        for dep in task.depends_on:
            if dep in playbook.tasks:
                g.add_edge(key("task", dep), key("task", tid))
        if task.objective in playbook.objectives:
            g.add_edge(key("task", tid), key("objective", task.objective))
    return g


def task_graph(playbook: Playbook) -> nx.DiGraph:
    """Tasks only, keyed by task id: the graph cycles and critical paths are about."""
    g = nx.DiGraph()
    g.add_nodes_from(playbook.tasks)
    g.add_edges_from(
        (dep, tid)
        for tid, task in playbook.tasks.items()
        for dep in task.depends_on
        if dep in playbook.tasks
    )
    return g


def cycles(g: nx.DiGraph) -> list[list[str]]:
    """One cycle per tangle of mutually dependent nodes, each as [a, b, ..., a].

    The acyclic check is a single pass; the search for cycles only runs when it
    fails, which is the rare case.
    """
    if nx.is_directed_acyclic_graph(g):
        return []
    found = []
    for component in nx.strongly_connected_components(g):
        if len(component) == 1:
            (node,) = component
            if not g.has_edge(node, node):
                continue
        sub = g.subgraph(component)
        start = min(component)
        edges = nx.find_cycle(sub, source=start)
        path = [edges[0][0]] + [v for _, v in edges]
        found.append(path)
    found.sort()
    return found


def format_cycle(path: Iterable[str]) -> str:
    return " --> ".join(path)


def critical_path(playbook: Playbook) -> tuple[list[str], float]:
    """The chain of dependent tasks with the largest total ``estimate`` (in hours).

    Tasks without an estimate weigh nothing, so they never lengthen the path but
    still connect it.
    """
    g = task_graph(playbook)
    best: dict[str, tuple[float, str | None]] = {}
    for tid in nx.topological_sort(g):
        own = playbook.tasks[tid].estimate_hours or 0.0
        prev = max(
            ((best[p][0], p) for p in g.predecessors(tid)), default=(0.0, None), key=lambda x: x[0]
        )
        best[tid] = (prev[0] + own, prev[1])
    if not best:
        return [], 0.0
    end = max(best, key=lambda t: (best[t][0], t))
    total = best[end][0]
    path = []
    node: str | None = end
    while node is not None:
        path.append(node)
        node = best[node][1]
    path.reverse()
    return path, total


def format_hours(hours: float) -> str:
    """Durations as people say them: 3d 4h, 2w, 6h."""
    if hours <= 0:
        return "0h"
    days, rest = divmod(round(hours), 24)
    parts = []
    if days:
        parts.append(f"{days}d")
    if rest:
        parts.append(f"{rest}h")
    return " ".join(parts)


# -- rendering -----------------------------------------------------------------------

_MERMAID_SHAPES = {
    "source": ('[("', '")]'),
    "metric": ('(["', '"])'),
    "objective": ('{{"', '"}}'),
    "task": ('["', '"]'),
}


def to_mermaid(g: nx.DiGraph, highlight: Iterable[str] = ()) -> str:
    """A mermaid flowchart, which GitHub and GitLab render in Markdown.

    Ids and labels are written as the Markdown report writes its graph
    (:mod:`pdca.report.mermaid`): ``n0``, ``n1`` ... in node order, and labels in
    quotes with mermaid's entity codes, so no title can end a label or add a statement.
    """
    from pdca.report.mermaid import mermaid_ids, mermaid_text

    marked = set(highlight)
    ids = mermaid_ids(g.nodes)
    lines = ["flowchart LR"]
    for node, data in g.nodes(data=True):
        left, right = _MERMAID_SHAPES[data["kind"]]
        label = mermaid_text(data.get("label") or data["id"])
        if data["kind"] == "task":
            who = f"{mermaid_text(data['phase'])} · {mermaid_text(data['owner'])}"
            label = f"{label}<br/><small>{who}</small>"
        lines.append(f"    {ids[node]}{left}{label}{right}")
    for u, v in g.edges():
        lines.append(f"    {ids[u]} --> {ids[v]}")
    for kind in KINDS:
        lines.append(f"    classDef {kind} {_MERMAID_STYLE[kind]}")
    for node, data in g.nodes(data=True):
        lines.append(f"    class {ids[node]} {data['kind']}")
    for node in sorted(marked):
        if node in g:
            lines.append(f"    style {ids[node]} stroke:#c0392b,stroke-width:3px")
    return "\n".join(lines) + "\n"


_MERMAID_STYLE = {
    "source": "fill:#eef3f8,stroke:#5b7896",
    "metric": "fill:#eaf5ee,stroke:#3f8f5a",
    "objective": "fill:#fff6e0,stroke:#b7892b",
    "task": "fill:#ffffff,stroke:#666666",
}


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_DOT_SHAPES = {"source": "cylinder", "metric": "ellipse", "objective": "hexagon", "task": "box"}


def to_dot(g: nx.DiGraph, name: str = "playbook", highlight: Iterable[str] = ()) -> str:
    """Graphviz DOT, for ``dot -Tsvg``."""
    marked = set(highlight)
    lines = [
        f'digraph "{_dot_text(name)}" {{',
        "    rankdir=LR;",
        '    node [fontname="Helvetica"];',
    ]
    for node, data in g.nodes(data=True):
        attrs = [
            f'label="{_dot_text(data.get("label") or data["id"])}"',
            f"shape={_DOT_SHAPES[data['kind']]}",
        ]
        if node in marked:
            attrs.append('color="#c0392b" penwidth=3')
        lines.append(f'    "{_dot_text(node)}" [{", ".join(attrs)}];')
    for u, v in g.edges():
        lines.append(f'    "{_dot_text(u)}" -> "{_dot_text(v)}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_text(playbook: Playbook, g: nx.DiGraph) -> str:
    """An indented outline: objectives with their metrics and sources, then tasks by phase."""
    out: list[str] = []
    for oid, objective in playbook.objectives.items():
        out.append(f"objective {oid}: {objective.title}")
        for mid in objective.metrics:
            metric = playbook.metrics.get(mid)
            src = f" <- source {metric.source}" if metric else ""
            out.append(f"  metric {mid}{src}")
        tasks = [
            u.split(":", 1)[1]
            for u in g.predecessors(key("objective", oid))
            if u.startswith("task:")
        ]
        for tid in tasks:
            out.append(f"  task {tid}")
    order = _task_order(playbook, g)
    if order:
        out.append("tasks (in an order that respects dependencies):")
    for tid in order:
        task = playbook.tasks[tid]
        deps = f"  after: {', '.join(task.depends_on)}" if task.depends_on else ""
        out.append(f"  [{task.phase}] {tid} ({task.owner}){deps}")
    return "\n".join(out) + "\n"


def _task_order(playbook: Playbook, g: nx.DiGraph) -> list[str]:
    from pdca.playbook.model import PHASE_INDEX

    tg = task_graph(playbook)
    index = {tid: i for i, tid in enumerate(playbook.tasks)}
    return list(
        nx.lexicographical_topological_sort(
            tg, key=lambda t: (PHASE_INDEX.get(playbook.tasks[t].phase, 9), index[t])
        )
    )


def summary(g: nx.DiGraph) -> dict[str, Any]:
    counts = {kind: 0 for kind in KINDS}
    for _, data in g.nodes(data=True):
        counts[data["kind"]] += 1
    return {"nodes": counts, "edges": g.number_of_edges()}
