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
  (review, effects of countermeasures on their metrics, graph);
* ``render html``: the built-in HTML renderer on that document (a fresh Jinja
  environment, template compile included, 50 control charts, the dependency
  graph of 1,010 nodes, 1,000 task rows);
* ``html total``: both; the target is under 1 s;
* ``render markdown`` and ``render json``, for comparison;
* the reference: a hand-written renderer (f-strings and ``html.escape``, no
  template engine) of the same document, which is the status JSON plus each
  metric's check entry, what a user writing their own report would read. It
  renders the same task table and, per metric, a control chart with every
  period's point, the judged signals ringed with their rule numbers, and the
  centre, limit, target, warn and baseline lines. Its total is
  ``build_document`` plus it, so the ratio of totals is the renderer's alone.

What a report's "same numbers" are is its content, so before timing both
pages are read back the same way and must agree: every task row's cells as
text (title, id, owner, status, due and the overdue flag, objective, note),
and every control chart's points (period index, value, the rules ringing it)
and reference lines (centre, limits, target, warn, baseline). What the
reference does not draw, and so what the ratio pays for: the axis with round
ticks and thinned labels, the pixel layout pdca chooses, legends, MDC icons,
objective cards and sparklines, countermeasure markers, the review sections,
the dependency graph and the page's styles and script.

Run: ``.venv/bin/python bench/bench_report.py``. Prints; asserts only that
the content agrees.
"""

from __future__ import annotations

import html
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from html import escape as esc
from pathlib import Path
from typing import Any

from harness import figure, header, result

from pdca.state.model import TASK_STATUSES

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
            status, updated, on = "done", f"{day}T10:00:00.000Z", day.isoformat()
        elif task.phase in ("plan", "check"):
            status, updated, on = "done", "2026-01-15T10:00:00.000Z", "2026-01-15"
        else:
            status = rng.choice(("ready", "in_progress", "blocked", "skipped", "pending"))
            updated, on = "2026-03-31T10:00:00.000Z", "2026-03-31"
        note = "waiting on the vendor" if status == "blocked" else None
        # `on` is the day it happened: without it no do task counts as completed,
        # and the report would draw no countermeasure effects at all
        tasks[tid] = TaskState(tid, status, task.phase, task.owner, updated, note=note, on=on)
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


# ---- the reference: the same rows and chart points, rendered by hand ----

STATUS_LABEL = {s: s.replace("_", " ").capitalize() for s in TASK_STATUSES}


def reference(doc: dict[str, Any]) -> str:
    """A hand-written HTML report of pdca's report document (the status JSON and each
    metric's check entry): the task table, and a control chart per metric with every
    period's point (signal points ringed, their rules named), the centre, limits, target,
    warn level and baseline, on a plain linear scale."""
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>", esc(doc["title"])]
    out.append("</title></head><body><h1>" + esc(doc["title"]) + "</h1>")
    for mid, entry in doc["metrics"].items():
        out.append(_chart(mid, entry))
    out.append(
        "<table><thead><tr><th>Task</th><th>Owner</th><th>Status</th><th>Due</th>"
        "<th>Objective</th><th>Note</th></tr></thead><tbody>"
    )
    objectives = doc["objectives"]
    for tid, t in doc["tasks"].items():
        objective = objectives[t["objective"]]["title"] if t["objective"] else ""
        note = esc(t["note"] or "")
        if t["note"] and t["by"]:
            note += " — " + esc(doc["owners"].get(t["by"], {}).get("name", t["by"]))
        if t["completed"]:
            note += f" done {t['completed']}"
        out.append(
            f'<tr class="task st-{t["status"]}" id="task-{tid}"><td>{esc(t["title"])} {tid}</td>'
            f"<td>{esc(t['owner_name'])}</td><td>{STATUS_LABEL[t['status']]}"
            f"{' automated' if t['automated'] else ''}</td>"
            f"<td>{t['due'] or '–'}{' overdue' if t['overdue'] else ''}</td>"
            f"<td>{esc(objective)}</td><td>{note}</td></tr>"
        )
    out.append("</tbody></table></body></html>")
    return "".join(out)


def _chart(mid: str, entry: dict[str, Any]) -> str:
    series, signal = entry["series"], entry["signal"]
    limits = signal["limits"]
    rules: dict[int, set[int]] = {}
    for found in signal["rules"]:  # the judged periods' signals; the baseline's are not ringed
        for i in found["indices"]:
            rules.setdefault(i, set()).add(found["rule"])
    lines = {
        "centre": limits["centre"],
        "upper": limits["upper"],
        "lower": limits["lower"],
        "target": entry["target"],
        "warn": entry["warn"],
        "baseline": entry["baseline"],
    }
    values = [p["value"] for p in series if p["value"] is not None]
    shown = values + [v for v in lines.values() if v is not None]
    lo, hi = min(shown), max(shown)
    lo, hi = lo - 0.05 * (hi - lo or 1), hi + 0.05 * (hi - lo or 1)
    width, height, band = 720.0, 300.0, 720.0 / max(len(series), 1)

    def y(v: float) -> float:
        return round(height - (v - lo) / (hi - lo) * height, 2)

    out = [f'<section id="metric-{mid}"><h2>{esc(entry["title"])}</h2>']
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}">')
    for kind, v in lines.items():
        if v is not None:
            out.append(
                f'<line x1="0" x2="{width:g}" y1="{y(v)}" y2="{y(v)}" class="pdca-ref pdca-{kind}" '
                f'data-value="{v!r}"><title>{kind} {v:.3g}</title></line>'
            )
    xs = [(round((i + 0.5) * band, 2), p) for i, p in enumerate(series)]
    path = " L".join(f"{x} {y(p['value'])}" for x, p in xs if p["value"] is not None)
    out.append(f'<path d="M{path}" fill="none" class="pdca-series"/>')
    for i, (x, p) in enumerate(xs):
        v = p["value"]
        if v is None:
            continue
        hit = rules.get(i)
        tip = f"{esc(p['period'])}: {v:.3g} (n = {p['n']})"
        if hit:
            named = ",".join(map(str, sorted(hit)))
            out.append(
                f'<g class="pdca-point pdca-signal" data-rules="{named}" data-index="{i}" '
                f'data-value="{v!r}"><title>{tip}, rules {named}</title>'
                f'<circle cx="{x}" cy="{y(v)}" r="6" fill="none"/>'
                f'<circle cx="{x}" cy="{y(v)}" r="3.5"/></g>'
            )
        else:
            out.append(
                f'<g class="pdca-point" data-index="{i}" data-value="{v!r}"><title>{tip}</title>'
                f'<circle cx="{x}" cy="{y(v)}" r="1.7"/></g>'
            )
    out.append("</svg></section>")
    return "".join(out)


_TASK_ROW = re.compile(r'<tr class="task [^"]*" id="task-(\w+)"[^>]*>(.*?)</tr>', re.S)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
_METRIC = re.compile(r'id="metric-(\w+)"')
_CHART = re.compile(r"<svg[^>]*>(?:(?!</svg>).)*?pdca-series.*?</svg>", re.S)
_POINT = re.compile(
    r'<g class="pdca-point[^"]*"(?: data-rules="([\d,]+)")? data-index="(\d+)" '
    r'data-value="([^"]+)"'
)
_LINE = re.compile(r'class="pdca-ref pdca-(\w+)" data-value="([^"]+)"')
_TAGS = re.compile(r"<[^>]+>")


def content(page: str) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    """What a reader gets from a report: each task row's cells (as text), and each
    metric's chart: its points (index, value, rules) and reference lines."""
    tasks = {}
    for tid, row in _TASK_ROW.findall(page):
        cells = (html.unescape(" ".join(_TAGS.sub(" ", c).split())) for c in _CELL.findall(row))
        tasks[tid] = tuple(cells)
    charts = {}
    marks = [(m.start(), m.group(1)) for m in _METRIC.finditer(page)]
    for (at, mid), (until, _) in zip(marks, [*marks[1:], (len(page), "")], strict=True):
        chart = _CHART.search(page, at, until)
        if chart is None:
            continue
        points = [
            (int(i), float(v), tuple(map(int, r.split(","))) if r else ())
            for r, i, v in _POINT.findall(chart.group(0))
        ]
        lines = {kind: float(v) for kind, v in _LINE.findall(chart.group(0))}
        charts[mid] = (points, lines)
    return tasks, charts


def main() -> int:
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
        t_ref_html, page = timed("reference render", lambda: reference(doc))
        t_ref, _ = timed("reference total (context + it)", lambda: reference(context()))
        ours, theirs = content(html), content(page)
        assert len(ours[0]) == len(pb.tasks) and len(ours[1]) == len(pb.metrics), "not found"
        assert ours == theirs, _difference(ours, theirs)
        points = sum(len(p) for p, _ in ours[1].values())
        print(
            f"same content: {len(ours[0])} task rows (every cell) and {len(ours[1])} control "
            f"charts ({points} points with their values and rules, every reference line)"
        )
        print(
            f"\nHTML report: {len(html) / 1e6:.2f} MB, {html.count('<svg ')} SVGs, "
            f"{len(doc['effects'])} countermeasure effects"
        )
        print(f"context {t_context * 1000:.0f} ms + render {t_html * 1000:.0f} ms (medians)")
        note = "reference: the same task rows and chart points, hand-written"
        figure("render html", t_html, t_ref_html, note=note)
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


def _difference(ours: Any, theirs: Any) -> str:
    """The first task or chart whose content differs, for the assertion message."""
    for name, a, b in (("task", ours[0], theirs[0]), ("chart", ours[1], theirs[1])):
        for key in sorted(a.keys() | b.keys()):
            if a.get(key) != b.get(key):
                return f"{name} {key}: pdca {a.get(key)} != reference {b.get(key)}"
    return "same"


if __name__ == "__main__":
    sys.exit(main())
