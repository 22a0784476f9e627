"""KPI calculators: the contract between pdca and whoever computes a metric's value.

A calculator turns the rows of one metric (already filtered and limited in time)
into a value for the metric's window and one value per period for its history.
Most calculators are a single SQL aggregate run by DuckDB (:class:`SqlKpi`), which
computes the window and every period in one scan; a plugin may instead give a
plain Python function over a column (:class:`FunctionKpi`), or subclass
:class:`Kpi` for anything that needs more than one pass (retention, for one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import duckdb

ParamProblem = tuple[str | None, str]
"""A problem with a metric's KPI settings: (``params`` key or None for the metric, message)."""

ValueRange = tuple[float | None, float | None]
"""The values a KPI can take, ``(low, high)``; None for an open end: ``(0, None)`` is 0 or more."""

UNBOUNDED: ValueRange = (None, None)
PERCENT: ValueRange = (0, 100)

TS = "__ts"
"""Name of the timestamp column in every metric table."""


def quote(identifier: str) -> str:
    """Quote a column name for DuckDB SQL, whatever characters it holds."""
    return '"' + identifier.replace('"', '""') + '"'


def sql_literal(value: Any) -> str:
    """A SQL literal for a number, string or boolean taken from a playbook."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return "'" + str(value).replace("'", "''") + "'"


TRUTHY = ("true", "t", "yes", "y", "1", "1.0")
FALSY = ("false", "f", "no", "n", "0", "0.0")


INTEGER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)


def truthy_sql(column_sql: str, column_type: str | None = None) -> str:
    """1.0 for truthy values, 0.0 for falsy ones, NULL for anything else (ignored by avg).

    Exports spell booleans many ways (true/false, yes/no, 1/0, Y/N); comparing the
    lower-cased text makes one rule work for BOOLEAN, integer and text columns.
    When the column's type is known to be BOOLEAN or an integer, the same rule is
    written without text conversion, which is several times faster on big files.
    """
    if column_type == "BOOLEAN":
        return f"CAST({column_sql} AS DOUBLE)"
    if column_type in INTEGER_TYPES:
        return f"CASE WHEN {column_sql} = 1 THEN 1.0 WHEN {column_sql} = 0 THEN 0.0 END"
    text = f"lower(trim(CAST({column_sql} AS VARCHAR)))"
    t = ", ".join(sql_literal(v) for v in TRUTHY)
    f = ", ".join(sql_literal(v) for v in FALSY)
    return f"CASE WHEN {text} IN ({t}) THEN 1.0 WHEN {text} IN ({f}) THEN 0.0 END"


@dataclass(frozen=True, slots=True)
class KpiValue:
    """A computed value and the number of rows (responses, tickets) behind it."""

    value: float | None
    n: int


NO_VALUE = KpiValue(None, 0)


@dataclass(frozen=True)
class KpiResult:
    """The window's value and the per-period series, keyed by each period's first day."""

    window: KpiValue
    series: Mapping[date, KpiValue] = field(default_factory=dict)


@dataclass
class KpiQuery:
    """What a calculator gets: a DuckDB table of the metric's rows and the time frame.

    ``table`` holds the source's columns plus ``__ts`` (TIMESTAMP). Its rows are
    already filtered by the metric's ``filter`` and lie in
    ``[history_start, end)``; the window is ``[window_start, end)``.
    """

    con: duckdb.DuckDBPyConnection
    table: str
    field: str | None
    params: Mapping[str, Any]
    period: str
    window_start: datetime
    end: datetime
    history_start: datetime
    #: When set, the SQL each source column is read as, and the condition a row
    #: must meet to count: a shared scan of many metrics (:mod:`pdca.check.onescan`)
    #: reads each metric's rows as masked columns of one table.
    names: Mapping[str, str] | None = None
    mask: str | None = None
    #: DuckDB's type of each column of ``table`` asked so far (a shared scan fills it
    #: once for all its metrics instead of a query per metric and column).
    types: dict[str, str] = field(default_factory=dict)

    @property
    def column(self) -> str:
        """The quoted ``field`` column."""
        if self.field is None:
            raise ValueError("this KPI needs a field")
        return self.col(self.field)

    def col(self, name: str) -> str:
        if self.names is not None and name in self.names:
            return self.names[name]
        return quote(name)

    @property
    def count_rows(self) -> str:
        """``count(*)`` of the metric's rows, also when they are a masked part of a table
        (``mask`` is then a column that is TRUE for them and NULL for the others: a
        FILTER clause on each of hundreds of aggregates is several times slower)."""
        return "count(*)" if self.mask is None else f"count({self.mask})"

    def column_type(self, name: str | None) -> str | None:
        """DuckDB's type of a column of the table (``BOOLEAN``, ``DOUBLE`` ...)."""
        if name is None:
            return None
        if name not in self.types:
            found = self.con.sql(f"SELECT {quote(name)} FROM {self.table} LIMIT 0").types[0]
            self.types[name] = str(found)
        return self.types[name]

    @property
    def period_sql(self) -> str:
        """SQL for the first day of the period each row falls in."""
        return f"CAST(date_trunc('{self.period}', {TS}) AS DATE)"

    @property
    def in_window_sql(self) -> str:
        return f"({TS} >= TIMESTAMP '{self.window_start:%Y-%m-%d %H:%M:%S}')"

    def aggregate(self, value_sql: str, n_sql: str = "count(*)") -> KpiResult:
        """Run one aggregate over the window and over every period.

        Two plain queries beat one with GROUPING SETS here: the window query
        prunes most rows by time before aggregating (measured 7 ms vs 12 ms for
        a mean over a million rows, 26 vs 35 ms for a percentile).
        """
        select = f"CAST({value_sql} AS DOUBLE), CAST({n_sql} AS BIGINT)"
        rows = self.con.execute(
            f"SELECT {self.period_sql} AS __p, {select} FROM {self.table} GROUP BY __p"
        ).fetchall()
        # fetchall, not fetchone: DuckDB keeps a half-read result open on the
        # connection, and the next relation built on it would fail
        ((v, n),) = self.con.execute(
            f"SELECT {select} FROM {self.table} WHERE {self.in_window_sql}"
        ).fetchall()
        window = KpiValue(v, n or 0) if n else NO_VALUE
        series = {p: KpiValue(value, count) for p, value, count in rows}
        return KpiResult(window, dict(sorted(series.items())))

    def values(self, column_sql: str) -> tuple[list[Any], dict[date, list[Any]]]:
        """Non-null values of an expression: those in the window, and per period."""
        listed = f"list({column_sql}) FILTER (WHERE {column_sql} IS NOT NULL)"
        rows = self.con.execute(
            f"SELECT {self.period_sql} AS __p, {listed} FROM {self.table} GROUP BY __p"
        ).fetchall()
        ((window,),) = self.con.execute(
            f"SELECT {listed} FROM {self.table} WHERE {self.in_window_sql}"
        ).fetchall()
        series = {p: vals or [] for p, vals in rows}
        return window or [], dict(sorted(series.items()))


class Kpi:
    """Base of every calculator. Subclasses set ``name`` and ``summary`` and compute.

    ``summary`` is one line with the formula: ``pdca plugins`` and the docs show it.
    """

    name: str = ""
    summary: str = ""
    requires_field: bool = True
    #: True when the value needs the rows of the window (or period) just before
    #: it, as retention does; pdca then starts the table's rows early enough.
    lookback: bool = False
    #: The control chart that reads this KPI's period series (see
    #: :mod:`pdca.check.stats.perchart`): ``xmr`` for values whose spread does not
    #: depend on the period's volume (means, percentiles, counts), ``p_prime`` for
    #: percentages of a volume that changes week to week (a 14-response week swings
    #: far more than a 200-response one), ``u_prime`` for rates per unit of exposure,
    #: ``p`` for a plain binomial chart. A metric's ``chart:`` key overrides it.
    chart: ClassVar[str] = "xmr"
    #: True when a period with no rows has a real value of zero (a count, a sum):
    #: the series then shows 0 there, not a gap. False for anything that needs
    #: data to mean something (a mean, a percentage), where such a period is a gap.
    zero_when_empty: ClassVar[bool] = False
    #: parameters this calculator accepts: name -> one-line description
    param_docs: ClassVar[Mapping[str, str]] = {}
    #: The values the KPI can take, ``(low, high)`` with None for an open end
    #: (:data:`PERCENT` for a percentage, ``(0, None)`` for a count). ``pdca
    #: validate`` rejects a target, warn level, baseline or benchmark outside it
    #: and warns when a percent KPI's values look like fractions (0.85 for 85);
    #: reports draw control limits no further than its ends. Unbounded by default:
    #: a mean or a sum takes whatever range its data has.
    value_range: ValueRange = UNBOUNDED
    #: The aggregate a database computes for this KPI (:mod:`pdca.data.pushdown`
    #: lists them: ``mean``, ``nps``, ``rate`` ...), so only aggregates leave it.
    #: Read only from the class that declares it: a subclass that changes the
    #: formula is computed from its rows unless it declares one too.
    database: ClassVar[str | None] = None

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        """Problems with the metric's ``field``/``params``, found at validation time."""
        problems: list[ParamProblem] = []
        if self.requires_field and not field:
            problems.append((None, f"KPI '{self.name}' needs a 'field': the column it reads"))
        for key in params:
            if key not in self.param_docs:
                known = ", ".join(sorted(self.param_docs)) or "none"
                problems.append(
                    (key, f"KPI '{self.name}' has no parameter '{key}' (known: {known})")
                )
        return problems

    def warnings(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        """Settings that are valid but look like a mistake (``pdca validate`` warns, exit 0).

        Same shape as :meth:`check`; ``percentile`` warns about ``q: 0.9``, which is
        allowed (the 0.9th percentile) but usually meant the 90th. None by default.
        """
        return []

    def columns(self, field: str | None, params: Mapping[str, Any]) -> list[str]:
        """Source columns this calculator reads, so sources can read only those."""
        return [field] if field else []

    def compute(self, q: KpiQuery) -> KpiResult:
        raise NotImplementedError


def database_kind(kpi: Kpi) -> str | None:
    """The aggregate a database may compute for ``kpi``, declared by its own class."""
    kind = type(kpi).__dict__.get("database")
    return kind if isinstance(kind, str) else None


class SqlKpi(Kpi):
    """A calculator that is one SQL aggregate expression; ``n`` counts non-null field values."""

    #: True when :meth:`sql` and :meth:`n_sql` read columns only through
    #: ``KpiQuery.column`` / ``KpiQuery.col`` and count rows only through
    #: ``KpiQuery.count_rows``, and :meth:`compute` adds nothing that
    #: :meth:`from_aggregates` does not: pdca may then compute every such metric
    #: of a file source in one scan. Off by default, so a plugin's calculator that
    #: writes column names itself keeps being computed alone.
    maskable: ClassVar[bool] = False
    #: True when the aggregate keeps every value of its group until the end (a
    #: median, a percentile) instead of a running total: its memory grows with the
    #: rows, once per grouping set, so a shared scan over a large file leaves it out.
    holistic: ClassVar[bool] = False

    def sql(self, q: KpiQuery) -> str:
        raise NotImplementedError

    def n_sql(self, q: KpiQuery) -> str:
        return f"count({q.column})" if q.field else q.count_rows

    def row_value(self, q: KpiQuery) -> str | None:
        """The value each row contributes, when :meth:`sql` and :meth:`n_sql` are
        aggregates over it alone (see :meth:`over`): a shared scan then computes it
        once per row for every metric reading it, and masks only the result. It
        must be NULL for a NULL column. None (the default): use :meth:`sql`."""
        return None

    def over(self, value: str, q: KpiQuery) -> tuple[str, str]:
        """The (value, n) aggregates over the column ``value`` holding :meth:`row_value`."""
        raise NotImplementedError

    def from_aggregates(self, result: KpiResult, window_rows: int) -> KpiResult | None:
        """The result of :meth:`compute`, given the aggregates a shared scan computed.

        ``result`` is what :meth:`KpiQuery.aggregate` would return and
        ``window_rows`` the rows of the window. None sends the metric to
        :meth:`compute` alone (the built-ins do so when nothing was usable, to
        tell a wrong column from no data).
        """
        return result

    def compute(self, q: KpiQuery) -> KpiResult:
        return q.aggregate(self.sql(q), self.n_sql(q))


class FunctionKpi(Kpi):
    """Adapts a plain ``func(values) -> float | None`` over the field's non-null values.

    Slower than SQL (the values travel to Python) but lets a plugin author write a
    KPI without SQL. The function sees the values of one window or one period.
    """

    def __init__(
        self,
        name: str,
        func: Callable[[Sequence[Any]], float | None],
        summary: str = "",
        param_docs: Mapping[str, str] | None = None,
        requires_field: bool = True,
        value_range: ValueRange = UNBOUNDED,
    ):
        self.name = name
        self.value_range = value_range
        self.func = func
        doc = (func.__doc__ or "").strip()
        self.summary = summary or (doc.splitlines()[0] if doc else "")
        self.param_docs = dict(param_docs or {})
        self.requires_field = requires_field

    def _apply(self, values: Sequence[Any]) -> KpiValue:
        if not values:
            return KpiValue(None, 0)
        result = self.func(values)
        return KpiValue(None if result is None else float(result), len(values))

    def compute(self, q: KpiQuery) -> KpiResult:
        window, series = q.values(q.column)
        return KpiResult(self._apply(window), {p: self._apply(v) for p, v in series.items()})
