"""``pdca run`` over many automated tasks: linear growth, a small cost per attempt.

A playbook of N automated tasks that each run ``true`` (no dependencies) and a
person's task after them, so the run stops there without measuring. Each size
runs ``pdca run`` once on a fresh SQLite state, as a fresh process, and counts
its CPU time (user + system, with the commands it ran) and its wall time. The
reference runs ``true`` N times from a Python loop with :mod:`subprocess`: the
cost of the commands themselves, with nothing recorded.

The per-attempt overhead is pdca's CPU per attempt beyond the reference's per
command, from the slope between the smallest and the largest size (start-up
and the final summary cancel out).

Goals: 1,000 tasks within 15 s of CPU (the time the run itself costs; on a
busy machine its wall time also holds the waits for a core and for each
commit's fsync, printed beside); overhead under 10 ms per attempt; growth
linear (1,000 tasks cost at most 1.25 times ten times 100 tasks).

    python bench/bench_run.py [--sizes 100,300,1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import figure, header, pdca_env, result

GOAL = 15.0
OVERHEAD_GOAL = 0.010
GROWTH_GOAL = 1.25


def write_playbook(folder: Path, n: int) -> Path:
    lines = ["playbook: many", "title: Many automated tasks", "owners:", "  tom: {name: Tom}"]
    lines.append("tasks:")
    for i in range(n):
        lines.append(
            f"  t{i}: {{title: T{i}, owner: tom, phase: plan, "
            "action: {type: shell, command: 'true'}}"
        )
    lines.append("  review: {title: Review, owner: tom, phase: plan, depends_on: [t0]}")
    path = folder / "playbook.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pdca_run(n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one ``pdca run`` over ``n`` tasks, checked done."""
    with tempfile.TemporaryDirectory() as tmp:
        playbook = write_playbook(Path(tmp), n)
        argv = [sys.executable, "-m", "pdca", "run", str(playbook), "--format", "json"]
        cpu, start = children_cpu(), time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=pdca_env(), check=False)
        wall, cpu = time.perf_counter() - start, children_cpu() - cpu
        if done.returncode != 0:
            raise SystemExit(f"pdca run failed: {done.stderr[-2000:]}")
        status = subprocess.run(
            [sys.executable, "-m", "pdca", "status", str(playbook), "--format", "json"],
            capture_output=True,
            text=True,
            env=pdca_env(),
            check=True,
        )
        tasks = json.loads(status.stdout)["tasks"]
        ran = sum(1 for tid, t in tasks.items() if tid != "review" and t["status"] == "done")
        if ran != n:
            raise SystemExit(f"pdca run finished {ran} of {n} tasks")
    return cpu, wall


def reference(n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of running ``true`` ``n`` times from Python."""
    cpu_before, start = time.process_time() + children_cpu(), time.perf_counter()
    for _ in range(n):
        subprocess.run(["true"], check=True)
    return time.process_time() + children_cpu() - cpu_before, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    header("bench_run: pdca run over automated tasks that run `true`")
    found = {}
    for n in sizes:
        cpu, wall = pdca_run(n)
        ref_cpu, ref_wall = reference(n)
        found[n] = (cpu, wall, ref_cpu, ref_wall)
        print(f"{n:,} tasks:")
        figure("CPU", cpu, ref_cpu, note="reference: `true` n times from a Python loop")
        figure("wall", wall, ref_wall)
    small, large = min(sizes), max(sizes)
    cpu_s, _, ref_s, _ = found[small]
    cpu_l, wall_l, ref_l, ref_wall_l = found[large]
    per_attempt = (cpu_l - cpu_s) / (large - small)
    per_command = (ref_l - ref_s) / (large - small)
    overhead = per_attempt - per_command
    growth = cpu_l / cpu_s
    linear = large / small
    print(f"per attempt: {per_attempt * 1000:.2f} ms CPU; per `true` {per_command * 1000:.2f} ms")
    figure("overhead per attempt beyond the command", overhead, per_command)
    print(f"growth {small:,} -> {large:,} tasks: {growth:.2f}x CPU (linear: {linear:.2f}x)")
    figure(f"{large:,} tasks, wall", wall_l, ref_wall_l)
    result(f"run.{large}_tasks_cpu", cpu_l, ref_l, "s", f"pdca<={GOAL:g}s", cpu_l <= GOAL)
    result(
        "run.overhead_per_attempt",
        overhead,
        per_command,
        "s",
        f"pdca<={OVERHEAD_GOAL * 1000:g}ms",
        overhead <= OVERHEAD_GOAL,
    )
    result(
        f"run.growth_{small}_to_{large}",
        growth,
        linear,
        "x",
        f"ratio<={GROWTH_GOAL:g}",
        growth / linear <= GROWTH_GOAL,
    )


if __name__ == "__main__":
    main()
