"""Parameter checks and SQL pieces shared by the built-in KPI calculators.

Kept apart from the calculators so that every module of them reads a number, a
column name or a percent the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pdca.kpi import INTEGER_TYPES, Kpi, ParamProblem


def number_sql(column_sql: str, column_type: str | None = None) -> str:
    """The column as a finite DOUBLE, else NULL: exports mix numbers, text and NaN.

    With the column's DuckDB type known, a typed column is read without the text
    cast (integers and decimals are always finite; floats need only the NaN and
    infinity check): the same values, fewer operations per row.
    """
    if column_type is not None and (
        column_type in INTEGER_TYPES or column_type.startswith("DECIMAL")
    ):
        return f"CAST({column_sql} AS DOUBLE)"
    if column_type in ("DOUBLE", "FLOAT"):
        return f"CASE WHEN isfinite({column_sql}) THEN CAST({column_sql} AS DOUBLE) END"
    x = f"TRY_CAST({column_sql} AS DOUBLE)"
    return f"CASE WHEN isfinite({x}) THEN {x} END"


def percent_of(condition: str, value_sql: str) -> str:
    """100 for rows meeting ``condition``, 0 for other usable rows: avg() gives the percent."""
    return f"CASE WHEN {condition} THEN 100.0 WHEN {value_sql} IS NOT NULL THEN 0.0 END"


def is_number(value: Any) -> bool:
    # bool is an int to Python, but ``limit: true`` in YAML is a mistake, not 1.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_number(
    kpi: Kpi,
    params: Mapping[str, Any],
    key: str,
    *,
    required: bool = False,
    between: tuple[float, float] | None = None,
) -> list[ParamProblem]:
    if key not in params:
        if required:
            return [(key, f"KPI '{kpi.name}' needs parameter '{key}': {kpi.param_docs[key]}")]
        return []
    value = params[key]
    if not is_number(value):
        return [(key, f"KPI '{kpi.name}' parameter '{key}' must be a number, got {value!r}")]
    if between and not between[0] <= value <= between[1]:
        low, high = between
        return [
            (key, f"KPI '{kpi.name}' parameter '{key}' must be from {low} to {high}, got {value}")
        ]
    return []


def check_column(kpi: Kpi, params: Mapping[str, Any], key: str) -> list[ParamProblem]:
    if key not in params:
        return [(key, f"KPI '{kpi.name}' needs parameter '{key}': {kpi.param_docs[key]}")]
    value = params[key]
    if not isinstance(value, str) or not value.strip():
        return [(key, f"KPI '{kpi.name}' parameter '{key}' must be a column name, got {value!r}")]
    return []


def column_param(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    return [value] if isinstance(value, str) and value.strip() else []
