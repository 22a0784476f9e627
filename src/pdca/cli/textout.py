"""Plain-text tables for the terminal: 80 columns, colour only when asked for."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import click

from pdca.check.freshness import metric_note, objective_stale
from pdca.check.mdc_words import chart_notes
from pdca.playbook.messages import visible

STATUS_COLORS = {
    "met": "green",
    "at_risk": "yellow",
    "off_track": "red",
    "no_data": "blue",
    "error": "magenta",
}
STATUS_LABELS = {
    "met": "met",
    "at_risk": "at risk",
    "off_track": "off track",
    "no_data": "no data",
    "error": "error",
}


def number(value: float | None) -> str:
    """Short numbers for tables: 25.6, 1137, 0.42, 0.00021; a dash for missing.

    The JSON carries the exact float; a table shows what a person compares. A
    value below 0.01 (a refund rate, say) keeps two significant digits rather
    than reading 0.00.
    """
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) < 0.01:
        decimals = 1 - math.floor(math.log10(abs(value)))
        return f"{value:.{decimals}f}".rstrip("0") if decimals <= 12 else f"{value:.2g}"
    return f"{value:.2f}"


def visible_tree(value: Any) -> Any:
    """A report with every text in it (keys too) made safe for a terminal by ``visible``.

    Notes, titles, owner names, data labels and error messages come from people
    and files; an escape sequence among them (a window title, a clipboard write,
    a cleared screen) would be obeyed by the terminal, so text renderers start
    from this copy rather than escaping each field and missing one.
    """
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible_tree(k): visible_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [visible_tree(v) for v in value]
    return value


def status(name: str, color: bool) -> str:
    label = STATUS_LABELS.get(name, name)
    return click.style(label, fg=STATUS_COLORS.get(name), bold=True) if color else label


def _cut(text: str, width: int) -> str:
    text = visible(text)
    return text if len(text) <= width else text[: width - 1] + "…"


VERDICT_LABELS = {
    "improved": "improved",
    "deteriorated": "worse",
    "mixed": "both ways",
    "no_signal": "noise only",
    "insufficient_data": "too few",
}
TARGET_NOTES = ("within_noise", "unreachable")
JUDGED = ("no_signal", "deteriorated")


def verdict(entry: dict[str, Any]) -> str:
    sig = entry.get("signal")
    return VERDICT_LABELS.get(sig["verdict"], sig["verdict"]) if sig else "-"


def check_table(report: dict[str, Any], color: bool = False) -> str:
    """The ``pdca check`` text report: one line per metric, then objectives and notes."""
    report = visible_tree(report)
    lines = [f"{report['title']} ({report['playbook']}), as of {report['as_of']}", ""]
    header = (
        f"{'metric':<20} {'value':>8} {'target':>8} {'baseline':>8} {'n':>7}  "
        f"{'status':<9} {'signal'}"
    )
    lines.append(header)
    lines.append("-" * 78)
    for mid, m in report["metrics"].items():
        label = STATUS_LABELS.get(m["status"], m["status"])
        pad = " " * max(0, 9 - len(label))
        lines.append(
            f"{_cut(mid, 20):<20} {number(m['value']):>8} {number(m['target']):>8} "
            f"{number(m['baseline']):>8} {m['n']:>7}  {status(m['status'], color)}{pad} "
            f"{verdict(m)}"
        )
    if report["objectives"]:
        lines.append("")
        for oid, o in report["objectives"].items():
            on_stale = objective_stale(report["metrics"], o["metrics"])
            stale = ", measured on stale data" if on_stale else ""
            lines.append(
                f"objective {oid}: {status(o['status'], color)} ({', '.join(o['metrics'])}){stale}"
            )
    notes = []
    for mid, m in report["metrics"].items():
        if m.get("error"):
            notes.append(f"{mid}: {m['error']}")
        fresh = metric_note(m, report["as_of"])
        if fresh:
            notes.append(f"{mid}: stale: {fresh}")
        sig = m.get("signal") or {}
        target_check = sig.get("target_check") or {}
        # Limits describe the process before any change: after an improvement they no
        # longer say what the target is up against, and on too few points they say little.
        if target_check.get("code") in TARGET_NOTES and sig.get("verdict") in JUDGED:
            notes.append(f"{mid}: {target_check['message']}")
        for seg in (m.get("segments") or [])[:1]:
            if seg["status"] in ("off_track", "at_risk"):
                notes.append(
                    f"{mid}: weakest {m.get('segment_by', 'segment')} is '{seg['segment']}' "
                    f"at {number(seg['value'])} ({STATUS_LABELS[seg['status']]}, n={seg['n']})"
                )
        if sig.get("verdict") in ("improved", "deteriorated", "mixed") and sig.get("reasons"):
            why = "; ".join(str(r.get("message")) for r in sig["reasons"])
            notes.append(f"{mid}: {VERDICT_LABELS[sig['verdict']]}: {why}")
        notes.extend(f"{mid}: {n}" for n in chart_notes(mid, sig, m.get("series")))
    budget = report.get("false_alarms") or {}
    if budget.get("judged_metrics"):
        notes.append(str(budget["message"]))
    if notes:
        lines.append("")
        lines.extend(textwrap.fill(visible(n), width=78, subsequent_indent="    ") for n in notes)
    return "\n".join(lines)


def _coef(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def correlation_table(rows: list[dict[str, Any]]) -> str:
    """``pdca check --correlate``: strongest pairs first, with n and any caution."""
    rows = visible_tree(rows)
    if not rows:
        return "correlations: no two metrics share a period length and enough history"
    lines = [f"{'metric a':<20} {'metric b':<20} {'r':>6} {'rho':>6} {'p':>7} {'n':>4}", "-" * 68]
    cautions = []
    for row in rows:
        p = row.get("pearson_p")
        lines.append(
            f"{_cut(row['a'], 20):<20} {_cut(row['b'], 20):<20} {_coef(row['pearson_r']):>6} "
            f"{_coef(row['spearman_rho']):>6} {'-' if p is None else f'{p:.3f}':>7} {row['n']:>4}"
        )
        if row.get("caution"):
            cautions.append(f"{row['a']} / {row['b']}: {row['caution']}")
    lines.append("Correlation is not cause: a pair that moves together may share a third driver.")
    lines.extend(textwrap.fill(visible(c), width=78, subsequent_indent="    ") for c in cautions)
    return "\n".join(lines)


def _when(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


def history_lines(pb: Any, data: dict[str, Any], subject: str | None) -> list[str]:
    """``pdca history`` as text: cycles and decisions, automated runs, then the audit log.

    Notes, owners and an action's output are stored as people and programs
    wrote them; each line is made ``visible`` so none of it can drive the terminal.
    """
    from pdca.state import events as ev

    if not data["cycles"] and not data["events"]:
        return [f"{pb.id}: no history yet (open cycle 1 with: pdca run {pb.path})"]
    out: list[str] = []
    for c in data["cycles"]:
        closed = f", closed {c.closed_on or _when(c.closed)}" if c.closed else f", now in {c.phase}"
        out.append(f"cycle {c.number}: opened {c.started[:10]}{closed}")
        for n, d in data["decisions"]:
            if n != c.number:
                continue
            taken = f"{d.decision} by {d.by}: {d.note}" if d.decision else "not decided yet"
            out.append(
                f"  {d.objective}: {d.status.replace('_', ' ')}, proposed {d.proposed}; {taken}"
            )
    if data["attempts"]:
        out += ["", "automated runs:"]
        for n, a in data["attempts"]:
            took = f" in {a.duration:.1f} s" if a.duration is not None else ""
            code = f", exit {a.exit_code}" if a.exit_code is not None else ""
            out.append(
                f"  cycle {n} {a.task} #{a.number}: {a.outcome}{took}{code} ({_when(a.started)})"
            )
            if subject and a.output:
                out.extend(f"      | {line}" for line in a.output.rstrip().splitlines()[-10:])
    if data["events"]:
        out += ["", "events:"]
        for e in data["events"]:
            who = e.by or "pdca"
            note = f'  "{e.note}"' if e.note else ""
            at = e.at[:19].replace("T", " ")
            late = ""
            if e.on and e.on != e.at[:10]:  # recorded later: the day it happened comes first
                at, late = f"{e.on:<19}", f" (recorded {e.at[:10]})"
            out.append(f"  {at}  c{e.cycle or '-'}  {who:<10} {ev.describe(e)}{note}{late}")
    return [visible(line) for line in out]
