"""One check's data: a DuckDB connection, each source read once, and a table per metric.

KPI calculators see only a small table with ``__ts`` and the columns they
asked for, already limited to the metric's time range and filter, so they stay
simple SQL and every check error about data (unknown column, bad filter,
unreadable file) is raised here, with the playbook line to fix.

Sources without a ``timestamp`` are snapshots ("the open backlog now"): all
their rows count, and they are dated at the last instant before ``end``, so
they fall in the current window and the current period, and the series has a
single point rather than a history the data cannot give.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdca.data import failures
from pdca.data.base import DataRequest, SourceContext, SourceType
from pdca.data.databases import timestamp_literal
from pdca.data.failures import memory_limit
from pdca.data.files import confine
from pdca.data.messages import (
    EXCERPT,
    QueryRefused,
    at,
    excerpt,
    first_line,
    quoted,
    unknown_column,
)
from pdca.data.sqlfilter import FilterRefused, VettedFilter, vet
from pdca.errors import SourceError
from pdca.kpi import TS, quote, sql_literal

if TYPE_CHECKING:
    import duckdb

    from pdca.kpi import Kpi
    from pdca.playbook.model import Metric, Playbook, Source
    from pdca.plugins import Registry

SNAPSHOT_OFFSET = timedelta(microseconds=1)


class DataSession:
    """Reads sources for one check and builds each metric's table in one in-memory DuckDB."""

    def __init__(self, playbook: Playbook, registry: Registry, cache_dir: Path | None = None):
        import duckdb

        self.playbook = playbook
        self.registry = registry
        # no progress bar: it would print into reports and CI logs
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(":memory:")
        self.con.execute("SET enable_progress_bar = false").fetchall()
        self.con.execute(f"SET memory_limit = {sql_literal(memory_limit())}").fetchall()
        self.ctx = SourceContext(self.con, Path(cache_dir) if cache_dir is not None else None)
        confine(self.con, playbook, self.ctx.cache_dir)
        self._views: dict[str, str] = {}
        self._plans: dict[str, tuple[set[str] | None, datetime, datetime]] = {}
        self._shared: dict[str, str] = {}
        self._direct: set[str] = set()
        """Sources whose shared rows are a view over their columnar file, not a copy."""
        self._recipes: dict[str, failures.Recipe] = {}
        """How each metric table was made (relation, select list, conditions, whether the
        last condition is the metric's filter), to tell a filter's failure from the data's."""
        self._columns: dict[str, list[str]] = {}
        self._newest: dict[tuple[str, str, datetime], datetime | None] = {}
        self.newest_of_rows: dict[tuple[str, ...], datetime | None] = {}
        """Newest timestamp of the rows some conditions select (source id, then the
        conditions), found once however many metrics read the same rows."""
        self._vetted: dict[str, VettedFilter | FilterRefused] = {}
        self._bound: dict[tuple[str, str], str | None] = {}
        self.known_newest: dict[str, datetime | None] = {}
        """Newest timestamps of metric tables that a shared scan already found."""
        self._names = itertools.count(1)

    # -- sources ------------------------------------------------------------------------
    def source(self, source_id: str, where: Any = None) -> tuple[Source, SourceType]:
        """The source entry and its plugin; errors point at ``where`` (the referring key)."""
        source = self.playbook.sources.get(source_id)
        if source is None:
            known = ", ".join(self.playbook.sources) or "none"
            raise SourceError(
                f"{at(where)}no source '{source_id}' in the playbook (sources: {known})"
            )
        registered = self.registry.source_types.get(source.type)
        if registered is None:
            known = ", ".join(sorted(self.registry.source_types)) or "none"
            raise SourceError(
                f"{at(source.where('type'))}source '{source.id}' has type '{source.type}', "
                f"which no plugin provides (known: {known})"
            )
        return source, registered.obj

    def columns(self, source_id: str) -> list[str]:
        """The source's columns; reading a file source here also checks its timestamps."""
        if source_id not in self._columns:
            source, stype = self.source(source_id)
            if stype.pushdown:
                self._columns[source_id] = self._call(
                    source, lambda: stype.columns(source, self.ctx)
                )
            else:
                self._view(source, stype)
        return list(self._columns[source_id])

    def _view(self, source: Source, stype: SourceType) -> str:
        """A view over the whole source, made once and shared by its metrics."""
        if source.id not in self._views:
            rel = self._call(source, lambda: stype.relation(source, DataRequest(), self.ctx))
            name = f"__pdca_source_{next(self._names)}"
            self._call(source, lambda: rel.create_view(name))
            self._columns[source.id] = list(rel.columns)
            self._views[source.id] = quote(name)
        return self._views[source.id]

    def call(self, source: Source, action: Any) -> Any:
        """Run a plugin's call about ``source``; its failures become a SourceError."""
        return self._call(source, action)

    def _call(self, source: Source, action: Any) -> Any:
        """Run a plugin call; anything but a SourceError is reported against the source."""
        import duckdb

        try:
            return action()
        except SourceError:
            raise
        except (duckdb.Error, OSError) as exc:
            raise SourceError(
                f"{at(source.where())}source '{source.id}': {first_line(exc)}"
            ) from exc
        except Exception as exc:
            plugin = self.registry.source_types[source.type].plugin
            raise SourceError(
                f"{at(source.where())}source '{source.id}' (type '{source.type}' from plugin "
                f"'{plugin}') failed: {type(exc).__name__}: {exc}"
            ) from exc

    # -- metrics ------------------------------------------------------------------------
    def plan(self, needs: Iterable[tuple[Metric, Kpi, datetime, datetime]]) -> None:
        """Announce the metrics about to be computed, so each file source is read once.

        Metrics of one file source then share one table of the columns any of
        them reads over the time any of them covers; each metric is a view over
        it. Without a plan every metric reads the file (or its cache) again.
        """
        for metric, kpi, start, end in needs:
            source = self.playbook.sources.get(metric.source)
            registered = source and self.registry.source_types.get(source.type)
            if source is None or registered is None or registered.obj.pushdown:
                continue
            columns: set[str] | None = set(kpi.columns(metric.field, metric.params))
            if metric.segment_by:
                columns.add(metric.segment_by)
            if metric.filter:
                try:
                    vetted = self._vet(metric.filter)
                except FilterRefused:
                    columns = None  # refused when the metric's table is made
                else:
                    columns.update(names[-1] for names in vetted.columns if names)
            old = self._plans.get(source.id)
            if old is not None:
                old_cols, old_start, old_end = old
                columns = None if columns is None or old_cols is None else columns | old_cols
                start, end = min(start, old_start), max(end, old_end)
            self._plans[source.id] = (columns, start, end)

    def columnar(self, source_id: str) -> bool:
        """Whether the source's rows come from a columnar file (reading it if need be)."""
        self.columns(source_id)
        return source_id in self.ctx.columnar

    def source_rows(self, source_id: str) -> int:
        """The rows a shared scan of a file source reads: a columnar file's, all times
        included (Parquet answers from its footer), or those of its copy in memory."""
        source, stype = self.source(source_id)
        if self.columnar(source_id):
            relation: str | None = self._view(source, stype)
        else:
            relation = self._shared_table(source, stype, self.columns(source_id))
        if relation is None:
            return 0
        return int(self.con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])

    def read_directly(self, source_id: str) -> None:
        """Have the metrics of a columnar source read its file, not a copy in memory.

        Copying ten million rows of five columns out of Parquet takes about 2.5
        times as long as scanning them (400 vs 154 ms); when the source's metrics
        are computed in one shared scan, scanning the file once is the whole cost.
        Called before the source's shared rows are first used.
        """
        if source_id not in self._shared:
            self._direct.add(source_id)

    def _shared_table(self, source: Source, stype: SourceType, available: list[str]) -> str | None:
        """The table of a planned source's rows, created at first use (a view over a
        columnar file the source's metrics read directly: :meth:`read_directly`)."""
        if source.id in self._shared:
            return self._shared[source.id]
        plan = self._plans.get(source.id)
        if plan is None:
            return None
        columns, start, end = plan
        keep = [c for c in available if columns is None or c in columns]
        if source.timestamp is not None and source.timestamp not in keep:
            keep.append(source.timestamp)
        view = self._view(source, stype)
        where = ""
        if source.timestamp is not None:
            ts = quote(source.timestamp)
            where = f" WHERE {ts} >= {timestamp_literal(start)} AND {ts} < {timestamp_literal(end)}"
        name = quote(f"__pdca_shared_{next(self._names)}")
        # metrics that read no column (count over a snapshot) still need the rows
        select = ", ".join(quote(c) for c in keep) or f"1 AS {quote('__pdca_row')}"
        kind = "VIEW" if source.id in self._direct else "TABLE"
        self._call(
            source,
            lambda: self.con.execute(
                f"CREATE TEMP {kind} {name} AS SELECT {select} FROM {view}{where}"
            ).fetchall(),
        )
        self._shared[source.id] = name
        return name

    def shared_rows(
        self, metric: Metric, kpi: Kpi, history_start: datetime, end: datetime
    ) -> tuple[str, list[str]] | None:
        """A file source's shared table and the conditions (time range, then filter)
        selecting the metric's rows in it, after every check :meth:`metric_table`
        makes; no table is made for the metric. None when there is no shared table."""
        source, stype = self.source(metric.source, metric.where("source"))
        if stype.pushdown:
            return None
        available = self.columns(source.id)
        self._needed_columns(metric, kpi, source, available)
        shared = self._shared_table(source, stype, available)
        if shared is None:
            return None
        self._vet_reading(metric, source, stype, available)
        return shared, _conditions(source, history_start, end, metric.filter)

    def shared_range(self, source_id: str) -> tuple[datetime, datetime] | None:
        """The time range of a source's shared table, when it has one."""
        plan = self._plans.get(source_id)
        return None if plan is None or source_id not in self._shared else (plan[1], plan[2])

    def timestamp_sql(self, source: Source, end: datetime) -> str:
        """What a metric table's ``__ts`` is made of: the timestamp, or a snapshot's date."""
        return self._select_list(source, [], end)

    def metric_table(self, metric: Metric, kpi: Kpi, history_start: datetime, end: datetime) -> str:
        """The quoted name of a temp table of the metric's rows in ``[history_start, end)``.

        Columns: ``__ts`` (TIMESTAMP), the columns ``kpi`` reads, and
        ``segment_by`` when set; rows satisfy the metric's ``filter``.
        """
        source, stype = self.source(metric.source, metric.where("source"))
        available = self.columns(source.id)
        needed = self._needed_columns(metric, kpi, source, available)
        table = quote(f"__pdca_metric_{metric.id}")
        shared = None if stype.pushdown else self._shared_table(source, stype, available)
        self._fill(table, metric, source, stype, available, needed, history_start, end, shared)
        return table

    def rows(self, metric: Metric, columns: Iterable[str], start: datetime, end: datetime) -> str:
        """The quoted name of a temp table of the metric's rows in ``[start, end)``.

        Like :meth:`metric_table`, but with the ``columns`` the caller names
        rather than those a KPI reads: theme analysis needs the free-text
        comments, which no KPI asks for. Columns: ``__ts`` and ``columns``;
        rows satisfy the metric's ``filter``. Each call replaces the table.
        """
        source, stype = self.source(metric.source, metric.where("source"))
        available = self.columns(source.id)
        needed = [c for c in dict.fromkeys(columns) if c != TS]
        for col in needed:
            if col not in available:
                raise SourceError(
                    f"{at(metric.where())}metric '{metric.id}' reads column '{col}' which "
                    f"source '{source.id}' does not have {unknown_column(col, available)}"
                )
        table = quote(f"__pdca_rows_{metric.id}")
        self._fill(table, metric, source, stype, available, needed, start, end, None)
        return table

    def _fill(
        self,
        table: str,
        metric: Metric,
        source: Source,
        stype: SourceType,
        available: list[str],
        needed: list[str],
        start: datetime,
        end: datetime,
        shared: str | None,
    ) -> None:
        """Make ``table`` hold the metric's rows: fetched from a database, a view over
        the source's shared table, or copied from the source's view."""
        self._vet_reading(metric, source, stype, available)
        ts = source.timestamp
        if stype.pushdown:
            request = DataRequest(
                columns=tuple(needed),
                start=start if ts else None,
                end=end if ts else None,
                filter=metric.filter,
            )
            self._fetch_into(table, metric, source, stype, request, needed, start, end)
        elif shared is not None:
            self._create(
                table, metric, source, shared, needed, start, end, metric.filter, materialize=False
            )
        else:
            view = self._view(source, stype)
            self._create(table, metric, source, view, needed, start, end, metric.filter)

    def check_metric(self, metric: Metric, kpi: Kpi) -> None:
        """What :meth:`metric_table` checks before it reads a row (the source, the
        columns, the filter, the timestamp column), for metrics computed elsewhere."""
        source, stype = self.source(metric.source, metric.where("source"))
        available = self.columns(source.id)
        self._needed_columns(metric, kpi, source, available)
        self._vet_reading(metric, source, stype, available)

    def _vet_reading(
        self, metric: Metric, source: Source, stype: SourceType, available: list[str]
    ) -> None:
        if metric.filter:
            self._check_filter(metric, source, available, stype.pushdown)
        if source.timestamp is not None and source.timestamp not in available:
            from pdca.data.stamps import missing_column

            raise missing_column(source, available)

    def _needed_columns(
        self, metric: Metric, kpi: Kpi, source: Source, available: list[str]
    ) -> list[str]:
        wanted: list[tuple[str, str]] = []
        for col in kpi.columns(metric.field, metric.params):
            wanted.append((col, "field" if col == metric.field else "params"))
        if metric.segment_by:
            wanted.append((metric.segment_by, "segment_by"))
        for col, key in wanted:
            if col not in available:
                raise SourceError(
                    f"{at(metric.where(key))}metric '{metric.id}' reads column '{col}' which "
                    f"source '{source.id}' does not have {unknown_column(col, available)}"
                )
        return [c for c in dict.fromkeys(c for c, _ in wanted) if c != TS]

    def _check_filter(
        self, metric: Metric, source: Source, available: list[str], pushdown: bool
    ) -> None:
        """Vet the filter (:mod:`pdca.data.sqlfilter`) and check its column names before
        any data is read; for files, also bind it in DuckDB.

        Database sources get the same vetting: a filter runs there too, and must
        be a condition over columns, whatever the database's dialect allows.
        """
        assert metric.filter is not None
        where = at(metric.where("filter"))
        lead = f"{where}metric '{metric.id}' filter {quoted(metric.filter)}"
        try:
            vetted = self._vet(metric.filter)
        except FilterRefused as exc:
            raise SourceError(f"{lead} {exc}") from None
        for names in vetted.columns:
            if not any(n in available for n in names):
                col = ".".join(names)
                hint = ""
                if f'"{col}"' in metric.filter:
                    hint = "; text values take single quotes, e.g. status = 'open'"
                raise SourceError(
                    f"{lead} names column {quoted(col)} which source '{source.id}' does not "
                    f"have {unknown_column(col, available)}{hint}"
                )
        if not pushdown:
            # binding against the shared table in memory is instant; binding against
            # the source's view plans a file read (a CSV is sniffed again) each time
            shared = self._shared.get(source.id)
            if shared is not None and self._binds(shared, metric.filter) is None:
                return
            view = self._view(source, self.source(source.id)[1])
            failed = self._binds(view, metric.filter)
            if failed is not None:
                raise SourceError(f"{lead} does not work on source '{source.id}': {failed}")

    def _vet(self, condition: str) -> VettedFilter:
        """The filter vetted once per check, however many metrics share it."""
        if condition not in self._vetted:
            try:
                self._vetted[condition] = vet(self.con, condition)
            except FilterRefused as exc:
                self._vetted[condition] = exc
        found = self._vetted[condition]
        if isinstance(found, FilterRefused):
            raise found
        return found

    def _binds(self, relation: str, condition: str) -> str | None:
        """Why ``condition`` does not bind on ``relation``; None when it does. Asked once
        per relation and filter: 500 metrics often share 50 filters."""
        import duckdb

        key = (relation, condition)
        if key not in self._bound:
            try:
                self.con.execute(f"SELECT 1 FROM {relation} WHERE ({condition}) LIMIT 0").fetchall()
                self._bound[key] = None
            except duckdb.Error as exc:
                self._bound[key] = first_line(exc)
        return self._bound[key]

    def _select_list(self, source: Source, needed: list[str], end: datetime) -> str:
        if source.timestamp is not None:
            ts_sql = f"CAST({quote(source.timestamp)} AS TIMESTAMP)"
        else:
            ts_sql = timestamp_literal(end - SNAPSHOT_OFFSET)
        return ", ".join([f"{ts_sql} AS {quote(TS)}", *(quote(c) for c in needed)])

    def _create(
        self,
        table: str,
        metric: Metric,
        source: Source,
        relation: str,
        needed: list[str],
        history_start: datetime,
        end: datetime,
        filter_sql: str | None,
        materialize: bool = True,
    ) -> None:
        """The metric's rows as a temp table, or as a view over a table already in memory."""
        import duckdb

        conditions = _conditions(source, history_start, end, filter_sql)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        kind = "TABLE" if materialize else "VIEW"
        sql = (
            f"CREATE OR REPLACE TEMP {kind} {table} AS "
            f"SELECT {self._select_list(source, needed, end)} FROM {relation}{where}"
        )
        select = self._select_list(source, needed, end)
        self._recipes[table] = (relation, select, conditions, bool(filter_sql))
        try:
            self.con.execute(sql).fetchall()
        except duckdb.Error as exc:
            recipe = self._recipes.get(table)
            raise failures.reading_error(self.con, metric, source, recipe, exc) from None

    def data_error(self, metric: Metric, table: str, exc: Exception) -> SourceError:
        """Say where a DuckDB failure while a KPI read ``table`` comes from
        (:func:`pdca.data.failures.computing_error`)."""
        source, _ = self.source(metric.source, metric.where("source"))
        return failures.computing_error(self.con, metric, source, self._recipes.get(table), exc)

    def _fetch_into(
        self,
        table: str,
        metric: Metric,
        source: Source,
        stype: SourceType,
        request: DataRequest,
        needed: list[str],
        history_start: datetime,
        end: datetime,
    ) -> None:
        """Ask a pushdown source for exactly this metric's rows and keep them in ``table``."""
        try:
            rel = self._call(source, lambda: stype.relation(source, request, self.ctx))
        except QueryRefused as exc:
            if metric.filter and exc.detail:
                raise SourceError(
                    f"{at(metric.where('filter'))}metric '{metric.id}' filter "
                    f"{quoted(metric.filter)} was refused by the database of source "
                    f"'{source.id}': {excerpt(exc.detail, 2 * EXCERPT)}"
                ) from None
            raise
        name = f"__pdca_fetch_{next(self._names)}"
        self._call(source, lambda: rel.create_view(name))
        view = quote(name)
        try:
            self._create(table, metric, source, view, needed, history_start, end, None)
        finally:
            self.con.execute(f"DROP VIEW IF EXISTS {view}").fetchall()

    def newest(self, metric: Metric, history_start: datetime) -> datetime | None:
        """The newest timestamp of the metric's rows before the end of its last check.

        Read from the metric's own table (made by :meth:`metric_table`: its filter
        applied, its instants exact), which holds everything up to the as-of date
        back to ``history_start``; only a metric with no row in all that time asks
        its source, once per source and filter, for the newest older row: a
        ``max()`` in DuckDB for files, in the database's own query for databases.
        A snapshot source's rows are dated at the check's end; none is None.
        """
        table = quote(f"__pdca_metric_{metric.id}")
        source, stype = self.source(metric.source, metric.where("source"))
        recipe = self._recipes.get(table)
        rows_key = None
        if recipe is not None and not stype.pushdown and source.timestamp is not None:
            rows_key = (source.id, *recipe[2])
        if metric.id in self.known_newest:
            found = self.known_newest[metric.id]
        elif rows_key is not None and rows_key in self.newest_of_rows:
            found = self.newest_of_rows[rows_key]  # another metric reads the same rows
        else:
            found = self.con.execute(f"SELECT max({quote(TS)}) FROM {table}").fetchall()[0][0]
            if rows_key is not None:
                self.newest_of_rows[rows_key] = found
        if found is not None or source.timestamp is None:
            return found
        key = (source.id, metric.filter or "", history_start)
        if key not in self._newest:
            request = DataRequest(end=history_start, filter=metric.filter)
            if stype.pushdown:
                self._newest[key] = self._call(
                    source, lambda: stype.newest(source, request, self.ctx)
                )
            else:
                ts = quote(source.timestamp)
                where = f"{ts} < {timestamp_literal(history_start)}"
                if metric.filter:
                    where += f" AND ({metric.filter})"
                view = self._view(source, stype)
                sql = f"SELECT max(CAST({ts} AS TIMESTAMP)) FROM {view} WHERE {where}"
                self._newest[key] = self._call(
                    source, lambda: self.con.execute(sql).fetchall()[0][0]
                )
        return self._newest[key]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DataSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _conditions(
    source: Source, start: datetime, end: datetime, filter_sql: str | None
) -> list[str]:
    """SQL conditions selecting a metric's rows: its time range, then its filter."""
    conditions = []
    if source.timestamp is not None:
        ts = quote(source.timestamp)
        conditions += [f"{ts} >= {timestamp_literal(start)}", f"{ts} < {timestamp_literal(end)}"]
    if filter_sql:
        conditions.append(f"({filter_sql})")
    return conditions
