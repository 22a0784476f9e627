"""Every metric of a file source in one scan: conditional aggregates over grouping sets.

Computed one by one, each metric reads its source's table twice (its periods,
then its window), so 500 metrics over one export scan it 1,000 times. Here the
metrics whose calculator is a maskable SQL aggregate (``SqlKpi.maskable``) are
computed together: each metric reads its columns masked by the condition that
selects its own rows (its time range and ``filter``), and two statements per
source give everything: one groups all the rows by every period kind, the other
only the rows of the windows by every window and segment breakdown (grouping
sets in one statement would also aggregate two years of rows for each window,
only to drop them: 111 ms against 54 + 25 ms over 1M Parquet rows). The
aggregate expressions are the calculator's own, over exactly the rows it would
see alone, so the numbers are the same.

A columnar source (Parquet, or a text file's Parquet copy in the cache) is
scanned where it is, without a copy in memory: see :func:`shared_group`.

Anything that does not fit (another calculator, a database source, a query
DuckDB refuses) is left to the metric-by-metric path, which reports the
metric's own error at its own line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from pdca.data.databases import timestamp_literal
from pdca.errors import PdcaError
from pdca.kpi import NO_VALUE, TS, Kpi, KpiQuery, KpiResult, KpiValue, SqlKpi, database_kind, quote

MAX_SEGMENTS = 50
"""Segments kept per metric, as when a metric is computed alone."""

DIRECT_ALONE_MAX = 4
"""Most metrics of a columnar source computed alone (outside the shared scan) for the
source to be read where it is: each of their queries then scans the file again, and
past a few, one copy into memory is cheaper than the scans."""

HOLISTIC_VALUES_MAX = 20_000_000
"""Most values the shared scan holds for the medians and percentiles without a filter.

Each holds every value of its rows until the period statement ends, 8 bytes each:
20M values are 160 MB, under half of DuckDB's default 400 MB (one 90th percentile
over 10M Parquet rows: 206 MiB peak RSS for the whole check). Estimated as rows x
such metrics; a filtered one is not counted, filters usually splitting the rows.
Past it they are computed alone; a scan that still runs out of memory runs again
without any of them."""

Need = tuple[Any, Any, datetime, datetime, datetime]
"""(metric, kpi, window_start, history_start, end) of one metric to compute."""

SegmentRow = tuple[str | None, float | None, int]


@dataclass(frozen=True)
class Outcome:
    """What a shared scan found for one metric: its result, segments and newest row."""

    result: KpiResult
    segments: list[SegmentRow] | None
    newest: datetime | None
    computed: str = "local"
    """``database`` when the source's database computed it, else ``local`` (DuckDB)."""


@dataclass
class _Member:
    metric: Any
    kpi: SqlKpi
    query: KpiQuery
    mask: str | None
    period_key: int = 0
    window_key: int = 0
    segment_key: int | None = None
    value_at: int = 0  # index of its value's aggregate column
    n_at: int = 0  # index of its n's (shared with the metrics counting the same values)
    rows_at: int = 0  # index of its mask's rows
    newest_at: int = 0  # and of its mask's newest instant
    value: str | None = None  # the column of its row values (KPIs with a row_value)
    conditions: tuple[str, ...] = ()  # its rows in the source: time range, then filter


@dataclass
class _Keys:
    """The grouping keys of one scan, each made once and shared by the metrics using it."""

    sql: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    sets: list[tuple[int, ...]] = field(default_factory=list)

    def key(self, sql: str) -> int:
        if sql not in self.index:
            self.index[sql] = len(self.sql)
            self.sql.append(sql)
        return self.index[sql]

    def grouping_set(self, keys: tuple[int, ...]) -> None:
        if keys not in self.sets:
            self.sets.append(keys)

    def bits(self, keys: tuple[int, ...]) -> int:
        """GROUPING(...)'s value for the set of ``keys``: a 1 for every key not grouped."""
        n = len(self.sql)
        return sum(1 << (n - 1 - i) for i in range(n) if i not in keys)


def query_for(
    session: Any,
    metric: Any,
    table: str,
    frame: tuple[datetime, datetime, datetime],
    names: dict[str, str] | None = None,
    mask: str | None = None,
    types: dict[str, str] | None = None,
) -> KpiQuery:
    """What a metric's calculator gets; ``frame`` is (window start, history start, end)."""
    window_start, history_start, end = frame
    return KpiQuery(
        con=session.con,
        table=table,
        field=metric.field,
        params=metric.params,
        period=metric.period,
        window_start=window_start,
        end=end,
        history_start=history_start,
        names=names,
        mask=mask,
        types={} if types is None else types,
    )


def batchable(kpi: Any) -> bool:
    return isinstance(kpi, SqlKpi) and kpi.maskable and not kpi.lookback


def compute(session: Any, needs: Iterable[Need]) -> dict[str, Outcome]:
    """Outcomes of the metrics that could be computed in a shared scan, by metric id."""
    import duckdb

    by_source: dict[str, list[Need]] = {}
    alone: dict[str, int] = {}  # metrics of each file source that no shared scan computes
    pushed: list[Need] = []
    for need in needs:
        metric, kpi = need[0], need[1]
        source = session.playbook.sources.get(metric.source)
        registered = source and session.registry.source_types.get(source.type)
        if registered is not None and registered.obj.pushdown:
            if database_kind(kpi) is not None and (isinstance(kpi, SqlKpi) or kpi.lookback):
                pushed.append(need)
        elif registered is not None and batchable(kpi):
            by_source.setdefault(metric.source, []).append(need)
        elif registered is not None:
            alone[metric.source] = alone.get(metric.source, 0) + 1
    outcomes: dict[str, Outcome] = in_databases(session, pushed)
    for source_id, group in by_source.items():
        try:
            scanned = shared_group(session, source_id, group, alone.get(source_id, 0))
        except PdcaError:
            continue  # the source cannot be read: each metric says so at its line
        if not scanned:
            continue
        try:
            outcomes.update(_scan(session, source_id, scanned))
        except duckdb.OutOfMemoryException:
            # medians and percentiles hold their values: without them the rest fits
            lighter = [need for need in scanned if not need[1].holistic]
            if len(lighter) < len(scanned):
                with contextlib.suppress(duckdb.Error):
                    outcomes.update(_scan(session, source_id, lighter))
        except duckdb.Error:
            continue  # computed one by one, each reporting its own failure
    return outcomes


def shared_group(session: Any, source_id: str, group: Sequence[Need], alone: int) -> list[Need]:
    """The metrics of one file source to compute in its shared scan.

    The scan is two statements: every period over all the rows, then the windows
    and segments over the windows' rows only. However few the metrics, it is
    faster than computing them one by one, which reads the rows two or three
    times per metric (4 metrics over 10M rows: 0.51 s against 0.60 s over a CSV
    copied into memory, 0.45 s against 0.91 s over Parquet read in place).
    Medians and percentiles over all rows join it while rows x their number stays
    under :data:`HOLISTIC_VALUES_MAX`. A columnar source is read where it is,
    unless more than :data:`DIRECT_ALONE_MAX` metrics are left to compute alone,
    each reading the file again; any other source is copied into memory once.
    """
    scanned = list(group)
    whole = [need for need in group if need[1].holistic and not need[0].filter]
    if whole and session.source_rows(source_id) * len(whole) > HOLISTIC_VALUES_MAX:
        scanned = [need for need in group if not need[1].holistic]
        alone += len(group) - len(scanned)
    if session.columnar(source_id) and alone <= DIRECT_ALONE_MAX:
        session.read_directly(source_id)
    return scanned


def in_databases(session: Any, needs: Iterable[Need]) -> dict[str, Outcome]:
    """Outcomes of the metrics whose source's database computed them (only aggregates
    came back: :mod:`pdca.data.pushdown`); the others are read row by row."""
    from pdca.data.pushdown import Wanted

    cache = session.ctx.periods  # pdca.check.periodcache.PeriodCache, or None
    by_source: dict[str, list[tuple[Any, Kpi, Wanted]]] = {}
    for metric, kpi, window_start, full_start, end in needs:
        try:
            session.check_metric(metric, kpi)
        except PdcaError:
            continue  # read row by row, where the problem is reported at its line
        history_start = full_start
        if cache is not None and not kpi.lookback:
            # only the periods the state does not hold as final; a KPI that compares a
            # period with the one before (retention) reads its whole history each time
            history_start = cache.query_start(metric, full_start, window_start)
        wanted = Wanted(
            id=metric.id,
            kind=str(database_kind(kpi)),
            field=metric.field,
            params=metric.params,
            filter=metric.filter,
            period=metric.period,
            window_start=window_start,
            history_start=history_start,
            end=end,
            segment_by=metric.segment_by,
            parts=cache is not None and cache.use,
        )
        by_source.setdefault(metric.source, []).append((metric, kpi, wanted))
    out: dict[str, Outcome] = {}
    for source_id, members in by_source.items():
        source, stype = session.source(source_id)
        ask = [w for _, _, w in members]
        try:
            found = session.call(
                source, lambda t=stype, s=source, a=ask: t.aggregate(s, a, session.ctx)
            )
        except PdcaError:
            continue
        for metric, kpi, wanted in members:
            pushed = found.get(metric.id)
            if pushed is None:
                continue
            if cache is not None:
                pushed = cache.merge(metric, pushed)
                if pushed.newest is None and cache.narrowed(metric):
                    pushed = replace(pushed, newest=_newest_before(session, metric, wanted))
            value, n, rows = pushed.window
            window = KpiValue(value, n) if rows and n else NO_VALUE
            series = {day: KpiValue(v, k) for day, (v, k, _) in sorted(pushed.series.items())}
            result = KpiResult(window, series)
            if isinstance(kpi, SqlKpi):
                result = kpi.from_aggregates(result, rows)
            if result is None:
                continue
            segments = None if pushed.segments is None else pushed.segments[:MAX_SEGMENTS]
            out[metric.id] = Outcome(result, segments, pushed.newest, "database")
    return out


def _newest_before(session: Any, metric: Any, wanted: Any) -> datetime | None:
    """The newest row before a narrowed statement's start, as the full statement would
    have found it among older rows: the database's own ``max()``."""
    from pdca.data.base import DataRequest

    source, stype = session.source(metric.source)
    request = DataRequest(end=wanted.history_start, filter=metric.filter)
    try:
        found = session.call(source, lambda: stype.newest(source, request, session.ctx))
    except PdcaError:
        return None
    return found if isinstance(found, datetime) else None


def _scan(session: Any, source_id: str, group: Sequence[Need]) -> dict[str, Outcome]:
    source, _ = session.source(source_id)
    members: list[_Member] = []
    shared = None
    masks: dict[tuple[str, ...], int] = {}
    columns: dict[tuple[int, str], str] = {}
    usable: dict[str, int] = {}
    masked_values: dict[tuple[str, str], str] = {}
    types: dict[str, str] | None = None
    for metric, kpi, window_start, history_start, end in group:
        try:
            rows = session.shared_rows(metric, kpi, history_start, end)
        except PdcaError:
            continue  # the metric alone says what is wrong
        full = session.shared_range(source_id)
        if rows is None or full is None:
            continue
        shared, conditions = rows
        if types is None:  # every column's type in one query, for all the metrics
            described = session.con.sql(f"SELECT * FROM {shared} LIMIT 0")
            types = dict(zip(described.columns, map(str, described.types), strict=True))
        selecting = tuple(conditions)
        table = shared  # what the calculator may ask column types of
        if history_start <= full[0] and end >= full[1]:
            # the shared table holds no row outside the metric's time range
            conditions = conditions[2:] if source.timestamp is not None else conditions
        mask_id = masks.setdefault(tuple(conditions), len(masks)) if conditions else None
        mask = None if mask_id is None else quote(f"__pdca_mask_{mask_id}")
        frame = (window_start, history_start, end)
        # the row's value, computed once for every metric that reads it the same way
        # (55 filters of one NPS are one TRY_CAST per row), then masked per metric
        row_value = kpi.row_value(query_for(session, metric, table, frame, types=types))
        names = None
        if mask_id is not None and row_value is None:
            used = [*kpi.columns(metric.field, metric.params)]
            for c in used:
                columns.setdefault((mask_id, c), quote(f"__pdca_c{len(columns)}"))
            names = {c: columns[(mask_id, c)] for c in used}
        query = query_for(session, metric, table, frame, names, mask, types)
        member = _Member(metric, kpi, query, mask, conditions=selecting)
        if row_value is not None:
            u = quote(f"__pdca_u{usable.setdefault(row_value, len(usable))}")
            member.value = u
            if mask is not None:
                member.value = masked_values.setdefault(
                    (mask, u), quote(f"__pdca_mu{len(masked_values)}")
                )
        members.append(member)
    if not members or shared is None:
        return {}
    # periods over all the rows; windows and segments over the rows of the windows only,
    # so that no grouping set aggregates two years of rows only to drop them
    periods, windows = _Keys(), _Keys()
    for m in members:
        q = m.query
        m.period_key = periods.key(f"CAST(date_trunc('{q.period}', {TS}) AS DATE)")
        m.window_key = windows.key(q.in_window_sql)
        periods.grouping_set((m.period_key,))
        windows.grouping_set((m.window_key,))
        if m.metric.segment_by:
            label = f"CAST({quote(m.metric.segment_by)} AS VARCHAR)"
            m.segment_key = windows.key(label)
            windows.grouping_set((m.segment_key, m.window_key))
    aggregates: dict[str, int] = {}  # each aggregate once, however many metrics read it

    def column(expr: str) -> int:
        return aggregates.setdefault(expr, len(aggregates))

    # the rows and newest instant of each mask, once however many metrics share it
    counted: dict[str | None, tuple[int, int]] = {}
    stamps: list[str] = []
    for m in members:
        if m.mask not in counted:
            stamp = TS
            if m.mask is not None:
                stamp = quote(f"__pdca_t{len(stamps)}")
                stamps.append(f"CASE WHEN {m.mask} THEN {TS} END AS {stamp}")
            counted[m.mask] = (column(m.query.count_rows), column(f"max({stamp})"))
        m.rows_at, m.newest_at = counted[m.mask]
    for m in members:
        q = m.query
        if m.value is not None:
            value, n = m.kpi.over(m.value, q)
        else:
            value, n = m.kpi.sql(q), m.kpi.n_sql(q)
        m.value_at = column(f"CAST({value} AS DOUBLE)")
        m.n_at = column(f"CAST({n} AS BIGINT)")
    inner = [session.timestamp_sql(source, members[0].query.end)]
    needed = {c for m in members for c in m.kpi.columns(m.metric.field, m.metric.params)}
    needed |= {m.metric.segment_by for m in members if m.metric.segment_by}
    inner += [quote(c) for c in sorted(needed)]
    for conditions, i in masks.items():  # TRUE for the metric's rows, NULL for others
        condition = " AND ".join(conditions)
        inner.append(f"CASE WHEN {condition} THEN TRUE END AS {quote(f'__pdca_mask_{i}')}")
    period_names = [quote(f"__pdca_p{i}") for i in range(len(periods.sql))]
    window_names = [quote(f"__pdca_w{i}") for i in range(len(windows.sql))]
    middle = [f"{k} AS {n}" for k, n in zip(periods.sql, period_names, strict=True)]
    middle += [f"{k} AS {n}" for k, n in zip(windows.sql, window_names, strict=True)]
    for (i, col), name in columns.items():
        middle.append(f"CASE WHEN {quote(f'__pdca_mask_{i}')} THEN {quote(col)} END AS {name}")
    middle += [f"{expr} AS {quote(f'__pdca_u{i}')}" for expr, i in usable.items()]
    middle += stamps
    outer = [
        f"CASE WHEN {mask} THEN {u} END AS {name}" for (mask, u), name in masked_values.items()
    ]

    def rows(where: str = "") -> str:
        read = f"SELECT {', '.join(inner)} FROM {shared}{where}"
        found = f"SELECT *, {', '.join(middle)} FROM ({read})"
        return f"SELECT *, {', '.join(outer)} FROM ({found})" if outer else found

    # the windows' rows picked on the source's own column, so a Parquet scan skips the rest
    opens = min(m.query.window_start for m in members)
    where = ""
    if source.timestamp is not None:
        where = f" WHERE {quote(source.timestamp)} >= {timestamp_literal(opens)}"
    # one query: DuckDB runs the two parts side by side (a Parquet file of one row group
    # is read by one thread: 65 ms together against 90 ms one after the other, 1M rows)
    p, w = len(period_names), len(window_names)
    sql = (
        _grouped(period_names, ["NULL"] * w, periods, list(aggregates), rows(), 0)
        + " UNION ALL "
        + _grouped(["NULL"] * p, window_names, windows, list(aggregates), rows(where), 1)
    )
    found: list[list[tuple[Any, ...]]] = [[], []]
    for row in session.con.execute(sql).fetchall():
        if row[0] == 0:
            found[0].append((row[1], *row[2 : 2 + p], *row[2 + p + w :]))
        else:
            found[1].append((row[1], *row[2 + p :]))
    outcomes = _outcomes(members, (periods, found[0]), (windows, found[1]))
    if source.timestamp is not None:  # metrics computed alone over the same rows reuse it
        for m in members:
            if m.metric.id in outcomes:
                key = (source_id, *m.conditions)
                session.newest_of_rows[key] = outcomes[m.metric.id].newest
    return outcomes


def _grouped(
    periods: list[str], windows: list[str], keys: _Keys, aggregates: list[str], rows: str, part: int
) -> str:
    """One part of the shared scan's query: ``part``, GROUPING(), the period keys, the
    window keys (NULL for those the part does not group by), the aggregates."""
    names = [n for n in (*periods, *windows) if n != "NULL"]
    sets = ", ".join("(" + ", ".join(names[k] for k in s) + ")" for s in keys.sets)
    return (
        f"SELECT {part}, GROUPING({', '.join(names)}), {', '.join([*periods, *windows])}, "
        f"{', '.join(aggregates)} FROM ({rows}) GROUP BY GROUPING SETS ({sets})"
    )


def _outcomes(
    members: list[_Member],
    periods: tuple[_Keys, list[tuple[Any, ...]]],
    windows: tuple[_Keys, list[tuple[Any, ...]]],
) -> dict[str, Outcome]:
    """Each metric's outcome from the rows of the periods' and the windows' queries."""
    by_set: list[dict[int, list[tuple[Any, ...]]]] = [{}, {}]
    for grouped, (_, found) in zip(by_set, (periods, windows), strict=True):
        for row in found:
            grouped.setdefault(row[0], []).append(row)
    (p_keys, _), (w_keys, _) = periods, windows
    out: dict[str, Outcome] = {}
    for m in members:
        spots = (m.value_at, m.n_at, m.rows_at, m.newest_at)
        p_at = [1 + len(p_keys.sql) + i for i in spots]
        w_at = [1 + len(w_keys.sql) + i for i in spots]

        def part(row: tuple[Any, ...], at: list[int]) -> tuple[Any, Any, int, Any]:
            return row[at[0]], row[at[1]], row[at[2]] or 0, row[at[3]]

        series: dict[date, KpiValue] = {}
        newest = None
        for row in by_set[0].get(p_keys.bits((m.period_key,)), []):
            value, n, rows, latest = part(row, p_at)
            if rows:
                series[row[1 + m.period_key]] = KpiValue(value, n)
                newest = latest if newest is None else max(newest, latest)
        window, window_rows = NO_VALUE, 0
        for row in by_set[1].get(w_keys.bits((m.window_key,)), []):
            value, n, rows, _ = part(row, w_at)
            if row[1 + m.window_key] is True and rows:
                window, window_rows = (KpiValue(value, n) if n else NO_VALUE), rows
        result = m.kpi.from_aggregates(KpiResult(window, dict(sorted(series.items()))), window_rows)
        if result is None:
            continue
        segments = None
        if m.segment_key is not None:
            segments = []
            for row in by_set[1].get(w_keys.bits((m.segment_key, m.window_key)), []):
                value, n, rows, _ = part(row, w_at)
                if row[1 + m.window_key] is True and rows:
                    segments.append((row[1 + m.segment_key], value, n))
            segments.sort(key=lambda s: (s[0] is None, s[0] or ""))
            segments = segments[:MAX_SEGMENTS]
        out[m.metric.id] = Outcome(result, segments, newest)
    return out
