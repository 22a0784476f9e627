"""The task graph of a cycle as a layered left-to-right SVG.

Data flows left to right (sources → metrics → tasks → objectives), so a reader
follows a late objective back to the upstream task that holds it up. Layering
is by longest path from the sources, which keeps every edge pointing right;
the order inside a column is improved by a few barycentre sweeps, the classic
Sugiyama heuristic, which is linear in the edges per sweep: a few hundred
nodes lay out in a few milliseconds, with no graph-drawing dependency.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pdca.report.svg import (
    FONT,
    INK,
    MUTED,
    STATUS_STYLES,
    SVG_NS,
    el,
    esc,
    num,
    text_width,
    truncate,
    uid,
)
from pdca.report.svg import title as _tooltip

NODE_W = 184.0
NODE_H = 56.0
GAP_X = 52.0
GAP_Y = 14.0
PAD = 12.0
EDGE = "#8895a7"
CYCLE_EDGE = "#a3281d"
NEUTRAL = {"fill": "#ffffff", "ink": "#52606d"}

_TASK_STATUS: dict[str, tuple[str, str]] = {
    # task / run statuses → (style of a KPI status or "blue", word shown)
    "done": ("met", "Done"),
    "ok": ("met", "OK"),
    "success": ("met", "Done"),
    "succeeded": ("met", "Done"),
    "completed": ("met", "Done"),
    "passed": ("met", "Passed"),
    "running": ("blue", "Running"),
    "in_progress": ("blue", "In progress"),
    "active": ("blue", "Active"),
    "pending": ("no_data", "Pending"),
    "todo": ("no_data", "To do"),
    "planned": ("no_data", "Planned"),
    "waiting": ("no_data", "Waiting"),
    "not_started": ("no_data", "Not started"),
    "skipped": ("no_data", "Skipped"),
    "blocked": ("at_risk", "Blocked"),
    "overdue": ("off_track", "Overdue"),
    "failed": ("off_track", "Failed"),
    "failure": ("off_track", "Failed"),
}
_BLUE = {"fill": "#e6f0fa", "ink": "#1f5f99"}

KIND_LABELS = {"task": "Task", "objective": "Objective", "metric": "Metric", "source": "Source"}


def node_style(status: Any) -> tuple[dict[str, str], str]:
    """(colours, word) for a node status: KPI statuses and common task states, else neutral.

    The word is always printed in the box, so the colour is never the only cue.
    """
    if status is None or str(status).strip() == "":
        return NEUTRAL, ""
    key = str(status).strip().lower().replace(" ", "_").replace("-", "_")
    if key in STATUS_STYLES:
        style = STATUS_STYLES[key]
        return {"fill": style["fill"], "ink": style["ink"]}, style["label"]
    if key in _TASK_STATUS:
        base, word = _TASK_STATUS[key]
        colours = _BLUE if base == "blue" else STATUS_STYLES[base]
        return {"fill": colours["fill"], "ink": colours["ink"]}, word
    return NEUTRAL, str(status).replace("_", " ")


@dataclass(slots=True)
class _Node:
    id: str
    label: str
    kind: str
    status: Any
    phase: str
    order: int


def layer_nodes(
    ids: Sequence[str], edges: Iterable[tuple[str, str]]
) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Longest-path layer of every node (sources at 0), and the edges that close a cycle.

    Kahn's algorithm in O(V + E). A playbook graph should be acyclic (the
    validator says so), but the report must still draw a broken one: when no
    node is free, the earliest remaining node is placed anyway and its unplaced
    incoming edges are reported as cycle edges, to be drawn in red.
    """
    index = {v: i for i, v in enumerate(ids)}
    preds: dict[str, list[str]] = {v: [] for v in ids}
    succs: dict[str, list[str]] = {v: [] for v in ids}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    indeg = {v: len(preds[v]) for v in ids}
    layer: dict[str, int] = {}
    queue = deque(v for v in ids if indeg[v] == 0)
    remaining = set(ids)
    cycle_edges: set[tuple[str, str]] = set()
    while remaining:
        if not queue:
            v = min(remaining, key=index.__getitem__)
            for u in preds[v]:
                if u not in layer:
                    cycle_edges.add((u, v))
            indeg[v] = 0
            queue.append(v)
        v = queue.popleft()
        if v not in remaining:
            continue
        remaining.discard(v)
        placed = [layer[u] for u in preds[v] if u in layer]
        layer[v] = max(placed) + 1 if placed else 0
        for w in succs[v]:
            if w in remaining:
                indeg[w] -= 1
                if indeg[w] == 0:
                    queue.append(w)
    return layer, cycle_edges


def order_layers(
    layers: list[list[str]],
    preds: Mapping[str, list[str]],
    succs: Mapping[str, list[str]],
    sweeps: int = 4,
) -> list[list[str]]:
    """Reorder each column by the mean position of its neighbours (barycentre method).

    Alternating left-to-right and right-to-left sweeps untangle most crossings
    in real task graphs; nodes without neighbours on the reference side keep
    their place, and ties keep the playbook's order (stable sort), so the
    picture is deterministic.
    """
    pos: dict[str, float] = {}
    for col in layers:
        for k, v in enumerate(col):
            pos[v] = float(k)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        indices = range(1, len(layers)) if forward else range(len(layers) - 2, -1, -1)
        for li in indices:
            col = layers[li]
            keys = []
            for v in col:
                neighbours = preds[v] if forward else succs[v]
                ref = [pos[u] for u in neighbours if u in pos]
                keys.append(sum(ref) / len(ref) if ref else pos[v])
            ranked = sorted(range(len(col)), key=lambda k, keys=keys: keys[k])
            layers[li] = [col[k] for k in ranked]
            for k, v in enumerate(layers[li]):
                pos[v] = float(k)
    return layers


def dependency_graph(
    nodes: Sequence[Mapping[str, Any]],
    edges: Iterable[Sequence[str]],
    *,
    title: str = "",
) -> str:
    """The task/objective graph: rounded boxes by layer, coloured by status, curved arrows.

    ``nodes``: ``{"id", "label", "kind", "status"?, "phase"?}``; ``edges``:
    ``(upstream_id, downstream_id)``. Edges to unknown ids and self-loops are
    ignored (the validator reports them; the picture should not fail on them).
    Labels are truncated to the box with the full text in a tooltip.
    """
    items: list[_Node] = []
    seen: set[str] = set()
    for i, raw in enumerate(nodes):
        nid = str(raw.get("id", ""))
        if not nid or nid in seen:
            continue
        seen.add(nid)
        items.append(
            _Node(
                id=nid,
                label=str(raw.get("label") or nid),
                kind=str(raw.get("kind") or "task"),
                status=raw.get("status"),
                phase=str(raw.get("phase") or ""),
                order=i,
            )
        )
    ident = uid("dag", [(n.id, n.label, n.status) for n in items], title)
    if not items:
        return _empty(ident, title)

    by_id = {n.id: n for n in items}
    edge_list: list[tuple[str, str]] = []
    edge_seen: set[tuple[str, str]] = set()
    for pair in edges:
        a, b = str(pair[0]), str(pair[1])
        if a == b or a not in by_id or b not in by_id or (a, b) in edge_seen:
            continue
        edge_seen.add((a, b))
        edge_list.append((a, b))

    ids = [n.id for n in items]
    layer, cycle_edges = layer_nodes(ids, edge_list)
    preds: dict[str, list[str]] = {v: [] for v in ids}
    succs: dict[str, list[str]] = {v: [] for v in ids}
    for a, b in edge_list:
        preds[b].append(a)
        succs[a].append(b)
    n_layers = max(layer.values()) + 1
    columns: list[list[str]] = [[] for _ in range(n_layers)]
    for v in ids:
        columns[layer[v]].append(v)
    columns = order_layers(columns, preds, succs)

    tallest = max(len(col) for col in columns)
    head = 32.0 if title else 0.0
    width = 2 * PAD + n_layers * NODE_W + (n_layers - 1) * GAP_X
    height = head + 2 * PAD + tallest * NODE_H + (tallest - 1) * GAP_Y
    xy: dict[str, tuple[float, float]] = {}
    for li, col in enumerate(columns):
        offset = (tallest - len(col)) * (NODE_H + GAP_Y) / 2
        for k, v in enumerate(col):
            xy[v] = (PAD + li * (NODE_W + GAP_X), head + PAD + offset + k * (NODE_H + GAP_Y))

    parts = [
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {num(width)} {num(height)}" width="100%"'
        f' style="max-width:{num(width)}px" preserveAspectRatio="xMidYMin meet" role="img"'
        f' aria-labelledby="{ident}-title {ident}-desc" font-family="{esc(FONT)}">',
        f'<title id="{ident}-title">{esc(title or "Task dependency graph")}</title>',
        f'<desc id="{ident}-desc">{esc(_describe(items, edge_list, layer, cycle_edges))}</desc>',
        "<defs>",
        _arrow(f"{ident}-arrow", EDGE),
        _arrow(f"{ident}-arrow-cycle", CYCLE_EDGE),
        "</defs>",
    ]
    if title:
        parts.append(
            el(
                "text",
                esc(truncate(title, width - 2 * PAD, 17)),
                x=PAD,
                y=22.0,
                font_size=17,
                font_weight="600",
                fill=INK,
            )
        )

    edge_parts: list[str] = []
    for a, b in edge_list:
        ax, ay = xy[a]
        bx, by = xy[b]
        x1, y1 = ax + NODE_W, ay + NODE_H / 2
        x2, y2 = bx - 2, by + NODE_H / 2
        cycle = (a, b) in cycle_edges
        if x2 > x1:
            dx = max(24.0, (x2 - x1) / 2)
            d = (
                f"M{num(x1)} {num(y1)} C{num(x1 + dx)} {num(y1)}"
                f" {num(x2 - dx)} {num(y2)} {num(x2)} {num(y2)}"
            )
        else:  # a backward (cycle) edge: loop out right, over the boxes, and back in
            lift = min(ay, by) - GAP_Y / 2
            d = (
                f"M{num(x1)} {num(y1)} C{num(x1 + 40)} {num(y1)} {num(x1 + 40)} {num(lift)}"
                f" {num((x1 + x2) / 2)} {num(lift)} S{num(x2 - 40)} {num(y2)} {num(x2)} {num(y2)}"
            )
        tip = f"{by_id[a].label} → {by_id[b].label}" + (" (closes a cycle)" if cycle else "")
        edge_parts.append(
            el(
                "path",
                _tooltip(tip),
                d=d,
                fill="none",
                stroke=CYCLE_EDGE if cycle else EDGE,
                stroke_width=1.4,
                stroke_dasharray="5 3" if cycle else None,
                marker_end=f"url(#{ident}-arrow-cycle)" if cycle else f"url(#{ident}-arrow)",
                class_="pdca-edge" + (" pdca-cycle" if cycle else ""),
                data_from=a,
                data_to=b,
            )
        )
    parts.extend(edge_parts)

    for v in ids:
        parts.append(_node_box(by_id[v], *xy[v], layer[v]))
    parts.append("</svg>")
    return "".join(parts)


def _arrow(ident: str, colour: str) -> str:
    return (
        f'<marker id="{ident}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        f' markerHeight="7" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0 1 L10 5 L0 9 Z" fill="{colour}"/></marker>'
    )


def wrap(text: str, max_width: float, size: float, max_lines: int = 2) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines, the last one truncated.

    Task names are short sentences ("Rewrite the top-10 macros"); two lines show
    most of them whole, where one truncated line would hide the verb or object.
    """
    words = text.split()
    lines: list[str] = []
    current = ""
    for k, word in enumerate(words):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size) <= max_width or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            current = " ".join(words[k:])
            break
    if current:
        lines.append(current)
    return [truncate(line, max_width, size) for line in lines] or [""]


def _node_box(node: _Node, x: float, y: float, layer: int) -> str:
    colours, word = node_style(node.status)
    kind = KIND_LABELS.get(node.kind, node.kind.replace("_", " ").capitalize())
    caption = kind.upper() + (f" · {node.phase.upper()}" if node.phase else "")
    objective = node.kind == "objective"
    tip = f"{node.label}\n{kind}" + (f", {node.phase} phase" if node.phase else "")
    if word:
        tip += f"\nStatus: {word}"
    tip += f"\nid: {node.id}"
    status_w = text_width(word, 10) if word else 0.0
    caption = truncate(caption, NODE_W - 20 - status_w - 6, 10)
    content = [
        _tooltip(tip),
        el(
            "rect",
            x=x,
            y=y,
            width=NODE_W,
            height=NODE_H,
            rx=8 if objective else 6,
            fill=colours["fill"],
            stroke=colours["ink"],
            stroke_width=2.2 if objective else 1.1,
        ),
        el(
            "text",
            esc(caption),
            x=x + 10,
            y=y + 15,
            font_size=10,
            letter_spacing="0.04em",
            fill=MUTED,
        ),
    ]
    lines = wrap(node.label, NODE_W - 20, 13.0 * (1.06 if objective else 1.0), max_lines=2)
    first_y = y + (33.0 if len(lines) > 1 else 39.0)
    for k, line in enumerate(lines):
        content.append(
            el(
                "text",
                esc(line),
                x=x + 10,
                y=first_y + k * 15,
                font_size=13,
                font_weight="600" if objective else "500",
                fill=INK,
            )
        )
    if word:
        content.append(
            el(
                "text",
                esc(word),
                x=x + NODE_W - 10,
                y=y + 15,
                text_anchor="end",
                font_size=10,
                font_weight="600",
                fill=colours["ink"],
            )
        )
    return el(
        "g",
        "".join(content),
        class_=f"pdca-node pdca-{node.kind}",
        data_id=node.id,
        data_layer=str(layer),
    )


def _describe(
    items: list[_Node],
    edges: list[tuple[str, str]],
    layer: Mapping[str, int],
    cycle_edges: set[tuple[str, str]],
) -> str:
    counts: dict[str, int] = {}
    for n in items:
        counts[n.kind] = counts.get(n.kind, 0) + 1
    kinds = ", ".join(f"{c} {k}{'s' if c != 1 else ''}" for k, c in sorted(counts.items()))
    text = (
        f"{kinds}; {len(edges)} dependenc{'ies' if len(edges) != 1 else 'y'} "
        f"in {max(layer.values()) + 1} column(s), upstream on the left."
    )
    words: dict[str, int] = {}
    for n in items:
        word = node_style(n.status)[1]
        if word:
            words[word] = words.get(word, 0) + 1
    if words:
        text += " Status: " + ", ".join(f"{c} {w.lower()}" for w, c in words.items()) + "."
    if cycle_edges:
        text += f" {len(cycle_edges)} edge(s) close a cycle and are drawn dashed red."
    return text


def _empty(ident: str, title: str) -> str:
    width, height = 480.0, 90.0
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {num(width)} {num(height)}" width="100%"'
        f' style="max-width:{num(width)}px" role="img" aria-labelledby="{ident}-title"'
        f' font-family="{esc(FONT)}">'
        f'<title id="{ident}-title">{esc(title or "Task dependency graph")}: no tasks</title>'
        + el(
            "rect",
            x=2.0,
            y=2.0,
            width=width - 4,
            height=height - 4,
            rx=8,
            fill="#f5f7fa",
            stroke="#9aa5b1",
            stroke_dasharray="6 4",
        )
        + el(
            "text",
            "No tasks to show",
            x=width / 2,
            y=height / 2 + 5,
            text_anchor="middle",
            font_size=14,
            font_weight="600",
            fill=MUTED,
        )
        + "</svg>"
    )
