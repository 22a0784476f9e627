"""``pdca exclude``, ``pdca include``, ``pdca rebase``: how a metric's chart is read.

Each writes one audit event (who, why, the day it was decided and when it was
recorded); ``pdca check``, reports and the next Check read the chart with it
(a report from an earlier Check snapshot reads that metric's chart again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from pdca.cli.common import echo_json, session
from pdca.cli.completion import complete_ids
from pdca.cli.options import FORMAT_TEXT_JSON, PLAYBOOK_ARG, by_option, parse_date, state_option

_by = by_option("Who decides (an owner id).")
_reason = click.option(
    "--reason", required=True, metavar="TEXT", help="Why; shown on the chart and in the log."
)
_decided = click.option(
    "--decided-on",
    "decided_on",
    callback=parse_date,
    metavar="DATE",
    help="The day it was decided when you record it later (default today).",
)
_format = click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", show_default=True)


def _record(
    playbook: Path,
    state_url: str | None,
    metric_id: str,
    make: Callable[[Any, Any, str, str | None], Any],
    decided_on: date | None,
) -> tuple[Any, Any, Any]:
    """Run one annotate rule in a transaction; the event, what it replaced, the metric."""
    from pdca.engine.annotate import CycleError
    from pdca.playbook.messages import suggest

    with session(playbook, state_url, create=True) as engine:
        pb = engine.pb
        metric = pb.metrics.get(metric_id)
        if metric is None:
            raise CycleError(
                f"no metric '{metric_id}'{suggest(metric_id, pb.metrics)} "
                f"(metrics: {', '.join(pb.metrics) or 'none'})"
            )
        decide = make(pb, metric, engine.clock(), decided_on.isoformat() if decided_on else None)
        event, before = engine.store.transact(engine.ref, decide)
    return event, before, metric


def _report(event: Any, before: Any, fmt: str, sentence: str) -> None:
    from pdca.playbook.messages import visible

    if fmt == "json":
        shown = {k: v for k, v in event.to_json().items() if k != "id"}  # not known here
        echo_json({**shown, "replaced": before.to_json() if before else None})
        return
    click.echo(visible(sentence))
    click.echo("  pdca check, reports and the next Check read the chart with it.")


def _common(command: Callable[..., None]) -> Callable[..., None]:
    """The options every chart note takes: why, who, when decided, the state, the format."""
    for option in (_format, state_option, _decided, _by, _reason):
        command = option(command)
    return command


def _period(
    undo: bool,
    playbook: Path,
    metric: str,
    period: str,
    reason: str,
    by: str,
    decided_on: date | None,
    state_url: str | None,
    fmt: str,
) -> None:
    """``pdca exclude`` (``undo`` False) and ``pdca include`` (True)."""
    from pdca.engine import annotate

    def make(pb: Any, m: Any, now: str, on: str | None) -> Any:
        found = annotate.parse_period(period, m)
        return annotate.period_note(pb, m, found, reason, by, now, on, include=undo)

    event, before, m = _record(playbook, state_url, metric, make, decided_on)
    label = event.data["label"]
    if undo:
        sentence = f"metric {m.id}: {label} counted again, by {by}: {reason}"
    else:
        again = " (reason replaced)" if before else ""
        sentence = f"metric {m.id}: {label} excluded by {by}{again}: {reason}"
    _report(event, before, fmt, sentence)


@click.command()
@PLAYBOOK_ARG
@click.argument("metric", shell_complete=complete_ids("metrics"))
@click.argument("period")
@_common
def exclude(playbook: Path, metric: str, period: str, **options: Any) -> None:
    """Leave one period of METRIC out of its limits and rules.

    PERIOD is the period as the chart labels it (2026-W05, 2026-03) or any day
    inside it. The point stays on the chart, drawn hollow with the reason.
    Undo with `pdca include`.
    """
    _period(False, playbook, metric, period, **options)


@click.command()
@PLAYBOOK_ARG
@click.argument("metric", shell_complete=complete_ids("metrics"))
@click.argument("period")
@_common
def include(playbook: Path, metric: str, period: str, **options: Any) -> None:
    """Count an excluded period of METRIC again (undoes `pdca exclude`)."""
    _period(True, playbook, metric, period, **options)


@click.command()
@PLAYBOOK_ARG
@click.argument("metric", shell_complete=complete_ids("metrics"))
@click.option(
    "--on",
    "day",
    required=True,
    callback=parse_date,
    metavar="DATE",
    help="The day the new process began: the new phase starts at the first period that "
    "starts on or after it.",
)
@click.option("--remove", is_flag=True, help="Withdraw the rebase on DATE instead.")
@_common
def rebase(
    playbook: Path,
    metric: str,
    day: date,
    reason: str,
    by: str,
    remove: bool,
    decided_on: date | None,
    state_url: str | None,
    fmt: str,
) -> None:
    """New control limits for METRIC from a day on: a new phase of its chart.

    Use it when the process has changed for good (Check proposes it after a
    sustained shift the good way that follows a countermeasure): the new
    phase's limits, rules and assurance read only the periods since.
    """
    from pdca.engine import annotate

    def make(pb: Any, m: Any, now: str, on: str | None) -> Any:
        return annotate.rebase(pb, m, day, reason, by, now, on, remove=remove)

    event, before, m = _record(playbook, state_url, metric, make, decided_on)
    if remove:
        sentence = f"metric {m.id}: rebase on {day} withdrawn by {by}: {reason}"
    else:
        again = " (reason replaced)" if before else ""
        sentence = f"metric {m.id}: limits rebased from {day} by {by}{again}: {reason}"
    _report(event, before, fmt, sentence)


def register(cli: click.Group) -> None:
    for command in (exclude, include, rebase):
        cli.add_command(command)
