"""``pdca state backup|export|import``: keep a copy of a team's state, move it, restore it.

Added to the ``pdca`` group by :func:`register`. Only click is imported at the
top; the work is in :mod:`pdca.state.transfer`.

These commands read only the playbook's id (and where its ``.pdca`` folder is),
not the rest of it: a state can be backed up or restored while the playbook is
being edited and does not validate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pdca.cli.options import PLAYBOOK_ARG, state_option


def _playbook_id(playbook: Path) -> str:
    """The playbook's id, read without validating the rest of the playbook."""
    from pdca.errors import PlaybookError, Problem
    from pdca.playbook import build, loader

    text = loader.read_text(playbook)
    root = loader.parse(text, str(playbook))
    pb, problems = build.build(root, playbook, str(playbook), len(text))
    if not isinstance(pb.id, str) or not pb.id:
        raise PlaybookError(
            [p for p in problems if "'playbook'" in p.message]
            or [Problem(f"{playbook}: the playbook has no id ('playbook: ...' at the top)")]
        )
    return pb.id


def _location(playbook: Path, state_url: str | None) -> Any:
    from pdca.playbook.paths import state_file

    return state_url or state_file(playbook)


@click.group("state")
def state() -> None:
    """Back up, export and import (restore, move) a playbook's state.

    \b
      pdca state backup playbook.yaml            a consistent copy in .pdca/backups/
      pdca state export playbook.yaml -o s.json  the playbook's state as JSON
      pdca state import playbook.yaml s.json --state postgresql://...   move it
    """


@state.command("export")
@PLAYBOOK_ARG
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (whole or not at all) instead of standard output.",
)
@state_option
def export_cmd(playbook: Path, output: Path | None, state_url: str | None) -> None:
    """Write the playbook's whole state as one JSON document.

    Cycles, tasks, automated runs, baselines, decisions, check snapshots and the
    audit log, read in one transaction (consistent while others write). Restore
    or move it with `pdca state import`.
    """
    from pdca.state import open_store
    from pdca.state import transfer as t

    pid = _playbook_id(playbook)
    with open_store(_location(playbook, state_url), create=False) as store:
        doc = t.export_state(store, pid)
        name = store.name
    text = t.dumps(doc)
    if output is None:
        click.echo(text, nl=False)
        return
    t.write_atomically(output, text.encode("utf-8"))
    click.echo(f"exported the state of {pid} from {name} to {output} ({_counts(doc)})")


@state.command("backup")
@PLAYBOOK_ARG
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file; default .pdca/backups/state-TIMESTAMP.db (SQLite) or "
    "PLAYBOOK-TIMESTAMP.json (PostgreSQL) beside the playbook.",
)
@state_option
def backup_cmd(playbook: Path, output: Path | None, state_url: str | None) -> None:
    """Make a consistent backup of the state, safe while others are writing.

    For a SQLite store: a copy of the whole database file (every playbook in
    it), made with SQLite's online backup API and checked for integrity.
    Restore it with `pdca state import PLAYBOOK FILE --replace`, or copy it back
    over the state file while no pdca command runs.

    For a PostgreSQL store: the playbook's export (JSON), read in one
    transaction; restore it with `pdca state import`.
    """
    from pdca.playbook.paths import state_dir
    from pdca.state import open_store
    from pdca.state import transfer as t

    pid = _playbook_id(playbook)
    folder = state_dir(playbook) / "backups"
    with open_store(_location(playbook, state_url), create=False) as store:
        if store.kind == "sqlite":
            if not store.available:
                raise _no_state(pid, store.name)
            target = output or t.backup_name(folder, "state", ".db")
            info = t.backup_sqlite(store, target)
            click.echo(
                f"backed up {store.name} to {target} ({info['bytes']:,} bytes, "
                f"{len(info['playbooks'])} playbook(s), integrity ok)"
            )
            return
        doc = t.export_state(store, pid)
        name = store.name
    target = output or t.backup_name(folder, pid, ".json")
    t.write_atomically(target, t.dumps(doc).encode("utf-8"))
    click.echo(f"backed up the state of {pid} from {name} to {target} ({_counts(doc)})")


@state.command("import")
@PLAYBOOK_ARG
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite the playbook's state if the store already has one.",
)
@state_option
def import_cmd(playbook: Path, file: Path, replace: bool, state_url: str | None) -> None:
    """Restore the playbook's state from FILE, in one transaction.

    FILE is a `pdca state export` (or a PostgreSQL backup) or a SQLite backup
    or state file. The target store may be of another kind: export from SQLite
    and import with --state postgresql://... to move a team's state. Refused when
    the playbook already has state there, unless --replace. Other playbooks in
    the store are not touched.
    """
    from pdca.state import open_store
    from pdca.state import transfer as t

    pid = _playbook_id(playbook)
    doc = t.read_source(file, pid)
    with open_store(_location(playbook, state_url), create=True) as store:
        done = t.import_state(store, doc, pid, replace=replace, source=str(file))
        name = store.name
    how = "replaced the state" if done.replaced else "imported the state"
    click.echo(f"{how} of {pid} in {name} from {file} ({_counts(doc)})")


def _counts(doc: dict[str, Any]) -> str:
    from pdca.state.transfer import row_counts

    counts = row_counts(doc)
    shown = ("cycles", "tasks", "attempts", "decisions", "snapshots", "events")
    return ", ".join(f"{counts[k]} {k}" for k in shown)


def _no_state(pid: str, name: str) -> Exception:
    from pdca.errors import StateError

    return StateError(
        f"playbook '{pid}' has no state in {name} (the store does not exist): nothing to "
        "back up; check --state, or run pdca run first"
    )


COMMANDS = (state,)


def register(cli: click.Group) -> None:
    """Add ``pdca state`` to the ``pdca`` group; calling it again changes nothing."""
    for command in COMMANDS:
        if cli.commands.get(command.name or "") is not command:
            cli.add_command(command)
