"""``pdca plugins``: what is installed and what each plugin registers; ``--check`` its
contracts; ``pdca plugins new`` a plugin package to start from."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from pdca.cli.common import as_error, echo_json
from pdca.cli.options import FORMAT_TEXT_JSON
from pdca.errors import ExitCode, PlaybookError, Problem

OPTION_TABLES = {
    "source_types": "option_docs",
    "kpis": "param_docs",
    "renderers": "",
    "actions": "option_docs",
}
"""Where each kind of registration documents the settings a playbook gives it."""


def summary_of(obj: Any) -> str:
    """The registration's ``summary``, or else the first line of its class's docstring:
    what ``pdca plugins`` promises to show for every name a playbook can use."""
    text = getattr(obj, "summary", "") or ""
    if not text:
        doc = type(obj).__doc__ if not isinstance(obj, type) else obj.__doc__
        text = (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""
    return " ".join(str(text).split())


def registration(kind: str, name: str, obj: Any) -> dict[str, Any]:
    """One registered name as ``pdca plugins --format json`` shows it.

    ``options`` are the keys a playbook may set for it (a source's and an action's
    options, a KPI's ``params``) with their one-line descriptions; ``required``
    those it must set. A KPI that reads a column says so with ``field``.
    """
    table = OPTION_TABLES.get(kind, "")
    docs: Mapping[str, Any] = (getattr(obj, table, None) or {}) if table else {}
    entry: dict[str, Any] = {
        "name": name,
        "summary": summary_of(obj),
        "options": {str(k): " ".join(str(v).split()) for k, v in docs.items()},
        "required": [str(k) for k in getattr(obj, "required", ()) or ()],
    }
    if kind == "kpis":
        entry["requires_field"] = bool(getattr(obj, "requires_field", True))
    if kind == "renderers":
        entry["extension"] = str(getattr(obj, "extension", ""))
    return entry


def _text(described: list[dict[str, Any]], kinds: tuple[str, ...]) -> list[str]:
    from pdca.playbook.messages import visible

    def wrap(text: str, indent: int, hang: int = 2) -> list[str]:
        return textwrap.wrap(
            visible(text),
            width=80,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + hang),
            break_on_hyphens=False,
        )

    out = []
    for entry in described:
        out.append(
            click.style(visible(entry["name"]), bold=True) + f"  ({visible(entry['module'])})"
        )
        for kind in kinds:
            if not entry[kind]:
                continue
            names = ", ".join(r["name"] for r in entry[kind])
            head = f"{kind.replace('_', ' ')}: "
            out.extend(wrap(head + names, 2, len(head)))
            for reg in entry[kind]:
                out.extend(wrap(f"{reg['name']}: {reg['summary'] or '(no summary)'}", 4))
                for key, doc in reg["options"].items():
                    need = " (required)" if key in reg["required"] else ""
                    out.extend(wrap(f"{key}{need}: {doc}", 6))
        other = [h for h in entry["hooks"] if not h.startswith("pdca_register_")]
        if other:
            out.append(f"  hooks: {', '.join(other)}")
    return out


@click.group(invoke_without_command=True)
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
@click.pass_context
def plugins(ctx: click.Context, fmt: str, playbook: Path | None, check_only: bool) -> None:
    """List installed plugins, what each registers, with its summary and options.

    `pdca plugins new NAME --kind KIND` writes a plugin package to start from.
    """
    if ctx.invoked_subcommand is not None:
        return
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
    for entry in described:
        for kind in p.KINDS:
            entry[kind] = [
                registration(kind, name, registry.get(kind, name)) for name in entry[kind]
            ]
    if fmt == "json":
        echo_json(described)
        return
    for line in _text(described, tuple(p.KINDS)):
        click.echo(line)


@plugins.command("new")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(["source", "kpi", "renderer", "action"]),
    required=True,
    help="What the plugin registers: a source type, a KPI, a report format, an action.",
)
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Where to create the package's folder (named NAME).",
)
def new(name: str, kind: str, parent: Path) -> None:
    """Write a working plugin package NAME (e.g. pdca-survey) to start from.

    A pyproject with the entry point pdca finds installed plugins by, the
    module, and tests that use pdca's pytest plugin and pass as written. It
    refuses a folder that already has anything in it.
    """
    from pdca import __version__
    from pdca.plugins.scaffold import new_plugin

    folder, files = new_plugin(parent, name, kind, __version__)
    click.echo(f"wrote {folder}:")
    for rel in files:
        click.echo(f"  {rel}")
    click.echo("next:")
    click.echo(f"  cd {folder}")
    click.echo("  pip install /path/to/pdca   # a checkout or wheel of pdca, if not installed")
    click.echo("  pip install -e '.[test]' && python -m pytest -q")


def register(cli: click.Group) -> None:
    cli.add_command(plugins)
