"""What the demo's simulated support team writes: task notes and Act lessons.

The demo is the first pdca a new user sees, so the notes and lessons in its
history and reports should read like a real team's: specific to the task or
objective, proper nouns as people write them (Erlang C, QA, NPS), and a lesson
that says what this objective taught, with the numbers Check measured.
Anything the data decides (which charts moved, which targets were met) is read
from the cycle's check snapshot, never assumed, so the words stay true if the
example's data changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NOTES = {
    "analyse-detractors": (
        "Affinity diagram of last quarter's detractor comments: most are about waiting for a "
        "first answer by email and having to explain the problem twice. 5 whys done with the "
        "team leads."
    ),
    "pareto-contact-reasons": (
        "Ten contact reasons make up about 80% of tickets; login and password problems, "
        "invoices and refunds lead. The ten go into the macro library first."
    ),
    "staffing-model": (
        "Erlang C model per hour of day: chat needs two more agents 09-11 and 13-16, and "
        "overnight email needs one agent on triage first thing in the morning."
    ),
    "agree-targets": (
        "Baselines, targets and warn bands signed off by the leadership team at the Q1 "
        "kick-off; reviewed again at Check."
    ),
    "empathy-coaching": (
        "Every agent has done both 90-minute sessions; Aisha listens in on two calls per "
        "agent in February."
    ),
    "macro-library": (
        "Macros for the top-10 contact reasons are live in the help desk; agents flag "
        "outdated ones in the #macros channel."
    ),
    "chat-peak-staffing": (
        "Two agents moved from the quiet afternoon hours to chat 09-11 and 13-16; the new "
        "rota is published."
    ),
    "email-triage-rota": (
        "One agent a morning sorts and answers the overnight email before 10:00; rota "
        "covers the whole quarter."
    ),
    "qa-calibration": (
        "QA listen-in scores agree with the survey results for all but two agents; both "
        "get a follow-up session with Aisha."
    ),
    "standardise-coaching": (
        "Empathy coaching is now week two of new-agent onboarding; the first group starts in May."
    ),
    "second-triage-slot": "After-lunch triage slot, 13:30-14:30, on the rota from Monday 13 April.",
    "reduce-effort": (
        "Logged-in customers are no longer asked to confirm who they are a second time; "
        "live from Monday 27 April."
    ),
}
"""The note each person writes when finishing a task (the automated export writes its own)."""

SHORT_NAMES = {
    "nps": "NPS",
    "csat": "CSAT",
    "email_first_response": "email first response",
    "email_response_sla": "emails answered within 4 hours",
    "chat_wait_p90": "chat wait",
    "fcr": "first-contact resolution",
    "effort": "customer effort",
    "quality_gap": "the SERVQUAL gap",
}
"""How the team says each metric in a sentence; other metrics use their title as written."""

LESSONS: dict[str, dict[str, str]] = {
    "loyal-customers": {
        "standardize": (
            "The empathy coaching changed how customers rate us: it becomes part of "
            "onboarding for every new agent."
        ),
        "adjust": (
            "The empathy coaching is worth keeping and goes into onboarding; for the "
            "scores still short of target we go back to what detractors write."
        ),
        "abandon": (
            "Coaching alone did not change how customers rate us; we stop it and spend the "
            "hours on the causes in the detractor comments."
        ),
    },
    "fast-first-response": {
        "standardize": (
            "Peak-hour chat staffing and the morning triage rota did it: both are now the "
            "standard rota."
        ),
        "adjust": (
            "Peak-hour chat staffing and the morning triage rota stay; emails that arrive "
            "after lunch still wait too long, so a second triage slot comes next."
        ),
        "abandon": (
            "Moving agents around did not shorten the wait; we stop and map where emails "
            "queue instead."
        ),
    },
    "right-first-time": {
        "standardize": (
            "The macro library works: agents solve more on the first contact and customers "
            "find it easy. Lena keeps it up to date every month."
        ),
        "adjust": (
            "The macro library helps agents solve more on the first contact, but reaching us "
            "is still hard work for customers: next we drop the second identity check and "
            "measure effort again."
        ),
        "abandon": (
            "The macro library did not change first-contact resolution; we retire it and "
            "put the time into the top contact reasons themselves."
        ),
    },
}
"""What each objective's owner writes at Act, by decision."""

GENERIC_LESSONS = {
    "standardize": "It worked and held up on the control chart: it becomes the standard.",
    "adjust": "Keep what helped, rework what did not, and measure again next cycle.",
    "abandon": "It did not move the numbers: we stop and free the time for something else.",
}

VERDICTS = {
    "improved": "improved",
    "deteriorated": "got worse",
    "mixed": "moved both ways",
    "no_signal": "showed no signal",
    "insufficient_data": "had too few periods for a verdict",
}
STATUS_WORDS = {"met": "met", "at_risk": "at risk", "off_track": "off track"}


def metric_name(pb: Any, mid: str) -> str:
    return SHORT_NAMES.get(mid) or pb.metrics[mid].title or mid


def task_note(pb: Any, tid: str, snapshot: Mapping[str, Any] | None) -> str:
    """The note a person writes on finishing ``tid``; the chart review reads the snapshot."""
    if tid == "review-control-charts" and snapshot:
        return chart_review(pb, snapshot)
    return NOTES.get(tid) or "Done as planned."


def chart_review(pb: Any, snapshot: Mapping[str, Any]) -> str:
    """What the control charts showed at Check, as the reviewer writes it down."""
    by_verdict: dict[str, list[str]] = {}
    for mid, m in (snapshot.get("metrics") or {}).items():
        verdict = ((m.get("signal") or {}).get("verdict")) or "insufficient_data"
        by_verdict.setdefault(verdict, []).append(metric_name(pb, mid))
    parts = [
        f"{_join(names)} {VERDICTS.get(verdict, verdict.replace('_', ' '))}"
        for verdict, names in sorted(by_verdict.items(), key=lambda kv: _ORDER.get(kv[0], 9))
    ]
    return "Control charts reviewed with the team: " + "; ".join(parts) + "."


_ORDER = {
    "improved": 0,
    "deteriorated": 1,
    "mixed": 2,
    "no_signal": 3,
    "insufficient_data": 4,
}


def lesson(pb: Any, oid: str, decision: str, snapshot: Mapping[str, Any] | None) -> str:
    """The owner's lesson for ``oid``: what the team takes away, then the measured facts."""
    words = LESSONS.get(oid, {}).get(decision) or GENERIC_LESSONS[decision]
    facts = measured_facts(pb, oid, snapshot)
    return f"{words} {facts}" if facts else words


def measured_facts(pb: Any, oid: str, snapshot: Mapping[str, Any] | None) -> str:
    """E.g. "At Check: NPS 33 (target 30, met), CSAT 82.2 (target 85, at risk).\""""
    metrics = (snapshot or {}).get("metrics") or {}
    parts = []
    for mid in pb.objectives[oid].metrics:
        m = metrics.get(mid)
        if not m or m.get("value") is None:
            continue
        status = STATUS_WORDS.get(m.get("status") or "", "not measured")
        parts.append(
            f"{metric_name(pb, mid)} {_num(m['value'])} (target {_num(m.get('target'))}, {status})"
        )
    return f"At Check: {', '.join(parts)}." if parts else ""


def _num(value: Any) -> str:
    if value is None:
        return "-"
    value = float(value)
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
