"""Playbook loading speed: load + validate vs ``yaml.load`` with the C loader.

pdca pauses the garbage collector while it builds a playbook (many small
objects, no cycles to collect), so the fair reference is ``yaml.load(...,
Loader=yaml.CSafeLoader)`` with the collector paused too; the figure with it
running is printed beside. Goal: validating a 10,000-task playbook within 1.3x
of that reference. ``pdca --help`` is timed in ``bench_startup.py``.

    python bench/bench_playbook.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import tempfile
from pathlib import Path

import yaml
from harness import best_of, figure, header, result

GOAL = 1.3


def make_playbook(n_tasks: int, seed: int = 7) -> str:
    """A realistic large playbook: owners, metrics, objectives, tasks over four phases."""
    rng = random.Random(seed)
    phases = ["plan", "do", "check", "act"]
    lines = [
        f"playbook: bench-{n_tasks}",
        f"title: Benchmark playbook with {n_tasks} tasks",
        "owners:",
    ]
    owners = [f"agent-{i}" for i in range(50)]
    lines += [f"  {o}: {{name: Agent {o[6:]}, email: {o}@example.com}}" for o in owners]
    lines += ["  team: {name: The team, members: [agent-0, agent-1, agent-2]}", "sources:"]
    lines += ["  tickets: {type: csv, path: data/tickets.csv, timestamp: created_at}", "metrics:"]
    for i in range(20):
        lines += [
            f"  m{i}:",
            f"    title: Metric {i}",
            "    source: tickets",
            "    kpi: mean",
            "    field: first_response_minutes",
            f"    target: {100 + i}",
            f"    warn: {150 + i}",
            "    direction: decrease",
        ]
    lines.append("objectives:")
    for i in range(10):
        metrics = f"[m{2 * i}, m{2 * i + 1}]"
        lines.append(f"  o{i}: {{title: Objective {i}, owner: agent-{i}, metrics: {metrics}}}")
    lines.append("tasks:")
    per_phase = n_tasks // 4
    for i in range(n_tasks):
        phase = phases[min(i // per_phase, 3)]
        lines += [
            f"  t{i}:",
            f"    title: Task number {i} of the improvement plan",
            f"    owner: {rng.choice(owners)}",
            f"    phase: {phase}",
            f"    objective: o{i % 10}",
            f"    due: 2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            f"    estimate: {1 + i % 5}d",
        ]
        if i:
            deps = sorted({rng.randrange(max(0, i - 50), i) for _ in range(rng.randint(1, 3))})
            deps = [d for d in deps if d // per_phase <= i // per_phase]
            if deps:
                lines.append(f"    depends_on: [{', '.join(f't{d}' for d in deps)}]")
    return "\n".join(lines) + "\n"


def bench_file(path: Path, repeat: int) -> None:
    from pdca import graph
    from pdca.playbook import inspect
    from pdca.plugins import build_registry, get_plugin_manager

    pm = get_plugin_manager(entry_points=False)
    build_registry(pm)
    text = path.read_text()

    def reference() -> object:
        return yaml.load(path.read_text(), Loader=yaml.CSafeLoader)

    def reference_no_gc() -> object:
        gc.disable()
        try:
            return yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        finally:
            gc.enable()

    def pdca_validate() -> object:
        result = inspect(path, plugin_manager=pm)
        assert result.ok, result.errors[:3]
        return result

    def pdca_validate_graph() -> object:
        result = pdca_validate()
        return graph.build(result.playbook)  # type: ignore[attr-defined]

    ref = best_of(reference, repeat)
    ref_nogc = best_of(reference_no_gc, repeat)
    val = best_of(pdca_validate, repeat)
    full = best_of(pdca_validate_graph, repeat)
    n = len(re.findall(r"^  t[0-9]+:$", text, re.M))
    print(f"{path.name}: {len(text) / 1e6:.2f} MB, {n} tasks")
    note = "reference: yaml.load CSafeLoader, GC paused as pdca does"
    ratio = figure("load+validate", val, ref_nogc, note=note)
    figure("load+validate", val, ref, note="reference: yaml.load CSafeLoader, GC running")
    figure("load+validate+graph", full, ref_nogc)
    result(f"playbook.validate_{n}_tasks", val, ref_nogc, "s", f"ratio<={GOAL:g}", ratio <= GOAL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tasks", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    header("bench_playbook: load + validate vs yaml.load")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.tasks:
            path = Path(tmp) / f"playbook-{n}.yaml"
            path.write_text(make_playbook(n))
            bench_file(path, args.repeat)


if __name__ == "__main__":
    main()
