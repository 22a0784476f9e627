"""The end of ``pdca demo``: what the cycle achieved, then where the next one starts.

The demo closes cycle 1 and opens cycle 2, whose status is all "not measured
yet": shown alone, it would hide the point of the exercise. So the demo ends
with cycle 1 as it closed (each objective's verdict and decision, each metric
against its baseline and target with its control-chart reading, the lesson),
the before/after effect of each countermeasure, and a few lines on cycle 2.
It renders the same report document as ``pdca report --cycle 1``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import click

from pdca.cli.status_text import DECISION_COLORS, WIDTH
from pdca.cli.textout import STATUS_COLORS, STATUS_LABELS, number

EFFECT_WORDS = {
    "improved": "improved",
    "deteriorated": "got worse",
    "mixed": "both ways",
    "no_signal": "no signal",
    "insufficient_data": "too few periods",
}


def render_summary(
    achieved: Mapping[str, Any], status: Mapping[str, Any], *, color: bool = False
) -> str:
    """Cycle 1's results (``achieved``: its report document) and cycle 2's start (``status``)."""
    out: list[str] = []
    if achieved.get("cycle"):
        out.extend(_achieved(achieved, color))
        out.extend(_effects(achieved, color))
    out.extend(_next_cycle(status, color))
    return "\n".join(out) + "\n"


def _achieved(doc: Mapping[str, Any], color: bool) -> list[str]:
    cyc = doc["cycle"]
    measured = doc.get("measured") or {}
    prog = cyc["progress"]
    closed = f" to {cyc['closed'][:10]}" if cyc.get("closed") else ""
    out = [
        _paint(f"WHAT CYCLE {cyc['number']} ACHIEVED", None, color, bold=True),
        _cut(f"{doc['title']} ({doc['playbook']})", WIDTH),
        f"cycle {cyc['number']}, {cyc['started'][:10]}{closed}: {prog['done']} of "
        f"{prog['total']} tasks done",
        f"Check measured the data as of {measured.get('as_of') or doc['as_of']}",
    ]
    metrics = doc["metrics"]
    for o in doc["objectives"].values():
        owner = f" ({o['owner_name']})" if o.get("owner_name") else ""
        decision = o["decision"] or "not decided"
        out.append("")
        out.append(_cut(f"{o['title']}{owner}", WIDTH))
        out.append(
            "    verdict: "
            + _paint(_label(o["status"]), STATUS_COLORS.get(o["status"]), color, bold=True)
            + "   decision: "
            + _paint(decision, DECISION_COLORS.get(o["decision"] or ""), color)
            + (f" (by {o['decided_by']})" if o.get("decided_by") else "")
        )
        out.append(
            f"    {'metric':<20} {'baseline':>8} {'value':>8} {'target':>8}  {'status':<10} chart"
        )
        for mid in o["metrics"]:
            m = metrics[mid]
            st = _label(m["status"]) if m["status"] != "not_measured" else "-"
            cell = _paint(f"{st:<10}", STATUS_COLORS.get(m["status"]), color)
            out.append(
                f"    {_cut(mid, 20):<20} {number(m['baseline']):>8} {number(m['value']):>8} "
                f"{number(m['target']):>8}  {cell} {_chart(m)}".rstrip()
            )
        if o.get("note"):
            out.extend(_wrap(f"lesson: {o['note']}", "    "))
    return out


def _chart(metric: Mapping[str, Any]) -> str:
    """The control chart's verdict in a word or two (the report gives the rule behind it)."""
    verdict = (metric.get("signal") or {}).get("verdict")
    return EFFECT_WORDS.get(verdict, str(verdict or "-").replace("_", " "))


def _effects(doc: Mapping[str, Any], color: bool) -> list[str]:
    effects = doc.get("effects") or []
    if not effects:
        return []
    out = [
        "",
        _paint("COUNTERMEASURES AND THEIR EFFECT", None, color, bold=True)
        + "  (mean per period before -> after)",
    ]
    # Countermeasures of one objective done the same day split every series at the same
    # point: their effects cannot be told apart, so they are shown together, once.
    groups: dict[tuple[str, str], tuple[list[str], dict[str, Mapping[str, Any]]]] = {}
    for e in effects:
        titles, rows = groups.setdefault((e["objective"], e["completed"]), ([], {}))
        if e["task_title"] not in titles:
            titles.append(e["task_title"])
        rows.setdefault(e["metric"], e)
    for (_, completed), (titles, rows) in groups.items():
        out.append(f"  {_cut(titles[0], WIDTH - 18):<{WIDTH - 18}}  done {completed}")
        out.extend(f"  + {_cut(title, WIDTH - 6)}" for title in titles[1:])
        for e in rows.values():
            if e["before"] is None or e["after"] is None:
                moved, verdict = "not enough periods on both sides yet", ""
            else:
                moved = f"{number(e['before']):>8} -> {number(e['after']):<8}"
                verdict = EFFECT_WORDS.get(e["verdict"], str(e["verdict"]).replace("_", " "))
                if e.get("signal_after") and e.get("first_signal_date"):
                    verdict += f", signal from {e['first_signal_date']}"
            out.append(f"    {_cut(e['metric'], 20):<20} {moved} {verdict}".rstrip())
    return out


def _next_cycle(status: Mapping[str, Any], color: bool) -> list[str]:
    cyc = status.get("cycle")
    if not cyc:
        return []
    ratcheted = any(m.get("baseline_from") for m in status.get("metrics", {}).values())
    since = f"{cyc['phase']} phase since {cyc['phase_since'][:10]}"
    if ratcheted:
        since += f"; baselines ratcheted from cycle {cyc['number'] - 1}"
    out = [
        "",
        _paint(f"CYCLE {cyc['number']} IS OPEN", None, color, bold=True) + f"  ({since})",
    ]
    for step in status.get("next") or []:
        out.extend(_wrap(step, "  - "))
    return out


def _label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " "))


def _paint(text: str, fg: str | None, color: bool, bold: bool = False) -> str:
    return click.style(text, fg=fg, bold=bold) if color and (fg or bold) else text


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=" " * len(indent) + "  "
    ) or [indent]
