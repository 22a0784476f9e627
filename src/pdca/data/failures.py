"""Why a metric's rows could not be read or computed, said at the playbook line to fix.

Tables over files are often views, so data that does not fit a column type, or
a filter that cannot be evaluated on some rows (``CAST(channel AS INTEGER) = 1``
on 'email'), surfaces only while a KPI reads them. On that error path only, the
rows are read again (the *recipe* a table was made from: relation, select list,
conditions, whether the last condition is the metric's filter) to tell the
filter's fault from the data's and from the KPI's.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pdca.data.messages import at, first_line, quoted
from pdca.errors import SourceError
from pdca.kpi import quote

if TYPE_CHECKING:
    from pdca.playbook.model import Metric, Source

MEMORY_ENV = "PDCA_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "400MB"
"""DuckDB's working memory for one check. Past it DuckDB spills to temporary files, so a
10M-row export is measured within a few hundred MB instead of growing with the file;
what cannot spill (a percentile's values) fails with :func:`out_of_memory`'s message."""


def memory_limit() -> str:
    return os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_LIMIT)


Recipe = tuple[str, str, list[str], bool]
"""How a metric table was made: relation, select list, conditions, filter last."""


def out_of_memory(metric: Metric, source: Source, exc: Exception) -> SourceError | None:
    """DuckDB ran out of the memory a check may use: say which, and how to give more."""
    import duckdb

    if not isinstance(exc, duckdb.OutOfMemoryException):
        return None
    limit = memory_limit()
    return SourceError(
        f"{at(metric.where())}metric '{metric.id}': computing '{metric.kpi}' over source "
        f"'{source.id}' needs more memory than a check may use ({MEMORY_ENV}={limit}); "
        f"set {MEMORY_ENV} higher, for instance {MEMORY_ENV}=2GB"
    )


def computing_error(
    con: Any, metric: Metric, source: Source, recipe: Recipe | None, exc: Exception
) -> SourceError:
    """A KPI failed over a metric's table: the rows' fault when they do not read in
    full (:func:`reading_error`), else the computation's."""
    memory = out_of_memory(metric, source, exc)
    if memory is not None:
        return memory
    if recipe is not None and not probe(con, recipe[0], recipe[1], recipe[2]):
        return reading_error(con, metric, source, recipe, exc)
    return SourceError(
        f"{at(metric.where())}metric '{metric.id}': computing '{metric.kpi}' over source "
        f"'{source.id}' failed: {first_line(exc)}"
    )


def reading_error(
    con: Any, metric: Metric, source: Source, recipe: Recipe | None, exc: Exception
) -> SourceError:
    """A metric's rows cannot be read: the filter's fault, at its line, when they read
    fine without it; else the source's data, at the metric."""
    memory = out_of_memory(metric, source, exc)
    if memory is not None:
        return memory
    if recipe is not None and recipe[3] and probe(con, recipe[0], recipe[1], recipe[2][:-1]):
        return SourceError(
            f"{at(metric.where('filter'))}metric '{metric.id}' filter {quoted(metric.filter)} "
            f"failed on the data of source '{source.id}': {first_line(exc)}; fix the "
            "filter (for instance TRY_CAST instead of CAST) or the data"
        )
    return SourceError(
        f"{at(metric.where())}metric '{metric.id}': reading source '{source.id}' failed: "
        f"{first_line(exc)}{type_hint(exc)}"
    )


def probe(con: Any, relation: str, select: str, conditions: list[str]) -> bool:
    """Whether these rows can be read in full (every column converted)."""
    import duckdb

    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    table = quote("__pdca_probe")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select} FROM {relation}{where}"
        ).fetchall()
    except duckdb.Error:
        return False
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}").fetchall()
    return True


def type_hint(exc: BaseException) -> str:
    if "CSV Error" in str(exc):
        return (
            "; a column's type was guessed from the first rows and a later row does not fit: "
            "set it with the csv option 'types'"
        )
    return ""
