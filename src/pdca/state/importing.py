"""Writing an export document into a store, in ONE transaction, or not at all.

The whole document is checked first (:mod:`pdca.state.document_check`); then
the playbook's old rows (with ``replace``) are deleted and the new ones
inserted in the same transaction, so a failure halfway leaves the target
store as it was and other playbooks' rows are never touched. The source may
also be a SQLite state file or backup, read read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pdca.errors import StateError
from pdca.state import schema as s
from pdca.state.document import (
    JSON_COLUMNS,
    TABLES,
    columns,
    load_document,
    row_counts,
    upgraded,
)
from pdca.state.document_check import validate
from pdca.state.exporting import export_file
from pdca.state.sqlite import SQLITE_MAGIC
from pdca.state.store import Store


@dataclass
class Imported:
    replaced: bool
    counts: dict[str, int]


def read_source(path: Path, playbook_id: str) -> dict[str, Any]:
    """An export document, from an export's JSON or from a SQLite state file or backup."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise StateError(f"{path}: no such file") from None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head == SQLITE_MAGIC:
        return export_file(path, playbook_id)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StateError(
            f"{path} is not a pdca state export (not UTF-8 text, not a SQLite state file)"
        ) from None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror or exc}") from None
    return load_document(text, str(path))


def import_state(
    store: Store, doc: dict[str, Any], playbook_id: str, *, replace: bool = False, source: str = ""
) -> Imported:
    """Write an export document into the store in one transaction.

    Refused when the playbook already has state in the store, unless ``replace``:
    then its old rows are deleted in the same transaction (other playbooks'
    rows are never touched). Nothing is written when anything fails.
    """
    doc = upgraded(doc)
    problems = validate(doc, playbook_id)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise StateError(
            f"{source or 'the document'} cannot be imported: {shown}{more}; nothing was written"
        )
    tables = doc["tables"]
    with store._errors(), store._connection(write=True) as conn, conn.begin():
        # On SQLite the transaction began IMMEDIATE (the write lock is ours); on
        # PostgreSQL the playbook's row is its write lock: take it before looking.
        pb = s.playbooks.c
        old = conn.execute(
            sa.select(pb.revision).where(pb.id == playbook_id).with_for_update()
            if store.kind == "postgresql"
            else sa.select(pb.revision).where(pb.id == playbook_id)
        ).first()
        present = [name for name, n in _existing(conn, playbook_id).items() if n]
        if present and not replace:
            raise StateError(
                f"playbook '{playbook_id}' already has state in {store.name} "
                f"({', '.join(present)}); nothing was written. Import with --replace to "
                "overwrite it (back it up first: pdca state backup), or into another store "
                "with --state"
            )
        if present:
            # what the replaced state measured is no longer the state's: measured again
            for cache in (s.periods, s.definitions):
                conn.execute(sa.delete(cache).where(cache.c.playbook == playbook_id))
            # the playbook's own row last: on PostgreSQL it is the lock we hold
            for name, table in reversed(TABLES):
                key = table.c.id if name == "playbooks" else table.c.playbook
                conn.execute(sa.delete(table).where(key == playbook_id))
        for name, table in TABLES:
            rows = [_db_row(name, table, row, playbook_id) for row in tables[name]]
            if name == "playbooks" and old is not None:
                # "bumped by every write": a replaced state keeps counting up
                rows[0]["revision"] = max(rows[0]["revision"], int(old.revision) + 1)
            _insert(conn, table, rows)
    return Imported(bool(present), row_counts(doc))


def _existing(conn: sa.Connection, playbook_id: str) -> dict[str, int]:
    """Rows per table the playbook already has in the target store."""
    counts = {}
    for name, table in TABLES:
        key = table.c.id if name == "playbooks" else table.c.playbook
        counts[name] = conn.execute(
            sa.select(sa.func.count()).select_from(table).where(key == playbook_id)
        ).scalar_one()
    return counts


def _db_row(name: str, table: sa.Table, row: dict[str, Any], playbook_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {} if name == "playbooks" else {"playbook": playbook_id}
    for col in columns(name, table):
        value = row[col.name]
        dump = JSON_COLUMNS.get((name, col.name))
        if dump is not None and value is not None:
            value = dump(value)
        elif isinstance(col.type, sa.Float) and value is not None:
            value = float(value)
        out[col.name] = value
    return out


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows keeping their order (the serial ids follow it), in batches."""
    serial = table.name in (s.events.name, s.snapshots.name)
    # multi-row VALUES for serial tables: 80 rows x 11 columns stays under the 999
    # parameters old SQLite builds allow
    size = 80 if serial else 500
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        if serial:
            # one multi-row INSERT ... VALUES: ids are assigned in the rows' order
            conn.execute(sa.insert(table).values(batch))
        else:
            conn.execute(sa.insert(table), batch)
