"""Words and numbers in templates: status labels, values with units, Markdown-safe text.

Every built-in template, and any a team or plugin writes, shows statuses,
values and names the same way through these: ``at_risk`` reads "At risk", a
value has three significant digits and its unit, a missing one is a dash, and
text from playbooks and data can add no Markdown. The helpers that look things
up in the report document (the metrics in order, an owner's name, a verdict in
a few words) are here too, so templates hold layout, not logic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pdca.check.mdc_words import assurance_words, readings, variation_words
from pdca.playbook.messages import visible
from pdca.report.context import deciding_rule, iter_metric_ids
from pdca.report.mermaid import mermaid_text as mermaid_text
from pdca.report.svg import as_float, fmt_value, with_unit

KPI_STATUS_LABELS: Mapping[str, str] = {
    "met": "Met",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No data",
    "error": "Error",
    "not_measured": "Not measured",
}
TASK_STATUS_LABELS: Mapping[str, str] = {
    "pending": "Pending",
    "ready": "Ready",
    "in_progress": "In progress",
    "done": "Done",
    "blocked": "Blocked",
    "skipped": "Skipped",
    "failed": "Failed",
}
DECISION_LABELS: Mapping[str, str] = {
    "standardize": "Standardize",
    "adjust": "Adjust",
    "abandon": "Abandon",
}
PHASE_LABELS: Mapping[str, str] = {
    "plan": "Plan",
    "do": "Do",
    "check": "Check",
    "act": "Act",
    "closed": "Closed",
}
VERDICT_LABELS: Mapping[str, str] = {
    "improved": "improved",
    "deteriorated": "got worse",
    "mixed": "both ways",
    "no_signal": "no signal",
    "insufficient_data": "too few periods",
}
DASH = "–"
REASON_LABELS: Mapping[str, str] = {"cycle_mean": "cycle mean", "sustained_run": "sustained run"}


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def status_label(status: Any) -> str:
    """A KPI or objective status as a word: ``at_risk`` → ``At risk``."""
    if status is None:
        return DASH
    return KPI_STATUS_LABELS.get(str(status), _words(status).capitalize())


def task_label(status: Any) -> str:
    if status is None:
        return DASH
    return TASK_STATUS_LABELS.get(str(status), _words(status).capitalize())


def decision_label(decision: Any) -> str:
    if not decision:
        return DASH
    return DECISION_LABELS.get(str(decision), _words(decision).capitalize())


def phase_label(phase: Any) -> str:
    if not phase:
        return DASH
    return PHASE_LABELS.get(str(phase), _words(phase).capitalize())


def verdict_label(verdict: Any) -> str:
    if not verdict:
        return DASH
    return VERDICT_LABELS.get(str(verdict), _words(verdict))


def variation_label(signal: Any) -> str:
    """A signal's MDC variation in words: ``special cause variation: improvement (high)``."""
    kind, side, _ = readings(signal)
    return variation_words(kind, side)


def assurance_label(signal: Any) -> str:
    """A signal's MDC assurance in words: ``the target will consistently be met``."""
    return assurance_words(readings(signal)[2])


def num(value: Any, unit: Any = None) -> str:
    """A value as a manager reads it (3 significant digits) with its unit: ``27.1 min``."""
    f = as_float(value)
    if f is None:
        return DASH
    return with_unit(fmt_value(f), str(unit or ""))


def signed(value: Any, unit: Any = None) -> str:
    """A difference with its sign: ``+2.95``, ``−12``."""
    f = as_float(value)
    if f is None:
        return DASH
    return ("+" if f > 0 else "") + num(f, unit)


def percent(part: Any, whole: Any) -> int:
    """``part`` of ``whole`` as a whole percentage (0 when ``whole`` is 0)."""
    try:
        return round(100 * float(part) / float(whole)) if float(whole) else 0
    except (TypeError, ValueError):
        return 0


def day(value: Any) -> str:
    """The date part of a timestamp or date: ``2026-01-26``."""
    if not value:
        return DASH
    return str(value)[:10]


_MD_ESCAPE = re.compile(r"([\\`*_\[\]{}|#~$!])")
_MD_LIST = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_MD_RULE = re.compile(r"^[-=]{2,}$")


def md(value: Any) -> str:
    """Text for Markdown, inline or in a table cell, rendered literally on GitHub/GitLab.

    Line breaks become spaces and control characters visible escapes (a report
    printed with ``-o -`` reaches a terminal); ``&``, ``<`` and ``>`` become entities (no HTML
    can form); Markdown punctuation (links, emphasis, code, tables, headings,
    math) is backslash-escaped, and so is a list marker at the start. Titles,
    names, notes and data labels cannot add markup, links, or table columns.
    """
    if value is None:
        return DASH
    text = visible(" ".join(str(value).split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_ESCAPE.sub(r"\\\1", text)
    text = _MD_LIST.sub(r"\1\\\2", text)
    if re.match(r"^[-+](\s|$)", text) or _MD_RULE.match(text):
        text = "\\" + text
    return text


def short_reading(metric: Mapping[str, Any]) -> str:
    """The verdict in two or three words and the rule it rests on: ``improved (rule 2)``."""
    signal = metric.get("signal")
    if metric.get("error"):
        return "not measured (error)"
    if not signal:
        return "not measured yet"
    verdict = signal.get("verdict")
    if verdict == "no_signal":
        return "no signal: possibly luck" if metric.get("status") == "met" else "noise only"
    if metric.get("status") == "no_data":  # never "improved" beside "No data"
        return "no current data"
    rule = deciding_rule(signal)
    if rule:
        return f"{verdict_label(verdict)} (rule {rule['rule']})"
    reasons = [r for r in signal.get("reasons") or () if r.get("kind") in REASON_LABELS]
    if verdict == "mixed":  # which evidence points which way is the whole story
        ground = ", ".join(f"{reason_label(r)} {r.get('direction') or ''}".strip() for r in reasons)
    else:
        kinds = {r.get("kind") for r in reasons}
        ground = " and ".join(REASON_LABELS[k] for k in sorted(kinds))
    return verdict_label(verdict) + (f" ({ground})" if ground else "")


def reason_label(reason: Any) -> str:
    """A reason's kind in words: ``cycle_mean`` → ``cycle mean``."""
    kind = reason.get("kind") if isinstance(reason, Mapping) else reason
    return REASON_LABELS.get(str(kind), _words(kind)) if kind else DASH


def metric_order(report: Mapping[str, Any]) -> list[str]:
    """Metric ids as the report shows them: by objective, then the others."""
    return list(iter_metric_ids(report))


def other_metrics(report: Mapping[str, Any]) -> list[str]:
    """Metrics that belong to no objective."""
    return [mid for mid, m in report["metrics"].items() if not m["objectives"]]


def tasks_in(report: Mapping[str, Any], phase: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The tasks of one phase, in playbook order."""
    return [(tid, t) for tid, t in report["tasks"].items() if t["phase"] == phase]


def who(report: Mapping[str, Any], owner: Any) -> str:
    """An owner's name from their id (the id itself when the playbook no longer has them)."""
    if not owner:
        return DASH
    entry = report["owners"].get(str(owner))
    return str(entry["name"]) if entry else str(owner)


def plural(count: Any, word: str, words: str | None = None) -> str:
    """``1 task``, ``3 tasks``."""
    n = int(count or 0)
    return f"{n} {word if n == 1 else (words or word + 's')}"
