"""Where a day, week or month period starts and ends, and what people call it.

Apart from :mod:`pdca.check.measure` (which re-exports them) so that what only
needs the calendar, such as the period cache, does not import the check itself.
"""

from __future__ import annotations

from datetime import date, timedelta


def period_start(day: date, period: str) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_label(start: date, period: str) -> str:
    """Labels people recognise: 2026-W12 for ISO weeks, 2026-03 for months."""
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{start:%Y-%m}"
    return start.isoformat()


def period_end(start: date, period: str) -> date:
    """First day after the period."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
