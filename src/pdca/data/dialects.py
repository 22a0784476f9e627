"""What differs between the databases pdca computes KPIs in, said once for both readers.

The row-by-row reader (:mod:`pdca.data.databases`) and the aggregate one
(:mod:`pdca.data.pushdown`) must agree on what a column holds and on which
text is a number, so both take it from here.
"""

from __future__ import annotations

import math
from typing import Any

POSTGRES_KINDS = {
    16: "bool",
    20: "integer",
    21: "integer",
    23: "integer",
    700: "number",
    701: "number",
    1700: "number",
    25: "text",
    1042: "text",
    1043: "text",
    1114: "timestamp",
    1184: "timestamptz",
    1082: "date",
}
"""PostgreSQL type OIDs (as drivers report them) to what a column holds."""


SQLITE_NUMBER = "pdca_number"
"""A function registered on SQLite connections: text as a finite number, else NULL."""


def sqlite_number(value: Any) -> float | None:
    """DuckDB's ``TRY_CAST(text AS DOUBLE)`` kept finite, for SQLite's text values."""
    if not isinstance(value, str) or not value.isascii():
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def add_number_function(con: Any) -> None:
    """SQLite has no safe cast of text to a number; pdca's rule, as a function."""
    con.create_function(SQLITE_NUMBER, 1, sqlite_number, deterministic=True)


def duckdb_zone(con: Any) -> str:
    """DuckDB's time zone: the one every instant is shown in, whatever its source."""
    return str(con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
