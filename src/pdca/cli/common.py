"""Helpers every command module shares: the loaded playbook, JSON and error output.

Imports only click at the top, so command modules can use it and keep
``pdca --help`` fast. Nothing here imports :mod:`pdca.cli.main`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click


def as_error(message: str) -> str:
    """Prefix 'error: ' unless each line already says what it is (FILE:LINE:COL: error: ...).

    Messages quote data, notes and databases' words; each line is made
    ``visible`` so that none of it reaches the terminal as a control sequence.
    """
    from pdca.playbook.messages import visible

    lines = [visible(line) for line in message.splitlines()] or [visible(message)]
    message = "\n".join(lines)
    if all(
        ": error: " in line or ": warning: " in line or line.startswith(("error:", "warning:"))
        for line in lines
    ):
        return message
    return f"error: {message}"


def echo_json(data: Any) -> None:
    """JSON as UTF-8 text; DEL and the C1 controls escaped like the C0 ones json escapes.

    ``ensure_ascii=False`` keeps names readable, but would pass U+009B (a CSI a
    terminal obeys) through raw: escaped, the document means the same.
    """
    from pdca.cli.jsontext import dumps  # json.dumps(indent=2, ...)'s text, faster

    text = dumps(data)
    click.echo(_C1.sub(lambda m: f"\\u{ord(m[0]):04x}", text))


_C1 = re.compile("[\x7f-\x9f]")


@contextmanager
def loaded(path: Path, shared: Any = None) -> Iterator[Any]:
    """A valid playbook (with its plugins), warnings printed; PlaybookError otherwise.

    ``shared`` (a :class:`pdca.playbook.SharedPlugins`) lets the playbooks of one
    command that name no plugin files share one plugin manager.
    """
    from pdca.playbook import load_checked

    result = load_checked(path, shared=shared)
    for warning in result.warnings:
        click.echo(str(warning), err=True)
    yield result


@contextmanager
def session(
    playbook: Path, state_url: str | None, *, create: bool, shared: Any = None
) -> Iterator[Any]:
    """The loaded playbook (warnings printed), its store, and an Engine over both.

    ``state_url`` is ``--state`` (or ``PDCA_STATE``); by default ``.pdca/state.db``
    beside the playbook.
    """
    from pdca.engine import Engine
    from pdca.playbook.paths import cache_dir, state_file
    from pdca.state import open_store

    with loaded(playbook, shared) as inspection:
        pb = inspection.playbook
        location = state_url or state_file(pb.path)
        with open_store(location, create=create) as store:
            yield Engine(
                pb,
                store,
                registry=inspection.registry,
                plugin_manager=inspection.plugin_manager,
                cache_dir=cache_dir(pb.path),
            )
