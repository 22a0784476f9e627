"""The IT-service-desk example's data: incidents in CSV and a staff pulse survey in SQLite.

An internal IT desk differs from a customer desk in who calls (staff at a few
sites, office hours, Swedish holidays) and in what improves; it also shows a
source that is not a CSV file.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from pdca.examples.columns import decimals, iso, write_csv, yes_no
from pdca.examples.scenarios import IT_SERVICE_DESK, DateLike, time_frame
from pdca.examples.timeline import (
    DAY,
    HOURS_OFFICE,
    WEEKDAY_OFFICE,
    daily_rates,
    effect,
    holiday_dates,
    pick,
    stamp,
    times_of_day,
    week_index,
)

IT_CHANNELS = ("portal", "phone", "email", "chat", "walk-in")
IT_CH_P = (0.42, 0.28, 0.14, 0.11, 0.05)
IT_CH_MEDIAN_MIN = np.array([35.0, 1.5, 50.0, 3.0, 4.0])
IT_CH_FCR = np.array([-0.05, 0.05, -0.08, 0.05, 0.10])

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
IT_CAT_P = (0.24, 0.20, 0.14, 0.09, 0.10, 0.07, 0.07, 0.09)
IT_CAT_FCR = np.array([0.62, 0.38, 0.18, 0.12, 0.50, 0.35, 0.45, 0.30])
IT_CAT_GROUP = (
    "Identity & Access",
    "Application Support",
    "Field Services",
    "Network Operations",
    "Collaboration",
    "Field Services",
    "End-User Computing",
    "End-User Computing",
)
IT_L1 = "Service Desk L1"

IT_PRIORITIES = ("P1", "P2", "P3", "P4")
IT_PRIO_P = (0.02, 0.10, 0.58, 0.30)
IT_PRIO_MEDIAN_H = np.array([2.5, 7.0, 18.0, 45.0])  # escalated resolution before the change
IT_PRIO_SLA_H = np.array([4, 8, 24, 72])

SITES = ("Stockholm", "Göteborg", "Malmö", "London", "Kraków")
SITE_P = (0.45, 0.20, 0.12, 0.13, 0.10)

TEAMS = ("Service Desk L1", "End-User Support L2", "Application Support", "Field Services")
TEAM_SIZE = (20, 12, 9, 7)
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
    start_d, end_d, cm = time_frame(start, end, countermeasure)
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    weeks = (end_d - start_d).days // 7 + 1
    week_volume = rng.lognormal(0.0, 0.1, weeks)
    week_load = rng.lognormal(0.0, 0.1, weeks)
    days, rate = daily_rates(
        start_d,
        end_d,
        incidents_per_week,
        WEEKDAY_OFFICE,
        holiday_dates(start_d, end_d, swedish=True),
        week_volume,
        growth=0.0,
    )
    counts = rng.poisson(rate)
    ts = np.sort(stamp(np.repeat(days, counts), times_of_day(rng, int(counts.sum()), HOURS_OFFICE)))
    n = len(ts)
    eff = effect(ts, cm, ramp_days)
    wk = np.minimum(week_index(ts, start_d), weeks - 1)

    users = 1400
    user_site = pick(rng, users, SITE_P)
    user_weight = rng.gamma(0.8, 1.0, users)
    user = rng.choice(users, size=n, p=user_weight / user_weight.sum())
    channel = pick(rng, n, IT_CH_P)
    category = pick(rng, n, IT_CAT_P)
    priority = pick(rng, n, IT_PRIO_P)
    first_response = np.maximum(
        np.round(IT_CH_MEDIAN_MIN[channel] * week_load[wk] * rng.lognormal(0.0, 0.9, n), 1), 0.1
    )
    kb_used = rng.random(n) < 0.15 + 0.40 * eff
    p_fcr = np.clip(IT_CAT_FCR[category] + IT_CH_FCR[channel] + 0.20 * eff, 0.03, 0.95)
    p_fcr = np.where(priority == 0, 0.02, p_fcr)  # a major incident is never fixed on the call
    fcr = rng.random(n) < p_fcr
    escalated_h = (
        IT_PRIO_MEDIAN_H[priority] * week_load[wk] * (1.0 - 0.35 * eff) * rng.lognormal(0.0, 0.8, n)
    )
    resolution = np.round(
        first_response / 60.0 + np.where(fcr, rng.gamma(2.0, 0.1, n), escalated_h), 1
    )
    sla_target = IT_PRIO_SLA_H[priority]
    reopened = rng.random(n) < 0.065
    group = [IT_L1 if f else IT_CAT_GROUP[c] for f, c in zip(fcr, category, strict=True)]
    incidents = write_csv(
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
            iso(ts),
            [IT_CHANNELS[c] for c in channel],
            [IT_CATEGORIES[c] for c in category],
            [IT_PRIORITIES[p] for p in priority],
            [SITES[user_site[u]] for u in user],
            [f"U{10001 + u}" for u in user],
            group,
            decimals(first_response),
            yes_no(kb_used),
            yes_no(fcr),
            decimals(resolution),
            sla_target.tolist(),
            yes_no(resolution <= sla_target),
            yes_no(reopened),
        ),
    )
    pulse = write_pulse(rng, folder / "itsm.sqlite", start_d, end_d, cm, pulse_ramp_days)
    return {"incidents": incidents, "itsm": pulse}


def write_pulse(
    rng: np.random.Generator, path: Path, start: date, end: date, cm: date, ramp_days: float
) -> Path:
    """A fortnightly anonymous staff pulse survey in SQLite, as HR tools export it.

    Each employee keeps a disposition across waves, so consecutive waves correlate
    the way real pulse data does; the planted lift arrives slowly (``ramp_days``).
    """
    team = np.repeat(np.arange(len(TEAMS)), TEAM_SIZE)
    staff = len(team)
    disposition = rng.normal(0.0, 1.2, staff)
    tenure = pick(rng, staff, (0.25, 0.4, 0.35))
    first_tuesday = start + timedelta(days=(1 - start.weekday()) % 7)
    waves = [first_tuesday + timedelta(days=14 * i) for i in range(0, 200)]
    waves = [w for w in waves if w < end]
    rows: list[tuple[Any, ...]] = []
    for wave_no, wave in enumerate(waves, start=1):
        who = np.flatnonzero(rng.random(staff) < 0.68)
        day = np.full(len(who), np.datetime64(wave, "D")) + rng.integers(0, 4, len(who)) * DAY
        ts = stamp(day, times_of_day(rng, len(who), HOURS_OFFICE))
        lift = effect(ts, cm, ramp_days)
        score = 6.9 + disposition[who] + 0.8 * lift + rng.normal(0.0, 1.3, len(who))
        workload = 3.6 - 0.5 * lift + 0.3 * rng.normal(0.0, 1.0, len(who))
        enps = np.clip(np.rint(score), 0, 10).astype(int)
        load = np.clip(np.rint(workload + rng.normal(0.0, 0.8, len(who))), 1, 5).astype(int)
        keep = ts < np.datetime64(end, "s")
        for i in np.flatnonzero(keep):
            rows.append(
                (
                    iso(ts[i : i + 1])[0],
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
