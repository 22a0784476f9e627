"""``pdca themes``: what customers' comments say in one group and not in the other.

Added to the ``pdca`` group by :func:`register`. Only click is imported at the
top; DuckDB, numpy and the playbook loader are imported inside the command, so
``pdca --help`` stays fast.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import click

from pdca.cli.completion import complete_ids
from pdca.cli.options import COUNT, parse_date

MAX_DAYS = 36_500
"""--days reaches back at most a hundred years: still a date from any accepted --as-of."""


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number; give one like 1.96")
    return value


@click.command()
@click.argument("playbook", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("metric", shell_complete=complete_ids("metrics"))
@click.option(
    "--as-of",
    "as_of",
    callback=parse_date,
    metavar="DATE",
    help="Read the metric's window ending on this date (YYYY-MM-DD); default today.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--by", metavar="COLUMN", help="Split rows by this column's values instead.")
@click.option("--group", metavar="VALUE", help="With --by: the rows to set apart.")
@click.option(
    "--vs", metavar="VALUE", help="With --by: the rows to compare with (default: all others)."
)
@click.option(
    "--top",
    type=COUNT,
    help="Themes per group (default 10; 3 with --as-tasks).",
)
@click.option(
    "--min-count",
    type=COUNT,
    help="Comments of its group a theme needs (default 3).",
)
@click.option(
    "--min-z",
    type=click.FloatRange(min=0),
    callback=_finite,
    help="Smallest |z| shown (default 1.96).",
)
@click.option(
    "--days",
    type=click.IntRange(1, MAX_DAYS),
    help="Read this many days up to the as-of date instead of the metric's window.",
)
@click.option(
    "--comments",
    metavar="COLUMN",
    help="Free-text column to read, instead of the playbook's `comments`.",
)
@click.option(
    "--as-tasks",
    is_flag=True,
    help="Print Plan-phase root-cause task stubs (YAML) for the top themes of the first group.",
)
@click.option("--no-cache", is_flag=True, help="Read file sources directly, not the Parquet cache.")
def themes(
    playbook: Path,
    metric: str,
    as_of: date | None,
    fmt: str,
    by: str | None,
    group: str | None,
    vs: str | None,
    top: int | None,
    min_count: int | None,
    min_z: float | None,
    days: int | None,
    comments: str | None,
    as_tasks: bool,
    no_cache: bool,
) -> None:
    """Words and phrases that set one group of a metric's comments apart from another.

    Groups follow the metric's KPI: detractors vs promoters for NPS, rows off
    target vs on target for CSAT, SLA, rate and the per-row numeric KPIs. With
    --by COLUMN --group VALUE [--vs VALUE] any column's values are compared
    instead. Scores are weighted log-odds with an informative Dirichlet prior
    (Monroe et al. 2008); the comments column is `comments` on the metric or
    its source.
    """
    from pdca.check.themes import DEFAULT_TASKS, analyse, to_tasks, to_text
    from pdca.cli.common import echo_json, loaded
    from pdca.playbook.paths import cache_dir

    day = as_of or date.today()
    if by is None and (group is not None or vs is not None):
        raise click.UsageError("--group and --vs go with --by COLUMN")
    if by is not None and group is None:
        raise click.UsageError("--by needs --group VALUE: the rows to set apart")
    if by is not None and vs is not None and vs == group:
        raise click.UsageError(f"--group and --vs are both '{group}': nothing to compare")
    if top is None and as_tasks:
        top = DEFAULT_TASKS
    with loaded(playbook) as loaded_playbook:
        pb = loaded_playbook.playbook
        result = analyse(
            pb,
            loaded_playbook.registry,
            metric,
            day,
            by=by,
            group=group,
            vs=vs,
            top=top,
            min_count=min_count,
            min_z=min_z,
            days=days,
            comments=comments,
            cache_dir=None if no_cache else cache_dir(pb.path),
        )
        if as_tasks:
            click.echo(to_tasks(result, pb), nl=False)
        elif fmt == "json":
            echo_json(result)
        else:
            click.echo(to_text(result))


COMMANDS: tuple[click.Command, ...] = (themes,)


def register(cli: click.Group) -> None:
    """Add ``themes`` to the ``pdca`` group; calling it again changes nothing."""
    for command in COMMANDS:
        if cli.commands.get(command.name or "") is not command:
            cli.add_command(command)
