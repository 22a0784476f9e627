"""Back up, export and import one playbook's state: ``pdca state backup|export|import``.

An **export** is one JSON document holding every row the store keeps for one
playbook, read in one consistent transaction::

    {"format": "pdca-state", "format_version": 1, "schema_version": 1,
     "playbook": "desk", "exported": "2026-01-05T09:00:00.000Z",
     "tables": {"playbooks": [...], "cycles": [...], "tasks": [...], ...}}

* Tables come in :data:`TABLES` order, rows sorted by their key (Python's
  string order, so SQLite and PostgreSQL export the same state identically),
  columns in the table's order. The ``playbook`` key column is left out of the
  rows: the document is about one playbook, named at the top.
* The audit log's and the snapshots' row ids are left out too: rows come in id
  order and an import appends them in that order, so the target store numbers
  them (its ids may differ, the order never does).
* ``report`` (snapshots) and ``data`` (events), which the store keeps as JSON
  text, are embedded as JSON values and written back the way the store writes
  them.

An **import** checks the whole document first (format, versions, the playbook
id, every column's type, length and allowed values, keys unique, rows pointing
at cycles and tasks that exist) and then writes it in ONE transaction: a failure
halfway leaves the target store as it was. Export, import into an empty store,
export again gives the same document apart from ``exported``.

A **backup** of a SQLite store is a copy of the whole database file made with
SQLite's online backup API: one read transaction, so it is consistent while
other commands keep writing (WAL readers never block writers), checked with
``PRAGMA integrity_check`` and switched to a rollback journal so it is a single
self-contained file. A PostgreSQL store has no file to copy; its backup is the
export document (pg_dump would need a client of the server's version and
rights on the whole database; the export needs neither and is read in one
REPEATABLE READ transaction, so it is just as consistent).

The import also takes such a SQLite backup (or any pdca state file) as its
source: the playbook's rows are read from it, read-only.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pdca.errors import StateError
from pdca.state import schema as s
from pdca.state.model import CYCLE_PHASES, DECISIONS, TASK_STATUSES
from pdca.state.store import Store, now_utc, parse_utc

FORMAT = "pdca-state"
FORMAT_VERSION = 1
"""Bumped when the document's layout changes (not when a table does: that is schema_version)."""

TABLES: tuple[tuple[str, sa.Table], ...] = (
    ("playbooks", s.playbooks),
    ("cycles", s.cycles),
    ("tasks", s.tasks),
    ("attempts", s.attempts),
    ("baselines", s.baselines),
    ("decisions", s.decisions),
    ("snapshots", s.snapshots),
    ("events", s.events),
)
SERIAL = frozenset({"snapshots", "events"})
"""Tables whose rows are numbered by the store (``id``): exported in id order, without it."""

JSON_COLUMNS: dict[tuple[str, str], Callable[[Any], str]] = {
    # exactly as the store writes them (pdca.state.store._apply, Event.data_json)
    ("snapshots", "report"): lambda v: json.dumps(v, default=str),
    ("events", "data"): lambda v: json.dumps(v, sort_keys=True, default=str),
}

ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("cycles", "phase"): frozenset(CYCLE_PHASES),
    ("tasks", "status"): frozenset(TASK_STATUSES),
    ("tasks", "phase"): frozenset(p for p in CYCLE_PHASES if p != "closed"),
    ("attempts", "outcome"): frozenset({"running", "ok", "failed", "interrupted"}),
    ("decisions", "proposed"): frozenset(DECISIONS),
    ("decisions", "decision"): frozenset(DECISIONS),
}

TIMES = frozenset(
    {"created", "started", "phase_since", "closed", "updated", "finished", "taken", "at"}
    | {"decided", "as_of"}
)
"""Columns holding an ISO 8601 time (or date, as_of): checked to parse."""

SQLITE_MAGIC = b"SQLite format 3\x00"


def columns(name: str, table: sa.Table) -> list[sa.Column[Any]]:
    """The columns a document carries for a table (no playbook key, no serial id)."""
    skip = {"playbook"} | ({"id"} if name in SERIAL else set())
    return [c for c in table.columns if c.name not in skip]


def _sort_key(name: str, table: sa.Table) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if name in SERIAL:
        return lambda row: (row["id"],)
    keys = [c.name for c in table.primary_key.columns if c.name != "playbook"]
    return lambda row: tuple(row[k] for k in keys)


# -- export -----------------------------------------------------------------------------


def read_rows(
    conn: sa.Connection, playbook_id: str, where: str = "the store"
) -> dict[str, list[dict[str, Any]]]:
    """Every row of the playbook, by table, in the document's order (one transaction)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for name, table in TABLES:
        key = table.c.id if name == "playbooks" else table.c.playbook
        rows = [dict(r._mapping) for r in conn.execute(sa.select(table).where(key == playbook_id))]
        rows.sort(key=_sort_key(name, table))
        keep = columns(name, table)
        out = []
        for row in rows:
            doc_row = {}
            for col in keep:
                value = row[col.name]
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


def _schema_version(conn: sa.Connection) -> int:
    raw = conn.execute(
        sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
    ).scalar_one_or_none()
    return int(raw) if raw is not None else s.SCHEMA_VERSION


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
            if version != s.SCHEMA_VERSION:
                raise StateError(_version_message(str(path), version))
            tables = read_rows(conn, playbook_id, str(path))
    except sa.exc.DBAPIError as exc:
        message = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "error"
        raise StateError(
            f"{path} is not a readable pdca state store ({message}); it may be damaged"
        ) from None
    finally:
        engine.dispose()
    return _document(playbook_id, version, tables, str(path))


def _quote_uri(path: Path) -> str:
    from urllib.parse import quote

    return quote(str(path), safe="/")


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


def dumps(doc: dict[str, Any]) -> str:
    """The document as text: stable, readable, one line per value."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def row_counts(doc: dict[str, Any]) -> dict[str, int]:
    return {name: len(rows) for name, rows in doc["tables"].items()}


# -- validation -------------------------------------------------------------------------


def load_document(text: str, source: str) -> dict[str, Any]:
    """Parse an export's text; StateError naming the file when it is not one."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise StateError(f"{source} is not a pdca state export: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateError(
            f'{source} is not a pdca state export (it has no "format": "{FORMAT}"); '
            "make one with: pdca state export PLAYBOOK -o FILE"
        )
    return doc


def validate(doc: dict[str, Any], playbook_id: str) -> list[str]:
    """Every problem that would keep the document from being imported as it is."""
    fv = doc.get("format_version")
    if not _is_int(fv):
        return ['"format_version" must be a whole number']
    if fv > FORMAT_VERSION:
        return [
            f"it was written by a newer pdca (export format {fv}; this pdca reads format "
            f"{FORMAT_VERSION}); upgrade pdca to import it"
        ]
    if fv < 1:
        return [f'"format_version" {fv} is not valid']
    sv = doc.get("schema_version")
    if not _is_int(sv):
        return ['"schema_version" must be a whole number']
    if sv != s.SCHEMA_VERSION:
        return [_version_message("it", sv)]
    if doc.get("playbook") != playbook_id:
        return [
            f"it holds the state of playbook {json.dumps(doc.get('playbook'))}, not of "
            f"'{playbook_id}'; import it with the playbook it belongs to"
        ]
    if not isinstance(doc.get("exported"), str):
        return ['"exported" must be a time (text)']
    tables = doc.get("tables")
    if not isinstance(tables, dict):
        return ['"tables" must be an object with one list of rows per table']
    known = [name for name, _ in TABLES]
    problems = [f'unknown table "{name}"' for name in tables if name not in known]
    problems += [f'table "{name}" is missing' for name in known if name not in tables]
    if problems:
        return problems
    for name, table in TABLES:
        rows = tables[name]
        if not isinstance(rows, list):
            problems.append(f'"{name}" must be a list of rows')
            continue
        cols = columns(name, table)
        wanted = {c.name for c in cols}
        for i, row in enumerate(rows):
            where = f"{name}[{i}]"
            if not isinstance(row, dict):
                problems.append(f"{where} must be an object")
                continue
            extra = sorted(set(row) - wanted)
            missing = [c.name for c in cols if c.name not in row]
            if extra:
                problems.append(f"{where} has unknown columns: {', '.join(extra)}")
            if missing:
                problems.append(f"{where} lacks columns: {', '.join(missing)}")
            for col in cols:
                if col.name in row:
                    problem = _check_value(name, col, row[col.name])
                    if problem:
                        problems.append(f"{where}.{col.name} {problem}")
        if len(problems) > 20:
            return problems
    if problems:
        return problems
    return _check_references(tables, playbook_id)


def _check_value(table: str, col: sa.Column[Any], value: Any) -> str | None:
    if value is None:
        if col.nullable and not col.primary_key:
            return None
        return "must not be null"
    kind = col.type
    if (table, col.name) in JSON_COLUMNS:
        if col.name == "report" and not isinstance(value, dict):
            return "must be a JSON object"
        try:
            JSON_COLUMNS[(table, col.name)](value)
        except (TypeError, ValueError) as exc:
            return f"cannot be stored as JSON ({exc})"
        return None
    if isinstance(kind, sa.Boolean):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(kind, sa.Integer):
        if not _is_int(value):
            return f"must be a whole number, not {json.dumps(value)}"
        if not -(2**31) <= value < 2**31:
            return f"{value} is out of range"
        return None
    if isinstance(kind, sa.Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, not {json.dumps(value)}"
        try:
            float(value)
        except OverflowError:
            return "is out of range"
        return None
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            return f"must be text, not {json.dumps(value)}"
        if kind.length is not None and len(value) > kind.length:
            return f"is longer than {kind.length} characters"
        if "\x00" in value:
            return "must not contain NUL characters"
        allowed = ALLOWED.get((table, col.name))
        if allowed is not None and value not in allowed:
            return f"is {json.dumps(value)}; allowed: {', '.join(sorted(allowed))}"
        if col.name in TIMES and parse_utc(value) is None:
            return f"is {json.dumps(value)}, not a time (ISO 8601)"
        return None
    return None  # pragma: no cover - every column type is handled above


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_references(tables: dict[str, list[dict[str, Any]]], playbook_id: str) -> list[str]:
    problems: list[str] = []
    pbs = tables["playbooks"]
    if len(pbs) != 1 or pbs[0]["id"] != playbook_id:
        problems.append(f'"playbooks" must hold exactly one row, with id "{playbook_id}"')
    for name, table in TABLES:
        if name in SERIAL:
            continue
        keys = [c.name for c in table.primary_key.columns if c.name != "playbook"]
        seen: set[tuple[Any, ...]] = set()
        for i, row in enumerate(tables[name]):
            key = tuple(row[k] for k in keys)
            if key in seen:
                problems.append(f"{name}[{i}] repeats the key {dict(zip(keys, key, strict=True))}")
            seen.add(key)
    cycles = {row["number"] for row in tables["cycles"]}
    task_keys = {(row["cycle"], row["task"]) for row in tables["tasks"]}
    for name in ("tasks", "attempts", "baselines", "decisions", "snapshots", "events"):
        for i, row in enumerate(tables[name]):
            cycle = row["cycle"]
            if cycle is not None and cycle not in cycles:
                problems.append(f"{name}[{i}] belongs to cycle {cycle}, which is not in cycles")
    for i, row in enumerate(tables["attempts"]):
        if (row["cycle"], row["task"]) not in task_keys:
            problems.append(
                f"attempts[{i}] is a run of task '{row['task']}' in cycle {row['cycle']}, "
                "which is not in tasks"
            )
    return problems


def _version_message(where: str, version: int) -> str:
    if version > s.SCHEMA_VERSION:
        return (
            f"{where} was written by a newer pdca (state schema version {version}; this pdca "
            f"reads up to version {s.SCHEMA_VERSION}); upgrade pdca to import it"
        )
    return (
        f"{where} holds state schema version {version}, and this pdca imports version "
        f"{s.SCHEMA_VERSION}: import it with the pdca that wrote it, then open the store "
        "with this pdca (it migrates stores in place) and export again"
    )


def _row_name(table: str, row: dict[str, Any]) -> str:
    keys = ("number", "cycle", "task", "metric", "objective", "id")
    return ", ".join(f"{k}={row[k]}" for k in keys if k in row) or "?"


# -- import -----------------------------------------------------------------------------


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


# -- files ------------------------------------------------------------------------------


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, fsync, rename.

    A device or a pipe (``-o /dev/stdout``, a FIFO) is written in place: renaming
    over it would replace the device with a file.
    """
    if _special(path):
        try:
            with path.open("wb") as f:
                f.write(data)
        except OSError as exc:
            raise StateError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    _replace_with(path, lambda tmp: tmp.write_bytes(data))


def _special(path: Path) -> bool:
    """Is ``path`` something other than a regular file or a folder (a device, a pipe)?"""
    try:
        return path.exists() and not path.is_file() and not path.is_dir()
    except OSError:
        return False


def _replace_with(path: Path, fill: Callable[[Path], None]) -> None:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StateError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
        fill(tmp)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(folder)
    except OSError as exc:
        raise StateError(
            f"cannot write {path}: {exc.strerror or exc}; nothing was written"
            + (" (the file there is unchanged)" if path.exists() else "")
        ) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def backup_name(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem-20260105T090000Z.suffix``, numbered when that name is taken."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stem}-{stamp}{suffix}"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{stamp}-{n}{suffix}"
        n += 1
    return path


def backup_sqlite(store: Store, target: Path) -> dict[str, Any]:
    """A consistent copy of a SQLite store's file at ``target``; returns what was copied."""
    if store.kind != "sqlite" or store.name == ":memory:":
        raise StateError(f"{store.name} is not a SQLite file; export it instead")
    live = Path(store.name).resolve()
    if target.resolve() in {
        live,
        live.with_name(live.name + "-wal"),
        live.with_name(live.name + "-shm"),
    }:
        raise StateError(f"{target} is the state store itself; back it up to another file")
    if _special(target):
        raise StateError(f"{target} is not a regular file (a device or a pipe); back up to a file")
    info: dict[str, Any] = {}

    def fill(tmp: Path) -> None:
        with store._errors(), _raw_sqlite(store) as src, _sqlite_errors(store.name, target):
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                # pages=-1: the whole database in one step, i.e. in one read
                # transaction on the source: a single moment of the state.
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
                check = [r[0] for r in dst.execute("PRAGMA integrity_check").fetchall()]
                if check != ["ok"]:
                    raise StateError(
                        f"the backup of {store.name} failed its integrity check "
                        f"({'; '.join(check[:3])}); the store may be damaged: nothing was "
                        "written"
                    )
                info["pages"] = dst.execute("PRAGMA page_count").fetchone()[0]
                info["playbooks"] = [
                    r[0] for r in dst.execute("SELECT id FROM pdca_playbooks ORDER BY id")
                ]
            finally:
                dst.close()

    _replace_with(target, fill)
    info["bytes"] = target.stat().st_size
    return info


@contextlib.contextmanager
def _sqlite_errors(source: str, target: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise StateError(
            f"cannot back up {source} to {target}: {exc}; nothing was written"
        ) from None


@contextlib.contextmanager
def _raw_sqlite(store: Store) -> Iterator[sqlite3.Connection]:
    """The sqlite3 connection under one of the store's pooled connections."""
    raw = store.engine.raw_connection()
    try:
        yield raw.driver_connection  # type: ignore[misc]
    finally:
        raw.close()


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TABLES",
    "Imported",
    "backup_name",
    "backup_sqlite",
    "dumps",
    "export_file",
    "export_state",
    "import_state",
    "load_document",
    "read_source",
    "row_counts",
    "validate",
    "write_atomically",
]
