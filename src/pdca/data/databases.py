"""Reading SQLite and SQLAlchemy databases with the metric's narrowing pushed into the query.

DuckDB's own sqlite and postgres scanners download an extension at run time,
which fails on the offline machines pdca often runs on, and they read whole
tables. Here the database itself receives ``SELECT needed columns ... WHERE
ts >= start AND ts < end AND (filter)``, so a metric over last quarter fetches
last quarter's rows, and DuckDB gets them as an Arrow table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdca.data import stamps
from pdca.data.dialects import POSTGRES_KINDS, add_number_function
from pdca.data.messages import QueryRefused, first_line, listing, source_error, suggestion
from pdca.kpi import quote
from pdca.state.location import AT_ADVICE, redact, redact_url, unencoded_at

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from pdca.data.base import DataRequest, SourceContext
    from pdca.errors import SourceError
    from pdca.playbook.model import Source

BATCH_ROWS = 50_000
START, END = "__pdca_start", "__pdca_end"
ALIAS = "__pdca_src"
ROW_MARK = "__pdca_row"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryFailed(Exception):
    """The database refused a statement; ``missing_table`` when the table is not there."""

    def __init__(self, message: str, missing_table: bool = False):
        super().__init__(message)
        self.missing_table = missing_table


# -- building the statement ---------------------------------------------------------------
def target_sql(source: Source) -> str:
    """The FROM item: the quoted table (``schema.table`` allowed) or the query as a subquery."""
    table = source.options.get("table")
    if table:
        return ".".join(quote(part) for part in str(table).split("."))
    query = str(source.options.get("query") or "").strip().rstrip(";").strip()
    return f"({query})"


TEXT_MARGIN = timedelta(days=2)
"""How far text bounds reach past the real ones. Text carries its own offset
(``2026-03-09T02:00+05:00`` is 8 March in UTC), up to 14 hours either way, and the
machine's zone adds up to 14 more: comparing the text with the bound's own day
would drop rows whose instant is inside."""


def day_floor(moment: datetime) -> str:
    return (moment.date() - TEXT_MARGIN).isoformat()


def day_ceiling(moment: datetime) -> str:
    day = moment.date()
    return (
        day + TEXT_MARGIN + (timedelta(0) if moment.time() == time(0) else timedelta(days=1))
    ).isoformat()


@dataclass(frozen=True)
class Statement:
    sql: str
    params: dict[str, Any]


def select_statement(source: Source, request: DataRequest, *, text_bounds: bool) -> Statement:
    """The pushed-down SELECT for ``request``.

    ``text_bounds`` (SQLite, where timestamps are ISO text) compares against
    whole days written ``YYYY-MM-DD``, widened by :data:`TEXT_MARGIN`: a superset,
    correct whether the text uses ``T`` or a space and whatever offset it carries.
    The exact bounds are applied again in DuckDB once the column is a TIMESTAMP,
    as instants.
    """
    ts = source.timestamp
    if request.columns is None:
        select = "*"
    else:
        names = list(dict.fromkeys([*request.columns, *([ts] if ts else [])]))
        select = ", ".join(quote(n) for n in names) if names else f"1 AS {quote(ROW_MARK)}"
    where: list[str] = []
    params: dict[str, Any] = {}
    if ts and request.start is not None:
        where.append(f"{quote(ts)} >= :{START}")
        params[START] = day_floor(request.start) if text_bounds else request.start
    if ts and request.end is not None:
        where.append(f"{quote(ts)} < :{END}")
        params[END] = day_ceiling(request.end) if text_bounds else request.end
    if request.filter:
        where.append(f"({request.filter})")
    sql = f"SELECT {select} FROM {target_sql(source)} AS {ALIAS}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return Statement(sql, params)


# -- rows to Arrow --------------------------------------------------------------------------
def _array(values: Sequence[Any]) -> pa.Array:
    """One column; values Arrow cannot type together (SQLite allows any mix) become text."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def to_arrow(
    names: Sequence[str], batches: Iterator[Sequence[Sequence[Any]]], sample: Any
) -> pa.Table:
    """An Arrow table of the rows; ``sample()`` gives one unfiltered row to type an empty result."""
    import pyarrow as pa

    columns: list[list[Any]] = [[] for _ in names]
    for rows in batches:
        for i, values in enumerate(zip(*rows, strict=True)):
            columns[i].extend(values)
    if not any(columns) and names:
        row = sample()
        if row is not None:
            arrays = [_array([v]).slice(0, 0) for v in row]
            return pa.Table.from_arrays(arrays, names=list(names))
    return pa.Table.from_arrays([_array(c) for c in columns], names=list(names))


# -- the two ways to reach a database --------------------------------------------------------
class Backend:
    """A database connection for one source read; subclasses know their driver's errors."""

    text_bounds = False
    dialect = ""
    """SQLAlchemy's name of the database's dialect (``postgresql``, ``sqlite`` ...)."""

    def execute_core(self, statement: Any) -> list[Sequence[Any]]:
        """Run a SQLAlchemy Core statement and return its (few, aggregated) rows."""
        raise NotImplementedError

    def use_zone(self, zone: str) -> None:
        """Read times without an offset in ``zone`` (DuckDB's), as files are read."""

    def column_kinds(self) -> dict[str, str]:
        """What each column holds as far as the driver says: ``number``, ``integer``,
        ``bool``, ``text``, ``timestamp``, ``timestamptz``, ``date``; SQLite says nothing
        (its values carry their own type)."""
        return {}

    def __init__(self, source: Source):
        self.source = source

    def run(self, statement: Statement) -> tuple[list[str], Iterator[Sequence[Sequence[Any]]]]:
        raise NotImplementedError

    def tables(self) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def fetch(self, statement: Statement) -> tuple[list[str], list[list[Any]]]:
        names, batches = self.run(statement)
        return names, [list(r) for rows in batches for r in rows]


class SqliteBackend(Backend):
    """The stdlib driver, read-only, so a wrong path never creates an empty database."""

    text_bounds = True
    dialect = "sqlite"

    def __init__(self, source: Source, path: Path):
        import sqlite3

        super().__init__(source)
        self.path = path
        try:
            self.con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise source_error(source, f"cannot open {path}: {exc}", "path") from None

    def execute_core(self, statement: Any) -> list[Sequence[Any]]:
        from sqlalchemy.dialects import sqlite

        add_number_function(self.con)
        compiled = statement.compile(
            dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
        )
        params = [compiled.params[k] for k in compiled.positiontup or ()]
        _, batches = self.run(Statement(compiled.string, params))  # type: ignore[arg-type]
        return [r for rows in batches for r in rows]

    def run(self, statement: Statement) -> tuple[list[str], Iterator[Sequence[Sequence[Any]]]]:
        import sqlite3

        try:
            cursor = self.con.execute(statement.sql, statement.params)
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "file is not a database" in text:
                raise source_error(
                    self.source, f"{self.path} is not a SQLite database ({text})", "path"
                ) from None
            raise QueryFailed(text, missing_table="no such table" in text) from None
        names = [d[0] for d in cursor.description or ()]

        def batches() -> Iterator[Sequence[Sequence[Any]]]:
            while rows := cursor.fetchmany(BATCH_ROWS):
                yield rows

        return names, batches()

    def tables(self) -> list[str]:
        _, rows = self.fetch(
            Statement(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name", {}
            )
        )
        return [r[0] for r in rows]

    def close(self) -> None:
        self.con.close()


class SqlAlchemyBackend(Backend):
    """Any database SQLAlchemy reaches; the URL is never printed with its password."""

    def __init__(self, source: Source):
        import sqlalchemy as sa

        super().__init__(source)
        url = resolve_url(source)
        if unencoded_at(url):
            raise source_error(
                source, f"{_url_origin(source)} ({redact_url(url)}): {AT_ADVICE}", _url_key(source)
            )
        try:
            parsed = sa.make_url(url)
        except (sa.exc.ArgumentError, ValueError):
            raise source_error(
                source,
                f"{_url_origin(source)} is not a database URL; write it as "
                "dialect+driver://user:password@host:port/database "
                "(e.g. postgresql+psycopg://reporting@db.example.com/support)",
                _url_key(source),
            ) from None
        parsed = _anchor_sqlite(source, parsed)
        self.shown = redact_url(parsed.render_as_string(hide_password=False))
        self.text_bounds = parsed.get_backend_name() == "sqlite"
        self.dialect = parsed.get_backend_name()
        try:
            self.engine = sa.create_engine(parsed)
        except sa.exc.NoSuchModuleError:
            raise source_error(
                source,
                f"no SQLAlchemy dialect '{parsed.drivername}' (from {_url_origin(source)}); "
                "check the URL's first part, e.g. postgresql+psycopg, mysql+pymysql, sqlite",
                _url_key(source),
            ) from None
        except ImportError as exc:
            raise source_error(
                source,
                f"the database driver for '{parsed.drivername}' is not installed ({exc}); "
                "install it, e.g. pip install 'pdca[postgres]' for PostgreSQL",
                _url_key(source),
            ) from None
        try:
            self.conn = self.engine.connect()
        except sa.exc.DBAPIError as exc:
            self.engine.dispose()
            raise source_error(
                source,
                redact(f"cannot connect to {self.shown}: {first_line(exc.orig or exc)}", url),
                _url_key(source),
            ) from None

    def run(self, statement: Statement) -> tuple[list[str], Iterator[Sequence[Sequence[Any]]]]:
        import sqlalchemy as sa

        try:
            result = self.conn.execute(sa.text(statement.sql), statement.params)
        except sa.exc.StatementError as exc:
            self.conn.rollback()
            orig = getattr(exc, "orig", None) or exc
            raise QueryFailed(first_line(orig)) from None
        names = list(result.keys())
        return names, (list(part) for part in result.partitions(BATCH_ROWS))

    def execute_core(self, statement: Any) -> list[Sequence[Any]]:
        import sqlalchemy as sa

        if self.dialect == "sqlite":
            add_number_function(self.conn.connection.driver_connection)
        try:
            return list(self.conn.execute(statement).fetchall())
        except sa.exc.StatementError as exc:
            self.conn.rollback()
            raise QueryFailed(first_line(getattr(exc, "orig", None) or exc)) from None

    def use_zone(self, zone: str) -> None:
        """On PostgreSQL, the session's TimeZone: a bound sent without an offset is then
        the same instant for a ``timestamptz`` column as DuckDB means by it (a server
        in UTC would otherwise move a window by the machine's offset)."""
        import sqlalchemy as sa

        if self.dialect == "postgresql":
            self.conn.execute(
                sa.text("SELECT set_config('TimeZone', :zone, false)"), {"zone": zone}
            )

    def column_kinds(self) -> dict[str, str]:
        import sqlalchemy as sa

        if self.dialect != "postgresql":
            return {}
        sql = f"SELECT * FROM {target_sql(self.source)} AS {ALIAS} WHERE 1 = 0"
        try:
            result = self.conn.execute(sa.text(sql))
        except sa.exc.StatementError as exc:
            self.conn.rollback()
            raise QueryFailed(first_line(getattr(exc, "orig", None) or exc)) from None
        description = result.cursor.description or ()
        result.close()
        return {d[0]: POSTGRES_KINDS.get(d[1], "other") for d in description}

    def tables(self) -> list[str]:
        import sqlalchemy as sa

        inspector = sa.inspect(self.conn)
        table = str(self.source.options.get("table") or "")
        schema = table.split(".")[0] if "." in table else None
        try:
            return sorted(inspector.get_table_names(schema) + inspector.get_view_names(schema))
        except sa.exc.SQLAlchemyError:
            return []

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def _url_key(source: Source) -> str:
    return "url_env" if source.options.get("url_env") else "url"


def _url_origin(source: Source) -> str:
    env = source.options.get("url_env")
    return f"the value of ${env}" if env else "'url'"


def resolve_url(source: Source) -> str:
    """The URL from ``url`` or from the environment variable named by ``url_env``."""
    env = source.options.get("url_env")
    if env:
        value = os.environ.get(str(env), "").strip()
        if not value:
            raise source_error(
                source,
                f"environment variable {env} is not set (option 'url_env'); set it to the "
                f"database URL before running pdca, e.g. export {env}="
                "'postgresql+psycopg://user:password@host/database'",
                "url_env",
            )
        return value
    url = source.options.get("url")
    if not url:
        raise source_error(
            source, "needs 'url' or 'url_env' (the name of a variable holding the URL)"
        )
    return str(url)


def _anchor_sqlite(source: Source, url: Any) -> Any:
    """A relative SQLite file in a URL starts at the playbook's folder, like every other path."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return url
    path = Path(url.database).expanduser()
    if not path.is_absolute():
        path = source.base_dir / path
    from pdca.data.files import check_inside

    check_inside(source, path, f"the SQLite file {url.database!r}", _url_key(source))
    path = path.resolve()
    if not path.is_file():
        raise source_error(
            source,
            f"SQLite file {url.database!r} not found (looked for {path}); fix the URL "
            "(a relative path starts at the playbook's folder)",
            _url_key(source),
        )
    return url.set(database=str(path))


# -- what the source types call -----------------------------------------------------------------
def _refused(backend: Backend, exc: QueryFailed, request: DataRequest | None) -> SourceError:
    source = backend.source
    table = source.options.get("table")
    if table and (exc.missing_table or _table_absent(backend, str(table))):
        names = backend.tables()
        return source_error(
            source,
            f"table '{table}' not found in the database (tables: {listing(names)})"
            f"{suggestion(str(table), names)}; fix 'table'",
            "table",
        )
    what = "query" if source.options.get("query") else "read"
    filtered = " with the metric's filter" if request is not None and request.filter else ""
    error = source_error(
        source,
        f"the database refused the {what}{filtered}: {exc}",
        "query" if source.options.get("query") else None,
        QueryRefused,
    )
    error.detail = str(exc)
    return error


def _table_absent(backend: Backend, table: str) -> bool:
    names = backend.tables()
    return bool(names) and table.split(".")[-1] not in {n.split(".")[-1] for n in names}


def _check_sqlite_timestamps(backend: Backend) -> None:
    """ISO text compares correctly as text; numbers would compare as 'before everything'."""
    source = backend.source
    if not backend.text_bounds or not source.timestamp:
        return
    ts = quote(source.timestamp)
    _, rows = backend.fetch(
        Statement(
            f"SELECT typeof({ts}), CAST({ts} AS TEXT) FROM {target_sql(source)} AS {ALIAS} "
            f"WHERE {ts} IS NOT NULL LIMIT 1",
            {},
        )
    )
    if rows and rows[0][0] in ("integer", "real", "blob"):
        raise source_error(
            source,
            f"column '{source.timestamp}' (its 'timestamp') holds {rows[0][0]} values such as "
            f"{rows[0][1]!r}, not ISO 8601 text; convert it in a 'query', e.g. "
            f"SELECT *, datetime({ts}, 'unixepoch') AS created_at FROM ...",
            "timestamp",
        )


def database_columns(backend: Backend) -> list[str]:
    try:
        names, _ = backend.fetch(
            Statement(f"SELECT * FROM {target_sql(backend.source)} AS {ALIAS} WHERE 1 = 0", {})
        )
    except QueryFailed as exc:
        raise _refused(backend, exc, None) from None
    return names


def database_relation(
    backend: Backend, request: DataRequest, ctx: SourceContext
) -> duckdb.DuckDBPyRelation:
    """The requested rows as a DuckDB relation over Arrow, timestamp cast and bounds exact."""
    source = backend.source
    statement = select_statement(source, request, text_bounds=backend.text_bounds)
    try:
        if source.timestamp:
            names = database_columns(backend)
            if source.timestamp not in names:
                raise stamps.missing_column(source, names)
            _check_sqlite_timestamps(backend)
        names, batches = backend.run(statement)

        def sample() -> Sequence[Any] | None:
            unbounded = replace(request, start=None, end=None, filter=None)
            probe = select_statement(source, unbounded, text_bounds=backend.text_bounds)
            _, rows = backend.fetch(Statement(probe.sql + " LIMIT 1", {}))
            return rows[0] if rows else None

        table = to_arrow(names, batches, sample)
    except QueryFailed as exc:
        raise _refused(backend, exc, request) from None
    rel = ctx.con.from_arrow(table)
    rel = stamps.with_timestamp(rel, source, source.options.get(stamps.FORMAT_OPTION))
    return narrow(rel, source.timestamp, request)


NEWEST_REACH = timedelta(days=3)
"""How far before the database's own newest value the exact newest instant may lie:
text compares as written, and its offset and the machine's zone move an instant by up
to 28 hours either way."""


def newest_before(backend: Backend, request: DataRequest, ctx: SourceContext) -> datetime | None:
    """The newest instant before ``request.end`` among rows that satisfy ``request.filter``.

    The database answers one ``max()`` (over text bounds widened as for windows);
    then only the timestamps of the last days up to that value are read, cast and
    compared as instants in DuckDB, exactly as a window's rows are. No other row
    leaves the database.
    """
    source = backend.source
    if not source.timestamp or request.end is None:
        return None
    ts = quote(source.timestamp)
    bound = day_ceiling(request.end) if backend.text_bounds else request.end
    where = f"{ts} < :{END}" + (f" AND ({request.filter})" if request.filter else "")
    statement = Statement(
        f"SELECT max({ts}) FROM {target_sql(source)} AS {ALIAS} WHERE {where}", {END: bound}
    )
    try:
        _, rows = backend.fetch(statement)
    except QueryFailed as exc:
        raise _refused(backend, exc, request) from None
    top = rows[0][0] if rows else None
    if top is None:
        return None
    day = _day_of(top)
    start = None
    if day is not None:
        start = datetime.combine(min(day, request.end.date()), time()) - NEWEST_REACH
    near = replace(request, columns=(), start=start)
    rel = database_relation(backend, near, ctx)
    found = rel.aggregate(f"max({ts})").fetchall()
    return found[0][0] if found else None


def _day_of(value: Any) -> date | None:
    """The calendar day a database's timestamp value is written on, if it is one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None  # not ISO: the full read reports the bad value


def narrow(
    rel: duckdb.DuckDBPyRelation, ts: str | None, request: DataRequest
) -> duckdb.DuckDBPyRelation:
    """Exact time bounds in DuckDB, after the database returned a superset."""
    conditions = []
    if ts and request.start is not None:
        conditions.append(f"{quote(ts)} >= {timestamp_literal(request.start)}")
    if ts and request.end is not None:
        conditions.append(f"{quote(ts)} < {timestamp_literal(request.end)}")
    return rel.filter(" AND ".join(conditions)) if conditions else rel


def timestamp_literal(moment: datetime | date) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0))
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return f"TIMESTAMP '{moment.isoformat(sep=' ', timespec='microseconds')}'"


def option_problems(options: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """Exactly one of ``table`` and ``query``: both is ambiguous, neither reads nothing."""
    has_table, has_query = bool(options.get("table")), bool(options.get("query"))
    if has_table and has_query:
        return [("query", "give either 'table' or 'query', not both")]
    if not has_table and not has_query:
        return [(None, "needs 'table' (a table or view name) or 'query' (a SELECT statement)")]
    return []
