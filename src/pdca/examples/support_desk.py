"""The support-desk example's data: tickets and the surveys answered after them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pdca.examples.columns import decimals, iso, write_csv, yes_no
from pdca.examples.comments import survey_comments
from pdca.examples.desk_model import (
    CHANNELS,
    CONTACT_REASONS,
    PRIORITIES,
    REGIONS,
    DeskWorld,
    desk_scores,
    desk_tickets,
)
from pdca.examples.scenarios import SUPPORT_DESK, DateLike, time_frame
from pdca.examples.timeline import (
    DAY,
    HOURS_CUSTOMER,
    HOURS_SURVEY,
    SECOND,
    WEEKDAY_CUSTOMER,
    daily_rates,
    holiday_dates,
    stamp,
    times_of_day,
)


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
    start_d, end_d, cm = time_frame(start, end, countermeasure)
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    weeks = (end_d - start_d).days // 7 + 1
    world = DeskWorld.draw(
        rng, customers=max(60, int(tickets_per_week * 10)), agents=agents, weeks=weeks
    )
    days, rate = daily_rates(
        start_d,
        end_d,
        tickets_per_week,
        WEEKDAY_CUSTOMER,
        holiday_dates(start_d, end_d, swedish=False),
        world.week_volume,
        growth=0.08,
    )
    counts = rng.poisson(rate)
    ts = np.sort(
        stamp(np.repeat(days, counts), times_of_day(rng, int(counts.sum()), HOURS_CUSTOMER))
    )
    t = desk_tickets(rng, ts, world, start_d, cm, ramp_days)
    n = len(ts)
    ticket_ids = [f"T{100001 + i}" for i in range(n)]
    customer_ids = [f"C{10001 + c}" for c in t["customer"]]
    agent_names = [f"agent-{a + 1:02d}" for a in t["agent"]]
    tickets = write_csv(
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
            iso(ts),
            [CHANNELS[c] for c in t["channel"]],
            [PRIORITIES[p] for p in t["priority"]],
            [CONTACT_REASONS[r] for r in t["reason"]],
            [REGIONS[r] for r in t["region"]],
            agent_names,
            customer_ids,
            decimals(t["first_response"]),
            yes_no(t["fcr"]),
            decimals(t["resolution"]),
            yes_no(t["sla_met"]),
        ),
    )

    # Surveys go out when a ticket is resolved; about half the customers answer, within days.
    scores = desk_scores(rng, t, world)
    answered = np.flatnonzero(rng.random(n) < survey_rate)
    resolved = ts[answered] + np.rint(t["resolution"][answered] * 3600).astype(np.int64) * SECOND
    lag = rng.geometric(0.6, len(answered)) - 1
    submitted = stamp(
        resolved.astype("datetime64[D]") + lag * DAY,
        times_of_day(rng, len(answered), HOURS_SURVEY),
    )
    submitted = np.where(submitted <= resolved, submitted + DAY, submitted)
    comments = survey_comments(
        rng, scores["ltr"][answered], t["region"][answered], t["first_response"][answered]
    )
    keep = submitted < np.datetime64(end_d, "s")
    order = np.argsort(submitted[keep], kind="stable")
    rows = answered[keep][order]
    kept_comments = [c for c, k in zip(comments, keep, strict=True) if k]
    surveys = write_csv(
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
            iso(submitted[keep][order]),
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
