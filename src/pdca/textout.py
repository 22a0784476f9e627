"""Plain-text tables for the terminal: 80 columns, colour only when asked for."""

from __future__ import annotations

from typing import Any

import click

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
    """Short numbers for tables: 25.6, 1137, 0.42; a dash for missing."""
    if value is None:
        return "-"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def status(name: str, color: bool) -> str:
    label = STATUS_LABELS.get(name, name)
    return click.style(label, fg=STATUS_COLORS.get(name), bold=True) if color else label


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def check_table(report: dict[str, Any], color: bool = False) -> str:
    """The ``pdca check`` text report: one line per metric, then objectives."""
    lines = [f"{report['title']} ({report['playbook']}), as of {report['as_of']}", ""]
    header = (
        f"{'metric':<22} {'value':>8} {'target':>8} {'warn':>7} {'baseline':>8} {'n':>7}  status"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for mid, m in report["metrics"].items():
        lines.append(
            f"{_cut(mid, 22):<22} {number(m['value']):>8} {number(m['target']):>8} "
            f"{number(m['warn']):>7} {number(m['baseline']):>8} {m['n']:>7}  "
            f"{status(m['status'], color)}"
        )
    errors = [(mid, m["error"]) for mid, m in report["metrics"].items() if m.get("error")]
    if report["objectives"]:
        lines.append("")
        for oid, o in report["objectives"].items():
            lines.append(
                f"objective {oid}: {status(o['status'], color)} ({', '.join(o['metrics'])})"
            )
    if errors:
        lines.append("")
        lines.extend(f"{mid}: {message}" for mid, message in errors)
    return "\n".join(lines)
