"""Text and Markdown for the reviews across playbooks: portfolio, inbox, agenda.

Like :mod:`pdca.cli.status_text`, each renders the JSON document the command
prints with ``--format json``, so a script and a person read the same answer.
Every text from a playbook or the state goes through ``visible`` (terminal) or
the report's ``md`` (Markdown).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pdca.cli.textout import STATUS_LABELS
from pdca.playbook.messages import visible

AGENDA_HEADS = {
    "signal": "Signals",
    "unreachable_target": "Targets the process cannot reach",
    "work": "Overdue and blocked work",
    "decision": "Decisions to take",
    "stale_data": "Stale data",
    "watermelon": "Confidence against the data",
    "falling_confidence": "Confidence against the data",
    "stale_work": "Work gone quiet",
}
NOTHING = "Nothing needs discussing."


def _counts(o: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {STATUS_LABELS.get(k, k.replace('_', ' '))}" for k, n in o.items())


def _tallies(doc: Mapping[str, Any]) -> tuple[dict[str, int], int, int]:
    """A playbook's objectives by status, its attention and its overdue counts."""
    statuses: dict[str, int] = {}
    for o in doc["objectives"].values():
        statuses[o["status"]] = statuses.get(o["status"], 0) + 1
    attention = sum(len(ids) for ids in doc["attention"].values())
    overdue = sum(1 for t in doc["tasks"].values() if t["overdue"])
    return statuses, attention, overdue


def _playbook_line(pid: str, doc: Mapping[str, Any]) -> list[str]:
    cyc = doc.get("cycle")
    where = f"cycle {cyc['number']}, {cyc['phase']} phase" if cyc else "no cycle yet"
    statuses, attention, overdue = _tallies(doc)
    lines = [f"{doc['title']} ({pid}): {where}"]
    lines.append(f"  objectives: {_counts(statuses) or 'none'}")
    lines.append(f"  attention: {attention} task(s), {overdue} overdue")
    for oid, o in doc["objectives"].items():
        c = o.get("checkin")
        if c:
            said = f"confidence {c['confidence']}/10 ({c['by']}, {c['on']}): {c['note']}"
            lines.append(f"  {oid}: {said}")
        if o.get("watermelon"):
            lines.append(f"  {oid}: {o['watermelon']}")
    return lines


def objective_lines(o: Mapping[str, Any]) -> list[str]:
    """Under an objective in ``pdca status``: the latest check-in and what the data says
    against it (plain text; the caller makes it visible and wraps it)."""
    out = []
    c = o.get("checkin")
    if c:
        out.append(f"confidence {c['confidence']}/10 ({c['by']}, {c['on']}): {c['note']}")
    if o.get("watermelon"):
        out.append(f"the owner is confident, but {o['watermelon']}")
    if o.get("confidence_falling"):
        trail = " -> ".join(str(x["confidence"]) for x in (o.get("checkins") or [])[-3:])
        out.append(f"confidence fell at each of the last two check-ins ({trail})")
    return out


def portfolio_text(doc: Mapping[str, Any]) -> str:
    out: list[str] = [f"{doc['summary']['playbooks']} playbooks, as of {doc['as_of']}"]
    for pid, one in doc["playbooks"].items():
        out.append("")
        out.extend(_playbook_line(pid, one))
    s = doc["summary"]
    out += ["", "ALL PLAYBOOKS"]
    out.append(f"  objectives: {_counts(s['objectives']) or 'none'}")
    for key, label in (
        ("overdue", "overdue"),
        ("blocked", "blocked"),
        ("failed", "failed"),
        ("stale_work", "gone quiet"),
    ):
        items = s[key]
        if items:
            shown = ", ".join(f"{i['playbook']}/{i['task']}" for i in items[:6])
            more = f" and {len(items) - 6} more" if len(items) > 6 else ""
            out.append(f"  {label}: {len(items)} ({shown}{more})")
    if s["stale_data"]:
        shown = ", ".join(f"{i['playbook']}/{i['metric']}" for i in s["stale_data"])
        out.append(f"  stale data: {shown}")
    for i in s["signals"]:
        said = ", ".join(
            str(x).replace("_", " ") for x in (i.get("verdict"), i.get("variation")) if x
        )
        out.append(f"  signal: {i['playbook']}/{i['metric']}: {said}")
    blocks = ["\n".join(visible(line) for line in out)]  # the parts below are made visible
    if doc.get("inbox") is not None:
        blocks.append(inbox_text(doc, explain=bool(doc.get("explained"))))
    if doc.get("agenda") is not None:
        blocks.append(agenda_text(doc["agenda"]))
    return "\n\n".join(blocks) + "\n"


def inbox_text(doc: Mapping[str, Any], *, explain: bool) -> str:
    """A person's items across playbooks, most urgent first (``--explain``: why)."""
    items = doc.get("inbox") or []
    out = [f"INBOX of {doc.get('owner')} (most urgent first)"]
    if not items:
        out.append("  nothing to do now")
    for i in items:
        due = f", due {i['due']}" if i.get("due") else ""
        status = str(i["status"]).replace("_", " ")
        out.append(f"  {i['urgency']:5.1f}  {i['playbook']}: {i['kind']} {i['id']} ({status}{due})")
        if explain:
            out.append(
                "         " + ", ".join(f"{w['reason']} {w['points']:+.1f}" for w in i["why"])
            )
    return "\n".join(visible(line) for line in out)


def agenda_text(items: list[Mapping[str, Any]]) -> str:
    out = ["AGENDA"]
    if not items:
        return "AGENDA\n  " + NOTHING
    head = None
    for i in items:
        if AGENDA_HEADS[i["kind"]] != head:
            head = AGENDA_HEADS[i["kind"]]
            out.append(f"  {head}")
        out.append(f"    - {i['playbook']}: {i['text']}")
    return "\n".join(visible(line) for line in out)


def portfolio_markdown(doc: Mapping[str, Any]) -> str:
    from pdca.report.filters import md

    s = doc["summary"]
    out = [f"# Playbooks as of {md(doc['as_of'])}", ""]
    out += ["| Playbook | Cycle | Objectives | Attention | Overdue |", "|---|---|---|---:|---:|"]
    for pid, one in doc["playbooks"].items():
        cyc = one.get("cycle")
        where = f"{cyc['number']}, {cyc['phase']}" if cyc else "none yet"
        statuses, attention, overdue = _tallies(one)
        out.append(
            f"| {md(one['title'])} ({md(pid)}) | {md(where)} | {md(_counts(statuses) or '–')} "
            f"| {attention} | {overdue} |"
        )
    out += ["", "## All playbooks", "", f"- Objectives: {md(_counts(s['objectives']) or 'none')}"]
    for key, label in (
        ("overdue", "Overdue"),
        ("blocked", "Blocked"),
        ("stale_work", "Gone quiet"),
    ):
        if s[key]:
            out.append(
                f"- {label}: " + ", ".join(md(f"{i['playbook']}/{i['task']}") for i in s[key])
            )
    for i in s["watermelons"]:
        out.append(f"- {md(i['playbook'])}/{md(i['objective'])}: {md(i['message'])}")
    if doc.get("inbox") is not None:
        out += ["", f"## Inbox of {md(doc.get('owner'))}", ""]
        out += [
            f"- {i['urgency']:.1f} {md(i['playbook'])}: {md(i['kind'])} {md(i['id'])} "
            f"({md(i['title'])})"
            for i in doc["inbox"]
        ] or ["- Nothing to do now."]
    if doc.get("agenda") is not None:
        out += ["", "## Agenda", ""]
        out += [f"- {md(i['playbook'])}: {md(i['text'])}" for i in doc["agenda"]] or [
            f"- {NOTHING}"
        ]
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "text": portfolio_text,
    "markdown": portfolio_markdown,
}
