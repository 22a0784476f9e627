"""Benchmark the report: a 1,000-task, 50-metric playbook rendered as one HTML file.

The workload is a playbook of 1,000 tasks (plan 20%, do 50%, check 15%, act
15%, up to three dependencies each, most with one of 10 objectives), 50
metrics (five per objective) and 20 owners, in the act phase of cycle 1: every
do task done on one of 30 days, decisions taken, lessons written. The state
and the check snapshot are built in memory (the store is not what is
measured): each metric has two years of weekly values with a planted shift,
its signal computed by the real SPC code, so the charts have limits, rings
and countermeasure markers like a real report.

Timed, best and median of REPEAT runs, in this process:

* ``context``: :func:`pdca.report.context.build_document`, the report document
  (review, effects of 500 countermeasures on their metrics, graph);
* ``render html``: the built-in HTML renderer on that document (a fresh Jinja
  environment, template compile included, 50 control charts, the dependency
  graph of 1,010 nodes, 1,000 task rows);
* ``html total``: both; the target is under 1 s;
* ``render markdown`` and ``render json``, for comparison;
* reference: a trivial Jinja template printing one escaped table row per task
  and per series point (the same number of rows as the report), so the ratio
  says how much the report costs beyond merely looping over its data.

Run: ``.venv/bin/python bench/bench_report.py``. Prints; asserts nothing.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from harness import figure, header, result

GOAL_SECONDS = 1.0

TASKS, OWNERS, OBJECTIVES, METRICS_PER, WEEKS, SEED, REPEAT = 1000, 20, 10, 5, 104, 20260105, 7
AS_OF = date(2026, 3, 30)
CYCLE_START = date(2026, 1, 5)
PHASE_SHARE = (("plan", 0.2), ("do", 0.5), ("check", 0.15), ("act", 0.15))


def write_playbook(folder: Path) -> Path:
    """The playbook YAML (its CSV source exists but is never read: the snapshot is built)."""
    rng = random.Random(SEED)
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "facts.csv").write_text("day,x\n2026-01-05,1\n")
    metrics = OBJECTIVES * METRICS_PER
    out = [
        "playbook: bench-report",
        "title: A thousand tasks, fifty metrics",
        "description: The report benchmark's workload.",
        "owners:",
        *(f"  p{i}: {{name: Person {i}}}" for i in range(OWNERS)),
        "sources:",
        "  facts: {type: csv, path: data/facts.csv, timestamp: day}",
        "metrics:",
        *(
            f"  m{i}: {{title: Metric number {i}, source: facts, kpi: mean, field: x, "
            + (
                "baseline: 50, target: 45, warn: 48, direction: decrease"
                if i % 4 == 3
                else "baseline: 50, target: 55, warn: 52"
            )
            + "}"
            for i in range(metrics)
        ),
        "objectives:",
        *(
            f"  o{j}: {{title: Objective {j}, owner: p{j}, due: 2026-03-31, metrics: ["
            + ", ".join(f"m{j * METRICS_PER + k}" for k in range(METRICS_PER))
            + "]}"
            for j in range(OBJECTIVES)
        ),
        "tasks:",
    ]
    ids: list[tuple[str, int]] = []
    n = 0
    for index, (phase, share) in enumerate(PHASE_SHARE):
        for _ in range(int(TASKS * share)):
            tid = f"t{n:04d}"
            earlier = [t for t, p in ids if p <= index]
            deps = rng.sample(earlier[-60:], min(len(earlier[-60:]), rng.randint(0, 3)))
            obj = f"o{rng.randrange(OBJECTIVES)}" if rng.random() < 0.8 else None
            due = CYCLE_START + timedelta(days=7 * index + rng.randint(0, 40))
            owner = f"p{rng.randrange(OWNERS)}"
            line = (
                f"  {tid}: {{title: Task {n} of the improvement plan, owner: {owner}, "
                f"phase: {phase}, due: {due}"
            )
            if obj:
                line += f", objective: {obj}"
            if deps:
                line += f", depends_on: [{', '.join(deps)}]"
            out.append(line + "}")
            ids.append((tid, index))
            n += 1
    out.append(f"cycle: {{start: {CYCLE_START}, length: 90d}}")
    path = folder / "playbook.yaml"
    path.write_text("\n".join(out) + "\n")
    return path


def snapshot_report(pb: Any) -> dict[str, Any]:
    """What the check would have stored: 104 weekly values per metric, shift planted."""
    from pdca.check import readout
    from pdca.check.measure import entry_for, period_label, status_of

    rng = random.Random(SEED + 1)
    first = AS_OF - timedelta(days=AS_OF.weekday()) - timedelta(weeks=WEEKS - 1)
    metrics = {}
    for i, (mid, metric) in enumerate(pb.metrics.items()):
        sign = -1 if metric.direction == "decrease" else 1
        series = []
        for w in range(WEEKS):
            start = first + timedelta(weeks=w)
            shift = 6 * sign if start >= date(2026, 1, 26) and i % 3 else 0
            value = round(50 + shift + rng.gauss(0, 2), 4)
            series.append(
                {
                    "period": period_label(start, "week"),
                    "start": start.isoformat(),
                    "value": value,
                    "n": 200 + w,
                }
            )
        value = series[-1]["value"]
        entry = entry_for(metric, value, 800, series, None)
        entry["status"] = status_of(value, metric)
        entry["signal"] = readout.signal(metric, series, pb.rules, CYCLE_START)
        entry["trend"] = readout.trend(metric, series)
        metrics[mid] = entry
    return {"playbook": pb.id, "title": pb.title, "as_of": AS_OF.isoformat(), "metrics": metrics}


def state_for(pb: Any, report: dict[str, Any]) -> Any:
    """Cycle 1 in act: plan, do and check done (do tasks on one of 30 days), act open."""
    from pdca.state.model import CycleState, Decision, Lesson, Snapshot, State, TaskState

    rng = random.Random(SEED + 2)
    tasks = {}
    for tid, task in pb.tasks.items():
        if task.phase == "do":
            day = date(2026, 1, 20) + timedelta(days=rng.randrange(30))
            status, updated = "done", f"{day}T10:00:00.000Z"
        elif task.phase in ("plan", "check"):
            status, updated = "done", "2026-01-15T10:00:00.000Z"
        else:
            status = rng.choice(("ready", "in_progress", "blocked", "skipped", "pending"))
            updated = "2026-03-31T10:00:00.000Z"
        note = "waiting on the vendor" if status == "blocked" else None
        tasks[tid] = TaskState(tid, status, task.phase, task.owner, updated, note=note)
    decisions = {
        oid: Decision(
            oid,
            "met",
            "standardize",
            "standardize" if j % 2 else None,
            f"p{j}",
            "keep it" if j % 2 else None,
            "2026-04-01T09:00:00.000Z",
        )
        for j, oid in enumerate(pb.objectives)
    }
    cycle = CycleState(1, "act", "2026-01-05T08:00:00.000Z", "2026-03-31T08:00:00.000Z")
    return State(
        playbook=pb.id,
        cycle=cycle,
        tasks=tasks,
        baselines={mid: 50.0 for mid in pb.metrics},
        baseline_origins={mid: "playbook" for mid in pb.metrics},
        snapshot=Snapshot("2026-03-31T08:00:00.000Z", AS_OF.isoformat(), report),
        decisions=decisions,
        cycles=(cycle,),
        lessons=tuple(
            Lesson(1, oid, "standardize", "keep it", "p1", "2026-04-01T09:00:00.000Z")
            for oid in list(pb.objectives)[:3]
        ),
    )


def timed(label: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    runs, result = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    best, median = min(runs), statistics.median(runs)
    print(f"  {label:<28} best {best * 1000:8.1f} ms   median {median * 1000:8.1f} ms")
    return median, result


REFERENCE = """\
<table>{% for tid, t in report.tasks.items() %}
<tr><td>{{ tid }}</td><td>{{ t.title }}</td><td>{{ t.owner }}</td>
<td>{{ t.status }}</td><td>{{ t.due }}</td></tr>
{%- endfor %}</table>
{% for mid, m in report.metrics.items() %}<table>{% for p in m.series %}
<tr><td>{{ p.period }}</td><td>{{ p.value }}</td><td>{{ p.n }}</td></tr>
{%- endfor %}</table>{% endfor %}
"""


def main() -> int:
    import jinja2

    from pdca.playbook import load_checked
    from pdca.report.context import Measured, build_document
    from pdca.report.render import render

    header("bench_report: a 1,000-task, 50-metric HTML report")
    with tempfile.TemporaryDirectory(prefix="pdca-bench-report-") as tmp:
        inspection = load_checked(write_playbook(Path(tmp)))
        pb, registry = inspection.playbook, inspection.registry
        report = snapshot_report(pb)
        state = state_for(pb, report)
        snap = state.snapshot
        measured = Measured("snapshot", snap.as_of, snap.taken, snap.report)
        print(
            f"workload: {len(pb.tasks)} tasks, {len(pb.metrics)} metrics x {WEEKS} weeks, "
            f"{len(pb.objectives)} objectives; best and median of {REPEAT} runs"
        )

        def context() -> dict[str, Any]:
            return build_document(pb, state, as_of=AS_OF, measured=measured)

        t_context, doc = timed("context (build_document)", context)
        t_html, html = timed(
            "render html", lambda: render(doc, "html", registry=registry, playbook_dir=pb.base_dir)
        )
        t_total, _ = timed(
            "html total (context + render)",
            lambda: render(context(), "html", registry=registry, playbook_dir=pb.base_dir),
        )
        timed(
            "render markdown",
            lambda: render(doc, "markdown", registry=registry, playbook_dir=pb.base_dir),
        )
        timed("render json", lambda: render(doc, "json", registry=registry))
        env = jinja2.Environment(autoescape=True)
        rows = len(doc["tasks"]) + sum(len(m["series"]) for m in doc["metrics"].values())
        t_ref, _ = timed(
            f"reference ({rows} plain rows)",
            lambda: env.from_string(REFERENCE).render(report=doc),
        )
        print(
            f"\nHTML report: {len(html) / 1e6:.2f} MB, {html.count('<svg ')} SVGs, "
            f"{len(doc['effects'])} countermeasure effects"
        )
        print(f"context {t_context * 1000:.0f} ms + render {t_html * 1000:.0f} ms (medians)")
        note = "reference: a plain template looping over the same rows"
        figure("render html", t_html, t_ref, note=note)
        figure("html total (context + render)", t_total, t_ref)
        result(
            "report.html_total",
            t_total,
            t_ref,
            "s",
            f"pdca<={GOAL_SECONDS:g}s",
            t_total <= GOAL_SECONDS,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
