"""The pinned scenarios behind the example playbooks, and the time frame every generator takes.

A scenario fixes the dates and the seed of one example's data, so the dates
written into the playbooks (cycle, due dates, the suggested ``--as-of``), the
committed data files, the demo and the tests all agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

DateLike = date | str
"""A date, or its ISO text as the command line and callers pass it."""


@dataclass(frozen=True)
class Scenario:
    """The pinned parameters behind one example playbook's data.

    The committed data files, the bundled demo and the tests all read these, so
    the dates written into the playbooks (cycle, due dates, the suggested
    ``--as-of``) stay true to the data. ``end`` is exclusive.
    """

    name: str
    start: date
    end: date
    countermeasure: date
    as_of: date
    seed: int


SUPPORT_DESK = Scenario(
    name="support-desk",
    start=date(2025, 10, 27),
    end=date(2026, 4, 27),
    countermeasure=date(2026, 1, 26),
    as_of=date(2026, 3, 30),
    seed=20260126,
)
"""A B2B software vendor's customer support desk: 26 weeks, Q1 2026 cycle."""

IT_SERVICE_DESK = Scenario(
    name="it-service-desk",
    start=date(2025, 12, 1),
    end=date(2026, 6, 1),
    countermeasure=date(2026, 3, 2),
    as_of=date(2026, 5, 25),
    seed=20260306,
)
"""A Swedish company's internal IT service desk: 26 weeks, spring 2026 cycle."""

SCENARIOS = {s.name: s for s in (SUPPORT_DESK, IT_SERVICE_DESK)}


def as_date(value: DateLike) -> date:
    """A date from a date or its ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def time_frame(
    start: DateLike, end: DateLike, countermeasure: DateLike | None
) -> tuple[date, date, date]:
    """Normalise the time frame; the countermeasure defaults to the middle of it."""
    s, e = as_date(start), as_date(end)
    if e <= s:
        raise ValueError(f"end ({e}) must be after start ({s})")
    if countermeasure is None:
        return s, e, s + timedelta((e - s).days // 2)
    return s, e, as_date(countermeasure)
