"""``pdca plugins``: what is installed and what each plugin registers; ``--check`` its contracts."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pdca.cli.common import as_error, echo_json
from pdca.cli.options import FORMAT_TEXT_JSON
from pdca.errors import ExitCode, PlaybookError, Problem


@click.command()
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
        if result.playbook is None:  # not even its plugin list can be read
            raise PlaybookError(result.problems or [Problem(f"{playbook}: cannot be read")])
        files, base = result.playbook.plugins, playbook.parent
    if check_only:
        from pdca.plugins.check import check_installed

        count, problems = check_installed(base, files)
        for problem in problems:
            click.echo(as_error(problem))
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


def register(cli: click.Group) -> None:
    cli.add_command(plugins)
