"""``pdca status`` as text for the terminal (80 columns) and as Markdown for a wiki.

Both render the JSON report of :func:`pdca.engine.review.review`, so what a
script reads and what a person reads can never disagree. Colour is added only
when asked (the CLI asks when stdout is a TTY), and always after padding, so
columns line up either way.
"""

from __future__ import annotations

import textwrap
from typing import Any

import click

from pdca.check.freshness import metric_note, source_sentence
from pdca.cli.review_text import objective_lines
from pdca.cli.textout import STATUS_COLORS, STATUS_LABELS, number, visible_tree
from pdca.playbook.messages import visible

WIDTH = 80
TASK_COLORS = {
    "ready": "cyan",
    "in_progress": "blue",
    "blocked": "yellow",
    "failed": "red",
    "pending": None,
    "done": "green",
    "skipped": None,
}
TREND_MARKS = {"improving": "^ improving", "worsening": "v worsening", "flat": "- flat"}
DECISION_COLORS = {"standardize": "green", "adjust": "yellow", "abandon": "red"}


def _label(status: str) -> str:
    if status == "not_measured":
        return "not measured yet"
    return STATUS_LABELS.get(status, status.replace("_", " "))


def _paint(text: str, fg: str | None, color: bool, bold: bool = False) -> str:
    return click.style(text, fg=fg, bold=bold) if color and (fg or bold) else text


def _cut(text: str, width: int) -> str:
    text = visible(text)  # names and notes are shown on a terminal, never obeyed by it
    return text if len(text) <= width else text[: width - 1] + "~"


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        visible(text), WIDTH, initial_indent=indent, subsequent_indent=" " * len(indent) + "  "
    ) or [indent]


def render_text(report: dict[str, Any], color: bool = False) -> str:
    report = visible_tree(report)  # every name, note and label shown, never obeyed
    out: list[str] = []
    title = f"{report['title']} ({report['playbook']})"
    out.append(_paint(_cut(title, WIDTH), None, color, bold=True))
    cyc = report["cycle"]
    if cyc is None:
        out.append(f"no cycle yet; as of {report['as_of']}")
    else:
        phase = cyc["phase"]
        out.append(
            f"cycle {cyc['number']}, {phase} phase"
            + ("" if phase == "closed" else f" since {cyc['phase_since'][:10]}")
            + f"; started {cyc['started'][:10]}; as of {report['as_of']}"
        )
        if cyc.get("overrun"):
            out.append(
                _paint(
                    f"day {cyc['day']} of a {cyc['length_days']}-day cycle: "
                    f"{cyc['overrun']} days past its length",
                    "red",
                    color,
                )
            )
        prog = cyc["progress"]
        phases = "  ".join(
            f"{p} {v['done']}/{v['total']}" for p, v in prog["phases"].items() if v["total"]
        )
        pct = f"{100 * prog['done'] / prog['total']:.0f}%" if prog["total"] else "-"
        line = (
            f"{_bar(prog['done'], prog['total'], 16)} {prog['done']}/{prog['total']} done ({pct})"
        )
        out.append(f"{line}  {phases}" if len(line) + 2 + len(phases) <= WIDTH else line)
    for item in report.get("stale_data") or []:
        text = f"check measured on stale data (pdca run --allow-stale): {source_sentence(item)}"
        out.extend(_paint(line, "yellow", color) for line in _wrap(text, ""))
    if report.get("owner"):
        out.append(f"tasks of {report['owner']} (and their teams) only")
    out.extend(_objectives_text(report, color))
    out.extend(_readings_text(report, color))
    out.extend(_tasks_text(report, color))
    out.extend(_lessons_text(report))
    if report["next"]:
        out.append("")
        out.append(_paint("NEXT", None, color, bold=True))
        for step in report["next"]:
            out.extend(_wrap(step, "  - "))
    return "\n".join(out) + "\n"


def _objectives_text(report: dict[str, Any], color: bool) -> list[str]:
    out: list[str] = []
    metrics = report["metrics"]
    if not report["objectives"]:
        return out
    out.append("")
    out.append(_paint("OBJECTIVES", None, color, bold=True))
    listed: set[str] = set()
    for oid, o in report["objectives"].items():
        status = _label(o["status"])
        decision = o["decision"] or (f"proposed {o['proposed']}" if o["proposed"] else "-")
        head = f"  {oid}" + (f" ({o['owner']})" if o["owner"] else "")
        right = f"{status:<17} decision: {decision}"
        pad = max(1, WIDTH - len(head) - len(right))
        if len(head) + len(right) + 1 > WIDTH:
            out.append(_cut(head, WIDTH))
            head, pad = "", max(1, WIDTH - len(right))
        right_text = (
            _paint(f"{status:<17}", STATUS_COLORS.get(o["status"]), color, bold=True)
            + " decision: "
            + _paint(decision, DECISION_COLORS.get(o["decision"] or ""), color)
        )
        out.append(head + " " * pad + right_text)
        out.append(f"    {_cut(o['title'], WIDTH - 4)}")
        if o.get("stale"):
            out.append(_paint("    measured on stale data", "yellow", color))
        for line in objective_lines(o):
            out.extend(_paint(x, "yellow", color) for x in _wrap(line, "    "))
        if o["metrics"]:
            out.append(
                f"    {'metric':<18} {'value':>8} {'target':>8} {'baseline':>9}  "
                f"{'status':<16} trend"
            )
        for mid in o["metrics"]:
            listed.add(mid)
            out.extend(_metric_lines(mid, metrics[mid], color))
    rest = [mid for mid in metrics if mid not in listed]
    if rest:
        out.append("  other metrics")
        for mid in rest:
            out.extend(_metric_lines(mid, metrics[mid], color))
    return out


def _metric_lines(mid: str, m: dict[str, Any], color: bool) -> list[str]:
    """The metric's line, and under a stale one how old its data is."""
    from pdca.check.mdc_words import short_words

    fresh = metric_note(m, m.get("measured_as_of"))
    stale = [_paint(f"      stale: {fresh}", "yellow", color)] if fresh else []
    mdc = short_words(m.get("signal"))
    words = [f"      {_cut(mdc, WIDTH - 6)}"] if mdc else []
    return [_metric_line(mid, m, color), *stale, *words]


def _metric_line(mid: str, m: dict[str, Any], color: bool) -> str:
    if m["status"] == "not_measured":
        value, status = "-", "not measured yet"
    else:
        value, status = number(m["value"]), _label(m["status"])
    trend = TREND_MARKS.get(m["trend"] or "", "")
    status_cell = _paint(f"{status:<16}", STATUS_COLORS.get(m["status"]), color)
    return (
        f"    {_cut(mid, 18):<18} {value:>8} {number(m['target']):>8} "
        f"{number(m['baseline']):>9}  {status_cell} {trend}"
    ).rstrip()


def _readings_text(report: dict[str, Any], color: bool) -> list[str]:
    """What the charts say, in the report's text format (``pdca report --format text``).

    Only a report document has a ``reading`` per metric and the ``false_alarms`` budget;
    ``pdca status`` prints none of this, so its output is what it always was.
    """
    metrics = report["metrics"]
    read = {mid: m["reading"] for mid, m in metrics.items() if m.get("reading")}
    budget = report.get("false_alarms")
    if not read and not budget:
        return []
    out = ["", _paint("READINGS", None, color, bold=True)]
    from pdca.check.mdc_words import assurance_words, readings, variation_words

    for mid, text in read.items():
        out.extend(_wrap(f"{mid}: {text}", "  "))  # a mixed reading names both ways
        kind, side, assured = readings(metrics[mid].get("signal"))
        if kind or assured:
            mdc = f"{variation_words(kind, side)}; assurance: {assurance_words(assured)}"
            out.extend(_wrap(mdc, "    "))
    if budget:
        out.extend(_wrap(str(budget.get("message")), "  "))
    return out


def _tasks_text(report: dict[str, Any], color: bool) -> list[str]:
    tasks = report["tasks"]
    out = [""]
    out.append(_paint("WHO DOES WHAT NEXT", None, color, bold=True) + "  (most urgent first)")
    if not report["attention"]:
        out.append("  nobody has a ready, started, blocked or overdue task")
        return out
    for owner, ids in report["attention"].items():
        out.append(f"  {owner} ({len(ids)})")
        for tid in ids:
            t = tasks[tid]
            mark = "!" if t["overdue"] else " "
            status = t["status"].replace("_", " ")
            due = f"due {t['due']}" if t["due"] else ""
            blocks = f"blocks {t['blocks']}" if t["blocks"] else ""
            cells = (
                f"    {_paint(mark, 'red', color, bold=True)} {_cut(tid, 26):<26} "
                f"{_paint(f'{status:<11}', TASK_COLORS.get(t['status']), color)} "
                f"{due:<14} {blocks:<10} {t['phase']}"
            )
            out.append(cells.rstrip())
            if t.get("stale"):
                out.append(f"        no update for {t['quiet_days']} days: gone quiet?")
            if t["status"] in ("blocked", "failed") and t["note"]:
                who = f" ({t['by']})" if t["by"] else ""
                out.extend(_wrap(f"{t['note']}{who}", "        "))
    return out


def _lessons_text(report: dict[str, Any]) -> list[str]:
    out: list[str] = []
    decided = [(oid, o) for oid, o in report["objectives"].items() if o["decision"]]
    if decided and report["cycle"]:
        out.append("")
        out.append(f"DECISIONS (cycle {report['cycle']['number']})")
        for oid, o in decided:
            out.extend(_wrap(f"{oid}: {o['decision']} by {o['decided_by']}: {o['note']}", "  "))
    current = report["cycle"]["number"] if report["cycle"] else None
    lessons = [x for x in report["lessons"] if x["cycle"] != current]
    if lessons:
        out.append("")
        out.append("LESSONS FROM EARLIER CYCLES")
        for x in lessons:
            out.extend(
                _wrap(
                    f"cycle {x['cycle']} {x['objective']} ({x['decision']}, {x['by']}): "
                    f"{x['note']}",
                    "  ",
                )
            )
    return out


# -- markdown -------------------------------------------------------------------------


def _md(text: Any) -> str:
    """The report's Markdown escaping: names, titles and notes add no markup, HTML or links."""
    from pdca.report.filters import md

    return "-" if text is None else md(text)


def render_markdown(report: dict[str, Any]) -> str:
    out = [f"# {_md(report['title'])} (`{report['playbook']}`)", ""]
    cyc = report["cycle"]
    if cyc is None:
        out.append(f"No cycle yet (as of {report['as_of']}).")
    else:
        prog = cyc["progress"]
        out.append(
            f"**Cycle {cyc['number']}**, {cyc['phase']} phase; started {cyc['started'][:10]}; "
            f"as of {report['as_of']}. {prog['done']} of {prog['total']} tasks done."
        )
        if cyc.get("overrun"):
            out.append("")
            out.append(
                f"**Day {cyc['day']} of a {cyc['length_days']}-day cycle**: "
                f"{cyc['overrun']} days past its length."
            )
    for item in report.get("stale_data") or []:
        out.append("")
        out.append(f"**Check measured on stale data**: {_md(source_sentence(item))}.")
    out.append("")
    if report["objectives"]:
        out.append("## Objectives")
        out.append("")
        out.append("| Objective | Owner | Status | Decision |")
        out.append("|---|---|---|---|")
        for oid, o in report["objectives"].items():
            decision = o["decision"] or (f"proposed {o['proposed']}" if o["proposed"] else "-")
            stale = ", on stale data" if o.get("stale") else ""
            out.append(
                f"| {_md(oid)}: {_md(o['title'])} | {_md(o['owner'])} | "
                f"{_label(o['status'])}{stale} | {_md(decision)} |"
            )
        out.append("")
    if report["metrics"]:
        out.append("## Metrics")
        out.append("")
        out.append("| Metric | Value | Target | Baseline | Status | Trend |")
        out.append("|---|---:|---:|---:|---|---|")
        for mid, m in report["metrics"].items():
            value = "-" if m["status"] == "not_measured" else number(m["value"])
            fresh = metric_note(m, m.get("measured_as_of"))
            stale = f" (stale: {_md(fresh)})" if fresh else ""
            out.append(
                f"| {_md(mid)} | {value} | {number(m['target'])} | {number(m['baseline'])} | "
                f"{_label(m['status'])}{stale} | {_md(m['trend'])} |"
            )
        out.append("")
    out.append("## Who does what next")
    out.append("")
    if report["attention"]:
        out.append("| Owner | Task | Status | Due | Blocks | Phase |")
        out.append("|---|---|---|---|---:|---|")
        for owner, ids in report["attention"].items():
            for tid in ids:
                t = report["tasks"][tid]
                due = (t["due"] or "-") + (" **overdue**" if t["overdue"] else "")
                out.append(
                    f"| {_md(owner)} | {_md(tid)} | {t['status'].replace('_', ' ')} | {due} | "
                    f"{t['blocks']} | {t['phase']} |"
                )
    else:
        out.append("Nothing is waiting on anyone.")
    out.append("")
    if report["lessons"]:
        out.append("## Decisions and lessons")
        out.append("")
        for x in report["lessons"]:
            out.append(
                f"- cycle {x['cycle']}, {_md(x['objective'])}: **{x['decision']}** "
                f"({_md(x['by'])}): {_md(x['note'])}"
            )
        out.append("")
    if report["next"]:
        out.append("## Next")
        out.append("")
        for step in report["next"]:
            out.append(f"- {_md(step)}")
        out.append("")
    return "\n".join(out)
