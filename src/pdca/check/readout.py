"""Reading a metric's series: is the change real, where is it heading, is the target sane?

Glue between ``pdca check`` results and the pure statistics in
:mod:`pdca.check.stats`. A partial last period (the week still running) is left
out of the chart reading: a half week of responses is not comparable with a
whole one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from pdca.playbook.model import MIN_BASELINE, Metric, Playbook

if TYPE_CHECKING:  # numpy stays out of the import of this module
    from pdca.check.phases import Recorded
    from pdca.check.stats.spc import RuleSet
    from pdca.state.annotations import MetricNotes

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


def chart_for(metric: Metric, kpi: Any) -> str:
    """The chart a metric is read on: its own ``chart:``, else its KPI's."""
    return metric.chart or getattr(kpi, "chart", "xmr") or "xmr"


def ruleset(playbook: Playbook) -> RuleSet:
    """The playbook's rules as :class:`~pdca.check.stats.spc.RuleSet`: numbers, lengths,
    preset."""
    from pdca.check.stats.spc import RuleSet

    shift, trend = playbook.rule_lengths
    return RuleSet(tuple(playbook.rules), shift, trend, playbook.rule_preset)


def signal(
    metric: Metric,
    series: Sequence[Mapping[str, Any]],
    rules: RuleSet | Sequence[int],
    cycle_start: date | None,
    *,
    chart: str = "xmr",
    min_baseline: int = MIN_BASELINE,
    value_range: tuple[float | None, float | None] = (None, None),
    notes: MetricNotes | None = None,
    changes: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The ``signal`` entry of a metric: verdict and its reasons, special causes, frozen
    limits, target sanity, the chance of a false verdict on a stable process, and
    Making Data Count's variation and assurance.

    ``rules`` is a :class:`~pdca.check.stats.spc.RuleSet` or rule numbers. On a
    per-n chart each complete series point gets its own ``lower`` and ``upper``
    limit, written into the point itself (the chart draws them).

    ``notes`` are the metric's excluded periods and rebases (:mod:`pdca.check.phases`):
    the reading is of the current phase, with excluded periods left out; when the
    chart has more than one phase every point gets its phase's ``centre``,
    ``lower`` and ``upper``. ``changes`` are the days countermeasures were done
    (``(day, task)``), from which Check may propose a rebase.
    """
    from pdca.check import phases
    from pdca.check.stats.evidence import expected_false_rate
    from pdca.check.stats.mdc import assurance
    from pdca.check.stats.reading import read_series
    from pdca.check.stats.spc import RuleSet, target_sanity

    notes = notes or phases.NO_NOTES
    points = complete_points(series)
    values = phases.mark_excluded(points, notes)
    counts = [p.get("n") or 0 for p in points]
    bounds = phases.starts(points, notes)
    begin, day = bounds[-1]
    current = points[begin:]
    baseline = baseline_length(metric, current, cycle_start)
    if day is not None and baseline is None:
        baseline = phases.frozen_length(values[begin:], min_baseline)

    def read(lo: int, hi: int, base: int | None) -> Any:
        return read_series(
            values[lo:hi],
            counts[lo:hi],
            baseline=base,
            rules=rules,
            direction=metric.direction,
            chart=chart,
            min_baseline=min_baseline,
            min_points=MIN_POINTS,
        )

    result = read(begin, len(points), baseline)
    out = result.to_json()
    for key in ("rules", "baseline_rules"):
        for entry in out[key]:
            entry["indices"] = [begin + i for i in entry["periods"]]
            entry["periods"] = [points[i]["period"] for i in entry["indices"]]
    if result.lower is not None and result.upper is not None:
        for point, lo, hi in zip(current, result.lower, result.upper, strict=True):
            point["lower"], point["upper"] = lo, hi
    judged = sum(v is not None for v in values[begin + result.judged_from :])
    out["false_alarm_rate"] = (
        expected_false_rate(result.limits.baseline_points, judged)
        if result.chart != "run" and baseline is not None
        else None
    )
    if result.limits.available and metric.target == metric.target:
        out["target_check"] = target_sanity(
            result.limits, metric.target, metric.direction, value_range
        ).to_json()
    latest = result.variation.period if result.variation else None
    if latest is None or result.chart == "run" or not result.limits.available:
        lower = upper = None
    elif result.lower is not None and result.upper is not None:
        lower, upper = result.lower[latest], result.upper[latest]  # that period's own
    else:
        lower, upper = result.limits.lower, result.limits.upper
    out["assurance"] = assurance(metric.target, lower, upper, metric.direction)
    has_limits = result.limits.available and result.chart != "run"
    out["phase"] = (day or "baseline") if has_limits else None
    out["rule_set"] = RuleSet.of(rules).to_json()
    out["excluded"] = [p["period"] for p in points if p.get("excluded")]
    if len(bounds) > 1 or day is not None:
        entries = []
        for k, (lo, name) in enumerate(bounds):
            hi = bounds[k + 1][0] if k + 1 < len(bounds) else len(points)
            reading = result if lo == begin else read(lo, hi, hi - lo)
            drawn = reading.chart != "run" and reading.limits.available
            limits = reading.limits.to_json() if drawn else None
            _phase_lines(points[lo:hi], reading if drawn else None)
            entries.append(phases.phase_entry(points, lo, hi, name, limits, notes))
        out["phases"] = entries
        if not has_limits and day is not None:
            out["note"] = f"limits rebased from {day}: {out.get('note') or 'no limits yet'}"
    out["rebase_proposal"] = phases.proposal(out, points, begin, metric.direction, changes)
    return out


def _phase_lines(points: Sequence[dict[str, Any]], reading: Any) -> None:
    """Each point of a phase gets the phase's ``centre``, ``lower`` and ``upper`` (its
    own on a per-n chart), so a chart with phases steps at each rebase; None when the
    phase has no limits."""
    for i, p in enumerate(points):
        if reading is None:
            p["centre"] = p["lower"] = p["upper"] = None
            continue
        p["centre"] = reading.limits.centre
        if reading.lower is not None and reading.upper is not None:
            p["lower"], p["upper"] = reading.lower[i], reading.upper[i]
        else:
            p["lower"], p["upper"] = reading.limits.lower, reading.limits.upper


def metric_signal(
    playbook: Playbook,
    metric: Metric,
    kpi: Any,
    series: Sequence[Mapping[str, Any]],
    cycle_start: date | None,
    recorded: Recorded | None = None,
) -> dict[str, Any]:
    """:func:`signal` with the playbook's rules and minimum baseline, the metric's chart,
    and what the state recorded about it (excluded points, rebases, countermeasures)."""
    from pdca.playbook.ranges import declared_range

    return signal(
        metric,
        series,
        ruleset(playbook),
        cycle_start,
        chart=chart_for(metric, kpi),
        min_baseline=playbook.min_baseline,
        value_range=declared_range(kpi) or (None, None),  # a malformed one: validate says so
        notes=recorded.notes(metric.id) if recorded else None,
        changes=recorded.changes.get(metric.id, ()) if recorded else (),
    )


def segment_limits(entry: dict[str, Any]) -> None:
    """Each segment against the limits its own n allows: a funnel view.

    On a per-n chart a segment of 40 answers swings more than one of 400, so the
    "worst" segment is often only the smallest. Each segment of the window gets
    ``lower``/``upper``: the metric's window value ± 3 sigma for its n, with the
    per-answer sigma the chart was read with (``limits.unit_sigma``, Laney's,
    which already holds the variation between periods); ``beyond`` says
    ``above``, ``below`` or null. Other charts have no per-answer sigma, so their
    segments are left as they are.
    """
    import math

    signal = entry.get("signal") or {}
    sigma = (signal.get("limits") or {}).get("unit_sigma")
    centre = entry.get("value")
    if sigma is None or centre is None or not entry.get("segments"):
        return
    for seg in entry["segments"]:
        n, value = seg.get("n") or 0, seg.get("value")
        if n <= 0 or value is None:
            seg["lower"] = seg["upper"] = seg["beyond"] = None
            continue
        half = 3.0 * sigma / math.sqrt(n)
        seg["lower"], seg["upper"] = centre - half, centre + half
        seg["beyond"] = (
            "above" if value > centre + half else "below" if value < centre - half else None
        )


def false_alarms(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """How many false verdicts the playbook's metrics give per cycle on stable processes.

    A team that sees one "improved" among twelve metrics should know whether that
    is more than chance: this adds up each judged metric's chance of a false
    verdict (the expected count) and the chance of at least one.
    """
    rates = [
        float(r["signal"]["false_alarm_rate"])
        for r in results.values()
        if (r.get("signal") or {}).get("false_alarm_rate") is not None
    ]
    none = 1.0
    for rate in rates:
        none *= 1.0 - rate
    expected = sum(rates)
    chance = 1.0 - none if rates else 0.0
    return {
        "judged_metrics": len(rates),
        "expected": expected,
        "chance_of_any": chance,
        "message": (
            f"On stable processes, {len(rates)} judged metric(s) would give about "
            f"{expected:.2g} false verdict(s) per cycle ({100 * chance:.0f} % chance of at "
            "least one)."
            if rates
            else "No metric has enough baseline for a verdict yet."
        ),
    }


def trend(metric: Metric, series: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Slope per period, its significance, and when the target is reached at this rate."""
    from pdca.check.stats.base import finite
    from pdca.check.stats.trend import project
    from pdca.check.stats.trend import trend as compute

    points = complete_points(series)
    values = [p["value"] for p in points]
    if sum(v is not None for v in values) < 4:
        return None
    result = compute(values)
    out: dict[str, Any] = {
        "slope": finite(result.slope),
        "p_value": finite(result.p_value),
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
