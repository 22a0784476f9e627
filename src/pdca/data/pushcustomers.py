"""``retention``, ``churn`` and ``clv`` computed inside the database: counts come back, not rows.

They follow customers from one period to the next (:mod:`pdca.builtins.customers`),
so they are not one aggregate per group as the kinds of :mod:`pdca.data.pushdown`
are, and each metric has statements of its own over the source's rows,
masked as every pushed-down metric's are (its time range and its ``filter``):

* the series: per period, its distinct customers, how many of them were
  customers of the period before (the distinct (period, customer) pairs joined
  with themselves one period back) and, for ``clv``, the period's usable revenue;
* the window: its distinct customers, those of the same number of days just
  before it, how many are in both, the window's usable revenue; with the newest
  row, the rows whose revenue is set (to tell a wrong column from no data, as the
  local path does) and, on SQLite, how many storage classes the customer column
  holds.

With ``segment_by``, a third statement counts the window's customers, those
before and those in both per segment, each over the segment's rows alone. The
values are then the built-in KPIs' own formulas over those counts. Left to the
row-by-row path: a ``clv`` broken down by ``segment_by``, a SQLite customer
column that mixes storage classes (SQLite tells ``1`` from ``'1'``, the rows read
into DuckDB do not), and a ``clv`` whose revenue is never a usable number (the
local path reports it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pdca.check.periodkinds import period_start
from pdca.data.pushbase import (
    DIALECTS,
    Pushed,
    Reader,
    Wanted,
    as_day,
    as_float,
    as_moment,
    rows_condition,
)

if TYPE_CHECKING:
    from pdca.kpi import KpiValue

KINDS = frozenset({"retention", "churn", "clv"})


def supported(w: Wanted, dialect: str) -> bool:
    # clv's segments stay local: a segment whose revenue is never a number is an error there
    return w.kind in KINDS and dialect in DIALECTS and not (w.segment_by and w.kind == "clv")


def customer_of(w: Wanted) -> str:
    return str(w.params["customer"]) if w.kind == "clv" else str(w.field)


def columns_of(w: Wanted) -> list[str]:
    names = [customer_of(w), *([str(w.params["revenue"])] if w.kind == "clv" else [])]
    return names + ([w.segment_by] if w.segment_by else [])


def statements(w: Wanted, src: Any, timestamp: str, reader: Reader) -> list[Any]:
    """The series, window and (with ``segment_by``) segments statements of one metric.

    The series' rows are (period, customers, revenue, kept); the window's one
    row is (customers, customers before, kept, revenue, newest, rows with
    revenue, storage classes of the customer column); the segments' rows are
    (segment, customers, customers before, kept), one per segment with rows in
    the window.
    """
    import sqlalchemy as sa

    ts = reader.instant(src.c[timestamp], timestamp)
    clv = w.kind == "clv"
    cols = [ts.label("ts"), src.c[customer_of(w)].label("id")]
    if clv:
        name = str(w.params["revenue"])
        cols += [reader.number(src.c[name], name).label("rev"), src.c[name].label("raw")]
    else:
        cols += [sa.cast(sa.null(), sa.Float()).label("rev"), sa.null().label("raw")]
    if w.segment_by:
        cols.append(sa.cast(src.c[w.segment_by], sa.Text()).label("seg"))
    rows = (
        sa.select(*cols).select_from(src).where(*rows_condition(w, ts, reader)).cte("__pdca_rows")
    )
    named = rows.c.id.is_not(None)

    # -- the series: per period, its customers, its revenue and those kept from before
    dated = (
        sa.select(reader.period(rows.c.ts, w.period).label("p"), rows.c.id, rows.c.rev)
        .where(named)
        .cte("__pdca_dated")
    )
    pairs = sa.select(dated.c.p, dated.c.id).distinct().cte("__pdca_pairs")
    now, before = pairs.alias("__pdca_now"), pairs.alias("__pdca_before")
    joined = now.join(
        before,
        sa.and_(before.c.id == now.c.id, before.c.p == reader.previous(now.c.p, w.period)),
    )
    kept = (
        sa.select(now.c.p, sa.func.count().label("kept"))
        .select_from(joined)
        .group_by(now.c.p)
        .subquery("__pdca_kept")
    )
    periods = (
        sa.select(
            dated.c.p,
            sa.func.count(sa.distinct(dated.c.id)).label("current"),
            sa.cast(sa.func.sum(dated.c.rev), sa.Float()).label("revenue"),
        )
        .group_by(dated.c.p)
        .subquery("__pdca_periods")
    )
    series = sa.select(
        periods.c.p, periods.c.current, periods.c.revenue, sa.func.coalesce(kept.c.kept, 0)
    ).select_from(periods.outerjoin(kept, kept.c.p == periods.c.p))

    # -- the window against the same number of days just before it
    start = reader.bound(w.window_start)
    early = reader.bound(w.window_start - (w.end - w.window_start))
    seen = (
        sa.select(
            rows.c.id,
            sa.func.max(sa.case((rows.c.ts >= start, 1))).label("now"),
            sa.func.max(sa.case((rows.c.ts < start, 1))).label("was"),
        )
        .where(named, rows.c.ts >= early)
        .group_by(rows.c.id)
        .subquery("__pdca_seen")
    )
    both = sa.and_(seen.c.now == 1, seen.c.was == 1)
    counts = sa.select(
        sa.func.count(seen.c.now).label("current"),
        sa.func.count(seen.c.was).label("base"),
        sa.func.count(sa.case((both, 1))).label("kept"),
    ).subquery("__pdca_counts")
    storage = sa.literal(1)
    if reader.dialect == "sqlite":
        storage = sa.func.count(sa.distinct(sa.case((named, sa.func.typeof(rows.c.id)))))
    overall = sa.select(
        sa.cast(
            sa.func.sum(sa.case((sa.and_(named, rows.c.ts >= start), rows.c.rev))), sa.Float()
        ).label("revenue"),
        sa.func.max(rows.c.ts).label("newest"),
        sa.func.count(sa.case((sa.and_(named, rows.c.raw.is_not(None)), 1))).label("set"),
        storage.label("storage"),
    ).subquery("__pdca_overall")
    window = sa.select(
        counts.c.current,
        counts.c.base,
        counts.c.kept,
        overall.c.revenue,
        overall.c.newest,
        overall.c.set,
        overall.c.storage,
    ).select_from(counts.join(overall, sa.true()))
    if not w.segment_by:
        return [series, window]

    # -- each segment's window, over the segment's rows alone (as the local path does)
    by_customer = (
        sa.select(
            rows.c.seg,
            rows.c.id,
            sa.func.max(sa.case((rows.c.ts >= start, 1))).label("now"),
            sa.func.max(sa.case((rows.c.ts < start, 1))).label("was"),
        )
        .where(rows.c.ts >= early)
        .group_by(rows.c.seg, rows.c.id)
        .subquery("__pdca_by_customer")
    )
    c = by_customer.c
    named_now = sa.and_(c.id.is_not(None), c.now == 1)
    named_was = sa.and_(c.id.is_not(None), c.was == 1)
    segments = (
        sa.select(
            c.seg,
            sa.func.count(sa.case((named_now, 1))),
            sa.func.count(sa.case((named_was, 1))),
            sa.func.count(sa.case((sa.and_(named_now, c.was == 1), 1))),
        )
        .group_by(c.seg)
        .having(sa.func.max(c.now) == 1)  # a segment is one with rows in the window
    )
    return [series, window, segments]


def result(w: Wanted, found: Sequence[Sequence[Sequence[Any]]]) -> Pushed | None:
    """The metric's values from its statements' rows; None to compute it from its rows."""
    series, ((current, base, kept, revenue, newest, with_revenue, storage),), *more = found
    if int(storage or 0) > 1:
        return None  # SQLite tells 1 from '1', the rows read into DuckDB do not
    rows = [(as_day(p), int(c), as_float(r), int(k or 0)) for p, c, r, k in series]
    if (
        w.kind == "clv"
        and revenue is None
        and all(r is None for _, _, r, _ in rows)
        and int(with_revenue or 0)
    ):
        return None  # revenue that is never a number: the local path says so
    customers = {p: c for p, c, _, _ in rows}
    points: dict[date, tuple[float | None, int, int]] = {}
    for p, c, r, k in rows:
        before = customers.get(period_start(p - timedelta(days=1), w.period), 0)
        point = value_of(w, c, before, k, r)
        points[p] = (point.value, point.n, c)
    whole = value_of(w, int(current or 0), int(base or 0), int(kept or 0), as_float(revenue))
    segments = None
    if more:
        segments = []
        for label, now, was, both in more[0]:
            point = value_of(w, int(now or 0), int(was or 0), int(both or 0), None)
            segments.append((label, point.value, point.n))
        segments.sort(key=lambda s: (s[0] is None, s[0] or ""))
    return Pushed(
        (whole.value, whole.n, 1 if whole.n else 0),
        dict(sorted(points.items())),
        segments,
        as_moment(newest),
    )


def value_of(w: Wanted, current: int, base: int, kept: int, revenue: float | None) -> KpiValue:
    """The built-in KPI's own value for these counts."""
    from pdca.builtins.customers import Churn, Clv, Retention

    if w.kind == "clv":
        return Clv().counted(float(w.params["margin"]), current, revenue, base, kept)
    kpi = Retention() if w.kind == "retention" else Churn()
    return kpi.counted(current, base, kept)
