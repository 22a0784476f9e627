"""``pdca validate --data``: read every metric's data once and report what would fail.

Validation without data cannot know that a column was renamed in last week's
export; this reads the sources the way ``pdca check`` does and turns each
failure into a located problem, so one run lists all of them. With the data in
hand it also warns where the Check phase cannot give a verdict: a target lost
in the noise, and a cycle too short for its metric's target to show (see
:mod:`pdca.check.cycleplan`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from pdca.errors import Location, PdcaError, Problem

if TYPE_CHECKING:
    from pdca.data.session import DataSession
    from pdca.playbook.model import Playbook
    from pdca.plugins import Registry

_LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.*)$", re.S)


def problem_from(exc: PdcaError) -> Problem:
    """A Problem from an error whose message may start with FILE:LINE:COL."""
    text = str(exc)
    match = _LOCATED.match(text)
    if match:
        loc = Location(match["file"], int(match["line"]), int(match["col"]))
        return Problem(match["message"], loc)
    return Problem(text)


def located(message: str, context: str) -> str:
    """``FILE:LINE:COL: error: ...`` for an error message that starts with its place
    (the compiler format editors jump to); ``error: CONTEXT: ...`` when it has none."""
    match = _LOCATED.match(message)
    if match:
        return f"{match['file']}:{match['line']}:{match['col']}: error: {match['message']}"
    return f"error: {context}: {message}"


def check_data(playbook: Playbook, registry: Registry, as_of: date | None = None) -> list[Problem]:
    from pdca.check import readout
    from pdca.check.cycleplan import plan_cycle
    from pdca.check.measure import evaluate_metric
    from pdca.cli.textout import JUDGED, TARGET_NOTES
    from pdca.data.session import DataSession

    day = as_of or date.today()
    problems: list[Problem] = []
    seen: set[str] = set()

    def failed(exc: PdcaError) -> None:
        problem = problem_from(exc)
        if str(problem) not in seen:
            seen.add(str(problem))
            problems.append(problem)

    with DataSession(playbook, registry) as session:
        for source_id in dict.fromkeys(m.source for m in playbook.metrics.values()):
            try:
                check_timestamp(session, source_id)
            except PdcaError as exc:
                failed(exc)
        for metric in playbook.metrics.values():
            kpi = registry.kpis[metric.kpi].obj
            try:
                entry = evaluate_metric(metric, kpi, session, day)
            except PdcaError as exc:
                failed(exc)
                continue
            start = playbook.cycle.start
            sig = readout.metric_signal(playbook, metric, kpi, entry["series"], start)
            target_check = sig.get("target_check") or {}
            if target_check.get("code") in TARGET_NOTES and sig["verdict"] in JUDGED:
                problems.append(
                    Problem(
                        f"metric '{metric.id}': {target_check['message']}",
                        metric.where("target"),
                        "warning",
                    )
                )
            chart = readout.chart_for(metric, kpi)
            plan = plan_cycle(
                metric, chart, entry["series"], playbook.cycle, min_baseline=playbook.min_baseline
            )
            if plan is not None and plan.too_short:
                problems.append(
                    Problem(
                        plan.message(),
                        metric.where("target"),
                        "warning",
                        {"cycle_plan": plan.to_json()},
                    )
                )
    return problems


def check_timestamp(session: DataSession, source_id: str) -> None:
    """SourceError (at the source's ``timestamp``, naming the closest real column) when the
    source has no such column.

    A metric stops at its first missing column, and reads its own columns
    before the source's timestamp; checking every source first means a wrong
    ``timestamp`` is reported even when its metrics have their own problems.
    """
    from pdca.data.stamps import missing_column

    source, _ = session.source(source_id)
    columns = session.columns(source_id)
    if source.timestamp is not None and source.timestamp not in columns:
        raise missing_column(source, columns)
