"""The report document: one JSON-ready dict that every renderer reads.

``pdca report --format json`` prints exactly this dict, so its shape is a
contract (documented in ``docs/reports.md``; ``schema`` names its version).
It extends the ``pdca status --format json`` review (:func:`pdca.engine.review`)
with what a report shows beyond a status: each metric's full check entry
(series, signal, limits, segments, benchmark), a verdict in words,
countermeasure effects and chart markers, the task/objective graph, the
owners' names and the history of cycles. Because it is a superset of the
review, the terminal ``text`` renderer is the status renderer, unchanged.

Where the metric values come from (``measured.source``):

* ``snapshot``: the cycle has passed Check, so its stored check snapshot is
  used, as ``pdca status`` does: the numbers the cycle's decisions are about.
  ``--as-of`` then only sets the date tasks are judged overdue against.
* ``fresh``: the cycle is still in plan or do (or no cycle was ever opened),
  so the metrics are measured now, as of ``--as-of`` (default today), with
  the cycle's ratcheted baselines: a progress view while the work is done.
* ``none``: a past cycle that never reached Check (cannot normally happen).

``--cycle N`` shows a past cycle as it closed: its tasks' final statuses, its
check snapshot, its decisions and the lessons learnt up to it. Tasks are the
playbook's tasks as written now; one added later shows as ``pending``.

Building the document reads nothing but what it is given: :func:`build_document`
is pure (the benchmark and tests call it directly); :func:`document_for` and
:func:`load_document` do the I/O (store, data) around it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdca.check.freshness import metric_note, source_sentence
from pdca.check.phases import COUNTERMEASURE_PHASES as COUNTERMEASURE_PHASES
from pdca.errors import PdcaError
from pdca.report.verdicts import deciding_rule as deciding_rule
from pdca.report.verdicts import false_alarm_budget, reading

if TYPE_CHECKING:
    from pdca.playbook.model import Metric, Playbook
    from pdca.plugins import Registry
    from pdca.state import State, Store

SCHEMA = "pdca-report/1"
"""Version of the document's shape; bumped when a key changes meaning or goes away."""


class ReportError(PdcaError):
    """A report that cannot be built or rendered; the message says why and what to do."""


@dataclass(frozen=True)
class Measured:
    """Which metric values a document shows (see the module doc)."""

    source: str
    """``snapshot``, ``fresh`` or ``none``."""
    as_of: str | None = None
    taken: str | None = None
    report: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "as_of": self.as_of, "taken": self.taken}


# -- building (pure) -----------------------------------------------------------------------


def build_document(
    pb: Playbook,
    state: State,
    *,
    as_of: date,
    measured: Measured | None = None,
    cycles: Sequence[Mapping[str, Any]] = (),
    latest_cycle: int | None = None,
    generated: str | None = None,
) -> dict[str, Any]:
    """The report document for ``state`` (the cycle to show) of playbook ``pb``.

    ``measured`` defaults to the state's snapshot (or ``none``); a ``fresh``
    report is put in place of the snapshot so the review judges objectives on
    it. ``cycles`` is the history (:func:`cycle_history`); ``latest_cycle`` the
    newest cycle's number when ``state`` shows an older one.
    """
    from pdca.engine.review import review
    from pdca.state.model import Snapshot
    from pdca.state.store import now_utc

    if measured is None:
        snap = state.snapshot
        measured = (
            Measured("snapshot", snap.as_of, snap.taken, snap.report)
            if snap is not None
            else Measured("none")
        )
    shown = state
    if measured.report is not None and measured.source == "fresh":
        shown = replace(
            state,
            snapshot=Snapshot(measured.taken or "", measured.as_of or "", measured.report),
        )
    doc = review(pb, shown, as_of)
    doc.pop("state", None)  # the store's name: a path or URL, not the report's business
    number = doc["cycle"]["number"] if doc["cycle"] else None
    past = number is not None and latest_cycle is not None and number < latest_cycle
    if doc["cycle"] is not None:
        doc["cycle"]["latest"] = not past
    if past:
        doc["lessons"] = [x for x in doc["lessons"] if x["cycle"] <= number]
        doc["next"] = [f"cycle {number} is closed; the current cycle is {latest_cycle}"]

    checked = (measured.report or {}).get("metrics", {})
    tasks = _tasks(pb, doc["tasks"])
    metrics = _metrics(pb, doc["metrics"], checked)
    effects = _effects(pb, tasks, metrics)
    objectives = _objectives(pb, doc["objectives"], tasks)

    out: dict[str, Any] = {
        "schema": SCHEMA,
        "generated": generated or _generated_at(now_utc),
        "as_of": doc["as_of"],
        "playbook": pb.id,
        "title": pb.title,
        "description": pb.description,
        "owners": {
            oid: {"name": o.name, "role": o.role, "team": o.is_team} for oid, o in pb.owners.items()
        },
        "cycle": doc["cycle"],
        "measured": measured.to_json(),
        "objectives": objectives,
        "metrics": metrics,
        "false_alarms": false_alarm_budget(measured.report),
        "stale_data": [
            {**item, "sentence": source_sentence(item)} for item in doc.get("stale_data") or []
        ],
        "tasks": tasks,
        "archived_tasks": doc["archived_tasks"],
        "attention": doc["attention"],
        "next": doc["next"],
        "lessons": doc["lessons"],
        "effects": effects,
        "graph": _graph(pb, tasks, objectives),
        "cycles": [dict(c) for c in cycles],
    }
    return out


def _generated_at(now: Any) -> str:
    """Now, or ``SOURCE_DATE_EPOCH`` when set: byte-identical reports for the same state."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        from datetime import UTC, datetime

        stamp = datetime.fromtimestamp(int(epoch), UTC).isoformat(timespec="milliseconds")
        return stamp.replace("+00:00", "Z")
    return str(now())


def _owner_name(pb: Playbook, owner: str | None) -> str | None:
    if owner is None:
        return None
    entry = pb.owners.get(owner)
    return entry.name if entry is not None else owner


def _tasks(pb: Playbook, reviewed: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for tid, entry in reviewed.items():
        task = pb.tasks[tid]
        status = entry["status"]
        updated = entry.get("updated")
        out[tid] = {
            "title": entry["title"],
            "status": status,
            "owner": entry["owner"],
            "owner_name": _owner_name(pb, entry["owner"]),
            "phase": entry["phase"],
            "objective": entry["objective"],
            "depends_on": list(task.depends_on),
            "due": entry["due"],
            "overdue": entry["overdue"],
            "blocks": entry["blocks"],
            "automated": entry["automated"],
            "by": entry["by"],
            "note": entry["note"],
            "updated": updated,
            # The day it was done (--on), not the day that was recorded: an update
            # entered late gives the same countermeasure date as a timely one.
            "completed": entry.get("done_on") if status == "done" else None,
            "description": task.description,
            "estimate_hours": task.estimate_hours,
            "effects": [],
            "attempts": entry.get("attempts"),
            "waiting_for": entry.get("waiting_for"),
        }
    return out


def _metrics(
    pb: Playbook,
    reviewed: Mapping[str, Mapping[str, Any]],
    checked: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    in_objectives: dict[str, list[str]] = {}
    for oid, objective in pb.objectives.items():
        for mid in objective.metrics:
            in_objectives.setdefault(mid, []).append(oid)
    out = {}
    for mid, rev in reviewed.items():
        metric = pb.metrics[mid]
        chk = checked.get(mid) or {}
        entry: dict[str, Any] = {
            "title": rev["title"],
            "kpi": metric.kpi,
            "unit": metric.unit,
            "direction": metric.direction,
            "period": metric.period,
            "value": rev["value"],
            "n": chk.get("n"),
            "target": rev["target"],
            "warn": rev["warn"],
            "baseline": rev["baseline"],
            "baseline_from": rev["baseline_from"],
            "target_gap": chk.get("target_gap"),
            "benchmark": chk.get("benchmark"),
            "status": rev["status"],
            "trend": rev["trend"],
            "trend_detail": chk.get("trend"),
            "signal": chk.get("signal"),
            "reading": "",
            "measured_as_of": rev["measured_as_of"],
            "window": chk.get("window"),
            "series": list(chk.get("series") or []),
            "segment_by": metric.segment_by,
            "segments": chk.get("segments"),
            "error": chk.get("error"),
            "data_until": rev.get("data_until"),
            "stale": bool(rev.get("stale")),
            # "data until 28 Mar, 9 weeks old" on a stale metric, as of its measurement
            "freshness": metric_note(rev, rev["measured_as_of"]),
            "objectives": in_objectives.get(mid, []),
            "markers": [],
            "effects": [],
            "comments_column": _comments_column(pb, metric),
            # Filled by the themes analysis when it is wired in (``pdca themes``);
            # the templates show a themes block only when this is not None.
            "themes": None,
        }
        entry["reading"] = reading(entry)
        # keys a newer check (or a KPI plugin) adds come along unchanged
        entry.update({k: v for k, v in chk.items() if k not in entry and k != "baseline"})
        out[mid] = entry
    return out


def _comments_column(pb: Playbook, metric: Metric) -> str | None:
    if metric.comments:
        return metric.comments
    source = pb.sources.get(metric.source)
    return source.comments if source is not None else None


def _effects(
    pb: Playbook, tasks: Mapping[str, Mapping[str, Any]], metrics: Mapping[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Before/after of each finished countermeasure on each metric of its objective.

    Also puts a marker per countermeasure on those metrics' charts. Two dates
    strictly inside the same period split the series the same way (that
    period is left out, the ones before and after compared), so the comparison
    is computed once per metric and period, not per task.
    """
    from bisect import bisect_left

    from pdca.check.readout import ruleset
    from pdca.check.stats.effects import countermeasure_effect
    from pdca.report.svg import fmt_value, with_unit

    cache: dict[tuple[Any, ...], dict[str, Any]] = {}
    series_of: dict[str, tuple[list[tuple[date, float | None]], list[str]]] = {}
    out = []
    for tid, t in tasks.items():
        if t["phase"] not in COUNTERMEASURE_PHASES or not t["completed"] or not t["objective"]:
            continue
        objective = pb.objectives.get(t["objective"])
        if objective is None:
            continue
        for mid in objective.metrics:
            m = metrics.get(mid)
            if m is None:
                continue
            m["markers"].append({"date": t["completed"], "label": t["title"], "task": tid})
            if mid not in series_of:
                points = [
                    (date.fromisoformat(p["start"]), p.get("value"))
                    for p in m["series"]
                    if not p.get("partial") and p.get("start")
                ]
                series_of[mid] = (points, [d.isoformat() for d, _ in points])
            points, starts = series_of[mid]
            if not points:
                continue
            day = t["completed"]
            k = bisect_left(starts, day)
            key = (mid, k, k < len(starts) and starts[k] == day) if k < len(starts) else (mid, day)
            if key not in cache:
                cache[key] = countermeasure_effect(
                    points, date.fromisoformat(day), rules=ruleset(pb), direction=m["direction"]
                ).to_json()
            e = cache[key]
            unit = m["unit"] or ""
            before, after = e["before_mean"], e["after_mean"]
            if before is not None and after is not None:
                moved = (
                    f"{with_unit(fmt_value(before), unit)} → {with_unit(fmt_value(after), unit)}"
                )
            else:
                moved = "not enough periods on both sides yet"
            summary = (
                f"{t['title']} done {day}: {m['title']} {moved}, "
                f"signal after: {'yes' if e['signal_after'] else 'no'}"
            )
            m["effects"].append(len(out))
            t["effects"].append(len(out))
            out.append(
                {
                    "task": tid,
                    "task_title": t["title"],
                    "owner": t["owner"],
                    "completed": day,
                    "objective": t["objective"],
                    "metric": mid,
                    "metric_title": m["title"],
                    "unit": m["unit"],
                    "direction": m["direction"],
                    "n_before": e["n_before"],
                    "n_after": e["n_after"],
                    "before": before,
                    "after": after,
                    "change": e["change"],
                    "change_pct": e["change_pct"],
                    "excluded_period": e["excluded_period"],
                    "signal_after": e["signal_after"],
                    "first_signal_date": e["first_signal_date"],
                    "verdict": e["verdict"],
                    "rules": sorted({r["rule"] for r in e["rules"]}),
                    "summary": summary,
                }
            )
    return out


def _objectives(
    pb: Playbook,
    reviewed: Mapping[str, Mapping[str, Any]],
    tasks: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    by_objective: dict[str, list[str]] = {}
    for tid, t in tasks.items():
        if t["objective"]:
            by_objective.setdefault(t["objective"], []).append(tid)
    out = {}
    for oid, rev in reviewed.items():
        objective = pb.objectives[oid]
        out[oid] = {
            **rev,
            "owner_name": _owner_name(pb, rev["owner"]),
            "description": objective.description,
            "tasks": by_objective.get(oid, []),
        }
    return out


def _graph(
    pb: Playbook,
    tasks: Mapping[str, Mapping[str, Any]],
    objectives: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Tasks and objectives (``task:ID``, ``objective:ID``) with their statuses, and the edges
    between them: dependency → dependent, task → its objective."""
    nodes = []
    for tid, t in tasks.items():
        nodes.append(
            {
                "id": f"task:{tid}",
                "kind": "task",
                "label": t["title"],
                "status": t["status"],
                "phase": t["phase"],
                "owner": t["owner"],
            }
        )
    for oid, o in objectives.items():
        nodes.append(
            {
                "id": f"objective:{oid}",
                "kind": "objective",
                "label": o["title"],
                "status": o["status"],
                "phase": None,
                "owner": o["owner"],
            }
        )
    edges = []
    for tid in tasks:
        task = pb.tasks[tid]
        for dep in task.depends_on:
            if dep in tasks:
                edges.append([f"task:{dep}", f"task:{tid}"])
        if task.objective in objectives:
            edges.append([f"task:{tid}", f"objective:{task.objective}"])
    return {"nodes": nodes, "edges": edges}


# -- reading the store -----------------------------------------------------------------------


def cycle_history(store: Store, playbook_id: str) -> list[dict[str, Any]]:
    """Every cycle with its decisions, oldest first (``pdca history`` without the log)."""
    from pdca.state.events import cycles_json

    return cycles_json(store.history(playbook_id, limit=0))


def read_cycle(store: Store, playbook_id: str, number: int) -> State:
    """The state of cycle ``number`` as it was kept: its tasks, baselines, snapshot, decisions."""
    state = store.read(playbook_id, cycle=number)
    if state.cycle is None:
        raise ReportError(f"playbook '{playbook_id}' has no cycle {number}")
    return state


def document_for(
    pb: Playbook,
    store: Store,
    *,
    registry: Registry,
    as_of: date | None = None,
    cycle: int | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """The document for a loaded playbook and an open store (see the module doc)."""
    from pdca.engine import transitions as tr
    from pdca.state.store import now_utc

    day = as_of or date.today()
    current = store.read(pb.id)
    latest = current.cycle.number if current.cycle else None
    state = current
    if cycle is not None and cycle != latest:
        if latest is None:
            raise ReportError(
                f"playbook '{pb.id}' has no cycles yet, so there is no cycle {cycle} to show; "
                f"open cycle 1 with: pdca run {pb.path}"
            )
        numbers = [c.number for c in current.cycles]
        if cycle not in numbers:
            raise ReportError(
                f"playbook '{pb.id}' has no cycle {cycle}; its cycles are "
                f"{', '.join(str(n) for n in numbers)}"
            )
        state = read_cycle(store, pb.id, cycle)
    if state.snapshot is not None:
        snap = state.snapshot
        if state is current:  # a past cycle's report shows it as it was
            from pdca.check.reread import with_notes

            state = current = with_notes(pb, registry, current, store)
            snap = state.snapshot or snap
        measured = Measured("snapshot", snap.as_of, snap.taken, snap.report)
    elif state is current:
        from pdca.check import measure
        from pdca.check.periodcache import PeriodCache
        from pdca.check.phases import Recorded

        baselines = current.baselines if current.cycle else {}
        report = measure.check(
            tr.with_baselines(pb, baselines),
            registry,
            day,
            cache_dir=cache_dir,
            recorded=Recorded.from_store(pb, store, current),
            # definitions only, for the charts' breaks: a report reads, never writes
            periods=PeriodCache.from_store(pb, day, store, use=False),
        )
        measured = Measured("fresh", day.isoformat(), now_utc(), report)
    else:
        measured = Measured("none")
    return build_document(
        pb,
        state,
        as_of=day,
        measured=measured,
        cycles=cycle_history(store, pb.id),
        latest_cycle=latest,
    )


def load_document(
    playbook_path: str | os.PathLike[str],
    *,
    as_of: date | None = None,
    cycle: int | None = None,
    state: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, Any], Any]:
    """Load a playbook (and its plugins), open its state read-only, build the document.

    Returns the document and the playbook's :class:`~pdca.playbook.Inspection`
    (its registry and plugin manager render it). ``state`` is a store location
    as ``--state`` takes it; default ``.pdca/state.db`` beside the playbook.
    """
    from pdca.playbook import load_checked
    from pdca.playbook.paths import cache_dir, state_file
    from pdca.state import open_store

    inspection = load_checked(Path(playbook_path))
    pb = inspection.playbook
    location = state or state_file(pb.path)
    with open_store(location, create=False) as store:
        doc = document_for(
            pb,
            store,
            registry=inspection.registry,
            as_of=as_of,
            cycle=cycle,
            cache_dir=cache_dir(pb.path),
        )
    return doc, inspection


def iter_metric_ids(doc: Mapping[str, Any]) -> Iterable[str]:
    """Metrics in the order a report shows them: by objective, then the others."""
    seen: set[str] = set()
    for o in doc["objectives"].values():
        for mid in o["metrics"]:
            if mid in doc["metrics"] and mid not in seen:
                seen.add(mid)
                yield mid
    for mid in doc["metrics"]:
        if mid not in seen:
            yield mid
