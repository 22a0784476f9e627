"""Turning a source's timestamp column into a DuckDB TIMESTAMP, or saying which value is wrong.

Every window and period pdca computes compares against this column, so a
value that silently became NULL would silently drop a ticket from the numbers.
The column is therefore checked once, when the source is read, and the first
bad value is quoted back to the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pdca.data.messages import source_error, unknown_column
from pdca.kpi import quote, sql_literal

if TYPE_CHECKING:
    import duckdb

    from pdca.errors import SourceError
    from pdca.playbook.model import Source

#: types that become a TIMESTAMP without any value being able to fail
EXACT_TYPES = frozenset(
    {
        "TIMESTAMP",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "TIMESTAMP WITH TIME ZONE",
        "DATE",
        '"NULL"',
        "NULL",
    }
)
ZONED_TYPES = frozenset({"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"})
FORMAT_OPTION = "timestamp_format"
FORMAT_DOC = (
    "strptime format of the timestamp column when it is not ISO 8601, "
    "e.g. '%d/%m/%Y %H:%M' (DuckDB format codes)"
)


CAST_VERSION = 2
"""Bumped when a cast changes what a value means, so cached copies are rebuilt."""


def cast_sql(
    column_sql: str, type_name: str, fmt: str | None, *, lenient: bool = False
) -> str | None:
    """SQL turning the column into a TIMESTAMP; ``lenient`` gives NULL for a bad value.

    None when the type cannot hold timestamps at all (numbers, booleans ...).
    A value with a zone or offset is converted to DuckDB's time zone (the
    machine's), as docs/sources.md says; one without is taken as written. Text goes
    through TIMESTAMPTZ, since ``CAST(text AS TIMESTAMP)`` silently drops an offset
    (``10:00+01:00`` would be 10:00); and ``timezone(...)`` is used rather than a
    cast to TIMESTAMP, which DuckDB may push into its CSV reader, where the offset
    is dropped too (so the Parquet cache held other times than a direct read).
    """
    upper = type_name.upper()
    if upper == "TIMESTAMP":
        return column_sql
    if upper in ZONED_TYPES:
        return f"timezone(current_setting('TimeZone'), {column_sql})"
    if upper in EXACT_TYPES:
        return f"CAST({column_sql} AS TIMESTAMP)"
    if upper != "VARCHAR":
        return None
    if fmt:
        func = "try_strptime" if lenient else "strptime"
        return f"CAST({func}({column_sql}, {sql_literal(fmt)}) AS TIMESTAMP)"
    cast = "TRY_CAST" if lenient else "CAST"
    return f"timezone(current_setting('TimeZone'), {cast}({column_sql} AS TIMESTAMPTZ))"


def column_type(rel: duckdb.DuckDBPyRelation, name: str) -> str | None:
    for col, typ in zip(rel.columns, rel.types, strict=True):
        if col == name:
            return str(typ)
    return None


def missing_column(source: Source, columns: list[str]) -> SourceError:
    col = source.timestamp or ""
    return source_error(
        source,
        f"has no column '{col}' to use as its 'timestamp' {unknown_column(col, columns)}",
        "timestamp",
    )


def wrong_type(source: Source, type_name: str) -> SourceError:
    return source_error(
        source,
        f"column '{source.timestamp}' (its 'timestamp') holds {type_name} values, not dates or "
        "times; store timestamps as ISO 8601 text (2024-03-31 14:05:00) or as a date/time type, "
        "or convert them in the source (for databases: a 'query' that converts the column)",
        "timestamp",
    )


def bad_value(source: Source, example: str, count: int, fmt: str | None) -> SourceError:
    how = (
        f"the values must match 'timestamp_format' {fmt!r}"
        if fmt
        else "write them as ISO 8601 (2024-03-31 or 2024-03-31 14:05:00), or set "
        "'timestamp_format' (e.g. '%d/%m/%Y %H:%M') to read another layout"
    )
    what = "a value that is not a timestamp" if count == 1 else f"{count} values that are not"
    what += "" if count == 1 else " timestamps"
    return source_error(
        source,
        f"column '{source.timestamp}' (its 'timestamp') holds {what}, e.g. {example!r}; {how}",
        "timestamp",
    )


def timestamp_cast(rel: duckdb.DuckDBPyRelation, source: Source, fmt: str | None) -> str | None:
    """The cast for ``source.timestamp`` in ``rel``; None when there is no timestamp column."""
    if source.timestamp is None:
        return None
    type_name = column_type(rel, source.timestamp)
    if type_name is None:
        raise missing_column(source, list(rel.columns))
    expr = cast_sql(quote(source.timestamp), type_name, fmt)
    if expr is None:
        raise wrong_type(source, type_name)
    return expr


def first_bad_value(
    rel: duckdb.DuckDBPyRelation, source: Source, fmt: str | None
) -> SourceError | None:
    """The error for the first value of the timestamp column that does not convert, if any."""
    if source.timestamp is None:
        return None
    type_name = column_type(rel, source.timestamp) or "VARCHAR"
    col = quote(source.timestamp)
    lenient = cast_sql(col, type_name, fmt, lenient=True)
    if lenient is None or type_name.upper() in EXACT_TYPES:
        return None
    rows = rel.query(
        "__pdca_src",
        f"SELECT CAST({col} AS VARCHAR), count(*) OVER () FROM __pdca_src "
        f"WHERE {col} IS NOT NULL AND {lenient} IS NULL LIMIT 1",
    ).fetchall()
    if not rows:
        return None
    example, count = rows[0]
    return bad_value(source, example, int(count), fmt)


def with_timestamp(
    rel: duckdb.DuckDBPyRelation, source: Source, fmt: str | None = None
) -> duckdb.DuckDBPyRelation:
    """``rel`` with its timestamp column as TIMESTAMP, after checking every value converts."""
    expr = timestamp_cast(rel, source, fmt)
    if expr is None or source.timestamp is None:
        return rel
    problem = first_bad_value(rel, source, fmt)
    if problem is not None:
        raise problem
    if expr == quote(source.timestamp):
        return rel
    return rel.query(
        "__pdca_src", f"SELECT * REPLACE ({expr} AS {quote(source.timestamp)}) FROM __pdca_src"
    )
