"""``pdca check``: every metric over its window, its series, status and signal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from pdca.cli.common import echo_json, loaded
from pdca.cli.completion import complete_ids
from pdca.cli.options import (
    FORMAT_TEXT_JSON,
    PLAYBOOK_ARG,
    as_of_option,
    colour_wanted,
    state_option,
)
from pdca.errors import ExitCode
from pdca.playbook.paths import cache_dir

FAIL_ON = click.Choice(["off_track", "at_risk", "stale"])


@click.command()
@PLAYBOOK_ARG
@as_of_option()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", show_default=True)
@click.option(
    "--metric",
    "metric_ids",
    multiple=True,
    metavar="ID",
    shell_complete=complete_ids("metrics"),
    help="Only this metric (repeatable).",
)
@click.option(
    "--fail-on",
    type=FAIL_ON,
    multiple=True,
    help="Exit 3 when a metric's status is this or worse, or (stale) when a metric's data is "
    "older than its source's max_age (for CI and cron; repeatable).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Read file sources directly, not the Parquet cache, and query every period of a "
    "database source, not only those the state does not hold as final.",
)
@click.option(
    "--correlate",
    is_flag=True,
    help="Also report how metrics' period series correlate (e.g. wait time vs CSAT).",
)
@state_option
def check(
    playbook: Path,
    as_of: date | None,
    fmt: str,
    metric_ids: tuple[str, ...],
    fail_on: tuple[str, ...],
    no_cache: bool,
    correlate: bool,
    state_url: str | None,
) -> None:
    """Compute every metric over its window and report statuses.

    Exit codes: 0 ok, 1 error (bad playbook, a metric that cannot be computed),
    3 when --fail-on is given and a metric is at or below that status (or, with
    --fail-on stale, when a metric's data is stale).

    Excluded periods and rebases (`pdca exclude`, `pdca rebase`) are read from
    the state when there is one; `pdca check` never creates it, and changes only
    its period cache (database sources' final periods, each metric's definition).
    """
    from pdca.check import measure
    from pdca.errors import PlaybookError, Problem

    with loaded(playbook) as result:
        pb = result.playbook
        unknown = [m for m in metric_ids if m not in pb.metrics]
        if unknown:
            raise PlaybookError(
                [
                    Problem(f"{playbook}: no metric '{m}' (metrics: {', '.join(pb.metrics)})")
                    for m in unknown
                ]
            )
        day = as_of or date.today()
        cache = None if no_cache else cache_dir(pb.path)
        with state_of(pb, state_url) as store:
            periods = None
            if store is not None:
                from pdca.check.periodcache import PeriodCache

                periods = PeriodCache.from_store(pb, day, store, use=not no_cache)
            report = measure.check(
                pb,
                result.registry,
                day,
                metrics=metric_ids or None,
                cache_dir=cache,
                plugin_manager=result.plugin_manager,
                correlate=correlate,
                recorded=recorded(pb, store),
                periods=periods,
            )
            if store is not None and periods is not None:
                keep_cache(store, pb.id, periods.keeps(report["metrics"]))
    if fmt == "json":
        echo_json(report)
    else:
        from pdca.cli.textout import check_table, correlation_table

        click.echo(check_table(report, color=colour_wanted()))
        if correlate:
            click.echo("\n" + correlation_table(report["correlations"]))
    statuses = [m["status"] for m in report["metrics"].values()]
    if "error" in statuses:
        from pdca.check.datacheck import located
        from pdca.playbook.messages import visible

        for mid, entry in report["metrics"].items():
            if entry["status"] == "error":
                click.echo(visible(located(entry["error"], f"metric '{mid}'")), err=True)
        sys.exit(ExitCode.ERROR)
    bad = {"off_track"} if "off_track" in fail_on else set()
    if "at_risk" in fail_on:
        bad |= {"off_track", "at_risk"}
    stale = "stale" in fail_on and any(m.get("stale") for m in report["metrics"].values())
    if stale or bad & set(statuses):
        sys.exit(ExitCode.THRESHOLD)


@contextmanager
def state_of(pb: Any, state_url: str | None) -> Iterator[Any]:
    """The playbook's state store, or None when it has none (``pdca check`` creates none)."""
    from pdca.playbook.paths import state_file

    location = state_url or state_file(pb.path)
    if state_url is None and not Path(location).exists():
        yield None
        return
    from pdca.state import open_store

    with open_store(location, create=False) as store:
        yield store if store.available else None


def keep_cache(store: Any, playbook_id: str, keeps: list[Any]) -> None:
    """Write the period cache; a state that refuses it costs the next check time, not
    this check its answer, so that is a warning."""
    from pdca.errors import StateError

    try:
        store.keep_periods(playbook_id, keeps)
    except StateError as exc:
        click.echo(f"warning: the period cache was not kept: {exc}", err=True)


def recorded(pb: Any, store: Any) -> Any:
    """What the playbook's state says about its charts; nothing when it has no state."""
    from pdca.check.phases import NOTHING_RECORDED, Recorded

    if store is None:
        return NOTHING_RECORDED
    return Recorded.from_store(pb, store)


def register(cli: click.Group) -> None:
    cli.add_command(check)
