"""Act: which act tasks apply, what Check's evidence proposes, and the baseline ratchet.

These are the rules that turn a cycle's measurements into its outcome: an act
task whose ``when`` is false is skipped, each objective gets a proposed
decision (standardize or adjust) that a person confirms or overrides, and a
cycle opened after an ``adjust`` starts from the values measured at check
rather than from the playbook's baselines, so each cycle is judged against the
one before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pdca.engine.draft import Draft
from pdca.playbook.model import Playbook, Task
from pdca.state.model import Decision


def metric_statuses(d: Draft) -> dict[str, str]:
    if d.snapshot is None:
        return {}
    return {mid: m.get("status", "no_data") for mid, m in d.snapshot.report["metrics"].items()}


def objective_status(pb: Playbook, oid: str, statuses: Mapping[str, str]) -> str:
    from pdca.check.measure import worst

    return worst(statuses.get(m, "no_data") for m in pb.objectives[oid].metrics)


def when_holds(task: Task, statuses: Mapping[str, str]) -> bool:
    if task.when is None:
        return True
    return statuses.get(task.when.metric, "no_data") in task.when.statuses


def when_note(task: Task, statuses: Mapping[str, str]) -> str:
    assert task.when is not None
    actual = statuses.get(task.when.metric, "no_data")
    return f"when: {task.when.metric} is {actual}, not {' or '.join(task.when.statuses)}"


def undecided(pb: Playbook, d: Draft) -> list[str]:
    return [
        oid for oid in pb.objectives if oid not in d.decisions or d.decisions[oid].decision is None
    ]


def record_proposal(pb: Playbook, d: Draft, oid: str, statuses: Mapping[str, str]) -> None:
    """Store the decision Check proposes for objective ``oid``, with an audit event."""
    status = objective_status(pb, oid, statuses)
    report = d.snapshot.report if d.snapshot else {}
    proposed, reason = propose(pb, oid, report)
    d.put_decision(Decision(oid, status, proposed))
    d.event("decision_proposed", subject=oid, old=status, new=proposed, note=reason)


def propose(pb: Playbook, oid: str, report: Mapping[str, Any]) -> tuple[str, str]:
    """The decision Check's evidence supports for an objective, and why.

    Standardize needs the target met *and* no metric of the objective getting
    worse or moving both ways (``mixed``: an improvement that did not hold); a
    target met without an improvement may be the process's own noise, so the
    proposal says so.
    """
    from pdca.check.measure import worst

    metrics = report.get("metrics", {})
    mids = pb.objectives[oid].metrics
    status = worst(metrics.get(m, {}).get("status", "no_data") for m in mids)
    verdicts = {m: (metrics.get(m, {}).get("signal") or {}).get("verdict") for m in mids}
    worse = [m for m in mids if verdicts[m] == "deteriorated"]
    if status != "met":
        return "adjust", f"objective is {status.replace('_', ' ')}"
    if worse:
        return "adjust", f"target met, but {', '.join(worse)} got worse (sustained evidence)"
    mixed = [m for m in mids if verdicts[m] == "mixed"]
    if mixed:
        return "adjust", (
            f"target met, but {', '.join(mixed)} moved both ways within the cycle: "
            "the change did not hold; find out why before standardizing"
        )
    unproven = [m for m in mids if verdicts[m] != "improved"]
    if unproven:
        return "standardize", (
            f"target met, but {', '.join(unproven)} shows no improvement signal: "
            "possibly luck; confirm it holds next cycle"
        )
    return "standardize", "target met, with an improvement signal"


def ratchet_baselines(
    pb: Playbook,
    d: Draft,
    number: int,
    measured: Mapping[str, Any],
    old_baselines: Mapping[str, float | None],
    old_origins: Mapping[str, str],
) -> None:
    """Set cycle ``number``'s baselines: the values the last check measured, where it
    measured one, else what the previous cycle used, else the playbook's."""
    for mid, metric in pb.metrics.items():
        value = measured.get(mid, {}).get("value")
        if number > 1 and value is not None:
            d.set_baseline(mid, value, f"cycle {number - 1}")
        elif mid in old_baselines:
            d.set_baseline(mid, old_baselines[mid], old_origins.get(mid, "playbook"))
        else:
            d.set_baseline(mid, metric.baseline, "playbook")


def with_baselines(pb: Playbook, baselines: Mapping[str, float | None]) -> Playbook:
    """The playbook with this cycle's (ratcheted) baselines in its metrics."""
    metrics = {
        mid: replace(m, baseline=baselines[mid]) if mid in baselines else m
        for mid, m in pb.metrics.items()
    }
    return replace(pb, metrics=metrics)
