"""KPIs computed inside the database: only aggregates leave it, never rows.

Read row by row, a metric over a two-million-row table fetches every row of its
window and history, converts them to Arrow and aggregates in DuckDB. For the KPIs that
are one aggregate per group (means, sums, counts, percentages, NPS, ratios and,
where the dialect has an ordered-set aggregate, percentiles) the database
computes them itself: per source, PostgreSQL runs one GROUPING SETS statement
for every window, period series and segment breakdown; SQLite, which has no
grouping sets, one statement per period kind and one per window. Every metric
reads its columns masked (NULL outside its own rows: its time range and its
``filter``), so metrics with different filters share the statements.

The statements are SQLAlchemy Core, so each dialect writes its own SQL; what
differs between dialects is said once, in :mod:`pdca.data.pushbase`: the
instant a timestamp stands for (in DuckDB's time zone, as files are read), the
period it falls in (ISO weeks start on Monday) and the safe cast of a value to
a number (unusable values are skipped, as the built-in KPIs' rule for files
says). ``retention``, ``churn`` and ``clv`` have statements of their own
(:mod:`pdca.data.pushcustomers`). PostgreSQL and SQLite are supported; any
other dialect, and any KPI that is not listed here, is computed from its rows
as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

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

KINDS = frozenset(
    {
        "mean",
        "sum",
        "min",
        "max",
        "count",
        "count_distinct",
        "rate",
        "nps",
        "csat",
        "sla",
        "ratio",
        "servqual_gap",
        "median",
        "percentile",
    }
)
MEASURES = 4
"""Columns per metric in every statement: value, n, rows, newest; then numerator and
denominator for a metric that asks for them (:attr:`Wanted.parts`)."""
ORDERED = frozenset({"median", "percentile"})
"""Kinds that need an ordered-set aggregate (PostgreSQL's percentile_cont)."""


def supported(kind: str | None, dialect: str) -> bool:
    if kind not in KINDS or dialect not in DIALECTS:
        return False
    return dialect == "postgresql" or kind not in ORDERED


# -- each KPI as aggregates -----------------------------------------------------------------
class Masked:
    """A metric's columns as its aggregates read them: NULL outside its rows, each way of
    reading a column (as it is, as a number, as yes/no) computed once per row.

    ``inline`` writes them into the aggregates instead (PostgreSQL): its GROUPING
    SETS sort the rows, and narrow rows sort faster than computing once saves.
    """

    def __init__(
        self, reader: Reader, rows: Any, made: dict[tuple[str, str, str], Any], inline: bool
    ):
        self.reader, self.rows, self.made, self.inline = reader, rows, made, inline
        self.mask = ""
        self.raw_used: dict[str, None] = {}

    def _get(self, how: str, name: str) -> Any:
        import sqlalchemy as sa

        if self.inline:
            label = f"__pdca_raw_{name}"
            self.raw_used[label] = None
            raw = sa.column(label)
            value = raw
            if how == "number":
                value = self.reader.number(raw, name)
            elif how == "truthy":
                value = self.reader.truthy(raw, name)
            return sa.case((sa.column(self.mask) == 1, value)) if self.mask else value
        key = (self.mask, how, name)
        if key not in self.made:
            raw = self.rows.c[f"__pdca_raw_{name}"]
            value = {"raw": raw, "number": None, "truthy": None}[how]
            if how == "number":
                value = self.reader.number(raw, name)
            elif how == "truthy":
                value = self.reader.truthy(raw, name)
            masked = sa.case((self.rows.c[self.mask] == 1, value)) if self.mask else value
            self.made[key] = masked.label(f"__pdca_c{len(self.made)}")
        return sa.column(self.made[key].name)

    def raw(self, name: str) -> Any:
        return self._get("raw", name)

    def number(self, name: str) -> Any:
        return self._get("number", name)

    def truthy(self, name: str) -> Any:
        return self._get("truthy", name)


def aggregates(w: Wanted, col: Masked, rows: Any) -> tuple[Any, Any]:
    """(value, n) aggregate expressions of a metric, as its built-in KPI computes them."""
    import sqlalchemy as sa

    field = w.field or ""
    if w.kind == "count":
        n = sa.func.count(col.raw(field)) if w.field else rows
        return n, n
    if w.kind == "count_distinct":
        c = col.raw(field)
        return sa.case((sa.func.count(c) > 0, sa.func.count(sa.distinct(c)))), sa.func.count(c)
    if w.kind == "ratio":
        top, bottom = col.number(field), col.number(str(w.params["denominator"]))
        both = sa.and_(top.is_not(None), bottom.is_not(None))
        value = sa.func.sum(sa.case((both, top))) / sa.func.nullif(
            sa.func.sum(sa.case((both, bottom))), 0
        )
        return value, sa.func.count(sa.case((both, 1)))
    if w.kind == "rate":
        v = col.truthy(field)
        return 100.0 * sa.func.avg(v), sa.func.count(v)
    if w.kind == "servqual_gap":
        v = col.number(field) - col.number(str(w.params["expectation"]))
        return sa.func.avg(v), sa.func.count(v)
    v = col.number(field)
    if w.kind == "nps":  # scores outside 0..10 are skipped
        score = sa.case(
            (v.between(9, 10), 100.0), (v.between(0, 6), -100.0), (v.between(0, 10), 0.0)
        )
        return sa.func.avg(score), sa.func.count(score)
    if w.kind in ("csat", "sla"):
        if w.kind == "csat":
            met = v >= float(w.params.get("satisfied", 4))
        else:
            met = v <= float(w.params["limit"])
        return sa.func.avg(sa.case((met, 100.0), (v.is_not(None), 0.0))), sa.func.count(v)
    if w.kind in ORDERED:
        q = 0.5 if w.kind == "median" else float(w.params["q"]) / 100
        return sa.func.percentile_cont(q).within_group(v), sa.func.count(v)
    func = {"mean": sa.func.avg, "sum": sa.func.sum, "min": sa.func.min, "max": sa.func.max}
    return func[w.kind](v), sa.func.count(v)


def parts_of(w: Wanted, col: Masked) -> tuple[Any, Any]:
    """(numerator, denominator) of a KPI that is a quotient of two sums (a mean is the
    sum over the count); NULLs for one that is not (min, max, percentiles, distinct)."""
    import sqlalchemy as sa

    none = sa.cast(sa.null(), sa.Float())
    field = w.field or ""
    if w.kind == "ratio":
        top, bottom = col.number(field), col.number(str(w.params["denominator"]))
        both = sa.and_(top.is_not(None), bottom.is_not(None))
        return sa.func.sum(sa.case((both, top))), sa.func.sum(sa.case((both, bottom)))
    if w.kind == "rate":
        v = col.truthy(field)
        return sa.func.sum(v), sa.func.count(v)
    if w.kind == "servqual_gap":
        v = col.number(field) - col.number(str(w.params["expectation"]))
        return sa.func.sum(v), sa.func.count(v)
    if w.kind in ("mean", "sum"):
        v = col.number(field)
        return sa.func.sum(v), sa.func.count(v)
    if w.kind == "nps":
        v = col.number(field)
        score = sa.case(
            (v.between(9, 10), 100.0), (v.between(0, 6), -100.0), (v.between(0, 10), 0.0)
        )
        return sa.func.sum(score), sa.func.count(score)
    if w.kind in ("csat", "sla"):
        v = col.number(field)
        if w.kind == "csat":
            met = v >= float(w.params.get("satisfied", 4))
        else:
            met = v <= float(w.params["limit"])
        return sa.func.sum(sa.case((met, 1.0), (v.is_not(None), 0.0))), sa.func.count(v)
    return none, none


def columns_of(w: Wanted) -> list[str]:
    names = [w.field] if w.field else []
    for key in ("denominator", "expectation"):
        if isinstance(w.params.get(key), str):
            names.append(w.params[key])
    return names


# -- the statements -------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """The statements for one source and what each column of their rows means."""

    statements: list[tuple[str, Any, Any]]
    """(what, key, statement): what is series (key: period), window (key: window
    start), segments (key: (segment column, window start)) or, on PostgreSQL, one
    ``grouped`` statement for all of them (key: its grouping sets, see :func:`ungroup`)."""
    order: list[Wanted]


def plan(wanted: Sequence[Wanted], src: Any, timestamp: str, reader: Reader) -> Plan | None:
    """The statements computing every wanted metric; None when the timestamp cannot be read.

    Three levels: the source's rows in the time range any metric covers, with
    the local instant and one flag per distinct (filter, time range); each column
    a metric reads, NULL where its flag is not set; the aggregates over those.
    """
    import sqlalchemy as sa

    ts = reader.instant(src.c[timestamp], timestamp)
    if ts is None:
        return None
    masks: dict[tuple[str | None, datetime, datetime], str] = {}
    first = [ts.label("__pdca_ts")]
    start = min(w.history_start for w in wanted)
    end = max(w.end for w in wanted)
    for w in wanted:
        key = (w.filter, w.history_start, w.end)
        if key == (None, start, end):
            masks[key] = ""  # every row the statement reads: no mask to compute
        elif key not in masks:
            masks[key] = f"__pdca_mask_{len(masks)}"
            first.append(sa.case((sa.and_(*rows_condition(w, ts, reader)), 1)).label(masks[key]))
    raw = dict.fromkeys(n for w in wanted for n in columns_of(w))
    first += [src.c[name].label(f"__pdca_raw_{name}") for name in raw]
    segments = dict.fromkeys(w.segment_by for w in wanted if w.segment_by)
    seg_label = {name: f"__pdca_seg_{i}" for i, name in enumerate(segments)}
    first += [sa.cast(src.c[name], sa.Text()).label(seg_label[name]) for name in segments]
    rows = (
        sa.select(*first)
        .select_from(src)
        .where(ts >= reader.bound(start), ts < reader.bound(end))
        .subquery("__pdca_rows")
    )
    made: dict[tuple[str, str, str], Any] = {}
    col = Masked(reader, rows, made, inline=reader.dialect == "postgresql")
    measures: list[Any] = []
    for w in wanted:
        col.mask = mask = masks[(w.filter, w.history_start, w.end)]
        rows_of = sa.func.count(sa.column(mask)) if mask else sa.func.count()
        value, n = aggregates(w, col, rows_of)
        stamp = sa.column("__pdca_ts")
        newest = sa.func.max(sa.case((sa.column(mask) == 1, stamp)) if mask else stamp)
        measures += [sa.cast(value, sa.Float()), n, rows_of, newest]
        if w.parts:
            top, bottom = parts_of(w, col)
            measures += [sa.cast(top, sa.Float()), sa.cast(bottom, sa.Float())]
    # only what the aggregates read: the rows the database sorts or hashes stay narrow
    kept = [rows.c["__pdca_ts"], *(rows.c[m] for m in dict.fromkeys(masks.values()) if m)]
    kept += made.values()
    kept += [rows.c[label] for label in col.raw_used]
    if reader.dialect == "postgresql":
        return _grouped(wanted, rows, kept, measures, reader, seg_label)
    kept += [rows.c[label] for label in seg_label.values()]
    masked = sa.select(*kept).subquery("__pdca_masked")
    t = masked.c
    statements: list[tuple[str, Any, Any]] = []
    for period in dict.fromkeys(w.period for w in wanted):
        key = reader.period(t["__pdca_ts"], period).label("__pdca_p")
        stmt = sa.select(key, *measures).select_from(masked).group_by(key)
        statements.append(("series", period, stmt))
    for window in dict.fromkeys(w.window_start for w in wanted):
        flag = t["__pdca_ts"] >= reader.bound(window)
        statements.append(("window", window, sa.select(*measures).select_from(masked).where(flag)))
        for seg in dict.fromkeys(w.segment_by for w in wanted if w.window_start == window):
            if seg:
                label = t[seg_label[seg]]
                stmt = sa.select(label, *measures).select_from(masked).where(flag).group_by(label)
                statements.append(("segments", (seg, window), stmt))
    return Plan(statements, list(wanted))


def _grouped(
    wanted: Sequence[Wanted],
    rows: Any,
    kept: list[Any],
    measures: list[Any],
    reader: Reader,
    seg_label: Mapping[str, str],
) -> Plan:
    """Two GROUPING SETS statements: every series over all the rows, then every window
    and segment breakdown over the windows' rows only.

    One statement for both would also sort or hash two years of rows for each
    window, only to drop those before it. The keys are columns of the subquery,
    so that each is one expression in the select list and in GROUP BY (a bound
    written twice would be two parameters).
    """
    import sqlalchemy as sa

    ts = rows.c["__pdca_ts"]
    statements = []
    periods = [("series", p, reader.period(ts, p)) for p in dict.fromkeys(w.period for w in wanted)]
    windows: list[tuple[str, Any, Any]] = []
    for window in dict.fromkeys(w.window_start for w in wanted):
        windows.append(("window", window, ts >= reader.bound(window)))
        for seg in dict.fromkeys(w.segment_by for w in wanted if w.window_start == window):
            if seg:
                windows.append(("segments", (seg, window), rows.c[seg_label[seg]]))
    opens = min(w.window_start for w in wanted)
    for groups, where in ((periods, None), (windows, ts >= reader.bound(opens))):
        keys: list[Any] = []
        sets: list[tuple[str, Any, list[int]]] = []
        flag = 0
        for what, name, expr in groups:
            keys.append(expr.label(f"__pdca_k{len(keys)}"))
            if what == "window":
                flag = len(keys) - 1
            sets.append((what, name, [len(keys) - 1] + ([flag] if what == "segments" else [])))
        masked = sa.select(*kept, *keys)
        if where is not None:
            masked = masked.where(where)
        masked = masked.subquery("__pdca_masked")
        cols = [masked.c[k.name] for k in keys]
        grouping = sa.func.grouping_sets(
            *(sa.tuple_(*(cols[i] for i in idx)) for _, _, idx in sets)
        )
        stmt = (
            sa.select(sa.func.grouping(*cols), *cols, *measures)
            .select_from(masked)
            .group_by(grouping)
        )
        statements.append(("grouped", sets, stmt))
    return Plan(statements, list(wanted))


def ungroup(sets: Any, found: Sequence[Sequence[Any]]) -> dict[tuple[str, Any], list[Any]]:
    """The rows of a GROUPING SETS statement as those of the separate statements."""
    width = max((i for _, _, idx in sets for i in idx), default=-1) + 1
    out: dict[tuple[str, Any], list[Any]] = {}
    for what, key, idx in sets:
        bits = sum(1 << (width - 1 - i) for i in range(width) if i not in idx)
        part = out.setdefault((what, key), [])
        for row in found:
            if row[0] != bits:
                continue
            values, measures = row[1 : 1 + width], list(row[1 + width :])
            if what == "series":
                part.append([values[idx[0]], *measures])
            elif values[idx[-1]] is True:
                part.append([values[idx[0]], *measures] if what == "segments" else measures)
    return out


def unreadable(src: Any, timestamp: str, reader: Reader) -> Any:
    """Counts timestamps the dialect cannot read as instants (SQLite text that is no ISO
    8601): with any, the metric is read row by row, where the bad value is reported."""
    import sqlalchemy as sa

    col = src.c[timestamp]
    ts = reader.instant(col, timestamp)
    return sa.select(sa.func.count()).select_from(src).where(col.is_not(None), ts.is_(None))


def results(plan: Plan, found: Mapping[tuple[str, Any], list[Sequence[Any]]]) -> dict[str, Pushed]:
    """Each metric's window, series, segments and newest row from the statements' rows."""
    out: dict[str, Pushed] = {}
    at = 0
    for w in plan.order:

        def part(row: Sequence[Any], skip: int, at: int = at) -> tuple[Any, int, int, Any]:
            value, n, rows, newest = row[skip + at : skip + at + 4]
            return value, int(n or 0), int(rows or 0), newest

        series: dict[date, tuple[float | None, int, int]] = {}
        parts: dict[date, tuple[float | None, float | None]] = {}
        newest = None
        for row in found.get(("series", w.period), []):
            value, n, rows, latest = part(row, 1)
            if rows:
                series[as_day(row[0])] = (as_float(value), n, rows)
                if w.parts:
                    top, bottom = row[1 + at + MEASURES : 1 + at + MEASURES + 2]
                    parts[as_day(row[0])] = (as_float(top), as_float(bottom))
                latest = as_moment(latest)
                newest = latest if newest is None else max(newest, latest)
        window = (None, 0, 0)
        for row in found.get(("window", w.window_start), []):
            value, n, rows, _ = part(row, 0)
            if rows:
                window = (as_float(value), n, rows)
        segments = None
        if w.segment_by:
            segments = []
            for row in found.get(("segments", (w.segment_by, w.window_start)), []):
                value, n, rows, _ = part(row, 1)
                if rows:
                    segments.append((row[0], as_float(value), n))
            segments.sort(key=lambda s: (s[0] is None, s[0] or ""))
        out[w.id] = Pushed(window, series, segments, newest, parts if w.parts else {})
        at += MEASURES + (2 if w.parts else 0)
    return out


# -- running them ---------------------------------------------------------------------------
def from_item(source: Any, names: Sequence[str]) -> Any:
    """The source's table, or its query as a subquery, with the columns it has."""
    import sqlalchemy as sa

    columns = [sa.column(n) for n in names]
    table = source.options.get("table")
    if table:
        *schema, name = str(table).split(".")
        return sa.table(name, *columns, schema=".".join(schema) or None)
    query = str(source.options.get("query") or "").strip().rstrip(";").strip()
    return sa.text(query).columns(*columns).subquery("__pdca_src")


def compute(backend: Any, wanted: Sequence[Wanted], zone: str) -> dict[str, Pushed]:
    """The metrics of ``wanted`` the backend's database can compute; the rest are left out.

    Any statement the database refuses leaves every metric to the row-by-row
    path, which reports the refusal at the metric's line. The customer KPIs
    (:mod:`pdca.data.pushcustomers`) have statements of their own.
    """
    from pdca.data import pushcustomers
    from pdca.data.databases import QueryFailed, database_columns

    source = backend.source
    chosen = [w for w in wanted if supported(w.kind, backend.dialect)]
    customers = [w for w in wanted if pushcustomers.supported(w, backend.dialect)]
    if not (chosen or customers) or not source.timestamp:
        return {}
    if source.options.get("timestamp_format"):
        return {}
    try:
        names = database_columns(backend)
        if source.timestamp not in names:
            return {}
        reader = Reader(backend.dialect, backend.column_kinds(), zone)
        src = from_item(source, names)
        if reader.instant(src.c[source.timestamp], source.timestamp) is None:
            return {}
        if backend.dialect == "sqlite":
            ((bad,),) = backend.execute_core(unreadable(src, source.timestamp, reader))
            if bad:
                return {}
        out: dict[str, Pushed] = {}
        if chosen:
            made = plan(chosen, src, source.timestamp, reader)
            if made is not None:
                found: dict[tuple[str, Any], list[Any]] = {}
                for what, key, stmt in made.statements:
                    rows = backend.execute_core(stmt)
                    found.update(ungroup(key, rows) if what == "grouped" else {(what, key): rows})
                out.update(results(made, found))
        for w in customers:
            if any(name not in names for name in pushcustomers.columns_of(w)):
                continue  # read row by row, where the missing column is reported
            made = pushcustomers.statements(w, src, source.timestamp, reader)
            pushed = pushcustomers.result(w, [backend.execute_core(stmt) for stmt in made])
            if pushed is not None:
                out[w.id] = pushed
    except QueryFailed:
        return {}
    return out
