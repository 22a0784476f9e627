"""A metric's verdict in words, and how many false verdicts a report's metrics give by chance.

Check judges each metric on sustained evidence (its ``signal.reasons``: the
cycle's mean against the baseline, a sustained run) and says how often a stable
process would still get a verdict (``signal.false_alarm_rate``). The report
shows both: each verdict with the evidence behind it, both ways for ``mixed``,
and one sentence for the whole playbook, so a team that sees one "improved"
among twelve metrics can tell whether that is more than chance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JUDGED_WORDS: Mapping[str, str] = {
    "improved": "improved",
    "deteriorated": "got worse",
    "mixed": "moved both ways, no verdict",
}
"""The verdicts that rest on evidence, in words; the evidence follows them in brackets."""

NO_CURRENT_DATA = "no data in the current window, so no verdict on it"
"""The reading of a metric with a verdict on its series but no value now (status no_data)."""


def deciding_rule(signal: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The latest directed rule signal that agrees with the verdict, if any.

    Rules no longer decide the verdict (sustained evidence does, see ``reasons``);
    a rule pointing the verdict's way is still the clearest thing to show on the
    chart. Check results stored by older versions have no ``reasons``: for them the
    latest directed signal was the verdict's ground, so it is taken as before.
    """
    if not signal:
        return None
    directed = [r for r in signal.get("rules") or () if r.get("direction") in ("up", "down")]
    if "reasons" in signal:
        ways = {r.get("direction") for r in signal.get("reasons") or ()}
        directed = [r for r in directed if r.get("direction") in ways]
    if not directed:
        return None

    def key(r: Mapping[str, Any]) -> tuple[int, int]:
        idx = r.get("indices") or r.get("periods") or [0]
        last = idx[-1] if isinstance(idx[-1], int) else len(idx)
        return (last, -int(r.get("rule") or 0))

    return max(directed, key=key)


def _because(signal: Mapping[str, Any]) -> str:
    """The evidence behind a verdict, in words: its reasons, else its deciding rule."""
    reasons = [str(r.get("message")) for r in signal.get("reasons") or () if r.get("message")]
    if signal.get("verdict") == "mixed" and reasons:
        return f" ({'; but '.join(reasons)})"
    if reasons:  # the first is the strongest: the cycle mean when it holds
        return f" ({reasons[0]})"
    rule = deciding_rule(signal)
    return f" (rule {rule['rule']}: {rule['description']})" if rule else ""


def reading(entry: Mapping[str, Any], *, because: bool = True) -> str:
    """The chart's verdict in words a manager reads, with the evidence behind it.

    ``because=False`` leaves the evidence (and the note of a missing verdict) out, for
    a headline that has them listed under it (the HTML report's metric blocks)."""
    if entry.get("error"):
        return "could not be measured"
    signal = entry.get("signal")
    if entry.get("status") == "not_measured" or not signal:
        return "not measured yet"
    verdict = signal.get("verdict")
    if verdict in JUDGED_WORDS and entry.get("status") == "no_data":
        # a verdict on earlier periods beside a "No data" badge reads as news about now
        return NO_CURRENT_DATA
    if verdict in JUDGED_WORDS:
        return JUDGED_WORDS[verdict] + (_because(signal) if because else "")
    if verdict == "no_signal":
        if entry.get("status") == "met":
            return "target met, but no signal: possibly luck"
        return "noise only (no signal)"
    if verdict == "insufficient_data":
        note = signal.get("note") if because else None
        return "too few periods for a verdict" + (f" ({note})" if note else "")
    return str(verdict).replace("_", " ")


def false_alarm_budget(check: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The check's ``false_alarms`` with :func:`budget_sentence` as its message.

    A check snapshot stored before Check counted them has no ``false_alarms``: it is
    computed from the metrics' ``signal.false_alarm_rate`` when they have one, and is
    None when even that is missing (a report cannot say what the check never measured).
    """
    if not check:
        return None
    found = check.get("false_alarms")
    if not isinstance(found, Mapping):
        metrics = check.get("metrics") or {}
        if not any("false_alarm_rate" in (m.get("signal") or {}) for m in metrics.values()):
            return None
        from pdca.check.readout import false_alarms

        found = false_alarms(metrics)
    out = dict(found)
    out["message"] = budget_sentence(out)
    return out


def budget_sentence(budget: Mapping[str, Any]) -> str:
    """``On stable processes these 8 judged metrics would give about 0.2 false verdicts per
    cycle (17 % chance of at least one).``"""
    count = int(budget.get("judged_metrics") or 0)
    if not count:
        return "No metric has enough baseline for a verdict yet, so none can be a false alarm."
    expected = float(budget.get("expected") or 0.0)
    chance = 100 * float(budget.get("chance_of_any") or 0.0)
    odds = "under 1" if 0 < chance < 0.5 else f"{chance:.0f}"
    these = "this judged metric" if count == 1 else f"these {count} judged metrics"
    verdicts = "verdict" if f"{expected:.2g}" == "1" else "verdicts"
    return (
        f"On stable processes {these} would give about {expected:.2g} false {verdicts} per "
        f"cycle ({odds} % chance of at least one)."
    )


def headline(entry: Mapping[str, Any]) -> str:
    """:func:`reading` without the evidence: the words above a chart the reasons follow."""
    return reading(entry, because=False)


def evidence(signal: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The reasons behind a verdict (``kind``, ``direction``, ``message``), strongest first;
    junk entries (no message) are left out."""
    out = []
    for r in (signal or {}).get("reasons") or ():
        if isinstance(r, Mapping) and r.get("message"):
            out.append(
                {
                    "kind": str(r.get("kind") or ""),
                    "direction": str(r.get("direction") or ""),
                    "message": str(r["message"]),
                }
            )
    return out
