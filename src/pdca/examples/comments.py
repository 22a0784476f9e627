"""Free-text survey comments for the support desk, in English and Swedish, some with markup.

Reports show comments next to the scores, so the examples need text that fits
the score it comes with, in the languages the desk's customers write, and some
markup a report must escape rather than render.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pdca.examples.desk_model import REGIONS

COMMENTS_EN = {
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
COMMENTS_SV = {
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
COMMENTS_HTML = (
    "The agent was <b>rude</b> and hung up on me.",
    "<i>Never again.</i> Three days without an answer.",
    "Support is <br> useless & slow",
    '<script>alert("still waiting")</script>',
)


def wait_text(minutes: float, swedish: bool = False) -> str:
    """A wait as a customer would write it: minutes when short, whole hours when long."""
    if minutes < 90:
        n = max(1, round(minutes))
        return f"{n} minuter" if swedish else f"{n} minute{'s' if n != 1 else ''}"
    hours = max(2, round(minutes / 60))
    return f"{hours} timmar" if swedish else f"{hours} hours"


def survey_comments(
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
            pool: Sequence[str] = COMMENTS_HTML
        else:
            pool = (COMMENTS_SV if swedish[i] else COMMENTS_EN)[kind]
        text = pool[int(choice[i] * len(pool))]
        out.append(text.format(wait=wait_text(wait[i]), wait_sv=wait_text(wait[i], swedish=True)))
    return out
