"""The cycle commands: ``run``, ``task``, ``act``, ``history`` (``status`` is in :mod:`.review`).

Added to the ``pdca`` group by :func:`register`. Only click is imported at the
top; SQLAlchemy, the engine and the playbook loader are imported inside the
commands, so ``pdca --help`` stays fast.

Every command takes ``--state URL`` (or ``PDCA_STATE``): a PostgreSQL URL for a
state the team shares, or a SQLite file; by default ``.pdca/state.db`` beside
the playbook.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from pdca.cli.common import echo_json, session
from pdca.cli.completion import complete_ids
from pdca.cli.options import (
    COUNT,
    CYCLE_NUMBER,
    PLAYBOOK_ARG,
    as_of_option,
    by_option,
    parse_date,
    state_option,
)

on_option = click.option(
    "--on",
    "on",
    callback=parse_date,
    metavar="DATE",
    help="The day it happened (YYYY-MM-DD); default today. Not after today, not before "
    "the cycle opened or the task's last change.",
)


def _format_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
    )


def _reviewed(engine: Any, report: dict[str, Any], out: Any = None) -> None:
    """Fire ``pdca_cycle_reviewed`` (notifications read overdue tasks from it); a failing
    plugin is reported, not fatal: the state is already saved."""
    if engine.pm is None:
        return
    from pdca.errors import PluginError
    from pdca.plugins import notify

    try:
        notify(engine.pm, "pdca_cycle_reviewed", playbook=engine.pb, review=report)
    except PluginError as exc:
        if out is not None:
            out.hook_errors.append(str(exc))
        else:
            _report_hook_errors([str(exc)])


def _report_hook_errors(errors: list[str]) -> bool:
    for message in errors:
        click.echo(f"error: {message} (the change was saved)", err=True)
    return bool(errors)


# -- pdca run -------------------------------------------------------------------------


@click.command()
@PLAYBOOK_ARG
@as_of_option("Measure metrics as of this date (YYYY-MM-DD) when entering check; default today.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the transitions it would make and change nothing (runs no action).",
)
@click.option(
    "--allow-stale",
    is_flag=True,
    help="Enter check even when a metric's data is older than its source's max_age; "
    "the snapshot is marked as taken on stale data.",
)
@state_option
@_format_option("text", "json")
def run(
    playbook: Path,
    as_of: date | None,
    dry_run: bool,
    allow_stale: bool,
    state_url: str | None,
    fmt: str,
) -> None:
    """Advance the cycle as far as it goes without people.

    Opens cycle 1 on the first run, runs ready automated tasks in dependency
    order, moves to the next phase when one is complete (measuring the metrics
    on entering check), and stops at work that waits on people. Safe to run
    again at any time, also after it was killed: it resumes from the stored
    state. What it does happens on the --as-of day. It does not enter check
    while a metric's data is stale (older than its source's max_age): it stays in
    do and says which source is behind (--allow-stale enters anyway). Exit 1 when
    an automated task failed in this run.
    """
    from pdca.playbook.messages import visible
    from pdca.state import events as ev

    def echo(e: Any) -> None:
        line = _run_line(e, ev)
        if line:
            click.echo(visible(line))  # notes and errors are shown, never obeyed

    if dry_run:
        from pdca.cli.dry_run import dry_run

        dry_run(playbook, as_of or date.today(), state_url, fmt, echo)
        return

    from pdca.engine.supervise import RunStopped

    with session(playbook, state_url, create=True) as engine:
        day = as_of or date.today()
        try:
            out = engine.run(day, echo=echo if fmt == "text" else None, allow_stale=allow_stale)
        except RunStopped as stop:
            click.echo(f"error: {stop.explain(playbook)}", err=True)
            sys.exit(stop.exit_code)
        state = out.state
        summary = _run_summary(engine, out)
        if state is not None:
            from pdca.engine import review

            _reviewed(engine, review(engine.pb, state, day, store=engine.store.name), out)
    if fmt == "json":
        echo_json(
            {
                "playbook": engine.pb.id,
                "cycle": (
                    {"number": state.cycle.number, "phase": state.cycle.phase}
                    if state and state.cycle
                    else None
                ),
                "stopped": out.stopped,
                "failed": out.failed,
                "events": [e.to_json() for e in out.events],
                "waiting": summary,
                "stale": out.info.get("stale", []),
                "retry": out.info.get("retry"),
            }
        )
    else:
        for line in summary["lines"]:
            click.echo(line)
    bad = _report_hook_errors(out.hook_errors)
    for tid in out.failed:
        click.echo(
            f"error: task '{tid}' failed; see: pdca history {playbook} --task {tid}", err=True
        )
    if bad or out.failed:
        sys.exit(1)


def _run_line(e: Any, ev: Any) -> str | None:
    """The events worth a line while ``pdca run`` works; readiness is summarised at the end."""
    if e.kind == "task_changed":
        if e.new in ("skipped", "failed") or (e.new == "ready" and e.old == "in_progress"):
            return f"  {ev.describe(e)}" + (f" ({e.note})" if e.note else "")
        return None
    if e.kind == "attempt_started":
        return f"  {ev.describe(e)} ..."
    if e.kind == "attempt_process":
        return None
    if e.kind in ("cycle_opened", "phase_changed"):
        return ev.describe(e) if e.kind == "cycle_opened" or e.old else None
    if e.kind == "decision_proposed":
        return f"  {ev.describe(e)}"
    return f"  {ev.describe(e)}"


def _run_summary(engine: Any, out: Any) -> dict[str, Any]:
    from pdca.engine import transitions as tr

    state = out.state
    pb = engine.pb
    lines: list[str] = []
    info: dict[str, Any] = {"ready": {}, "in_progress": [], "blocked": [], "decide": []}
    if state is None or state.cycle is None:
        return {**info, "lines": ["no cycle"]}
    cyc = state.cycle
    head = f"cycle {cyc.number}, {cyc.phase} phase"
    if out.stopped == "finished":
        lines.append(
            f"{head}: every objective is decided and none needs another cycle; "
            "the playbook is finished"
        )
        return {**info, "lines": lines}
    if out.stopped == "retry":
        r = out.info["retry"]
        lines.append(
            f"{head}: task {r['task']} retries at {r['at']}; run again then: pdca run {pb.path}"
        )
        return {**info, "lines": lines}
    if out.stopped == "stale":
        from pdca.check.freshness import source_sentence

        lines.append(f"{head}: do is complete, but check waits for fresh data:")
        lines.extend(f"  {source_sentence(item)}" for item in out.info.get("stale", []))
        lines.append(
            f"  update the data, or enter check anyway with: pdca run {pb.path} "
            f"--as-of {out.info['stale'][0]['as_of']} --allow-stale"
        )
        return {**info, "lines": lines}
    for tid, row in state.tasks.items():
        if row.archived:
            continue
        if row.status == "ready":
            info["ready"].setdefault(row.owner, []).append(tid)
        elif row.status == "in_progress":
            info["in_progress"].append(tid)
        elif row.status == "blocked":
            info["blocked"].append(tid)
    if out.stopped == "decide":
        d = tr.Draft(state, "")
        info["decide"] = tr.undecided(pb, d)
        lines.append(
            f"{head}: waiting for decisions on "
            + ", ".join(
                f"{oid} (proposed {state.decisions[oid].proposed})"
                if oid in state.decisions
                else oid
                for oid in info["decide"]
            )
        )
        lines.append(
            f"  decide with: pdca act {pb.path} OBJECTIVE --decision "
            'standardize|adjust|abandon --by OWNER --note "..."'
        )
        return {**info, "lines": lines}
    ready_count = sum(len(v) for v in info["ready"].values())
    parts = [f"{ready_count} ready"]
    if info["in_progress"]:
        parts.append(f"{len(info['in_progress'])} in progress")
    if info["blocked"]:
        parts.append(f"{len(info['blocked'])} blocked")
    running = [tid for tid in state.running]
    if running:
        parts.append(f"{len(running)} being run by another pdca run ({', '.join(running)})")
    lines.append(f"{head}: waiting on people: {', '.join(parts)}")
    for owner, ids in info["ready"].items():
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        lines.append(f"  {owner}: {shown}")
    lines.append(f"  see: pdca status {pb.path}")
    return {**info, "lines": lines}


# -- pdca task ------------------------------------------------------------------------


@click.command()
@PLAYBOOK_ARG
@click.argument("action", type=click.Choice(["start", "done", "block", "reopen", "skip"]))
@click.argument("task_id", metavar="TASK", shell_complete=complete_ids("tasks"))
@by_option("Who does this (an owner id).")
@click.option("--note", help="Why, or what was done; required for block and skip (the reason).")
@on_option
@state_option
@_format_option("text", "json")
def task(
    playbook: Path,
    action: str,
    task_id: str,
    by: str,
    note: str | None,
    on: date | None,
    state_url: str | None,
    fmt: str,
) -> None:
    """Start, finish, block, skip or reopen a task, as a person.

    \b
    start   ready -> in progress
    done    ready or in progress -> done
    block   pending, ready or in progress -> blocked (needs --note: the reason)
    reopen  done, blocked, failed or skipped -> ready (or pending); tasks that
            were ready downstream wait again (this is how a blocked task is unblocked)
    skip    pending, ready, in progress or blocked -> skipped (needs --note: why);
            it will not be done, and the tasks that wait for it go ahead

    --on is the day it happened when you record it later (default today).

    --by must be the task's owner, a member of the owning team, or the owner of
    the task's objective. Every change is logged (pdca history).
    """
    with session(playbook, state_url, create=True) as engine:
        out = engine.task(action, task_id, by, note, on)
        pb = engine.pb
    info = out.info
    row = info["row"]
    if fmt == "json":
        echo_json(
            {
                "task": task_id,
                "old": info["before"],
                "new": row.status,
                "by": by,
                "note": row.note,
                "on": row.on,
                "recorded": row.updated,
                "cycle": info["cycle"].number,
                "phase": info["cycle"].phase,
                "now_ready": _now_ready(out, task_id),
                "downstream_done": info["downstream_done"],
            }
        )
    else:
        old = (info["before"] or "-").replace("_", " ")
        click.echo(
            f"task {task_id}: {old} -> {row.status.replace('_', ' ')} (by {by}, on {row.on})"
        )
        ready = _now_ready(out, task_id)
        if ready:
            click.echo(f"  now ready: {', '.join(ready)}")
        waiting = [e.subject for e in out.events if e.kind == "task_changed" and e.new == "pending"]
        if waiting:
            click.echo(f"  waiting again: {', '.join(waiting)}")
        if info["downstream_done"]:
            click.echo(
                "  note: done tasks downstream used its output: "
                f"{', '.join(info['downstream_done'])}; reopen them if they must be redone"
            )
        cyc = info["cycle"]
        if info["phase_complete"] and cyc.phase != "act":
            click.echo(
                f"  the {cyc.phase} phase of cycle {cyc.number} is complete: pdca run {pb.path}"
            )
    if _report_hook_errors(out.hook_errors):
        sys.exit(1)


def _now_ready(out: Any, tid: str) -> list[str]:
    return [
        e.subject
        for e in out.events
        if e.kind == "task_changed" and e.new == "ready" and e.subject != tid
    ]


# -- pdca act -------------------------------------------------------------------------


@click.command()
@PLAYBOOK_ARG
@click.argument("objective", shell_complete=complete_ids("objectives"))
@click.option(
    "--decision",
    required=True,
    type=click.Choice(["standardize", "adjust", "abandon"]),
    help="standardize what worked, adjust and run another cycle, or abandon the objective.",
)
@click.option("--note", required=True, help="What this cycle taught; carried over as a lesson.")
@by_option("Who decides (an owner id).")
@on_option
@state_option
@_format_option("text", "json")
def act(
    playbook: Path,
    objective: str,
    decision: str,
    note: str,
    by: str,
    on: date | None,
    state_url: str | None,
    fmt: str,
) -> None:
    """Take or change the act-phase decision on an objective.

    Only in the act phase, by the objective's owner (or a member of the owning
    team). The cycle closes on the next `pdca run` once act tasks are done and
    every objective is decided; any `adjust` opens the next cycle.
    """
    with session(playbook, state_url, create=True) as engine:
        out = engine.act(objective, decision, by, note, on)
        pb = engine.pb
    info = out.info
    previous = info["previous"]
    dec = info["decision"]
    if fmt == "json":
        echo_json(
            {
                "objective": objective,
                "decision": dec.decision,
                "previous": previous.decision if previous else None,
                "proposed": dec.proposed,
                "status": dec.status,
                "by": by,
                "note": dec.note,
                "on": dec.decided_on,
                "recorded": dec.decided,
                "cycle": info["cycle"].number,
                "undecided": info["undecided"],
                "open_tasks": info["open_tasks"],
            }
        )
    else:
        was = f" (was {previous.decision})" if previous else ""
        click.echo(
            f"objective {objective}: {dec.decision}{was}, by {by}; "
            f"it was {dec.status.replace('_', ' ')}, proposed {dec.proposed}"
        )
        if info["undecided"]:
            click.echo(f"  still to decide: {', '.join(info['undecided'])}")
        elif info["open_tasks"]:
            click.echo(
                f"  every objective is decided; open act tasks: {', '.join(info['open_tasks'])}"
            )
        else:
            click.echo(f"  every objective is decided: close the cycle with pdca run {pb.path}")
    if _report_hook_errors(out.hook_errors):
        sys.exit(1)


# -- pdca history ---------------------------------------------------------------------


@click.command()
@PLAYBOOK_ARG
@click.option("--cycle", "cycle", type=CYCLE_NUMBER, metavar="N", help="Only this cycle.")
@click.option(
    "--task",
    "subject",
    metavar="ID",
    shell_complete=complete_ids("tasks", "objectives"),
    help="Only this task (or objective).",
)
@click.option("--limit", type=COUNT, metavar="N", help="Only the last N events.")
@state_option
@_format_option("text", "json")
def history(
    playbook: Path,
    cycle: int | None,
    subject: str | None,
    limit: int | None,
    state_url: str | None,
    fmt: str,
) -> None:
    """Cycles, decisions, automated runs and the audit log: who changed what, when, why."""
    from pdca.state import events as ev

    with session(playbook, state_url, create=False) as engine:
        data = engine.store.history(engine.pb.id, cycle=cycle, subject=subject, limit=limit)
        pb = engine.pb
        if cycle is not None and not data["cycles"]:
            _no_such_cycle(pb.id, cycle, engine.store.read(pb.id))
    if (
        subject
        and subject not in pb.tasks
        and subject not in pb.objectives
        and not any(data[k] for k in ("decisions", "attempts", "events"))
    ):
        from pdca.errors import PdcaError

        raise PdcaError(
            f"'{subject}' is no task or objective of {pb.id}, and has no history in its state"
        )
    if fmt == "json":
        echo_json(
            {
                "playbook": pb.id,
                "cycles": ev.cycles_json(data),
                "attempts": [
                    {
                        "cycle": n,
                        "task": a.task,
                        "attempt": a.number,
                        "outcome": a.outcome,
                        "started": a.started,
                        "finished": a.finished,
                        "exit_code": a.exit_code,
                        "duration": a.duration,
                        "error": a.error,
                        "output": a.output,
                    }
                    for n, a in data["attempts"]
                ],
                "events": [e.to_json() for e in data["events"]],
            }
        )
        return
    from pdca.cli.textout import history_lines

    for line in history_lines(pb, data, subject):
        click.echo(line)


def _no_such_cycle(pid: str, number: int, state: Any) -> None:
    from pdca.errors import PdcaError

    numbers = [str(c.number) for c in state.cycles]
    if not numbers:
        raise PdcaError(
            f"playbook '{pid}' has no cycles yet, so there is no cycle {number}; "
            "open cycle 1 with pdca run"
        )
    raise PdcaError(f"playbook '{pid}' has no cycle {number}; its cycles are {', '.join(numbers)}")


COMMANDS = (run, task, act, history)


def register(cli: click.Group) -> None:
    """Add the cycle commands to the ``pdca`` group; calling it again changes nothing."""
    for command in COMMANDS:
        if cli.commands.get(command.name or "") is not command:
            cli.add_command(command)
