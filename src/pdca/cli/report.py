"""``pdca report``: the cycle as a self-contained HTML page, an A3, Markdown or JSON.

Added to the ``pdca`` group by :func:`register`. Only click is imported at the
top; the report code (Jinja, the engine, the data layer) loads inside the
command. The ``--format`` choices are the registered renderers, so a plugin's
renderer is a format as soon as it is installed (or listed in the playbook's
``plugins:``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from pdca.cli.common import session
from pdca.cli.options import CYCLE_NUMBER, PLAYBOOK_ARG, as_of_option, state_option

BUILTIN_FORMATS = ("html", "markdown", "json", "a3", "text")


def installed_formats() -> list[str]:
    """Renderer names of pdca and the installed plugins (a playbook's own plugins may add more)."""
    try:
        from pdca.plugins import build_registry, get_plugin_manager
        from pdca.report.render import renderer_names

        return renderer_names(build_registry(get_plugin_manager()))
    except Exception:  # the help must show even when a plugin is broken
        return list(BUILTIN_FORMATS)


class _FormatChoice(click.ParamType):
    """A renderer name. Checked once the playbook and its plugins are loaded (they may
    add formats); the help lists the installed ones, looked up only when shown."""

    name = "format"

    def get_metavar(self, param: click.Parameter, *args: Any, **kwargs: Any) -> str:
        return "[" + "|".join(installed_formats()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(value)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """The installed formats, as the help lists them."""
        return [CompletionItem(f) for f in installed_formats() if f.startswith(incomplete)]


@click.command()
@PLAYBOOK_ARG
@click.option(
    "--format",
    "fmt",
    type=_FormatChoice(),
    default="html",
    show_default=True,
    help="html (one self-contained file), a3 (the one-page improvement record), markdown, "
    "json (the report document), text, or a plugin's format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file ('-' for standard output). Default: report.html or a3.html in "
    "the current folder for HTML formats, standard output for the others.",
)
@as_of_option(
    "Judge tasks overdue as of this date (YYYY-MM-DD); before the cycle reaches check, also "
    "measure the metrics as of it. Default today."
)
@click.option(
    "--cycle",
    "cycle",
    type=CYCLE_NUMBER,
    metavar="N",
    help="Show cycle N as it closed (its snapshot, tasks and decisions); default the current one.",
)
@state_option
def report(
    playbook: Path,
    fmt: str,
    output: Path | None,
    as_of: date | None,
    cycle: int | None,
    state_url: str | None,
) -> None:
    """Render the cycle's report: objectives, control charts, tasks, graph, decisions.

    Metric values are the cycle's check snapshot once it has passed check (as in
    `pdca status`); before that they are measured as of --as-of. The playbook's
    templates/ folder overrides any built-in template by name (docs/reports.md).
    """
    from pdca.report.context import document_for
    from pdca.report.render import default_output, get_renderer, render, renderer_names

    with session(playbook, state_url, create=False) as engine:
        registry = engine.registry
        if fmt not in registry.renderers:
            raise click.BadParameter(
                f"'{fmt}' is not a report format; formats: {', '.join(renderer_names(registry))}",
                param_hint="'--format'",
            )
        renderer = get_renderer(registry, fmt)
        document = document_for(
            engine.pb,
            engine.store,
            registry=registry,
            as_of=as_of,
            cycle=cycle,
            cache_dir=engine.cache_dir,
        )
        text = render(
            document,
            fmt,
            registry=registry,
            playbook_dir=engine.pb.base_dir,
            plugin_manager=engine.pm,
        )
    if output is None and getattr(renderer, "default_output", None):
        output = Path(default_output(renderer))
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        from pdca.errors import PdcaError

        raise PdcaError(f"cannot write the report to {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)


COMMANDS = (report,)


def register(cli: click.Group) -> None:
    """Add ``pdca report`` to the ``pdca`` group; calling it again changes nothing."""
    for command in COMMANDS:
        if cli.commands.get(command.name or "") is not command:
            cli.add_command(command)
