"""Reading a metric's series: is the change real, where is it heading, is the target sane?

Glue between ``pdca check`` results and the pure statistics in
:mod:`pdca.check.stats`. A partial last period (the week still running) is left
out of the chart reading: a half week of responses is not comparable with a
whole one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pdca.playbook.model import Metric

MIN_POINTS = 8
"""Periods needed before a verdict: fewer give limits too loose to mean anything."""

PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4375}


def complete_points(series: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [p for p in series if not p.get("partial")]


def baseline_length(
    metric: Metric, points: Sequence[Mapping[str, Any]], cycle_start: date | None
) -> int | None:
    """Periods the control limits are computed on.

    ``baseline_periods`` on the metric wins; otherwise the periods before the
    cycle started (the process as it was before the team changed it); otherwise
    all of them.
    """
    if metric.baseline_periods:
        return min(metric.baseline_periods, len(points))
    if cycle_start is not None:
        before = sum(1 for p in points if date.fromisoformat(p["start"]) < cycle_start)
        return before if before >= 2 else None
    return None


def signal(
    metric: Metric,
    series: Sequence[Mapping[str, Any]],
    rules: Sequence[int],
    cycle_start: date | None,
) -> dict[str, Any]:
    """The ``signal`` entry of a metric: verdict, special causes, frozen limits, target sanity."""
    from pdca.check.stats.spc import check_series, target_sanity

    points = complete_points(series)
    values = [p["value"] for p in points]
    baseline = baseline_length(metric, points, cycle_start)
    result = check_series(
        values, baseline=baseline, rules=rules, direction=metric.direction, min_points=MIN_POINTS
    )
    out = result.to_json()
    for entry in out["rules"]:
        entry["indices"] = list(entry["periods"])
        entry["periods"] = [points[i]["period"] for i in entry["indices"]]
    if result.limits.available and metric.target == metric.target:
        out["target_check"] = target_sanity(
            result.limits, metric.target, metric.direction
        ).to_json()
    return out


def trend(metric: Metric, series: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Slope per period, its significance, and when the target is reached at this rate."""
    from pdca.check.stats.trend import finite_or_none, project
    from pdca.check.stats.trend import trend as compute

    points = complete_points(series)
    values = [p["value"] for p in points]
    if sum(v is not None for v in values) < 4:
        return None
    result = compute(values)
    out: dict[str, Any] = {
        "slope": finite_or_none(result.slope),
        "p_value": finite_or_none(result.p_value),
        "significant": result.significant,
        "direction": _direction(result.slope, result.significant, metric),
    }
    last = date.fromisoformat(points[-1]["start"])
    projection = project(
        result,
        target=metric.target,
        current_index=len(values) - 1,
        period_days=PERIOD_DAYS[metric.period],
        last_date=last,
        horizon=3 * len(values),
    )
    out["target_date"] = projection.date.isoformat() if projection and projection.date else None
    out["periods_to_target"] = projection.periods if projection else None
    return out


def _direction(slope: float | None, significant: bool, metric: Metric) -> str:
    """improving / worsening / flat, in the metric's own sense of better."""
    if not significant or not slope:
        return "flat"
    up = slope > 0
    return "improving" if up == metric.higher_is_better else "worsening"


def correlations(
    results: Mapping[str, Mapping[str, Any]], metrics: Mapping[str, Metric]
) -> list[dict[str, Any]]:
    """Pairwise correlation of metrics' period series (same period length only)."""
    from pdca.check.stats.correlate import correlate

    ids = [m for m in results if results[m].get("series")]
    out = []
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if metrics[a].period != metrics[b].period:
                continue
            sa = {p["start"]: p["value"] for p in complete_points(results[a]["series"])}
            sb = {p["start"]: p["value"] for p in complete_points(results[b]["series"])}
            found = correlate(sa, sb).to_json()
            out.append({"a": a, "b": b, **found})
    out.sort(key=lambda c: -abs(c.get("pearson_r") or 0.0))
    return out
