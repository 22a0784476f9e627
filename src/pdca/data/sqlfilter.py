"""Vetting a metric's ``filter:`` before it reaches a database.

A filter is pasted into SQL (DuckDB's for files, the database's own for
``sqlite`` and ``sql`` sources), and SQL can do far more than compare columns:
DuckDB's table functions read any file the user can (``read_text('/etc/passwd')``
came back whole inside an error message), a subquery reads other tables. A
playbook is data, so its filters are held to what a filter is for: an
expression over the source's columns.

The filter is parsed by DuckDB (``json_serialize_sql``) and its tree walked;
only column references, constants, comparisons, AND/OR/NOT, IN, BETWEEN,
LIKE/ILIKE/GLOB/SIMILAR TO, IS [NOT] NULL, IS [NOT] DISTINCT FROM, CASE, casts, COLLATE,
arithmetic and the scalar functions of :data:`FUNCTIONS` pass. Anything else
(subqueries, table functions, unknown functions, window functions, lambdas,
parameters, ``*``, several statements) is refused, with its name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pdca.data.messages import excerpt
from pdca.playbook.messages import shown

if TYPE_CHECKING:
    import duckdb

TABLE = "__pdca_filter"
"""The table the filter is parsed against; no such table needs to exist."""

OPERATORS = frozenset(
    {"+", "-", "*", "/", "//", "%", "^", "**", "||", "~~", "!~~", "~~*", "!~~*", "~~~", "!~~~"}
)
"""Operators DuckDB's parser writes as functions (``LIKE`` is ``~~``, ``GLOB`` is ``~~~``)."""

FUNCTIONS = frozenset(
    {
        # text
        "lower", "upper", "lcase", "ucase", "trim", "ltrim", "rtrim", "length", "len",
        "strlen", "char_length", "substr", "substring", "left", "right", "replace",
        "concat", "contains", "starts_with", "ends_with", "prefix", "suffix", "strpos",
        "instr", "position", "lpad", "rpad", "split_part", "regexp_matches",
        "regexp_full_match", "regexp_extract", "regexp_replace", "md5",
        # numbers
        "abs", "round", "floor", "ceil", "ceiling", "trunc", "sign", "sqrt", "ln", "log",
        "log10", "log2", "exp", "pow", "power", "mod", "greatest", "least", "isnan",
        "isinf", "isfinite",
        # nulls
        "nullif", "ifnull",
        # dates and times (INTERVAL '1 day' parses as to_days(...))
        "date_trunc", "datetrunc", "date_part", "datepart", "strftime", "strptime",
        "try_strptime", "year", "month", "day", "dayofmonth", "dayofweek", "dayofyear",
        "isodow", "week", "weekofyear", "yearweek", "quarter", "hour", "minute", "second",
        "epoch", "date_diff", "datediff", "date_sub", "datesub", "date_add", "age",
        "last_day", "make_date", "make_timestamp", "today", "now", "current_date",
        "to_days", "to_hours", "to_minutes", "to_seconds", "to_weeks", "to_months",
        "to_years", "to_milliseconds", "to_microseconds", "julianday", "date", "datetime",
        "time", "to_char", "to_date", "to_timestamp",
        # literal lists, for IN [..] and contains()
        "list_value", "list_contains", "list_has",
    }
)  # fmt: skip
"""Scalar functions a filter may call: pure functions of their arguments and the clock."""

CLASSES = frozenset(
    {
        "COLUMN_REF",
        "CONSTANT",
        "COMPARISON",
        "CONJUNCTION",
        "BETWEEN",
        "CASE",
        "CAST",
        "TYPE",
        "COLLATE",
    }
)
"""Expression kinds that are harmless whatever they hold (their children are checked too)."""

OPERATOR_TYPES = frozenset(
    {
        "OPERATOR_NOT",
        "OPERATOR_IS_NULL",
        "OPERATOR_IS_NOT_NULL",
        "COMPARE_IN",
        "COMPARE_NOT_IN",
        "OPERATOR_COALESCE",
        "OPERATOR_NULLIF",
        "ARRAY_EXTRACT",
        "OPERATOR_TRY",
    }
)

REFUSED_CLASSES = {
    "SUBQUERY": "a subquery (SELECT, EXISTS, IN (SELECT ...), ANY)",
    "WINDOW": "a window function (OVER ...)",
    "LAMBDA": "a lambda (x -> ...)",
    "PARAMETER": "a parameter (?, $1)",
    "STAR": "* or COLUMNS(...)",
    "FUNCTION_REF": "a table function",
}


class FilterRefused(ValueError):
    """The filter is not an expression over columns; the message says what was found."""


@dataclass(frozen=True)
class VettedFilter:
    """A filter that passed: the column names it reads (each a dotted name's parts)."""

    columns: tuple[tuple[str, ...], ...]


def vet(con: duckdb.DuckDBPyConnection | None, text: str) -> VettedFilter:
    """The filter's columns, or :class:`FilterRefused` naming what it may not hold.

    ``con`` is any DuckDB connection (only its parser is used); None opens one.
    """
    import duckdb

    if not text.strip():
        raise FilterRefused("is empty: write a condition, or leave 'filter' out")
    if any(kind == duckdb.token_type.comment for _, kind in _tokens(text)):
        raise FilterRefused(
            "holds a comment (-- or /* */), which would hide the SQL pdca writes after it; "
            "write comments in YAML (# ...) next to the filter"
        )
    if con is None:
        con = duckdb.connect(":memory:")

    try:
        (raw,) = con.execute(
            "SELECT json_serialize_sql(?)", [f"SELECT 1 FROM {TABLE} WHERE ({text})"]
        ).fetchall()[0]
    except duckdb.Error as exc:
        raise FilterRefused(
            f"cannot be checked: this DuckDB cannot parse SQL to JSON ({type(exc).__name__})"
        ) from None
    tree = json.loads(raw)
    if tree.get("error"):
        message = excerpt(str(tree.get("error_message") or "syntax error"))
        if "Only SELECT" in message:
            message = "give one condition, not several statements"
        raise FilterRefused(f"is not a SQL condition: {message}")
    statements = tree.get("statements") or []
    if len(statements) != 1:
        raise FilterRefused("is not a SQL condition: give one condition, not several statements")
    node = statements[0].get("node") or {}
    _plain_select(node)
    _balanced(text)
    columns: list[tuple[str, ...]] = []
    _walk(node.get("where_clause"), columns)
    return VettedFilter(tuple(columns))


def _balanced(text: str) -> None:
    """Refuse a filter that closes a parenthesis it did not open.

    pdca writes ``... AND (FILTER)``; ``a = 1) OR (b = 2`` would turn that into
    ``... AND (a = 1) OR (b = 2)`` and escape the time window. Strings, quoted
    names are skipped by DuckDB's own tokenizer (comments are refused before).
    """
    import duckdb

    tokens = _tokens(text)
    if not tokens:  # only blanks or a comment: nothing to balance
        return
    depth = 0
    ends = [pos for pos, _ in tokens[1:]] + [len(text)]
    for (pos, kind), end in zip(tokens, ends, strict=True):
        if kind != duckdb.token_type.operator:
            continue
        for char in text[pos:end]:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                raise FilterRefused(
                    "closes a parenthesis it did not open: a filter is one condition; "
                    "balance its parentheses"
                )


def _tokens(text: str) -> list[tuple[int, Any]]:
    """DuckDB's tokens of ``text`` (start, kind); none when it does not tokenize (the
    parser then says what is wrong)."""
    import duckdb

    try:
        return list(duckdb.tokenize(text))
    except Exception:
        return []


def _plain_select(node: dict[str, Any]) -> None:
    """The parse must be ``SELECT 1 FROM table WHERE (...)`` and nothing more."""
    extra = (
        node.get("type") != "SELECT_NODE"
        or node.get("modifiers")
        or (node.get("cte_map") or {}).get("map")
        or node.get("group_expressions")
        or node.get("having") is not None
        or node.get("qualify") is not None
        or node.get("sample") is not None
        or (node.get("from_table") or {}).get("table_name") != TABLE
    )
    if extra:
        raise FilterRefused(
            "is more than a condition (it closes the WHERE clause and adds a query part); "
            "write one condition over the source's columns"
        )


def _walk(root: Any, columns: list[tuple[str, ...]]) -> None:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("class")
        if kind is not None:
            _allowed(node, str(kind))
            if kind == "COLUMN_REF":
                columns.append(tuple(str(n) for n in node.get("column_names", [])))
        stack.extend(v for v in node.values() if isinstance(v, (dict, list)))


def _allowed(node: dict[str, Any], kind: str) -> None:
    if kind in CLASSES:
        return
    if kind == "FUNCTION":
        name = str(node.get("function_name", "")).lower()
        qualified = node.get("schema") or node.get("catalog")
        if name in OPERATORS or (name in FUNCTIONS and not qualified):
            return
        what = shown(f"{node.get('schema')}.{name}" if node.get("schema") else name)
        raise FilterRefused(
            f"calls {what}(), which a filter may not use: filters compare the source's "
            "columns, with scalar functions such as lower, upper, trim, length, coalesce, "
            "abs, round, date_trunc, strftime, year, month (see docs/playbooks.md)"
        )
    if kind == "OPERATOR" and node.get("type") in OPERATOR_TYPES:
        return
    what = REFUSED_CLASSES.get(kind) or f"{kind.lower()} ({str(node.get('type', '')).lower()})"
    raise FilterRefused(
        f"holds {what}, which a filter may not use: write one condition over the source's columns"
    )
