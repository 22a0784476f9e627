"""A stored Check snapshot read again after people noted something about a chart.

A Check snapshot is the record of what Check measured and said; it is never
changed. But an exclusion or a rebase recorded after it is meant for how the
team reads the chart now, so reports and ``pdca status`` read those metrics'
charts again on the stored series (:func:`with_notes`), and say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pdca.check.phases import Recorded

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pdca.playbook.model import Playbook
    from pdca.state.model import State


def reread(
    playbook: Playbook,
    registry: Any,
    report: Mapping[str, Any],
    recorded: Recorded,
    taken: str,
    cycle_start: Any,
) -> dict[str, Any]:
    """A stored Check snapshot with the signal of each metric whose excluded periods or
    rebases were recorded after ``taken`` read again on the stored series.

    The values, statuses and decisions stay as Check measured them; only how the
    chart is read follows what people have said since, and each such signal says
    so (``reread_after_check``: the latest note's recording time). The stored
    snapshot itself is never changed.
    """
    import copy

    from pdca.check import readout

    out = dict(report)
    metrics = dict(out.get("metrics") or {})
    for mid, entry in metrics.items():
        changed = recorded.annotations.changed.get(mid)
        metric = playbook.metrics.get(mid)
        registered = registry.kpis.get(metric.kpi) if metric else None
        if not changed or changed <= taken or registered is None or not entry.get("signal"):
            continue
        fresh = copy.deepcopy(dict(entry))
        for p in fresh.get("series") or ():
            for key in ("centre", "lower", "upper", "excluded"):
                p.pop(key, None)
        fresh["signal"] = readout.metric_signal(
            playbook, metric, registered.obj, fresh["series"], cycle_start, recorded
        )
        fresh["signal"]["reread_after_check"] = changed
        metrics[mid] = fresh
    out["metrics"] = metrics
    return out


def with_notes(playbook: Playbook, registry: Any, state: State, store: Any) -> State:
    """``state`` with its Check snapshot read again (:func:`reread`) where people noted
    something about a chart after the snapshot was taken; ``state`` itself otherwise."""
    from dataclasses import replace

    from pdca.engine.schedule import planned_start

    snap = state.snapshot
    changed = state.annotations.changed
    if snap is None or state.cycle is None or not any(t > snap.taken for t in changed.values()):
        return state
    recorded = Recorded.from_store(playbook, store, state)
    start = planned_start(playbook, state.cycle.number)
    report = reread(playbook, registry, snap.report, recorded, snap.taken, start)
    return replace(state, snapshot=replace(snap, report=report))


def read_noted(playbook: Playbook, registry: Any, store: Any) -> State:
    """The playbook's state from ``store``, through :func:`with_notes`."""
    return with_notes(playbook, registry, store.read(playbook.id), store)
