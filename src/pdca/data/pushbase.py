"""What every statement computing KPIs in a database shares (:mod:`pdca.data.pushdown`,
:mod:`pdca.data.pushcustomers`): the metric asked for, what comes back, and how one
dialect reads a column.

What differs between dialects is said here once: the instant a timestamp stands
for (in DuckDB's time zone, as files are read), the period it falls in (ISO
weeks start on Monday), the period before one, and the safe cast of a value to
a number (unusable values are skipped, as the built-in KPIs' rule for files says).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pdca.data.dialects import SQLITE_NUMBER
from pdca.kpi import FALSY, TRUTHY

DIALECTS = ("postgresql", "sqlite")
DOUBLE_MAX = 1.7976931348623157e308
NUMBER_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
"""Text PostgreSQL casts to a number; DuckDB's TRY_CAST reads the same (and underscores)."""


@dataclass(frozen=True)
class Wanted:
    """One metric to compute in the database."""

    id: str
    kind: str
    field: str | None
    params: Mapping[str, Any]
    filter: str | None
    period: str
    window_start: datetime
    history_start: datetime
    end: datetime
    segment_by: str | None
    parts: bool = False
    """Also the numerator and denominator of each period (kept in the period cache)."""


@dataclass(frozen=True)
class Pushed:
    """What the database computed for one metric: (value, n, rows) per group."""

    window: tuple[float | None, int, int]
    series: dict[date, tuple[float | None, int, int]]
    segments: list[tuple[str | None, float | None, int]] | None
    newest: datetime | None
    parts: Mapping[date, tuple[float | None, float | None]] = field(default_factory=dict)
    """Each period's (numerator, denominator) when asked for (:attr:`Wanted.parts`)."""


# -- how one dialect reads a column ---------------------------------------------------------
class Reader:
    """The dialect's SQL for a source's columns: instants, periods, numbers, yes/no."""

    def __init__(self, dialect: str, kinds: Mapping[str, str], zone: str):
        self.dialect = dialect
        self.kinds = kinds
        self.zone = zone

    def instant(self, col: Any, name: str) -> Any | None:
        """The timestamp as a local instant (DuckDB's zone), comparable with bounds."""
        import sqlalchemy as sa

        kind = self.kinds.get(name)
        if self.dialect == "postgresql":
            if kind == "timestamptz":
                return sa.func.timezone(self.zone, col)
            if kind == "timestamp":
                return col
            if kind == "date":
                return sa.cast(col, sa.DateTime())
            return None
        # SQLite: ISO text; an offset (or Z) is an instant, shown in local time
        text = sa.func.trim(col)
        zoned = sa.or_(
            text.like("%Z"), sa.func.substr(text, 11).op("GLOB")("*[+-][0-9][0-9]:[0-9][0-9]")
        )
        layout = "%Y-%m-%d %H:%M:%f"
        return sa.case(
            (zoned, sa.func.strftime(layout, text, "localtime")),
            else_=sa.func.strftime(layout, text),
        )

    def bound(self, moment: datetime) -> Any:
        return moment if self.dialect == "postgresql" else moment.strftime("%Y-%m-%d %H:%M:%S")

    def period(self, ts: Any, period: str) -> Any:
        import sqlalchemy as sa

        if self.dialect == "postgresql":
            unit = sa.literal_column(f"'{period}'")  # one expression in SELECT and GROUP BY
            return sa.cast(sa.func.date_trunc(unit, ts), sa.Date())
        if period == "day":
            return sa.func.date(ts)
        if period == "month":
            return sa.func.strftime("%Y-%m-01", ts)
        back = (sa.cast(sa.func.strftime("%w", ts), sa.Integer()) + 6) % 7
        return sa.func.date(ts, "-" + sa.cast(back, sa.Text()) + " days")

    def previous(self, start: Any, period: str) -> Any:
        """The first day of the period before the one starting on ``start`` (a :meth:`period`)."""
        import sqlalchemy as sa

        if self.dialect == "postgresql":
            step = sa.literal_column(f"INTERVAL '1 {period}'", sa.Interval())
            return sa.cast(start - step, sa.Date())
        step = {"day": "-1 day", "week": "-7 days", "month": "-1 month"}[period]
        return sa.func.date(start, step)

    def number(self, col: Any, name: str) -> Any:
        """A finite double, else NULL (NaN, infinities and text that is no number)."""
        import sqlalchemy as sa

        kind = self.kinds.get(name)
        if self.dialect == "postgresql":
            if kind == "bool":
                return sa.cast(sa.cast(col, sa.Integer()), sa.Float())
            if kind == "integer":  # always finite
                return sa.cast(col, sa.Float())
            if kind == "number":
                value = sa.cast(col, sa.Float())
            else:
                text = sa.func.btrim(sa.cast(col, sa.Text()))
                value = sa.case((text.op("~")(NUMBER_PATTERN), sa.cast(text, sa.Float())))
            return sa.case((value.between(-DOUBLE_MAX, DOUBLE_MAX), value))
        kind_of = sa.func.typeof(col)
        return sa.case(
            (kind_of == "integer", sa.cast(col, sa.Float())),
            (sa.and_(kind_of == "real", col.between(-DOUBLE_MAX, DOUBLE_MAX)), col),
            (kind_of == "text", getattr(sa.func, SQLITE_NUMBER)(col)),  # see dialects.py
        )

    def truthy(self, col: Any, name: str) -> Any:
        """1.0 for a yes, 0.0 for a no, NULL for anything else (see pdca.kpi.truthy_sql)."""
        import sqlalchemy as sa

        kind = self.kinds.get(name)
        if self.dialect == "postgresql" and kind == "bool":
            return sa.case((col.is_(True), 1.0), (col.is_(False), 0.0))
        if self.dialect == "postgresql" and kind == "integer":
            return sa.case((col == 1, 1.0), (col == 0, 0.0))
        if self.dialect == "sqlite":
            text = sa.case(
                (sa.func.typeof(col) == "integer", sa.cast(col, sa.Text())),
                (sa.func.typeof(col) == "real", sa.cast(col, sa.Text())),
                (sa.func.typeof(col) == "text", sa.func.lower(sa.func.trim(col))),
            )
        else:
            text = sa.func.lower(sa.func.btrim(sa.cast(col, sa.Text())))
        return sa.case((text.in_(TRUTHY), 1.0), (text.in_(FALSY), 0.0))


def rows_condition(w: Wanted, ts: Any, reader: Reader) -> list[Any]:
    """What a row must meet to be one of the metric's rows: its time range and filter."""
    import sqlalchemy as sa

    cond = [ts >= reader.bound(w.history_start), ts < reader.bound(w.end)]
    if w.filter:
        cond.append(sa.text(f"({w.filter})"))
    return cond


def as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def as_day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
