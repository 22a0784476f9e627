"""A CSV file's dialect and column types, worked out once per file per process.

DuckDB's ``read_csv`` detects the delimiter, quoting, header and each column's
type every time a query that reads it is bound, which means for every metric
over a view of the file. On a large file that sampling costs far more than the
query itself, so a check of hundreds of metrics read without the Parquet cache
(``--no-cache``, or a cache folder that cannot be written) spent most of its
time sniffing the same file again and again. Here the file is sniffed once
(:func:`sniff`, DuckDB's own ``sniff_csv`` with the playbook's options) and
read afterwards with everything spelled out (``auto_detect=false``), which
binds without looking at the data.

The answer is remembered for the file as it is now (path, size, modification
and change times, inode) and the options it is read with: a file that changes
is sniffed again. When sniffing fails the file is read with detection on, so
DuckDB's own error reaches the user as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdca.kpi import sql_literal

if TYPE_CHECKING:
    import duckdb

_SNIFFED: dict[tuple[Any, ...], str | None] = {}
"""(file state, options) -> the explicit ``read_csv`` call, or None: read with detection."""

_LIMIT = 256
"""Files remembered at most; a long-lived process reading many files forgets the oldest."""

_DETECTED = ("delim", "header", "skip", "types")
"""Options the explicit call states from what was detected (which honours them)."""


def _value_sql(value: Any) -> str:
    if isinstance(value, Mapping):
        items = ", ".join(f"{sql_literal(str(k))}: {sql_literal(str(v))}" for k, v in value.items())
        return "{" + items + "}"
    return sql_literal(value)


def scan_sql(reader: str, path: Path, arguments: Mapping[str, Any]) -> str:
    """``read_csv('/abs/file.csv', delim=';')``: a table function call for DuckDB SQL."""
    args = [sql_literal(str(path))]
    args += [f"{name}={_value_sql(value)}" for name, value in arguments.items()]
    return f"{reader}({', '.join(args)})"


def explicit_scan(
    con: duckdb.DuckDBPyConnection, path: Path, arguments: Mapping[str, Any], scan: str
) -> str:
    """``scan`` (a ``read_csv`` call with the playbook's options) with the dialect and
    column types spelled out, so binding it reads nothing; ``scan`` itself when the
    file cannot be sniffed."""
    key = _key(path, arguments)
    if key is None:
        return scan
    if key not in _SNIFFED:
        if len(_SNIFFED) >= _LIMIT:
            del _SNIFFED[next(iter(_SNIFFED))]
        _SNIFFED[key] = sniff(con, path, arguments)
    return _SNIFFED[key] or scan


def sniff(con: duckdb.DuckDBPyConnection, path: Path, arguments: Mapping[str, Any]) -> str | None:
    """The explicit ``read_csv`` call for ``path`` read with ``arguments``, or None when
    DuckDB cannot sniff it (the caller then reads it with detection, and fails there
    with DuckDB's own message)."""
    import duckdb

    try:
        rows = con.execute(
            "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, HasHeader, "
            f"Columns, DateFormat, TimestampFormat FROM {scan_sql('sniff_csv', path, arguments)}"
        ).fetchall()
    except duckdb.Error:
        return None
    if len(rows) != 1:
        return None
    delim, quote_char, escape, new_line, comment, skip, header, columns, dates, times = rows[0]
    if not columns:
        return None
    spelled: dict[str, Any] = {k: v for k, v in arguments.items() if k not in _DETECTED}
    spelled.update(
        auto_detect=False,
        delim=delim,
        quote=_char(quote_char),
        escape=_char(escape),
        new_line=new_line,
        comment=_char(comment),
        skip=int(skip),
        header=bool(header),
        columns={c["name"]: c["type"] for c in columns},
    )
    if dates is not None:
        spelled["dateformat"] = dates
    if times is not None:
        spelled["timestampformat"] = times
    return scan_sql("read_csv", path, spelled)


def _char(value: str | None) -> str:
    """A quote, escape or comment character as ``read_csv`` takes it: sniff_csv says
    ``(empty)`` for none, which ``read_csv`` spells ''."""
    return "" if value in (None, "(empty)") else value


def _key(path: Path, arguments: Mapping[str, Any]) -> tuple[Any, ...] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    options = repr(sorted(arguments.items()))
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, options)


def forget() -> None:
    """Forget every file sniffed (tests; a process that knows its files were replaced)."""
    _SNIFFED.clear()
