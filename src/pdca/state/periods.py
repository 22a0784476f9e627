"""The period cache's rows: what a check measured per metric and period, and each
metric's definition fingerprint (tables ``pdca_periods`` and ``pdca_definitions``).

Only rows, no judgement: which periods are final and what a fingerprint covers
is :mod:`pdca.check.periodcache`'s business. A metric's periods are replaced in
one transaction with its definition (:func:`write`), so a reader never sees
periods of one definition beside the fingerprint of another; rows measured
under another fingerprint are never returned, and are deleted at the next write.
The row classes import nothing heavy (a check without state uses them); the
functions that read and write import SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from pdca.state.times import now_utc

if TYPE_CHECKING:
    import sqlalchemy as sa


@dataclass(frozen=True)
class PeriodRow:
    """One period of one metric as measured: its value, n and, where the KPI is a
    quotient, the sums it is one of; ``final`` once past its source's settle horizon."""

    start: date
    end: date
    value: float | None
    n: int
    numerator: float | None = None
    denominator: float | None = None
    final: bool = False


@dataclass(frozen=True)
class Definition:
    """A metric's definition as the state knows it: its fingerprint, and the day (data
    time, the check's as-of) and wall-clock time it was first seen changed; both None
    for the definition the metric was first measured under."""

    fingerprint: str
    changed_on: str | None = None
    changed_at: str | None = None


@dataclass(frozen=True)
class Kept:
    """What the state holds for one metric: its definition and the periods measured
    under that definition's fingerprint, oldest first."""

    definition: Definition | None
    periods: tuple[PeriodRow, ...] = ()
    measured_from: date | None = None
    """With ``final_until``, the days the periods cover completely: a period between
    them without a row had no rows. None: nothing is covered (nothing cached)."""
    final_until: date | None = None


@dataclass(frozen=True)
class Keep:
    """What to write for one metric: its definition and, when ``fresh_from`` is set,
    its periods from that day on (replacing every stored one from that day on), with
    the range they now cover completely."""

    metric: str
    definition: Definition
    fresh_from: date | None = None
    periods: tuple[PeriodRow, ...] = ()
    measured_from: date | None = None
    final_until: date | None = None


def read(conn: sa.Connection, playbook: str, metrics: Iterable[str]) -> dict[str, Kept]:
    """Every listed metric's definition and its periods of that definition."""
    import sqlalchemy as sa

    from pdca.state import schema as s

    wanted = list(dict.fromkeys(metrics))
    if not wanted:
        return {}
    d, p = s.definitions.c, s.periods.c
    found: dict[str, Definition] = {}
    covered: dict[str, tuple[date | None, date | None]] = {}
    for row in conn.execute(
        sa.select(d.metric, d.fingerprint, d.changed_on, d.changed_at)
        .add_columns(d.measured_from, d.final_until)
        .where(d.playbook == playbook, d.metric.in_(wanted))
    ):
        found[row.metric] = Definition(row.fingerprint, row.changed_on, row.changed_at)
        covered[row.metric] = (_day(row.measured_from), _day(row.final_until))
    rows: dict[str, list[PeriodRow]] = {}
    stmt = (
        sa.select(p.metric, p.fingerprint, p.period_start, p.period_end, p.value, p.n)
        .add_columns(p.numerator, p.denominator, p.final)
        .where(p.playbook == playbook, p.metric.in_(wanted))
        .order_by(p.metric, p.period_start)
    )
    for row in conn.execute(stmt):
        known = found.get(row.metric)
        if known is None or known.fingerprint != row.fingerprint:
            continue  # measured under another definition: history that no longer holds
        rows.setdefault(row.metric, []).append(
            PeriodRow(
                date.fromisoformat(row.period_start),
                date.fromisoformat(row.period_end),
                None if row.value is None else float(row.value),
                int(row.n),
                None if row.numerator is None else float(row.numerator),
                None if row.denominator is None else float(row.denominator),
                bool(row.final),
            )
        )
    return {
        m: Kept(found.get(m), tuple(rows.get(m, ())), *covered.get(m, (None, None))) for m in wanted
    }


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def write(conn: sa.Connection, playbook: str, keeps: Sequence[Keep]) -> None:
    """Each metric's definition, and its fresh periods in place of the stored ones from
    ``fresh_from`` on; periods of any other fingerprint are deleted. The caller holds
    the transaction."""
    import sqlalchemy as sa

    from pdca.state import schema as s

    d, p = s.definitions.c, s.periods.c
    recorded = now_utc()
    for keep in keeps:
        fp = keep.definition.fingerprint
        conn.execute(
            sa.delete(s.definitions).where(d.playbook == playbook, d.metric == keep.metric)
        )
        conn.execute(
            sa.insert(s.definitions).values(
                playbook=playbook,
                metric=keep.metric,
                fingerprint=fp,
                changed_on=keep.definition.changed_on,
                changed_at=keep.definition.changed_at,
                measured_from=_text(keep.measured_from),
                final_until=_text(keep.final_until),
            )
        )
        mine = sa.and_(p.playbook == playbook, p.metric == keep.metric)
        conn.execute(sa.delete(s.periods).where(mine, p.fingerprint != fp))
        if keep.fresh_from is None:
            continue
        conn.execute(
            sa.delete(s.periods).where(mine, p.period_start >= keep.fresh_from.isoformat())
        )
        rows = [_row(playbook, keep.metric, fp, r, recorded) for r in keep.periods]
        if rows:
            conn.execute(sa.insert(s.periods), rows)


def _text(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _row(
    playbook: str, metric: str, fingerprint: str, r: PeriodRow, recorded: str
) -> Mapping[str, object]:
    return {
        "playbook": playbook,
        "metric": metric,
        "period_start": r.start.isoformat(),
        "fingerprint": fingerprint,
        "period_end": r.end.isoformat(),
        "value": r.value,
        "n": r.n,
        "numerator": r.numerator,
        "denominator": r.denominator,
        "final": r.final,
        "recorded_at": recorded,
    }
