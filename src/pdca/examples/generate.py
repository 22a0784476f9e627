"""Seeded, realistic service-desk data for the example playbooks, the demo and the benchmarks.

Real customer data cannot ship with pdca, yet an example is only convincing when a
control chart on it shows what one shows at a real desk: weekday and hour rhythms,
long-tailed waiting times, repeat customers, holiday dips, week-to-week noise, and
one genuine change. So every generator here plants a countermeasure: from a chosen
date (the middle of the range unless told otherwise) response times fall and NPS,
CSAT and first-contact resolution rise by clearly more than the weekly noise, while
customer effort (and, at the IT desk, the reopen rate) stays pure noise. A check run
on the data should call the first a shift and leave the second alone.

Everything is drawn from one ``numpy`` generator seeded by the caller, so the same
arguments always write byte-identical files: the committed example data can be
regenerated and compared, and the demo can rebuild its data at run time instead of
shipping it.

Run ``python -m pdca.examples.generate --help`` for the command line.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

DateLike = date | str

# --------------------------------------------------------------------------- scenarios


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

# --------------------------------------------------------------------------- calendar

_WEEKDAY_CUSTOMER = np.array([1.25, 1.12, 1.05, 1.0, 0.88, 0.32, 0.22])
_WEEKDAY_OFFICE = np.array([1.3, 1.1, 1.0, 1.0, 0.85, 0.06, 0.04])
# Contacts per hour of day, midnight to 11:00 and noon to 23:00.
_HOURS_CUSTOMER = np.array(
    [
        [0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 1.0, 2.5, 5.5, 7.5, 8.0, 7.0],
        [5.5, 6.5, 7.0, 6.5, 5.5, 4.0, 2.8, 2.2, 1.8, 1.4, 0.9, 0.5],
    ]
).ravel()
_HOURS_OFFICE = np.array(
    [
        [0.05, 0.03, 0.03, 0.03, 0.05, 0.2, 1.0, 4.5, 9.0, 9.5, 8.0, 6.5],
        [4.5, 6.5, 7.0, 6.0, 4.5, 2.5, 1.0, 0.5, 0.3, 0.2, 0.1, 0.05],
    ]
).ravel()
# Customers answer surveys in the morning, at lunch and in the evening, not when they wrote in.
_HOURS_SURVEY = np.array(
    [
        [0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 1.0, 2.5, 4.0, 4.0, 3.5, 3.0],
        [3.5, 3.0, 2.8, 2.8, 3.0, 3.2, 3.5, 4.0, 4.2, 3.5, 2.0, 0.8],
    ]
).ravel()
_HOLIDAY_VOLUME = 0.3
_SECOND = np.timedelta64(1, "s")
_DAY = np.timedelta64(1, "D")


def _easter(year: int) -> date:
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


def _holidays(start: date, end: date, swedish: bool) -> set[date]:
    """Days on which contact volume collapses: Christmas to New Year, plus Swedish red days."""
    days: set[date] = set()
    for year in range(start.year, end.year + 1):
        days |= {date(year, 12, d) for d in (24, 25, 26, 31)} | {date(year, 1, 1)}
        if swedish:
            easter = _easter(year)
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


def _as_date(value: DateLike) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _dates(
    start: DateLike, end: DateLike, countermeasure: DateLike | None
) -> tuple[date, date, date]:
    """Normalise the time frame; the countermeasure defaults to the middle of it."""
    s, e = _as_date(start), _as_date(end)
    if e <= s:
        raise ValueError(f"end ({e}) must be after start ({s})")
    if countermeasure is None:
        return s, e, s + timedelta((e - s).days // 2)
    return s, e, _as_date(countermeasure)


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 for datetime64[D] values (1970-01-01 was a Thursday)."""
    return (days.astype(np.int64) + 3) % 7


def _daily_rates(
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
    rate = per_week * weekday[_weekday(days)] / weekday.sum()
    rate = rate * (1.0 + growth * np.arange(len(days)) / max(len(days), 1))
    rate = rate * week_volume[np.arange(len(days)) // 7]
    if holidays:
        hol = np.isin(days, np.array(sorted(holidays), dtype="datetime64[D]"))
        rate = np.where(hol, rate * _HOLIDAY_VOLUME, rate)
    return days, rate


def _times_of_day(rng: np.random.Generator, n: int, hours: np.ndarray) -> np.ndarray:
    """Seconds after midnight following an hourly profile."""
    h = rng.choice(24, size=n, p=hours / hours.sum())
    return h * 3600 + rng.integers(0, 3600, size=n)


def _stamp(days: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[s]") + seconds.astype(np.int64) * _SECOND


def _effect(ts: np.ndarray, countermeasure: date, ramp_days: float) -> np.ndarray:
    """0 before the countermeasure, 1 once it has bedded in, linear over ``ramp_days``.

    Real changes take a week or two to reach every shift; a short ramp keeps the
    planted shift honest without blurring it.
    """
    days = (ts - np.datetime64(countermeasure, "s")) / _DAY
    if ramp_days <= 0:
        return (days >= 0).astype(float)
    return np.clip(days / ramp_days, 0.0, 1.0)


def _weeks(ts: np.ndarray, start: date) -> np.ndarray:
    return ((ts - np.datetime64(start, "s")) // np.timedelta64(7, "D")).astype(np.int64)


def _iso(ts: np.ndarray) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS`` text, the way most ticketing exports write timestamps."""
    return [s.replace("T", " ") for s in np.datetime_as_string(ts, unit="s")]


def _write_csv(path: Path, header: Sequence[str], columns: Sequence[Sequence[Any]]) -> Path:
    """Plain CSV (``\\n`` line ends, minimal quoting) so files are identical on every OS."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(zip(*columns, strict=True))
    return path


def _fmt(values: np.ndarray, digits: int = 1) -> list[str]:
    return [f"{v:.{digits}f}" for v in values]


def _yes_no(values: np.ndarray) -> list[str]:
    return ["yes" if v else "no" for v in values]


def _pick(rng: np.random.Generator, n: int, probs: Sequence[float]) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


# --------------------------------------------------------------------------- the support desk model

CHANNELS = ("email", "chat", "phone", "web")
_CH_P = (0.35, 0.27, 0.23, 0.15)
_CH_MEDIAN_MIN = np.array([270.0, 7.0, 3.5, 210.0])  # first response before the change
_CH_SIGMA = np.array([0.9, 0.8, 0.7, 0.9])  # lognormal spread: the long tail
_CH_GAIN = np.array([0.5, 0.55, 0.25, 0.4])  # share of waiting removed by the countermeasure
_CH_FCR = np.array([0.50, 0.62, 0.70, 0.45])

PRIORITIES = ("low", "normal", "high", "urgent")
_PRIO_P = (0.22, 0.53, 0.20, 0.05)
_PRIO_SPEED = np.array([1.3, 1.0, 0.6, 0.3])
_PRIO_SLA_MIN = np.array([1440.0, 480.0, 120.0, 30.0])  # first-response SLA

REGIONS = ("Nordics", "DACH", "UK", "Benelux", "North America")
_REGION_P = (0.30, 0.22, 0.20, 0.13, 0.15)

CONTACT_REASONS = (
    "billing",
    "login-password",
    "order-status",
    "refund",
    "plan-change",
    "bug-report",
    "cancellation",
    "invoice-copy",
    "integration-setup",
    "data-export",
    "account-update",
    "other",
)
_REASON_P = (0.14, 0.13, 0.11, 0.09, 0.08, 0.09, 0.05, 0.06, 0.07, 0.05, 0.07, 0.06)
_REASON_FCR = np.array([0.05, 0.15, 0.12, -0.05, 0.08, -0.25, 0.0, 0.18, -0.15, -0.05, 0.1, -0.05])

_FCR_GAIN = 0.13  # macros + coaching: points of first-contact resolution gained
_MOOD_BASE = 7.9  # latent customer mood before the change (on the 0-10 scale)
_MOOD_GAIN = 0.6  # planted lift in mood, on top of what faster, first-time answers bring


@dataclass
class _DeskWorld:
    """Things that persist across a desk's tickets: customers, agents, week-to-week noise.

    Drawn once so that a customer keeps a region, an agent keeps a style and a busy
    week is busy for everyone, even when the big generator works chunk by chunk.
    """

    customer_weight: np.ndarray
    customer_region: np.ndarray
    agent_mood: np.ndarray
    week_load: np.ndarray
    week_mood: np.ndarray
    week_volume: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, customers: int, agents: int, weeks: int) -> _DeskWorld:
        # gamma(0.5) activity: most customers write once or twice, a few write every month
        weight = rng.gamma(0.5, 1.0, customers)
        return cls(
            customer_weight=weight / weight.sum(),
            customer_region=_pick(rng, customers, _REGION_P).astype(np.int8),
            agent_mood=rng.normal(0.0, 0.35, agents),
            week_load=rng.lognormal(0.0, 0.12, weeks),
            week_mood=rng.normal(0.0, 0.12, weeks),
            week_volume=rng.lognormal(0.0, 0.08, weeks),
        )


def _desk_tickets(
    rng: np.random.Generator,
    ts: np.ndarray,
    world: _DeskWorld,
    start: date,
    countermeasure: date,
    ramp_days: float,
) -> dict[str, np.ndarray]:
    """Ticket attributes and outcomes (as category codes and numbers) for arrival times ``ts``."""
    n = len(ts)
    eff = _effect(ts, countermeasure, ramp_days)
    wk = np.minimum(_weeks(ts, start), len(world.week_load) - 1)
    customer = rng.choice(len(world.customer_weight), size=n, p=world.customer_weight)
    channel = _pick(rng, n, _CH_P).astype(np.int8)
    priority = _pick(rng, n, _PRIO_P).astype(np.int8)
    reason = _pick(rng, n, _REASON_P).astype(np.int8)
    agent = rng.integers(0, len(world.agent_mood), size=n).astype(np.int16)
    median = (
        _CH_MEDIAN_MIN[channel]
        * _PRIO_SPEED[priority]
        * world.week_load[wk]
        * (1.0 - _CH_GAIN[channel] * eff)
    )
    first_response = np.round(median * rng.lognormal(0.0, _CH_SIGMA[channel]), 1)
    first_response = np.maximum(first_response, 0.1)
    p_fcr = np.clip(_CH_FCR[channel] + _REASON_FCR[reason] + _FCR_GAIN * eff, 0.05, 0.95)
    fcr = rng.random(n) < p_fcr
    handling = np.where(fcr, rng.gamma(2.0, 0.2, n), rng.lognormal(np.log(22.0), 0.9, n))
    resolution = np.round(first_response / 60.0 + handling, 1)
    return {
        "eff": eff,
        "week": wk,
        "customer": customer,
        "region": world.customer_region[customer],
        "channel": channel,
        "priority": priority,
        "reason": reason,
        "agent": agent,
        "first_response": first_response,
        "fcr": fcr,
        "resolution": resolution,
        "sla_met": first_response <= _PRIO_SLA_MIN[priority],
    }


def _desk_scores(
    rng: np.random.Generator, t: dict[str, np.ndarray], world: _DeskWorld
) -> dict[str, np.ndarray]:
    """Survey answers driven by one latent mood per customer contact.

    Mood rises with the planted change, with first-contact resolution and with a
    short wait, and varies by agent and week, so NPS, CSAT and the SERVQUAL
    perception move together as they do in real surveys. Effort and the expected
    service level are drawn independently of time: they are the metrics that must
    stay pure noise.
    """
    n = len(t["eff"])
    relative_wait = np.log(t["first_response"] / _CH_MEDIAN_MIN[t["channel"]])
    mood = (
        _MOOD_BASE
        + _MOOD_GAIN * t["eff"]
        + world.agent_mood[t["agent"]]
        + world.week_mood[t["week"]]
        + 0.5 * (t["fcr"] - 0.6)
        - 0.3 * relative_wait
        + rng.normal(0.0, 1.8, n)
    )
    return {
        "ltr": np.clip(np.rint(mood + rng.normal(0.0, 0.8, n)), 0, 10).astype(np.int8),
        "satisfaction": np.clip(
            np.rint(0.4 + 0.47 * (mood + rng.normal(0.0, 0.9, n))), 1, 5
        ).astype(np.int8),
        "effort": np.clip(np.rint(rng.normal(3.4, 1.35, n)), 1, 7).astype(np.int8),
        "perceived": np.clip(np.rint(1.5 + 0.52 * (mood + rng.normal(0.0, 1.1, n))), 1, 7).astype(
            np.int8
        ),
        "expected": np.clip(np.rint(rng.normal(6.2, 0.8, n)), 1, 7).astype(np.int8),
    }


# --------------------------------------------------------------------------- survey comments

_COMMENTS_EN = {
    "detractor": (
        "Waited {wait} for a first reply, then got a canned answer.",
        "Had to explain my problem three times to three different agents.",
        "Still not fixed. Second time I contact you about this.",
        "Chat said 2 minutes, it was more like 40.",
        "Refund took forever, and nobody told me why.",
        'The "solution" was to reinstall. Didn\'t help.',
        "Answer didn't match my question, felt like nobody read it.",
        "Ticket closed without asking me if it worked.",
        "Too many identity checks, then they couldn't help anyway.",
    ),
    "passive": (
        "Fixed in the end, but it took longer than it should.",
        "Friendly agent, slow process.",
        "OK. Would be nice not to repeat my order number every time.",
        "Solved, though I had to chase it once.",
        "Fine, but the help center article was out of date.",
        "Reply took {wait}; the answer itself was good.",
    ),
    "promoter": (
        "Quick, friendly and solved on the first try. Thanks!",
        "Super fast reply, exactly what I needed.",
        "Agent explained everything clearly and followed up the next day.",
        "Best support experience I've had with a software vendor.",
        "Answer in {wait}, problem gone. Great job.",
        "Very patient with me, even though it was my mistake.",
    ),
}
_COMMENTS_SV = {
    "detractor": (
        "Väntade {wait_sv} på svar och fick ett standardsvar.",
        "Fick förklara samma sak tre gånger.",
        "Ärendet stängdes utan att problemet var löst.",
    ),
    "passive": (
        "Löst till slut, men det tog för lång tid.",
        "Trevlig personal men krångligt.",
    ),
    "promoter": (
        "Snabbt och vänligt, löst direkt. Tack!",
        "Mycket bra hjälp i chatten.",
    ),
}
# Free text is user input: reports must escape it, so the examples carry some markup.
_COMMENTS_HTML = (
    "The agent was <b>rude</b> and hung up on me.",
    "<i>Never again.</i> Three days without an answer.",
    "Support is <br> useless & slow",
    '<script>alert("still waiting")</script>',
)


def _wait_text(minutes: float, swedish: bool = False) -> str:
    if minutes < 90:
        n = max(1, round(minutes))
        return f"{n} minuter" if swedish else f"{n} minute{'s' if n != 1 else ''}"
    hours = max(2, round(minutes / 60))
    return f"{hours} timmar" if swedish else f"{hours} hours"


def _comments(
    rng: np.random.Generator, ltr: np.ndarray, region: np.ndarray, wait: np.ndarray
) -> list[str]:
    """Free-text comments: a third empty, Nordic customers often in Swedish, a little markup."""
    n = len(ltr)
    empty = rng.random(n) < 0.35
    swedish = (region == REGIONS.index("Nordics")) & (rng.random(n) < 0.5)
    markup = rng.random(n) < 0.06
    choice = rng.random(n)
    out: list[str] = []
    for i in range(n):
        if empty[i]:
            out.append("")
            continue
        kind = "detractor" if ltr[i] <= 6 else "passive" if ltr[i] <= 8 else "promoter"
        if kind == "detractor" and markup[i]:
            pool: Sequence[str] = _COMMENTS_HTML
        else:
            pool = (_COMMENTS_SV if swedish[i] else _COMMENTS_EN)[kind]
        text = pool[int(choice[i] * len(pool))]
        out.append(text.format(wait=_wait_text(wait[i]), wait_sv=_wait_text(wait[i], swedish=True)))
    return out


# --------------------------------------------------------------------------- support desk


def generate_support_desk(
    folder: Path | str,
    start: DateLike = SUPPORT_DESK.start,
    end: DateLike = SUPPORT_DESK.end,
    seed: int = SUPPORT_DESK.seed,
    *,
    countermeasure: DateLike | None = None,
    tickets_per_week: float = 150.0,
    survey_rate: float = 0.5,
    ramp_days: float = 7.0,
    agents: int = 16,
) -> dict[str, Path]:
    """Write ``tickets.csv`` and ``surveys.csv`` for a customer support desk into ``folder``.

    ``folder`` is the data folder itself (the example playbook reads
    ``data/tickets.csv``, so pass ``<playbook folder>/data``). ``end`` is exclusive.
    ``countermeasure=None`` plants the change in the middle of the range, which
    for the default range is :data:`SUPPORT_DESK`'s date: the defaults reproduce
    the committed ``playbooks/support-desk/data`` files.

    Returns the written paths by name (``tickets``, ``surveys``).
    """
    start_d, end_d, cm = _dates(start, end, countermeasure)
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    weeks = (end_d - start_d).days // 7 + 1
    world = _DeskWorld.draw(
        rng, customers=max(60, int(tickets_per_week * 10)), agents=agents, weeks=weeks
    )
    days, rate = _daily_rates(
        start_d,
        end_d,
        tickets_per_week,
        _WEEKDAY_CUSTOMER,
        _holidays(start_d, end_d, swedish=False),
        world.week_volume,
        growth=0.08,
    )
    counts = rng.poisson(rate)
    ts = np.sort(
        _stamp(np.repeat(days, counts), _times_of_day(rng, int(counts.sum()), _HOURS_CUSTOMER))
    )
    t = _desk_tickets(rng, ts, world, start_d, cm, ramp_days)
    n = len(ts)
    ticket_ids = [f"T{100001 + i}" for i in range(n)]
    customer_ids = [f"C{10001 + c}" for c in t["customer"]]
    agent_names = [f"agent-{a + 1:02d}" for a in t["agent"]]
    tickets = _write_csv(
        folder / "tickets.csv",
        (
            "ticket_id",
            "created_at",
            "channel",
            "priority",
            "category",
            "region",
            "agent",
            "customer_id",
            "first_response_minutes",
            "resolved_first_contact",
            "resolution_hours",
            "sla_met",
        ),
        (
            ticket_ids,
            _iso(ts),
            [CHANNELS[c] for c in t["channel"]],
            [PRIORITIES[p] for p in t["priority"]],
            [CONTACT_REASONS[r] for r in t["reason"]],
            [REGIONS[r] for r in t["region"]],
            agent_names,
            customer_ids,
            _fmt(t["first_response"]),
            _yes_no(t["fcr"]),
            _fmt(t["resolution"]),
            _yes_no(t["sla_met"]),
        ),
    )

    # Surveys go out when a ticket is resolved; about half the customers answer, within days.
    scores = _desk_scores(rng, t, world)
    answered = np.flatnonzero(rng.random(n) < survey_rate)
    resolved = ts[answered] + np.rint(t["resolution"][answered] * 3600).astype(np.int64) * _SECOND
    lag = rng.geometric(0.6, len(answered)) - 1
    submitted = _stamp(
        resolved.astype("datetime64[D]") + lag * _DAY,
        _times_of_day(rng, len(answered), _HOURS_SURVEY),
    )
    submitted = np.where(submitted <= resolved, submitted + _DAY, submitted)
    comments = _comments(
        rng, scores["ltr"][answered], t["region"][answered], t["first_response"][answered]
    )
    keep = submitted < np.datetime64(end_d, "s")
    order = np.argsort(submitted[keep], kind="stable")
    rows = answered[keep][order]
    kept_comments = [c for c, k in zip(comments, keep, strict=True) if k]
    surveys = _write_csv(
        folder / "surveys.csv",
        (
            "response_id",
            "submitted_at",
            "ticket_id",
            "channel",
            "region",
            "agent",
            "customer_id",
            "likelihood_to_recommend",
            "satisfaction",
            "effort",
            "perceived_quality",
            "expected_quality",
            "comment",
        ),
        (
            [f"S{200001 + i}" for i in range(len(rows))],
            _iso(submitted[keep][order]),
            [ticket_ids[i] for i in rows],
            [CHANNELS[t["channel"][i]] for i in rows],
            [REGIONS[t["region"][i]] for i in rows],
            [agent_names[i] for i in rows],
            [customer_ids[i] for i in rows],
            scores["ltr"][rows].tolist(),
            scores["satisfaction"][rows].tolist(),
            scores["effort"][rows].tolist(),
            scores["perceived"][rows].tolist(),
            scores["expected"][rows].tolist(),
            [kept_comments[j] for j in order],
        ),
    )
    return {"tickets": tickets, "surveys": surveys}


# --------------------------------------------------------------------------- IT service desk

IT_CHANNELS = ("portal", "phone", "email", "chat", "walk-in")
_IT_CH_P = (0.42, 0.28, 0.14, 0.11, 0.05)
_IT_CH_MEDIAN_MIN = np.array([35.0, 1.5, 50.0, 3.0, 4.0])
_IT_CH_FCR = np.array([-0.05, 0.05, -0.08, 0.05, 0.10])

IT_CATEGORIES = (
    "access",
    "software",
    "hardware",
    "network",
    "email-calendar",
    "printing",
    "mobile",
    "other",
)
_IT_CAT_P = (0.24, 0.20, 0.14, 0.09, 0.10, 0.07, 0.07, 0.09)
_IT_CAT_FCR = np.array([0.62, 0.38, 0.18, 0.12, 0.50, 0.35, 0.45, 0.30])
_IT_CAT_GROUP = (
    "Identity & Access",
    "Application Support",
    "Field Services",
    "Network Operations",
    "Collaboration",
    "Field Services",
    "End-User Computing",
    "End-User Computing",
)
_IT_L1 = "Service Desk L1"

IT_PRIORITIES = ("P1", "P2", "P3", "P4")
_IT_PRIO_P = (0.02, 0.10, 0.58, 0.30)
_IT_PRIO_MEDIAN_H = np.array([2.5, 7.0, 18.0, 45.0])  # escalated resolution before the change
_IT_PRIO_SLA_H = np.array([4, 8, 24, 72])

SITES = ("Stockholm", "Göteborg", "Malmö", "London", "Kraków")
_SITE_P = (0.45, 0.20, 0.12, 0.13, 0.10)

TEAMS = ("Service Desk L1", "End-User Support L2", "Application Support", "Field Services")
_TEAM_SIZE = (20, 12, 9, 7)
TENURES = ("<1y", "1-3y", "3y+")


def generate_it_service_desk(
    folder: Path | str,
    start: DateLike = IT_SERVICE_DESK.start,
    end: DateLike = IT_SERVICE_DESK.end,
    seed: int = IT_SERVICE_DESK.seed,
    *,
    countermeasure: DateLike | None = None,
    incidents_per_week: float = 100.0,
    ramp_days: float = 7.0,
    pulse_ramp_days: float = 28.0,
) -> dict[str, Path]:
    """Write ``incidents.csv`` and ``itsm.sqlite`` (table ``pulse``) into ``folder``.

    The countermeasure is knowledge-centred service plus remote tools for L1 and
    swarming on escalations: knowledge-article use and first-contact resolution
    jump, escalated incidents resolve faster so SLA compliance rises, and the staff
    pulse (eNPS) creeps up over a month as the desk stops drowning. The reopen rate
    is pure noise. ``folder`` is the data folder; ``end`` is exclusive. The
    defaults reproduce the committed ``playbooks/it-service-desk/data`` files.
    """
    start_d, end_d, cm = _dates(start, end, countermeasure)
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    weeks = (end_d - start_d).days // 7 + 1
    week_volume = rng.lognormal(0.0, 0.1, weeks)
    week_load = rng.lognormal(0.0, 0.1, weeks)
    days, rate = _daily_rates(
        start_d,
        end_d,
        incidents_per_week,
        _WEEKDAY_OFFICE,
        _holidays(start_d, end_d, swedish=True),
        week_volume,
        growth=0.0,
    )
    counts = rng.poisson(rate)
    ts = np.sort(
        _stamp(np.repeat(days, counts), _times_of_day(rng, int(counts.sum()), _HOURS_OFFICE))
    )
    n = len(ts)
    eff = _effect(ts, cm, ramp_days)
    wk = np.minimum(_weeks(ts, start_d), weeks - 1)

    users = 1400
    user_site = _pick(rng, users, _SITE_P)
    user_weight = rng.gamma(0.8, 1.0, users)
    user = rng.choice(users, size=n, p=user_weight / user_weight.sum())
    channel = _pick(rng, n, _IT_CH_P)
    category = _pick(rng, n, _IT_CAT_P)
    priority = _pick(rng, n, _IT_PRIO_P)
    first_response = np.maximum(
        np.round(_IT_CH_MEDIAN_MIN[channel] * week_load[wk] * rng.lognormal(0.0, 0.9, n), 1), 0.1
    )
    kb_used = rng.random(n) < 0.15 + 0.40 * eff
    p_fcr = np.clip(_IT_CAT_FCR[category] + _IT_CH_FCR[channel] + 0.20 * eff, 0.03, 0.95)
    p_fcr = np.where(priority == 0, 0.02, p_fcr)  # a major incident is never fixed on the call
    fcr = rng.random(n) < p_fcr
    escalated_h = (
        _IT_PRIO_MEDIAN_H[priority]
        * week_load[wk]
        * (1.0 - 0.35 * eff)
        * rng.lognormal(0.0, 0.8, n)
    )
    resolution = np.round(
        first_response / 60.0 + np.where(fcr, rng.gamma(2.0, 0.1, n), escalated_h), 1
    )
    sla_target = _IT_PRIO_SLA_H[priority]
    reopened = rng.random(n) < 0.065
    group = [_IT_L1 if f else _IT_CAT_GROUP[c] for f, c in zip(fcr, category, strict=True)]
    incidents = _write_csv(
        folder / "incidents.csv",
        (
            "incident_id",
            "opened_at",
            "channel",
            "category",
            "priority",
            "site",
            "user_id",
            "assignment_group",
            "first_response_minutes",
            "kb_article_used",
            "resolved_first_contact",
            "resolution_hours",
            "sla_target_hours",
            "sla_met",
            "reopened",
        ),
        (
            [f"INC{40001 + i:07d}" for i in range(n)],
            _iso(ts),
            [IT_CHANNELS[c] for c in channel],
            [IT_CATEGORIES[c] for c in category],
            [IT_PRIORITIES[p] for p in priority],
            [SITES[user_site[u]] for u in user],
            [f"U{10001 + u}" for u in user],
            group,
            _fmt(first_response),
            _yes_no(kb_used),
            _yes_no(fcr),
            _fmt(resolution),
            sla_target.tolist(),
            _yes_no(resolution <= sla_target),
            _yes_no(reopened),
        ),
    )
    pulse = _write_pulse(rng, folder / "itsm.sqlite", start_d, end_d, cm, pulse_ramp_days)
    return {"incidents": incidents, "itsm": pulse}


def _write_pulse(
    rng: np.random.Generator, path: Path, start: date, end: date, cm: date, ramp_days: float
) -> Path:
    """A fortnightly anonymous staff pulse survey in SQLite, as HR tools export it.

    Each employee keeps a disposition across waves, so consecutive waves correlate
    the way real pulse data does; the planted lift arrives slowly (``ramp_days``).
    """
    team = np.repeat(np.arange(len(TEAMS)), _TEAM_SIZE)
    staff = len(team)
    disposition = rng.normal(0.0, 1.2, staff)
    tenure = _pick(rng, staff, (0.25, 0.4, 0.35))
    first_tuesday = start + timedelta(days=(1 - start.weekday()) % 7)
    waves = [first_tuesday + timedelta(days=14 * i) for i in range(0, 200)]
    waves = [w for w in waves if w < end]
    rows: list[tuple[Any, ...]] = []
    for wave_no, wave in enumerate(waves, start=1):
        who = np.flatnonzero(rng.random(staff) < 0.68)
        day = np.full(len(who), np.datetime64(wave, "D")) + rng.integers(0, 4, len(who)) * _DAY
        ts = _stamp(day, _times_of_day(rng, len(who), _HOURS_OFFICE))
        lift = _effect(ts, cm, ramp_days)
        score = 6.9 + disposition[who] + 0.8 * lift + rng.normal(0.0, 1.3, len(who))
        workload = 3.6 - 0.5 * lift + 0.3 * rng.normal(0.0, 1.0, len(who))
        enps = np.clip(np.rint(score), 0, 10).astype(int)
        load = np.clip(np.rint(workload + rng.normal(0.0, 0.8, len(who))), 1, 5).astype(int)
        keep = ts < np.datetime64(end, "s")
        for i in np.flatnonzero(keep):
            rows.append(
                (
                    _iso(ts[i : i + 1])[0],
                    TEAMS[team[who[i]]],
                    TENURES[tenure[who[i]]],
                    int(enps[i]),
                    int(load[i]),
                    wave_no,
                )
            )
    rows.sort(key=lambda r: r[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE pulse (response_id INTEGER PRIMARY KEY, submitted_at TEXT NOT NULL, "
            "team TEXT NOT NULL, tenure TEXT NOT NULL, recommend_employer INTEGER NOT NULL, "
            "workload INTEGER NOT NULL, wave INTEGER NOT NULL)"
        )
        con.executemany(
            "INSERT INTO pulse VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(i, *r) for i, r in enumerate(rows, start=1)],
        )
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------- benchmark tickets


def _day_chunks(counts: np.ndarray, chunk_rows: int) -> Iterator[tuple[int, int]]:
    """Split days into runs of at least ``chunk_rows`` rows, so chunks never split a day."""
    first, acc = 0, 0
    for i, c in enumerate(counts):
        acc += int(c)
        if acc >= chunk_rows:
            yield first, i + 1
            first, acc = i + 1, 0
    if first < len(counts):
        yield first, len(counts)


def generate_tickets(
    n_rows: int,
    path: Path | str,
    fmt: str = "csv",
    seed: int = 0,
    *,
    start: DateLike = date(2025, 1, 6),
    end: DateLike = date(2026, 1, 5),
    countermeasure: DateLike | None = None,
    chunk_rows: int = 1_000_000,
    agents: int = 400,
) -> Path:
    """Write exactly ``n_rows`` support tickets (with survey scores) to ``path`` for benchmarks.

    Same model as :func:`generate_support_desk`, vectorised and written in chunks of
    whole days through pyarrow, so ten million rows take seconds and never sit in
    Python lists. Categories are dictionary-encoded, ids are integers and the flags
    are booleans, which keeps the files lean and fast to scan. ``fmt`` is ``csv``
    or ``parquet``; ``end`` is exclusive.
    """
    import pyarrow as pa

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if n_rows < 0:
        raise ValueError("n_rows must not be negative")
    start_d, end_d, cm = _dates(start, end, countermeasure)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    weeks = (end_d - start_d).days // 7 + 1
    customers = int(min(max(n_rows * 0.3, 100), 3_000_000))
    world = _DeskWorld.draw(rng, customers=customers, agents=agents, weeks=weeks)
    days, rate = _daily_rates(
        start_d,
        end_d,
        1.0,
        _WEEKDAY_CUSTOMER,
        _holidays(start_d, end_d, swedish=False),
        world.week_volume,
        growth=0.08,
    )
    counts = rng.multinomial(n_rows, rate / rate.sum())
    dicts = {
        "channel": pa.array(CHANNELS),
        "priority": pa.array(PRIORITIES),
        "region": pa.array(REGIONS),
        "category": pa.array(CONTACT_REASONS),
        "agent": pa.array([f"agent-{a + 1:03d}" for a in range(agents)]),
    }

    def dictionary(name: str, codes: np.ndarray) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int16)), dicts[name])

    schema = pa.schema(
        [
            ("ticket_id", pa.int64()),
            ("created_at", pa.timestamp("s")),
            *((name, pa.dictionary(pa.int16(), pa.string())) for name in dicts),
            ("customer_id", pa.int64()),
            ("first_response_minutes", pa.float64()),
            ("resolved_first_contact", pa.bool_()),
            ("resolution_hours", pa.float64()),
            ("sla_met", pa.bool_()),
            ("likelihood_to_recommend", pa.int8()),
            ("satisfaction", pa.int8()),
        ]
    )
    next_id = 1

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal next_id
        for lo, hi in _day_chunks(counts, chunk_rows):
            c = counts[lo:hi]
            m = int(c.sum())
            if m == 0:
                continue
            ts = np.sort(_stamp(np.repeat(days[lo:hi], c), _times_of_day(rng, m, _HOURS_CUSTOMER)))
            t = _desk_tickets(rng, ts, world, start_d, cm, ramp_days=7.0)
            s = _desk_scores(rng, t, world)
            ids = np.arange(next_id, next_id + m, dtype=np.int64)
            next_id += m
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(ids),
                    pa.array(ts),
                    dictionary("channel", t["channel"]),
                    dictionary("priority", t["priority"]),
                    dictionary("region", t["region"]),
                    dictionary("category", t["reason"]),
                    dictionary("agent", t["agent"]),
                    pa.array(t["customer"].astype(np.int64) + 1),
                    pa.array(t["first_response"]),
                    pa.array(t["fcr"]),
                    pa.array(t["resolution"]),
                    pa.array(t["sla_met"]),
                    pa.array(s["ltr"]),
                    pa.array(s["satisfaction"]),
                ],
                schema=schema,
            )

    if fmt == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for batch in batches():
                writer.write_batch(batch)
            if n_rows == 0:
                writer.write_table(schema.empty_table())
    else:
        import pyarrow.csv as pacsv

        # pyarrow quotes every string header; categories never need quotes, so write plain.
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with path.open("wb") as f:
            f.write((",".join(schema.names) + "\n").encode())
            with pacsv.CSVWriter(f, schema, write_options=options) as writer:
                for batch in batches():
                    writer.write_batch(batch)
    return path


# --------------------------------------------------------------------------- example playbooks

_GENERATORS: dict[str, Callable[..., dict[str, Path]]] = {
    "support-desk": generate_support_desk,
    "it-service-desk": generate_it_service_desk,
}


def generate_example_data(name: str, folder: Path | str) -> dict[str, Path]:
    """Write an example playbook's data into ``folder`` exactly as committed (pinned scenario)."""
    s = SCENARIOS[name]
    return _GENERATORS[name](folder, s.start, s.end, s.seed, countermeasure=s.countermeasure)


def generate_playbooks(root: Path | str = "playbooks") -> dict[str, dict[str, Path]]:
    """Regenerate the data of every example playbook under ``root`` (``<root>/<name>/data``)."""
    root = Path(root)
    return {name: generate_example_data(name, root / name / "data") for name in SCENARIOS}


def bundled_example(name: str = "support-desk") -> Path:
    """The folder of an example playbook shipped inside the package (without its data)."""
    folder = Path(__file__).with_name(name)
    if not (folder / "playbook.yaml").is_file():
        raise FileNotFoundError(f"no bundled example named {name!r}")
    return folder


def install_example(dest: Path | str, name: str = "support-desk") -> Path:
    """Copy a bundled example into ``dest``, generate its data, and return the playbook path.

    The package ships only the playbook and README: regenerating the data here keeps
    the wheel small and gives the demo the same files as ``playbooks/<name>``.
    """
    src = bundled_example(name)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for item in ("playbook.yaml", "README.md"):
        if (src / item).is_file():
            shutil.copyfile(src / item, dest / item)
    generate_example_data(name, dest / "data")
    return dest / "playbook.yaml"


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pdca.examples.generate",
        description="Write seeded, realistic service-desk data with a planted improvement.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, s in SCENARIOS.items():
        sp = sub.add_parser(name, help=f"data for the {name} example into FOLDER")
        sp.add_argument("folder", type=Path)
        sp.add_argument("--start", type=date.fromisoformat, default=s.start)
        sp.add_argument("--end", type=date.fromisoformat, default=s.end, help="exclusive")
        sp.add_argument(
            "--countermeasure",
            type=date.fromisoformat,
            default=None,
            help="date the improvement starts (default: the middle of the range)",
        )
        sp.add_argument("--seed", type=int, default=s.seed)
    tp = sub.add_parser("tickets", help="N benchmark tickets into PATH (csv or parquet)")
    tp.add_argument("n_rows", type=int)
    tp.add_argument("path", type=Path)
    tp.add_argument("--format", choices=("csv", "parquet"), default=None, help="default: from PATH")
    tp.add_argument("--seed", type=int, default=0)
    pp = sub.add_parser("playbooks", help="regenerate the committed example playbook data")
    pp.add_argument("root", type=Path, nargs="?", default=Path("playbooks"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m pdca.examples.generate``."""
    args = _parser().parse_args(argv)
    written: list[Path] = []
    if args.command in SCENARIOS:
        written += _GENERATORS[args.command](
            args.folder, args.start, args.end, args.seed, countermeasure=args.countermeasure
        ).values()
    elif args.command == "tickets":
        fmt = args.format or ("parquet" if args.path.suffix == ".parquet" else "csv")
        written.append(generate_tickets(args.n_rows, args.path, fmt, args.seed))
    else:
        for files in generate_playbooks(args.root).values():
            written += files.values()
    for path in written:
        print(f"{path}  ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
