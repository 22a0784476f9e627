"""Reading one playbook's rows into an export document: from a store, or from a SQLite file.

Everything is read in one transaction (REPEATABLE READ on PostgreSQL, a WAL
snapshot on SQLite), so the document is one moment of the state even while
other commands write; and the document is checked before it is handed out,
because an export that cannot be imported is no backup.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pdca.errors import StateError
from pdca.state import schema as s
from pdca.state.document import (
    FORMAT,
    FORMAT_VERSION,
    JSON_COLUMNS,
    TABLES,
    UPGRADES,
    columns,
    sort_key,
)
from pdca.state.document_check import validate, version_message
from pdca.state.store import Store
from pdca.state.times import now_utc


def read_rows(
    conn: sa.Connection, playbook_id: str, where: str = "the store"
) -> dict[str, list[dict[str, Any]]]:
    """Every row of the playbook, by table, in the document's order (one transaction)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for name, table in TABLES:
        key = table.c.id if name == "playbooks" else table.c.playbook
        present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
        have = [c for c in table.columns if c.name in present]  # an older file lacks some
        query = sa.select(*have).where(key == playbook_id)
        rows = [dict(r._mapping) for r in conn.execute(query)]
        rows.sort(key=sort_key(name, table))
        keep = columns(name, table)
        out = []
        for row in rows:
            doc_row = {}
            for col in keep:
                value = row.get(col.name)  # None for a column an older version lacks
                if (name, col.name) in JSON_COLUMNS and value is not None:
                    try:
                        value = json.loads(value)
                    except ValueError as exc:
                        raise StateError(
                            f"{where} holds damaged state for this playbook (the {name} row "
                            f"{_row_name(name, row)} has damaged JSON in '{col.name}': {exc}); "
                            "it may be corrupt: move it away and restore a backup"
                        ) from None
                elif isinstance(col.type, sa.Boolean) and value is not None:
                    value = bool(value)
                elif isinstance(col.type, sa.Float) and isinstance(value, int):
                    value = float(value)
                doc_row[col.name] = value
            out.append(doc_row)
        tables[name] = out
    return tables


def export_state(store: Store, playbook_id: str) -> dict[str, Any]:
    """The playbook's whole state as an export document; StateError if it has none."""
    if not store.available:
        raise StateError(
            f"playbook '{playbook_id}' has no state in {store.name} (the store does not "
            "exist): nothing to export; check --state, or run pdca run first"
        )
    # One read transaction (REPEATABLE READ on PostgreSQL, a WAL snapshot on SQLite):
    # the document is one moment of the state even while others write.
    with store._errors(), store._connection(write=False) as conn, conn.begin():
        version = _schema_version(conn)
        tables = read_rows(conn, playbook_id, store.name)
    return _document(playbook_id, version, tables, store.name)


def export_file(path: Path, playbook_id: str) -> dict[str, Any]:
    """The playbook's export read from a SQLite state file or backup, opened read-only."""
    uri = f"file:{_quote_uri(path.resolve())}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=30)

    engine = sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn, conn.begin():
            if not sa.inspect(conn).has_table(s.meta.name):
                raise StateError(f"{path} is a SQLite file but not a pdca state store")
            version = _schema_version(conn)
            if version > s.SCHEMA_VERSION or (
                version < s.SCHEMA_VERSION and version not in UPGRADES
            ):
                raise StateError(version_message(str(path), version))
            tables = read_rows(conn, playbook_id, str(path))
            while version < s.SCHEMA_VERSION:  # an older file (a backup) reads as this version
                tables = UPGRADES[version](tables)
                version += 1
    except sa.exc.DBAPIError as exc:
        message = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "error"
        raise StateError(
            f"{path} is not a readable pdca state store ({message}); it may be damaged"
        ) from None
    finally:
        engine.dispose()
    return _document(playbook_id, version, tables, str(path))


def _schema_version(conn: sa.Connection) -> int:
    raw = conn.execute(
        sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
    ).scalar_one_or_none()
    return int(raw) if raw is not None else s.SCHEMA_VERSION


def _quote_uri(path: Path) -> str:
    from urllib.parse import quote

    return quote(str(path), safe="/")


def _row_name(table: str, row: dict[str, Any]) -> str:
    keys = ("number", "cycle", "task", "metric", "objective", "id")
    return ", ".join(f"{k}={row[k]}" for k in keys if k in row) or "?"


def _document(
    playbook_id: str, version: int, tables: dict[str, list[dict[str, Any]]], where: str
) -> dict[str, Any]:
    if not tables["playbooks"]:
        raise StateError(
            f"playbook '{playbook_id}' has no state in {where}: nothing to export; "
            "check --state (and the playbook's id), or run pdca run first"
        )
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": version,
        "playbook": playbook_id,
        "exported": now_utc(),
        "tables": tables,
    }
    # What we write must be importable: a state the import would refuse (a value
    # damaged on disk that SQLite still reads) is reported now, not at restore time.
    problems = validate(doc, playbook_id)
    if problems:
        raise StateError(
            f"the state of playbook '{playbook_id}' in {where} is inconsistent, so it "
            f"cannot be exported faithfully: {problems[0]}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")
            + "; it may be corrupt: restore a backup"
        )
    return doc
