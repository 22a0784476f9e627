"""Arguments and options every ``pdca`` command module shares, declared once.

Imports only click, so command modules can use them at the top and keep
``pdca --help`` fast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from pdca.cli.completion import complete_ids
from pdca.errors import PdcaError

STATE_ENV = "PDCA_STATE"

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

PLAYBOOK_ARG = click.argument("playbook", type=click.Path(dir_okay=False, path_type=Path))


FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2999, 12, 31)
"""The dates a command accepts. Python's calendar ends at years 1 and 9999, and windows,
cycle lengths and due dates are added to and taken from the as-of date: far inside
that range, every such sum is still a date."""

MAX_NUMBER = 2**31 - 1
"""Largest cycle number or count an option takes: what the state's integer columns hold
(PostgreSQL's ``integer``), far beyond any real cycle or limit."""


class OutOfRange(PdcaError):
    """A well-formed value outside what pdca works with: an error in the input (exit 1).

    A value that does not parse (``--as-of banana``) stays a usage error (exit 2);
    one that parses but cannot be used (``--as-of 9999-12-31``, ``--cycle
    99999999999``) is refused like any other input pdca cannot act on.
    """


class BoundedInt(click.ParamType):
    """A whole number from ``low`` to ``high``.

    Below ``low`` breaks the option's own rule (``--top 0``): a usage error, exit 2,
    as click's ``IntRange`` says it. Above ``high`` is a number pdca cannot store
    (``--cycle 99999999999``): :class:`OutOfRange`, exit 1.
    """

    name = "integer"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"'{value}' is not a whole number", param, ctx)
        if number < self.low:  # as click's IntRange: the option's own rule, a usage error
            self.fail(f"{number} is not in the range x>={self.low}", param, ctx)
        if number > self.high:
            name = param.opts[0] if param is not None and param.opts else "the value"
            shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:37]}..."
            raise OutOfRange(f"{name} {shown} is out of range; use {self.low} to {self.high}")
        return number


CYCLE_NUMBER = BoundedInt(1, MAX_NUMBER)
COUNT = BoundedInt(1, MAX_NUMBER)


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """``YYYY-MM-DD`` or ``today``; not a date is a usage error (exit 2), a date outside
    1900..2999 is :class:`OutOfRange` (exit 1)."""
    if value is None:
        return None
    if value == "today":
        return date.today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        name = param.opts[0] if param.opts else "the date"
        raise OutOfRange(
            f"{name} {value} is out of range; pdca works with dates from {FIRST_DATE} "
            f"to {LAST_DATE}"
        )
    return day


def as_of_option(
    help_text: str = "Compute metrics as of this date (YYYY-MM-DD); default today.",
) -> Decorator:
    return click.option("--as-of", "as_of", callback=parse_date, metavar="DATE", help=help_text)


state_option: Decorator = click.option(
    "--state",
    "state_url",
    envvar=STATE_ENV,
    metavar="URL",
    help="State store: a postgresql+psycopg:// URL or a SQLite file "
    f"(env {STATE_ENV}; default .pdca/state.db beside the playbook).",
)

FORMAT_TEXT_JSON = click.Choice(["text", "json"])


NO_COLOR_ENV = "NO_COLOR"


def colour_setting(option: bool | None, environ: dict[str, str] | None = None) -> bool | None:
    """Whether output is coloured: True or False when decided, None to ask the terminal.

    The order is ``--color``/``--no-color``, then ``NO_COLOR`` (any non-empty
    value, as https://no-color.org asks), then ``TERM=dumb``; with none of them
    click colours standard output when it is a terminal and strips the escapes
    when it is a pipe or a file. The value goes on the root context
    (``ctx.color``), which every ``click.echo`` of pdca and of plugin commands obeys.
    """
    import os

    env = os.environ if environ is None else environ
    if option is not None:
        return option
    if env.get(NO_COLOR_ENV):
        return False
    if env.get("TERM") == "dumb":
        return False
    return None


def colour_wanted() -> bool:
    """Whether the current command should paint its text (status words, headings).

    Decided by :func:`colour_setting` for the running command; undecided, a
    terminal on standard output gets colour and anything else does not.
    """
    import sys

    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.color is not None:
        return ctx.color
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


color_option: Decorator = click.option(
    "--color/--no-color",
    "color",
    default=None,
    help=f"Colour the output, or not; default: colour on a terminal unless {NO_COLOR_ENV} "
    "is set or TERM is dumb.",
)


def by_option(help_text: str) -> Decorator:
    """``--by OWNER``: who records an update or decision; completes the playbook's owners."""
    return click.option(
        "--by",
        "by",
        required=True,
        metavar="OWNER",
        shell_complete=complete_ids("owners"),
        help=help_text,
    )
