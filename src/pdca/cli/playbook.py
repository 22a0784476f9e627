"""``pdca validate``, ``pdca schema`` and ``pdca graph``: reading a playbook without its data."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pdca.cli.common import as_error, echo_json, loaded
from pdca.cli.options import FORMAT_TEXT_JSON, PLAYBOOK_ARG, as_of_option
from pdca.errors import ExitCode, PdcaError

if TYPE_CHECKING:
    from pdca.playbook import Inspection
    from pdca.playbook.model import Metric, Playbook

DATA_NOTE = (
    "note: the data was not read; 'pdca validate --data' also checks column names "
    "(field, timestamp, segment_by ...), filters and timestamp values against the sources"
)
"""Said after a plain validate, so an ok playbook is not mistaken for one whose data fits."""

NO_PLUGINS_NOTE = (
    "note: --no-plugins: nothing was imported, neither the playbook's 'plugins:' nor "
    "installed plugins; entries using what only a plugin provides were not checked "
    "(see the warnings)"
)
"""Said after ``validate --no-plugins``: a pass covers pdca's built-ins, not the plugins."""


@click.command()
@click.argument(
    "playbooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--data", is_flag=True, help="Also read the data: columns, filters, timestamps.")
@as_of_option()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print problems only.")
@click.option(
    "--no-plugins",
    is_flag=True,
    help="Import no plugin code (the playbook's 'plugins:', installed plugins): pdca's "
    "built-ins only; what only a plugin provides is a warning, not an error.",
)
def validate(
    playbooks: tuple[Path, ...],
    data: bool,
    as_of: date | None,
    fmt: str,
    quiet: bool,
    no_plugins: bool,
) -> None:
    """Check playbooks: syntax, keys, references, dependencies, plugin settings.

    Prints one line per problem as FILE:LINE:COL: error: MESSAGE and exits 1 if
    any playbook has an error. With --no-plugins no plugin is imported (safe for
    a playbook nobody has reviewed yet, e.g. in CI); names only a plugin could
    provide are warnings, so they do not change the exit code.
    """
    from pdca.playbook import inspect

    failed = False
    unread = False
    report = []
    for path in playbooks:
        result = inspect(path, plugins=not no_plugins)
        unread = unread or bool(result.ok and result.playbook and result.playbook.metrics)
        problems = list(result.problems)
        if result.ok and data:
            from pdca.check.datacheck import check_data

            assert result.playbook is not None and result.registry is not None
            pb = result.playbook if not no_plugins else _builtin_part(result)
            problems.extend(check_data(pb, result.registry, as_of))
        errors = [p for p in problems if p.severity == "error"]
        failed = failed or bool(errors)
        if fmt == "json":
            report.append(
                {
                    "file": str(path),
                    "valid": not errors,
                    "plugins_loaded": not no_plugins,
                    "problems": [
                        {
                            "severity": p.severity,
                            "message": p.message,
                            "file": p.location.file if p.location else str(path),
                            "line": p.location.line if p.location else None,
                            "col": p.location.col if p.location else None,
                            **(p.data or {}),
                        }
                        for p in problems
                    ],
                }
            )
            continue
        from pdca.playbook.messages import visible

        for problem in problems:  # data quoted in a message is shown, never obeyed
            click.echo(visible(str(problem) if problem.location else f"{path}: {problem}"))
        if not errors and not quiet:
            pb = result.playbook
            click.echo(
                f"{path}: ok: playbook '{pb.id}' with {len(pb.objectives)} objectives, "
                f"{len(pb.metrics)} metrics, {len(pb.tasks)} tasks"
            )
    if fmt == "json":
        echo_json(report)
    elif unread and not data and not quiet:
        click.echo(DATA_NOTE, err=True)
    if no_plugins and fmt != "json" and not quiet:
        click.echo(NO_PLUGINS_NOTE, err=True)
    if failed:
        sys.exit(ExitCode.ERROR)


def _builtin_part(result: Inspection) -> Playbook:
    """The playbook without the metrics whose KPI or source type no built-in provides:
    ``validate --no-plugins --data`` reads what pdca itself can read, and no more."""
    from dataclasses import replace

    pb, registry = result.playbook, result.registry
    assert pb is not None and registry is not None

    def readable(metric: Metric) -> bool:
        source = pb.sources.get(metric.source)
        return (
            metric.kpi in registry.kpis
            and source is not None
            and source.type in registry.source_types
        )

    return replace(pb, metrics={mid: m for mid, m in pb.metrics.items() if readable(m)})


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option(
    "--vscode",
    is_flag=True,
    help="Set up VS Code: write the schema into .vscode/ and map the playbooks found below "
    "the folder to it in .vscode/settings.json (other settings kept).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="With --vscode: the workspace folder.",
)
def schema(output: Path | None, vscode: bool, root: Path) -> None:
    """Print the playbook JSON Schema, for editor completion and checking.

    With --vscode, VS Code's YAML extension checks playbooks against it instead
    of the Ansible schema SchemaStore gives every playbook.yaml.
    """
    from pdca.playbook.schema import schema_text

    text = schema_text()
    if vscode:
        if output is not None:
            raise click.UsageError("give either --vscode or -o, not both")
        from pdca.cli.vscode import SettingsRefused, write_vscode

        try:
            written = write_vscode(root, text)
        except SettingsRefused as exc:
            click.echo(as_error(str(exc)), err=True)
            click.echo(exc.entry, err=True)
            sys.exit(ExitCode.ERROR)
        click.echo(f"wrote {written.schema}")
        click.echo(
            f"wrote {written.settings}: yaml.schemas maps {written.playbooks} playbooks "
            f"found below {root} ({', '.join(written.patterns)})"
        )
        return
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise PdcaError(f"cannot write the schema to {output}: {exc.strerror or exc}") from None
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.command()
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
    help="The longest chain of dependent tasks by estimate and its total; with --format "
    "mermaid or dot, the whole graph with that chain drawn in red.",
)
def graph(playbook: Path, fmt: str, critical_path: bool) -> None:
    """Show how sources, metrics, objectives and tasks depend on each other."""
    from pdca import graph as g

    with loaded(playbook) as result:
        pb = result.playbook
        path: list[str] = []
        if critical_path:
            path, hours = g.critical_path(pb)
            if fmt == "json":
                echo_json({"tasks": path, "hours": hours, "total": g.format_hours(hours)})
                return
            if fmt == "text":
                for tid in path:
                    task = pb.tasks[tid]
                    est = g.format_hours(task.estimate_hours or 0)
                    click.echo(f"{tid:30} {est:>8}  {task.phase:6} {task.owner}")
                click.echo(f"total: {g.format_hours(hours)} over {len(path)} tasks")
                return
        dg = g.build(pb)
        marked = [g.key("task", tid) for tid in path]
        if fmt == "mermaid":
            click.echo(g.to_mermaid(dg, highlight=marked), nl=False)
        elif fmt == "dot":
            click.echo(g.to_dot(dg, pb.id, highlight=marked), nl=False)
        elif fmt == "json":
            echo_json(
                {
                    "nodes": [{"id": n, **d} for n, d in dg.nodes(data=True)],
                    "edges": [list(e) for e in dg.edges()],
                }
            )
        else:
            click.echo(g.to_text(pb, dg), nl=False)


def register(cli: click.Group) -> None:
    for command in (validate, schema, graph):
        cli.add_command(command)
