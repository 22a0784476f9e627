"""The ``pdca`` command line: parse arguments, call one function, print.

Modules that take time to import (networkx, DuckDB, Jinja) are imported inside
the commands that need them, so ``pdca --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from pdca import __version__
from pdca.cli.common import as_error
from pdca.cli.options import color_option, colour_setting
from pdca.errors import ExitCode, PdcaError

DEBUG_ENV = "PDCA_DEBUG"
PIPE_CLOSED = 141
"""Exit code when the reader of our output went away (``| head``, a pager quit early):
128 + SIGPIPE, what a shell reports for other commands cut short the same way."""


def _output_gone() -> NoReturn:
    """End quietly once the reader of standard output has gone.

    Whatever is still buffered would fail again when the interpreter flushes
    it on exit ("Exception ignored ... BrokenPipeError"), so standard output
    (and standard error, which may be the same pipe) are pointed at the null
    device first. Streams without a file descriptor (tests) are left as they are.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                fd = stream.fileno()
            except (AttributeError, OSError, ValueError):
                continue
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    raise click.exceptions.Exit(PIPE_CLOSED)


class PdcaGroup(click.Group):
    """Adds plugin commands on demand and turns PdcaError into a message and an exit code."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from pdca.plugins import manager

        if not manager.may_add_commands():
            return
        try:  # no built-in adds a command: only installed (and tests') plugins are asked
            pm = manager.get_plugin_manager(builtins=False)
            manager.call_each(pm, "pdca_register_commands", cli=self)
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

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        """``pdca --help`` and ``--version`` print while the arguments are parsed."""
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            _output_gone()

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _output_gone()
        except PdcaError as exc:
            click.echo(as_error(str(exc)), err=True)
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


@click.group(cls=PdcaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="pdca")
@color_option
@click.pass_context
def cli(ctx: click.Context, color: bool | None) -> None:
    """Plan-Do-Check-Act improvement cycles driven by YAML playbooks.

    Write a playbook (objectives, tasks, metrics over your data), check it with
    `pdca validate`, measure it with `pdca check`. Every command takes --help.
    """
    ctx.color = colour_setting(color)
    try:  # every relative path, the state folder and the demo resolve against it
        os.getcwd()
    except FileNotFoundError:
        raise PdcaError(
            "the current folder no longer exists (it was deleted or moved): "
            "cd into an existing folder and run the command again"
        ) from None


def _register_builtin_commands(group: click.Group) -> None:
    """The built-in commands, one module per group; each imports only click at the top.

    Plugin commands come later, through ``pdca_register_commands``, on the same group.
    """
    from pdca.cli import (
        charts,
        check,
        cycle,
        demo,
        digest,
        playbook,
        plugins,
        report,
        review,
        state,
        themes,
    )

    for module in (
        playbook,
        check,
        cycle,
        review,
        digest,
        charts,
        report,
        state,
        themes,
        plugins,
        demo,
    ):
        module.register(group)


_register_builtin_commands(cli)


def main() -> None:
    try:
        cli(prog_name="pdca")
    except BrokenPipeError:  # while click printed a usage error, say
        try:
            _output_gone()
        except click.exceptions.Exit as exit_:
            sys.exit(exit_.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
