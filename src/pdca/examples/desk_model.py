"""The customer support desk's model: its categories, its customers and agents, its outcomes.

Shared by the support-desk example and the benchmark tickets, which are the
same desk at a larger scale: response times by channel and priority with a
long tail, first-contact resolution by channel and reason, and one latent mood
per contact that drives NPS, CSAT and the SERVQUAL perception together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from pdca.examples.timeline import effect, pick, week_index

CHANNELS = ("email", "chat", "phone", "web")
CH_P = (0.35, 0.27, 0.23, 0.15)
CH_MEDIAN_MIN = np.array([270.0, 7.0, 3.5, 210.0])  # first response before the change
CH_SIGMA = np.array([0.9, 0.8, 0.7, 0.9])  # lognormal spread: the long tail
CH_GAIN = np.array([0.5, 0.55, 0.25, 0.4])  # share of waiting removed by the countermeasure
CH_FCR = np.array([0.50, 0.62, 0.70, 0.45])

PRIORITIES = ("low", "normal", "high", "urgent")
PRIO_P = (0.22, 0.53, 0.20, 0.05)
PRIO_SPEED = np.array([1.3, 1.0, 0.6, 0.3])
PRIO_SLA_MIN = np.array([1440.0, 480.0, 120.0, 30.0])  # first-response SLA

REGIONS = ("Nordics", "DACH", "UK", "Benelux", "North America")
REGION_P = (0.30, 0.22, 0.20, 0.13, 0.15)

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
REASON_P = (0.14, 0.13, 0.11, 0.09, 0.08, 0.09, 0.05, 0.06, 0.07, 0.05, 0.07, 0.06)
REASON_FCR = np.array([0.05, 0.15, 0.12, -0.05, 0.08, -0.25, 0.0, 0.18, -0.15, -0.05, 0.1, -0.05])

FCR_GAIN = 0.13  # macros + coaching: points of first-contact resolution gained
MOOD_BASE = 7.9  # latent customer mood before the change (on the 0-10 scale)
MOOD_GAIN = 0.6  # planted lift in mood, on top of what faster, first-time answers bring


@dataclass
class DeskWorld:
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
    def draw(cls, rng: np.random.Generator, customers: int, agents: int, weeks: int) -> DeskWorld:
        # gamma(0.5) activity: most customers write once or twice, a few write every month
        weight = rng.gamma(0.5, 1.0, customers)
        return cls(
            customer_weight=weight / weight.sum(),
            customer_region=pick(rng, customers, REGION_P).astype(np.int8),
            agent_mood=rng.normal(0.0, 0.35, agents),
            week_load=rng.lognormal(0.0, 0.12, weeks),
            week_mood=rng.normal(0.0, 0.12, weeks),
            week_volume=rng.lognormal(0.0, 0.08, weeks),
        )


def desk_tickets(
    rng: np.random.Generator,
    ts: np.ndarray,
    world: DeskWorld,
    start: date,
    countermeasure: date,
    ramp_days: float,
) -> dict[str, np.ndarray]:
    """Ticket attributes and outcomes (as category codes and numbers) for arrival times ``ts``."""
    n = len(ts)
    eff = effect(ts, countermeasure, ramp_days)
    wk = np.minimum(week_index(ts, start), len(world.week_load) - 1)
    customer = rng.choice(len(world.customer_weight), size=n, p=world.customer_weight)
    channel = pick(rng, n, CH_P).astype(np.int8)
    priority = pick(rng, n, PRIO_P).astype(np.int8)
    reason = pick(rng, n, REASON_P).astype(np.int8)
    agent = rng.integers(0, len(world.agent_mood), size=n).astype(np.int16)
    median = (
        CH_MEDIAN_MIN[channel]
        * PRIO_SPEED[priority]
        * world.week_load[wk]
        * (1.0 - CH_GAIN[channel] * eff)
    )
    first_response = np.round(median * rng.lognormal(0.0, CH_SIGMA[channel]), 1)
    first_response = np.maximum(first_response, 0.1)
    p_fcr = np.clip(CH_FCR[channel] + REASON_FCR[reason] + FCR_GAIN * eff, 0.05, 0.95)
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
        "sla_met": first_response <= PRIO_SLA_MIN[priority],
    }


def desk_scores(
    rng: np.random.Generator, t: dict[str, np.ndarray], world: DeskWorld
) -> dict[str, np.ndarray]:
    """Survey answers driven by one latent mood per customer contact.

    Mood rises with the planted change, with first-contact resolution and with a
    short wait, and varies by agent and week, so NPS, CSAT and the SERVQUAL
    perception move together as they do in real surveys. Effort and the expected
    service level are drawn independently of time: they are the metrics that must
    stay pure noise.
    """
    n = len(t["eff"])
    relative_wait = np.log(t["first_response"] / CH_MEDIAN_MIN[t["channel"]])
    mood = (
        MOOD_BASE
        + MOOD_GAIN * t["eff"]
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
