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

STATE_ENV = "PDCA_STATE"

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

PLAYBOOK_ARG = click.argument("playbook", type=click.Path(dir_okay=False, path_type=Path))


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """``YYYY-MM-DD`` or ``today``; anything else is a usage error (exit 2)."""
    if value is None:
        return None
    if value == "today":
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD") from None


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
