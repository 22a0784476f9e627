"""Computing metrics: values over windows, period series, and statuses.

This is what ``pdca check`` prints and what the engine stores when a cycle
enters Check. A metric that cannot be computed gets status ``error`` with the
reason, and the others are still computed: one broken export should not hide
the rest of the dashboard.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdca.check.periodkinds import period_end as period_end
from pdca.check.periodkinds import period_label as period_label
from pdca.check.periodkinds import period_start as period_start
from pdca.errors import KpiError, PdcaError

if TYPE_CHECKING:
    import pluggy

    from pdca.check.onescan import Outcome
    from pdca.check.periodcache import PeriodCache
    from pdca.check.phases import Recorded
    from pdca.kpi import Kpi, KpiResult, KpiValue
    from pdca.playbook.model import Metric, Playbook
    from pdca.plugins import Registry

HISTORY_PERIODS = 104
"""Periods of history in each series: two years of weeks, enough for control charts."""

STATUS_ORDER: Mapping[str, int] = {"met": 0, "at_risk": 1, "no_data": 2, "off_track": 3, "error": 4}
"""Worst last. An objective takes its worst metric's status: a metric that cannot be
computed hides good news, not bad, so only off_track and error rank above no_data."""


def status_of(value: float | None, metric: Metric) -> str:
    """met / at_risk / off_track for a value, as the playbook format defines them."""
    if value is None:
        return "no_data"
    if metric.direction == "decrease":
        if value <= metric.target:
            return "met"
        if metric.warn is not None and value <= metric.warn:
            return "at_risk"
        return "off_track"
    if value >= metric.target:
        return "met"
    if metric.warn is not None and value >= metric.warn:
        return "at_risk"
    return "off_track"


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: STATUS_ORDER.get(s, 4), default="no_data")


@dataclass(frozen=True)
class Frame:
    """The time frame of one metric's computation, as half-open datetime ranges."""

    window_start: datetime
    end: datetime
    history_start: datetime

    @classmethod
    def for_metric(cls, metric: Metric, kpi: Kpi | None, as_of: date) -> Frame:
        lookback = kpi is not None and kpi.lookback
        return _frame(as_of, metric.period, metric.window_days, lookback)


@functools.lru_cache(maxsize=256)
def _frame(as_of: date, period: str, window_days: int, lookback: bool) -> Frame:
    """A metric's frame; the same for every metric with its period and window, so
    500 metrics walk the calendar back a few times, not 1,500."""
    end = datetime.combine(as_of + timedelta(days=1), time())
    window_start = end - timedelta(days=window_days)
    first_period = period_start(as_of, period)
    for _ in range(HISTORY_PERIODS - 1):
        first_period = period_start(first_period - timedelta(days=1), period)
    history_start = min(datetime.combine(first_period, time()), window_start)
    if lookback:
        previous = period_start(first_period - timedelta(days=1), period)
        history_start = min(
            datetime.combine(previous, time()),
            window_start - timedelta(days=window_days),
        )
    return Frame(window_start, end, history_start)


def calendar_series(
    computed: Mapping[date, KpiValue], kpi: Kpi, period: str, as_of: date
) -> list[dict[str, Any]]:
    """One point per calendar period, from the first period with data to as_of's period.

    A period without rows is still a period: for a KPI whose empty period is a
    real zero (a count, a sum: ``zero_when_empty``) it reads 0 with n 0; for any
    other (a mean, a percentage) it is a gap, value None with ``gap: true``, so
    charts break the line there and the trend keeps the calendar's spacing.
    Values are exact floats (rounding is for the text and HTML that people read);
    a non-finite value from a plugin's calculator is a gap too.
    """
    from pdca.check.stats.base import finite

    last = period_start(as_of, period)
    present: dict[date, KpiValue] = {}
    for start, point in computed.items():
        day = period_start(start.date() if isinstance(start, datetime) else start, period)
        if day <= last and not (point.value is None and point.n == 0):
            present[day] = point
    series: list[dict[str, Any]] = []
    first = min(present, default=last + timedelta(days=1))
    for day, label, start, partial in _calendar(first, last, period, as_of):
        point = present.get(day)
        value = finite(point.value) if point is not None else None
        if point is None and kpi.zero_when_empty:
            value = 0.0
        entry: dict[str, Any] = {
            "period": label,
            "start": start,
            "value": value,
            "n": point.n if point is not None else 0,
        }
        if value is None:
            entry["gap"] = True
        if partial:
            entry["partial"] = True
        series.append(entry)
    return series


@functools.lru_cache(maxsize=256)
def _calendar(
    first: date, last: date, period: str, as_of: date
) -> tuple[tuple[date, str, str, bool], ...]:
    """(start, label, ISO start, partial) of each period from ``first`` to ``last``:
    the same for every metric whose data starts in the same period."""
    out = []
    day = first
    while day <= last:
        end = period_end(day, period)
        out.append((day, period_label(day, period), day.isoformat(), end > as_of + timedelta(1)))
        day = end
    return tuple(out)


def evaluate_metric(
    metric: Metric, kpi: Kpi, session: Any, as_of: date, outcome: Outcome | None = None
) -> dict[str, Any]:
    """The ``pdca check`` JSON entry of one metric (raises PdcaError for data problems).

    ``outcome`` is what a shared scan of the metric's source already computed
    (:mod:`pdca.check.onescan`); without one the metric is computed alone.
    """
    frame = Frame.for_metric(metric, kpi, as_of)
    if outcome is not None:
        result = outcome.result
        segments = None
        if outcome.segments is not None:
            segments = _segment_entries(metric, outcome.segments)
    else:
        result, segments = _compute_alone(metric, kpi, session, frame)
    from pdca.check.stats.base import finite

    series = calendar_series(result.series, kpi, metric.period, as_of)
    value = finite(result.window.value)
    entry = entry_for(metric, value, result.window.n, series, frame, kpi=kpi)
    if segments is not None:
        entry["segments"] = segments
    # where the numbers were computed: in the source's database (only aggregates
    # came back) or here, by DuckDB, from the rows
    entry["computed"] = outcome.computed if outcome is not None else "local"
    return entry


def _compute_alone(
    metric: Metric, kpi: Kpi, session: Any, frame: Frame
) -> tuple[KpiResult, list[dict[str, Any]] | None]:
    from pdca.check.onescan import query_for

    table = session.metric_table(metric, kpi, frame.history_start, frame.end)
    query = query_for(session, metric, table, (frame.window_start, frame.history_start, frame.end))
    import duckdb

    try:
        try:
            result = kpi.compute(query)
            segments = _segments(metric, kpi, query, session) if metric.segment_by else None
        finally:
            # A calculator (a plugin's, say) that read a result only partly leaves it
            # open on the shared connection, which would break the next metric. After a
            # failed query there is no result to close, and the failure is what to report.
            with contextlib.suppress(duckdb.Error):
                session.con.fetchall()
    except KpiError as exc:
        # the calculator knows what is wrong with the values; say which metric and
        # source they came from, and where the metric is written
        raise KpiError(
            f"{metric.where()}: metric '{metric.id}' (source '{metric.source}'): {exc}"
        ) from None
    except duckdb.Error as exc:
        raise session.data_error(metric, table, exc) from None
    return result, segments


MAX_SEGMENTS = 50
"""Segments reported per metric; past that a breakdown stops being readable."""


def _segments(metric: Metric, kpi: Kpi, query: Any, session: Any) -> list[dict[str, Any]]:
    """Window value and status per ``segment_by`` value, worst first.

    A SQL calculator runs once, grouped by segment; any other calculator (plugin
    functions, retention) reruns over a view of each segment's rows, so every
    KPI can be broken down without knowing about segments.
    """
    from dataclasses import replace

    from pdca.kpi import SqlKpi, quote, sql_literal

    column = quote(metric.segment_by or "")
    label_sql = f"CAST({column} AS VARCHAR)"
    rows: list[tuple[str | None, float | None, int]]
    if isinstance(kpi, SqlKpi):  # one grouped scan when the KPI is a SQL aggregate
        rows = session.con.execute(
            f"SELECT {label_sql} AS s, CAST({kpi.sql(query)} AS DOUBLE), "
            f"CAST({kpi.n_sql(query)} AS BIGINT) FROM {query.table} "
            f"WHERE {query.in_window_sql} GROUP BY s ORDER BY s NULLS LAST LIMIT {MAX_SEGMENTS}"
        ).fetchall()
    else:
        rows = []
        labels = session.con.execute(
            f"SELECT DISTINCT {label_sql} AS s FROM {query.table} "
            f"WHERE {query.in_window_sql} ORDER BY s NULLS LAST LIMIT {MAX_SEGMENTS}"
        ).fetchall()
        for i, (label,) in enumerate(labels):
            view = quote(f"__pdca_segment_{metric.id}_{i}")
            condition = (
                f"{column} IS NULL" if label is None else f"{label_sql} = {sql_literal(label)}"
            )
            session.con.execute(
                f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {query.table} "
                f"WHERE {condition}"
            )
            window = kpi.compute(replace(query, table=view)).window
            rows.append((label, window.value, window.n))
    return _segment_entries(metric, rows)


def _segment_entries(
    metric: Metric, rows: Iterable[tuple[str | None, float | None, int]]
) -> list[dict[str, Any]]:
    """The ``segments`` of a metric's entry from (label, value, n), worst first."""
    from pdca.check.stats.base import finite

    out = []
    for label, raw, n in rows:
        value = finite(raw) if n else None
        out.append(
            {
                "segment": label if label is not None else "(none)",
                "value": value,
                "n": n or 0,
                "status": status_of(value, metric),
            }
        )
    sign = 1 if metric.higher_is_better else -1
    out.sort(
        key=lambda s: (
            -STATUS_ORDER[s["status"]],
            sign * s["value"] if s["value"] is not None else 0.0,
        )
    )
    return out


def entry_for(
    metric: Metric,
    value: float | None,
    n: int,
    series: list[dict[str, Any]],
    frame: Frame | None,
    error: str | None = None,
    kpi: Kpi | None = None,
) -> dict[str, Any]:
    """The metric's ``pdca check`` entry; ``range`` is the values its KPI can take
    (``{"low": 0, "high": 100}``, null for an open end or an unknown KPI)."""
    from pdca.check.stats.base import finite
    from pdca.playbook.ranges import declared_range

    low, high = (declared_range(kpi) if kpi is not None else None) or (None, None)

    entry: dict[str, Any] = {
        "title": metric.label,
        "kpi": metric.kpi,
        "value": value,
        "n": n,
        "target": metric.target,
        # value - target, beside benchmark.gap (value - benchmark): positive when above
        "target_gap": None if value is None else finite(value - metric.target),
        "warn": metric.warn,
        "baseline": metric.baseline,
        "direction": metric.direction,
        "range": {"low": low, "high": high},
        "status": "error" if error else status_of(value, metric),
        "series": series,
    }
    if frame is not None:
        entry["window"] = {
            "start": frame.window_start.date().isoformat(),
            "end": (frame.end - timedelta(days=1)).date().isoformat(),
            "days": metric.window_days,
        }
    if metric.unit:
        entry["unit"] = metric.unit
    if metric.segment_by:
        entry["segment_by"] = metric.segment_by
    if metric.benchmark is not None:
        entry["benchmark"] = {
            "value": metric.benchmark.value,
            "source": metric.benchmark.source,
            "gap": None if value is None else finite(value - metric.benchmark.value),
        }
    if error:
        entry["error"] = error
    return entry


def check(
    playbook: Playbook,
    registry: Registry,
    as_of: date,
    *,
    metrics: Iterable[str] | None = None,
    cache_dir: Path | None = None,
    plugin_manager: pluggy.PluginManager | None = None,
    cycle_start: date | None = None,
    correlate: bool = False,
    recorded: Recorded | None = None,
    periods: PeriodCache | None = None,
) -> dict[str, Any]:
    """Every metric's value, series, status and signal, and each objective's status.

    ``periods`` is what the state holds of the metrics' periods
    (:mod:`pdca.check.periodcache`): database sources are then asked only for
    the periods it does not hold as final, and it notes what was measured for
    the caller to keep. Every metric's entry names its definition either way.

    ``cycle_start`` separates the periods control limits are computed on from
    those judged against them; it defaults to the playbook's ``cycle.start``.
    ``recorded`` is what the state holds about the charts (excluded points,
    rebases, countermeasure days: :class:`pdca.check.phases.Recorded`).
    """
    from pdca.check import freshness, onescan, readout
    from pdca.check.progress import Progress, reading
    from pdca.data.session import DataSession
    from pdca.plugins import notify

    start = cycle_start or playbook.cycle.start
    wanted = list(metrics) if metrics is not None else list(playbook.metrics)
    results: dict[str, dict[str, Any]] = {}
    from pdca.check.periodcache import PeriodCache
    from pdca.data.dialects import duckdb_zone

    cache = periods if periods is not None else PeriodCache(playbook, as_of, use=False)
    with DataSession(playbook, registry, cache_dir=cache_dir) as session:
        cache.zone = duckdb_zone(session.con)  # periods are cut in this zone
        session.ctx.periods = cache if cache.use else None
        needs = _needs(playbook, registry, wanted, as_of)
        with reading(session.con):
            session.plan((m, k, f.history_start, f.end) for m, k, f in needs)
            outcomes = onescan.compute(
                session, ((m, k, f.window_start, f.history_start, f.end) for m, k, f in needs)
            )
        session.known_newest.update((mid, o.newest) for mid, o in outcomes.items())
        shown = Progress(len(wanted))
        for done, mid in enumerate(wanted):
            shown.step(done)
            metric = playbook.metrics[mid]
            results[mid] = entry = _evaluate_safely(
                metric, registry, session, as_of, outcomes.get(mid)
            )
            broken = entry["status"] == "error"
            newest = None if broken else _newest(metric, registry, session, as_of)
            freshness.annotate(entry, playbook, metric, newest, as_of)
            if entry["status"] != "error":
                kpi = registry.kpis[metric.kpi].obj
                entry["signal"] = readout.metric_signal(
                    playbook, metric, kpi, entry["series"], start, recorded
                )
                entry["trend"] = readout.trend(metric, entry["series"])
                readout.segment_limits(entry)
                entry["definition"] = cache.definition_json(metric)
            if plugin_manager is not None:
                notify(
                    plugin_manager,
                    "pdca_metric_evaluated",
                    playbook=playbook,
                    metric=metric,
                    result=results[mid],
                )
        shown.close()
    objectives = {}
    for oid, objective in playbook.objectives.items():
        # an objective speaks only for the metrics computed here: with --metric its
        # status and list cover those, and an objective with none of them is left out
        computed = [m for m in objective.metrics if m in results]
        if metrics is not None and not computed:
            continue
        statuses = [results[m]["status"] for m in computed]
        objectives[oid] = {"status": worst(statuses), "metrics": computed}
    report = {
        "playbook": playbook.id,
        "title": playbook.title,
        "as_of": as_of.isoformat(),
        "metrics": results,
        "objectives": objectives,
    }
    report["false_alarms"] = readout.false_alarms(results)
    if correlate:
        report["correlations"] = readout.correlations(results, playbook.metrics)
    return report


def _needs(
    playbook: Playbook, registry: Registry, wanted: Iterable[str], as_of: date
) -> list[tuple[Metric, Kpi, Frame]]:
    out = []
    for mid in wanted:
        metric = playbook.metrics[mid]
        registered = registry.kpis.get(metric.kpi)
        if registered is not None:
            out.append((metric, registered.obj, Frame.for_metric(metric, registered.obj, as_of)))
    return out


def _newest(metric: Metric, registry: Registry, session: Any, as_of: date) -> date | None:
    """The day of the metric's newest row up to as-of; None when it has none (or is broken)."""
    registered = registry.kpis.get(metric.kpi)
    if registered is None:
        return None
    frame = Frame.for_metric(metric, registered.obj, as_of)
    try:  # the metric's table exists: it was just computed without an error
        found = session.newest(metric, frame.history_start)
    except PdcaError:
        return None
    return found.date() if isinstance(found, datetime) else found


def _evaluate_safely(
    metric: Metric, registry: Registry, session: Any, as_of: date, outcome: Outcome | None = None
) -> dict[str, Any]:
    registered = registry.kpis.get(metric.kpi)
    if registered is None:  # validation prevents this; a plugin may have been disabled since
        return entry_for(metric, None, 0, [], None, error=f"KPI '{metric.kpi}' is not registered")
    try:
        return evaluate_metric(metric, registered.obj, session, as_of, outcome)
    except PdcaError as exc:
        return entry_for(metric, None, 0, [], None, error=str(exc), kpi=registered.obj)
    except Exception as exc:  # a plugin's bug must not hide the other metrics
        return entry_for(
            metric,
            None,
            0,
            [],
            None,
            error=f"KPI '{metric.kpi}' (plugin '{registered.plugin}') failed: "
            f"{type(exc).__name__}: {exc}",
            kpi=registered.obj,
        )
