"""The ``pdca`` command line: parse arguments, call one function, print.

Modules that take time to import (networkx, DuckDB, Jinja) are imported inside
the commands that need them, so ``pdca --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from pdca import __version__
from pdca.cli_options import PLAYBOOK_ARG, as_of_option
from pdca.errors import ExitCode, PdcaError

DEBUG_ENV = "PDCA_DEBUG"


class PdcaGroup(click.Group):
    """Adds plugin commands on demand and turns PdcaError into a message and an exit code."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from pdca.plugins import call_each, get_plugin_manager

        try:
            call_each(get_plugin_manager(), "pdca_register_commands", cli=self)
        except PdcaError as exc:
            click.echo(f"warning: {exc}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_plugin_commands()
            command = super().get_command(ctx, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PdcaError as exc:
            click.echo(_as_error(str(exc)), err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            click.echo(
                f"error: internal error: {type(exc).__name__}: {exc}\n"
                f"This is a bug in pdca or a plugin; run again with {DEBUG_ENV}=1 for details.",
                err=True,
            )
            ctx.exit(ExitCode.ERROR)


def _as_error(message: str) -> str:
    """Prefix 'error: ' unless each line already says what it is (FILE:LINE:COL: error: ...)."""
    lines = message.splitlines() or [message]
    if all(
        ": error: " in line or ": warning: " in line or line.startswith(("error:", "warning:"))
        for line in lines
    ):
        return message
    return f"error: {message}"


FORMAT_TEXT_JSON = click.Choice(["text", "json"])


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(cls=PdcaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="pdca")
def cli() -> None:
    """Plan-Do-Check-Act improvement cycles driven by YAML playbooks.

    Write a playbook (objectives, tasks, metrics over your data), check it with
    `pdca validate`, measure it with `pdca check`. Every command takes --help.
    """


@contextmanager
def _loaded(path: Path) -> Iterator[Any]:
    """A valid playbook (with its plugins), warnings printed; PlaybookError otherwise."""
    from pdca.playbook import load_checked

    result = load_checked(path)
    for warning in result.warnings:
        click.echo(str(warning), err=True)
    yield result


# -- playbooks -------------------------------------------------------------------------


@cli.command()
@click.argument(
    "playbooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--data", is_flag=True, help="Also read the data: columns, filters, timestamps.")
@as_of_option()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print problems only.")
def validate(
    playbooks: tuple[Path, ...], data: bool, as_of: date | None, fmt: str, quiet: bool
) -> None:
    """Check playbooks: syntax, keys, references, dependencies, plugin settings.

    Prints one line per problem as FILE:LINE:COL: error: MESSAGE and exits 1 if
    any playbook has an error.
    """
    from pdca.playbook import inspect

    failed = False
    report = []
    for path in playbooks:
        result = inspect(path)
        problems = list(result.problems)
        if result.ok and data:
            from pdca.datacheck import check_data

            problems.extend(check_data(result.playbook, result.registry, as_of))
        errors = [p for p in problems if p.severity == "error"]
        failed = failed or bool(errors)
        if fmt == "json":
            report.append(
                {
                    "file": str(path),
                    "valid": not errors,
                    "problems": [
                        {
                            "severity": p.severity,
                            "message": p.message,
                            "file": p.location.file if p.location else str(path),
                            "line": p.location.line if p.location else None,
                            "col": p.location.col if p.location else None,
                        }
                        for p in problems
                    ],
                }
            )
            continue
        for problem in problems:
            click.echo(str(problem) if problem.location else f"{path}: {problem}")
        if not errors and not quiet:
            pb = result.playbook
            click.echo(
                f"{path}: ok: playbook '{pb.id}' with {len(pb.objectives)} objectives, "
                f"{len(pb.metrics)} metrics, {len(pb.tasks)} tasks"
            )
    if fmt == "json":
        echo_json(report)
    if failed:
        sys.exit(ExitCode.ERROR)


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def schema(output: Path | None) -> None:
    """Print the playbook JSON Schema, for editor completion and checking."""
    from pdca.playbook.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@PLAYBOOK_ARG
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--critical-path",
    is_flag=True,
    help="Print the longest chain of dependent tasks by estimate, and its total.",
)
def graph(playbook: Path, fmt: str, critical_path: bool) -> None:
    """Show how sources, metrics, objectives and tasks depend on each other."""
    from pdca import graph as g

    with _loaded(playbook) as result:
        pb = result.playbook
        if critical_path:
            path, hours = g.critical_path(pb)
            if fmt == "json":
                echo_json({"tasks": path, "hours": hours, "total": g.format_hours(hours)})
                return
            for tid in path:
                task = pb.tasks[tid]
                est = g.format_hours(task.estimate_hours or 0)
                click.echo(f"{tid:30} {est:>8}  {task.phase:6} {task.owner}")
            click.echo(f"total: {g.format_hours(hours)} over {len(path)} tasks")
            return
        dg = g.build(pb)
        if fmt == "mermaid":
            click.echo(g.to_mermaid(dg), nl=False)
        elif fmt == "dot":
            click.echo(g.to_dot(dg, pb.id), nl=False)
        elif fmt == "json":
            echo_json(
                {
                    "nodes": [{"id": n, **d} for n, d in dg.nodes(data=True)],
                    "edges": [list(e) for e in dg.edges()],
                }
            )
        else:
            click.echo(g.to_text(pb, dg), nl=False)


# -- metrics ---------------------------------------------------------------------------


FAIL_ON = click.Choice(["off_track", "at_risk"])


@cli.command()
@PLAYBOOK_ARG
@as_of_option()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", show_default=True)
@click.option(
    "--metric", "metric_ids", multiple=True, metavar="ID", help="Only this metric (repeatable)."
)
@click.option(
    "--fail-on",
    type=FAIL_ON,
    help="Exit 3 when a metric's status is this or worse (for CI and cron).",
)
@click.option("--no-cache", is_flag=True, help="Read file sources directly, not the Parquet cache.")
@click.option(
    "--correlate",
    is_flag=True,
    help="Also report how metrics' period series correlate (e.g. wait time vs CSAT).",
)
def check(
    playbook: Path,
    as_of: date | None,
    fmt: str,
    metric_ids: tuple[str, ...],
    fail_on: str | None,
    no_cache: bool,
    correlate: bool,
) -> None:
    """Compute every metric over its window and report statuses.

    Exit codes: 0 ok, 1 error (bad playbook, a metric that cannot be computed),
    3 when --fail-on is given and a metric is at or below that status.
    """
    from pdca import measure
    from pdca.errors import PlaybookError, Problem

    with _loaded(playbook) as result:
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
        cache_dir = None if no_cache else state_dir(pb.path) / "cache"
        report = measure.check(
            pb,
            result.registry,
            day,
            metrics=metric_ids or None,
            cache_dir=cache_dir,
            plugin_manager=result.plugin_manager,
            correlate=correlate,
        )
    if fmt == "json":
        echo_json(report)
    else:
        from pdca.textout import check_table, correlation_table

        click.echo(check_table(report, color=sys.stdout.isatty()))
        if correlate:
            click.echo("\n" + correlation_table(report["correlations"]))
    statuses = [m["status"] for m in report["metrics"].values()]
    if "error" in statuses:
        for mid, entry in report["metrics"].items():
            if entry["status"] == "error":
                click.echo(_as_error(f"metric '{mid}': {entry['error']}"), err=True)
        sys.exit(ExitCode.ERROR)
    if fail_on:
        bad = {"off_track"} if fail_on == "off_track" else {"off_track", "at_risk"}
        if bad & set(statuses):
            sys.exit(ExitCode.THRESHOLD)


def state_dir(playbook_path: Path) -> Path:
    """The ``.pdca`` folder beside the playbook: state, cache."""
    return playbook_path.resolve().parent / ".pdca"


@cli.command()
@click.argument(
    "folder",
    required=False,
    default="pdca-demo",
    type=click.Path(file_okay=False, path_type=Path),
)
def demo(folder: Path) -> None:
    """Run the bundled support-desk example through a full cycle in FOLDER (default ./pdca-demo).

    Copies the playbook, generates six months of service-desk data with a planted
    improvement, simulates the team's task updates and decisions, prints the
    status and writes report.html and report.md.
    """
    from pdca.demo import run_demo

    def progress(steps: list[tuple[str, Callable[[], None]]]) -> None:
        with click.progressbar(
            steps,
            label="One PDCA cycle",
            item_show_func=lambda step: step[0] if step else None,
            width=20,
        ) as bar:
            for _, step in bar:
                step()

    result = run_demo(folder, click.echo, color=sys.stdout.isatty(), progress=progress)
    click.echo(f"\nEverything is in {result.folder}:")
    click.echo(f"  playbook   {result.playbook}")
    click.echo(f"  state      {result.state}")
    for label, path in result.outputs.items():
        click.echo(f"  {label:<10} {path}")
    click.echo("\nTry next:")
    click.echo(f"  pdca status {result.playbook}")
    click.echo(f"  pdca history {result.playbook}")
    click.echo(f"  pdca check {result.playbook} --as-of 2026-03-30")


# -- plugins ---------------------------------------------------------------------------


@cli.command()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", show_default=True)
@click.option(
    "--playbook",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Include this playbook's own plugin files.",
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Load every plugin and report problems (unknown hooks, bad registrations); "
    "exit 1 if there are any.",
)
def plugins(fmt: str, playbook: Path | None, check_only: bool) -> None:
    """List installed plugins and what each registers."""
    from pdca import plugins as p

    files: tuple[str, ...] = ()
    base = None
    if playbook is not None:
        from pdca.playbook import inspect

        result = inspect(playbook)
        if result.playbook is not None:
            files, base = result.playbook.plugins, playbook.parent
    if check_only:
        from pdca.plugincheck import check_installed

        count, problems = check_installed(base, files)
        for problem in problems:
            click.echo(_as_error(problem))
        if problems:
            sys.exit(ExitCode.ERROR)
        click.echo(f"ok: {count} plugins, no problems")
        return
    pm = p.get_plugin_manager(base, files)
    registry = p.build_registry(pm)
    described = p.describe(pm, registry)
    if fmt == "json":
        for entry in described:
            for kind in p.KINDS:
                entry[kind] = [
                    {"name": name, "summary": getattr(registry.get(kind, name), "summary", "")}
                    for name in entry[kind]
                ]
        echo_json(described)
        return
    for entry in described:
        click.echo(click.style(entry["name"], bold=True) + f"  ({entry['module']})")
        for kind in p.KINDS:
            names = entry[kind]
            if names:
                click.echo(f"  {kind.replace('_', ' ')}: {', '.join(names)}")
        other = [h for h in entry["hooks"] if not h.startswith("pdca_register_")]
        if other:
            click.echo(f"  hooks: {', '.join(other)}")


def _register_command_modules() -> None:
    """Commands that live in modules of their own; each module imports only click at the top."""
    from pdca import cli_engine, cli_report, cli_state, cli_themes

    cli_engine.register(cli)
    cli_report.register(cli)
    cli_state.register(cli)
    cli_themes.register(cli)


_register_command_modules()


def main() -> None:
    cli(prog_name="pdca")


if __name__ == "__main__":  # pragma: no cover
    main()
