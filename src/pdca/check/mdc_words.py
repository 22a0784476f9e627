"""Making Data Count's variation and assurance in words, for text, Markdown and titles.

Kept apart from the statistics (numpy) and the charts (SVG) so that ``pdca
status`` can say them without importing either.
"""

from __future__ import annotations

from collections.abc import Mapping

VARIATION_WORDS = {
    "common_cause": "common cause variation",
    "improvement": "special cause variation: improvement",
    "concern": "special cause variation: concern",
    "neither": "special cause variation: neither improvement nor concern",
}
ASSURANCE_WORDS = {
    "pass": "the target will consistently be met",
    "fail": "the target will consistently be missed",
    "hit_or_miss": "the target will be met in some periods and missed in others",
}
SIDE_WORDS = {"high": "high", "low": "low"}
SHORT_VARIATION = {
    "common_cause": "common cause",
    "improvement": "special cause improvement",
    "concern": "special cause concern",
    "neither": "special cause, neither way",
}
SHORT_ASSURANCE = {
    "pass": "target consistently met",
    "fail": "target consistently missed",
    "hit_or_miss": "target hit or miss",
}


def readings(signal: object) -> tuple[str | None, str | None, str | None]:
    """``(variation, variation_side, assurance)`` of a signal, each a string or None.

    Signals come from stored snapshots too, written by older pdca versions or by
    hand: anything that is not a string there is no reading, never a crash."""
    sig = signal if isinstance(signal, Mapping) else {}
    found = (sig.get("variation"), sig.get("variation_side"), sig.get("assurance"))
    kind, side, assured = (v if isinstance(v, str) else None for v in found)
    return kind, side, assured


def variation_words(kind: str | None, side: str | None) -> str:
    """``special cause variation: improvement (high)``; ``no variation reading`` for None."""
    if kind not in VARIATION_WORDS:
        return "no variation reading (too few periods for limits)"
    words = VARIATION_WORDS[kind]
    return (
        f"{words} ({SIDE_WORDS[side]})" if side in SIDE_WORDS and kind != "common_cause" else words
    )


def assurance_words(kind: str | None) -> str:
    return ASSURANCE_WORDS.get(kind or "", "no assurance reading (no target, or no limits)")


def short_words(signal: object) -> str | None:
    """``special cause improvement (low); target consistently missed``, for a status line;
    None when the signal has neither reading."""
    kind, side, assured = readings(signal)
    parts = []
    if kind in SHORT_VARIATION:
        shown = SHORT_VARIATION[kind]
        if side in SIDE_WORDS and kind != "common_cause":
            shown += f" ({side})"
        parts.append(shown)
    if assured in SHORT_ASSURANCE:
        parts.append(SHORT_ASSURANCE[assured])
    return "; ".join(parts) or None


def chart_notes(
    metric: str, signal: object, series: object = (), *, playbook: str = "PLAYBOOK"
) -> list[str]:
    """What people changed about how a chart is read (rebases, excluded periods) and the
    rebase Check proposes, as sentences for text, Markdown and HTML alike.

    Like :func:`readings`, it reads stored snapshots too: anything malformed is left out.
    """
    sig = signal if isinstance(signal, Mapping) else {}
    out: list[str] = []
    phases = sig.get("phases")
    for ph in phases if isinstance(phases, list) else ():
        if not isinstance(ph, Mapping) or ph.get("phase") == "baseline":
            continue
        text = f"Limits rebased from {ph.get('phase')} ({ph.get('first')} on)"
        if ph.get("reason"):
            text += f": {ph['reason']}" + (f" ({ph['by']})" if ph.get("by") else "")
        out.append(text + ".")
    for p in series if isinstance(series, list) else ():
        note = p.get("excluded") if isinstance(p, Mapping) else None
        if isinstance(note, Mapping):
            who = ", ".join(str(x) for x in (note.get("by"), note.get("on")) if x)
            out.append(
                f"{p.get('period')} left out of the limits and rules: {note.get('reason')}"
                + (f" ({who})" if who else "")
                + "."
            )
    proposal = sig.get("rebase_proposal")
    if isinstance(proposal, Mapping) and proposal.get("message"):
        out.append(
            f"{proposal['message']} To do so: pdca rebase {playbook} {metric} "
            f'--on {proposal.get("on")} --reason "..." --by OWNER'
        )
    return out
