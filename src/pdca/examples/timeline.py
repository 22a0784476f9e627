"""When things happen in the generated data: calendar rhythms, holidays, the planted change.

Every generator draws arrival times the same way (a weekday rhythm, an hourly
profile, holiday dips, week-to-week volume) and phases its countermeasure in
the same way, so the examples differ in what they measure, not in how time
behaves; they also share one categorical draw. All take the caller's ``numpy``
generator: the order of draws is part of the data, so it must not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

WEEKDAY_CUSTOMER = np.array([1.25, 1.12, 1.05, 1.0, 0.88, 0.32, 0.22])
WEEKDAY_OFFICE = np.array([1.3, 1.1, 1.0, 1.0, 0.85, 0.06, 0.04])
# Contacts per hour of day, midnight to 11:00 and noon to 23:00.
HOURS_CUSTOMER = np.array(
    [
        [0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 1.0, 2.5, 5.5, 7.5, 8.0, 7.0],
        [5.5, 6.5, 7.0, 6.5, 5.5, 4.0, 2.8, 2.2, 1.8, 1.4, 0.9, 0.5],
    ]
).ravel()
HOURS_OFFICE = np.array(
    [
        [0.05, 0.03, 0.03, 0.03, 0.05, 0.2, 1.0, 4.5, 9.0, 9.5, 8.0, 6.5],
        [4.5, 6.5, 7.0, 6.0, 4.5, 2.5, 1.0, 0.5, 0.3, 0.2, 0.1, 0.05],
    ]
).ravel()
# Customers answer surveys in the morning, at lunch and in the evening, not when they wrote in.
HOURS_SURVEY = np.array(
    [
        [0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 1.0, 2.5, 4.0, 4.0, 3.5, 3.0],
        [3.5, 3.0, 2.8, 2.8, 3.0, 3.2, 3.5, 4.0, 4.2, 3.5, 2.0, 0.8],
    ]
).ravel()
HOLIDAY_VOLUME = 0.3
SECOND = np.timedelta64(1, "s")
DAY = np.timedelta64(1, "D")


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm), for the Swedish moving holidays."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    w = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * w) // 451
    month, day = divmod(h + w - 7 * m + 114, 31)
    return date(year, month, day + 1)


def holiday_dates(start: date, end: date, swedish: bool) -> set[date]:
    """Days on which contact volume collapses: Christmas to New Year, plus Swedish red days."""
    days: set[date] = set()
    for year in range(start.year, end.year + 1):
        days |= {date(year, 12, d) for d in (24, 25, 26, 31)} | {date(year, 1, 1)}
        if swedish:
            easter = easter_sunday(year)
            midsummer_eve = next(
                date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4
            )
            days |= {
                date(year, 1, 6),
                date(year, 5, 1),
                date(year, 6, 6),
                easter - timedelta(days=2),
                easter + timedelta(days=1),
                easter + timedelta(days=39),
                midsummer_eve,
            }
    return {d for d in days if start <= d < end}


def weekday_of(days: np.ndarray) -> np.ndarray:
    """Monday = 0 for datetime64[D] values (1970-01-01 was a Thursday)."""
    return (days.astype(np.int64) + 3) % 7


def daily_rates(
    start: date,
    end: date,
    per_week: float,
    weekday: np.ndarray,
    holidays: set[date],
    week_volume: np.ndarray,
    growth: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected contacts per day: weekday rhythm, slow growth, holiday dips, busy weeks."""
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    rate = per_week * weekday[weekday_of(days)] / weekday.sum()
    rate = rate * (1.0 + growth * np.arange(len(days)) / max(len(days), 1))
    rate = rate * week_volume[np.arange(len(days)) // 7]
    if holidays:
        hol = np.isin(days, np.array(sorted(holidays), dtype="datetime64[D]"))
        rate = np.where(hol, rate * HOLIDAY_VOLUME, rate)
    return days, rate


def times_of_day(rng: np.random.Generator, n: int, hours: np.ndarray) -> np.ndarray:
    """Seconds after midnight following an hourly profile."""
    h = rng.choice(24, size=n, p=hours / hours.sum())
    return h * 3600 + rng.integers(0, 3600, size=n)


def stamp(days: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Second-resolution timestamps from days and seconds after midnight."""
    return days.astype("datetime64[s]") + seconds.astype(np.int64) * SECOND


def effect(ts: np.ndarray, countermeasure: date, ramp_days: float) -> np.ndarray:
    """0 before the countermeasure, 1 once it has bedded in, linear over ``ramp_days``.

    Real changes take a week or two to reach every shift; a short ramp keeps the
    planted shift honest without blurring it.
    """
    days = (ts - np.datetime64(countermeasure, "s")) / DAY
    if ramp_days <= 0:
        return (days >= 0).astype(float)
    return np.clip(days / ramp_days, 0.0, 1.0)


def week_index(ts: np.ndarray, start: date) -> np.ndarray:
    """Which week of the range each timestamp falls in, counting from ``start``."""
    return ((ts - np.datetime64(start, "s")) // np.timedelta64(7, "D")).astype(np.int64)


def pick(rng: np.random.Generator, n: int, probs: Sequence[float]) -> np.ndarray:
    """``n`` category codes drawn with weights ``probs`` (need not sum to one)."""
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())
