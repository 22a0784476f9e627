"""What only a SQLite state file needs: its pragmas, its locking, its header, its errors.

SQLite is a file on someone's disk, not a server: it has no checksums, reports
locks instead of queueing, and fails with terse codes (SQLITE_FULL,
SQLITE_READONLY_DIRECTORY) that mean nothing to the person running a command.
These pieces turn that into WAL mode with writers serialised, and into one line
that says what happened and what to do.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from pdca.errors import StateError
from pdca.state import schema as s

BUSY_TIMEOUT_MS = 30_000
"""How long SQLite waits for another writer before reporting the database busy."""

SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

_DAMAGED = ("not a database", "malformed", "corrupt", "could not decode", "garbled")
_NOT_OURS = ("no such table", "no such column")


class SharedDialect(SQLiteDialect_pysqlite):
    """SQLAlchemy's pysqlite dialect, one instance for every SQLite state this process opens.

    SQLAlchemy keeps what it learns per dialect instance: each statement's
    compiled SQL (the cache key holds the dialect) and each column type's
    processors. Every state file got an engine of its own, hence a dialect of
    its own, so ``pdca status`` over a hundred playbooks compiled the same ten
    queries a hundred times, a third of reading each state. The dialect has
    no per-file setting (the file is the pool's business), so one instance,
    with one compiled cache (:data:`COMPILED`, given to each engine), serves all.
    """

    supports_statement_cache = True
    _shared: SharedDialect | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> SharedDialect:
        if cls._shared is None:
            cls._shared = super().__new__(cls)
        return cls._shared

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not getattr(self, "_made", False):  # create_engine calls it with the same arguments
            super().__init__(*args, **kwargs)
            self._made = True

    def initialize(self, connection: Any) -> None:
        """Learn the SQLite library's version and defaults once: they are the library's,
        the same for every file (SQLAlchemy asks on each engine's first connection)."""
        if not getattr(self, "_known", False):
            super().initialize(connection)
            self._known = True


DRIVER = "sqlite+pdca"
"""The URL scheme of :class:`SharedDialect` (registered with SQLAlchemy below)."""
COMPILED: Any = sa.util.LRUCache(500)
"""Compiled statements of every SQLite state engine of the process."""
sa.dialects.registry.register("sqlite.pdca", __name__, "SharedDialect")


def engine_options() -> dict[str, Any]:
    """What every SQLite state engine is created with, besides its URL or creator."""
    return {"execution_options": {"compiled_cache": COMPILED}}


def on_connect(dbapi_con: sqlite3.Connection, _record: Any) -> None:
    """Set up each new connection (SQLAlchemy's ``connect`` event).

    pysqlite's own BEGIN handling is switched off: :func:`on_begin` issues the
    BEGIN itself, IMMEDIATE for writers. busy_timeout comes first so that
    switching a new file to WAL waits for a concurrent process instead of failing.
    """
    dbapi_con.isolation_level = None
    cur = dbapi_con.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
    except UnicodeDecodeError as exc:
        # the first statement reads the schema; a damaged one can make SQLite's error
        # message undecodable, which Python raises as UnicodeDecodeError
        raise sqlite3.DatabaseError(f"database disk image is malformed (garbled: {exc})") from None
    finally:
        cur.close()


def on_begin(conn: sa.Connection) -> None:
    """Begin as the connection asks (SQLAlchemy's ``begin`` event).

    Writers take the write lock before they read (IMMEDIATE), so two writers
    cannot both read and then deadlock upgrading their locks.
    """
    mode = conn.get_execution_options().get("pdca_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def is_busy(orig: BaseException | None) -> bool:
    """Whether a failure is another writer still holding the lock: worth a retry."""
    text = str(orig).lower()
    return isinstance(orig, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def check_header(path: Path) -> None:
    """Refuse a non-empty file that is not a SQLite database.

    SQLite reads a file shorter than its 100-byte header as an empty database,
    so a state file cut short would silently start over; an empty (0-byte) file
    is what a first run killed before its first commit leaves, and is new.
    """
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError:
        return  # SQLite reports it, with its own words
    if head and head != SQLITE_MAGIC:
        size = path.stat().st_size
        raise StateError(
            describe(str(path), None, f"not a database: {size} bytes without a SQLite header")
        )


def describe(name: str, orig: sqlite3.Error | None, message: str) -> str:
    """What went wrong with a SQLite state file, and what to do: one line for people.

    Each failed write was rolled back by SQLite (the journal makes that atomic), so
    the state is as the last successful command left it.
    """
    code = str(getattr(orig, "sqlite_errorname", "") or "")
    lower = message.lower()
    if any(word in lower for word in _DAMAGED):
        return (
            f"{name} is not a readable pdca state store ({message}); it may be corrupt: "
            "move it away, then restore a backup (pdca state import, or copy a backup "
            "file in its place), or start a new state"
        )
    if any(word in lower for word in _NOT_OURS):
        return (
            f"{name} does not hold the tables of a pdca state store of schema version "
            f"{s.SCHEMA_VERSION} ({message}); it may be damaged or changed by another "
            "program: move it away and restore a backup"
        )
    if code == "SQLITE_FULL" or "disk is full" in lower:
        return (
            f"cannot write the state store {name}: the disk is full ({message}); the "
            "failed change was rolled back, so the state is as the last successful command "
            "left it: free some space and run the command again"
        )
    if code.startswith("SQLITE_IOERR") or "disk i/o error" in lower:
        return (
            f"cannot use the state store {name}: {message} ({code or 'I/O error'}); a "
            "failed change was rolled back, so the state is as the last successful command "
            "left it: check the disk (free space, quota, file size limit, a network drive "
            "going away) and run the command again"
        )
    if (
        code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN"))
        or "readonly database" in lower
        or "unable to open" in lower
    ) and read_only_fs(Path(name)):
        return read_only_fs_message(name)
    if code == "SQLITE_READONLY_DIRECTORY":
        return (
            f"cannot use the state store {name}: its folder {Path(name).parent} is "
            "read-only for this user, and SQLite must create the -wal and -shm files "
            "beside the state there: make the folder writable, or point --state elsewhere"
        )
    if code.startswith("SQLITE_READONLY") or "readonly database" in lower:
        return (
            f"cannot write the state store {name}: it is read-only for this user "
            f"({message}); this change was not saved: make the file and its folder "
            "writable, or point --state elsewhere"
        )
    if code == "SQLITE_CANTOPEN" or "unable to open" in lower:
        return (
            f"cannot open the state store {name} ({message}): check that its folder "
            "exists and that this user may read and write both"
        )
    return f"state store {name}: {message}"


def file_identity(name: str) -> tuple[int, int] | None:
    """(device, inode) of the state file, or None when there is no file at ``name``."""
    try:
        st = os.stat(name)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def check_identity(name: str, opened: tuple[int, int]) -> None:
    """Refuse to commit when the file at ``name`` is no longer the one this command opened.

    SQLite keeps writing to the file it has open: after the state file was
    deleted (by an automated task, a clean-up job, a person) every commit went
    into a file nobody can open again, and ``pdca run`` reported success while
    everything it recorded was lost. Checked before each commit; the commit is
    rolled back and the command fails.
    """
    now = file_identity(name)
    if now == opened:
        return
    what = "deleted" if now is None else "replaced by another file"
    raise StateError(
        f"the state file {name} was {what} while this command ran (by an automated task, "
        "a clean-up job or a person); this change was not saved, and what was recorded in "
        "the old file is lost with it: restore a backup with pdca state import PLAYBOOK "
        "BACKUP --replace (backups are in .pdca/backups), then run the command again"
    )


def read_only_fs(path: Path) -> bool:
    """Whether ``path`` (or the nearest folder above it that exists) is on a read-only file
    system: a snapshot, a read-only mount, a backup volume."""
    for folder in (path, *path.parents):
        try:
            return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        except OSError:
            continue
    return False


def writable(path: Path) -> bool:
    """Whether this user may write the state file and create its -wal and -shm beside it."""
    return (
        not read_only_fs(path)
        and os.access(path, os.W_OK)
        and os.access(path.parent, os.W_OK | os.X_OK)
    )


def read_only_fs_message(name: str) -> str:
    """Why a writing command cannot use a state on a read-only file system, and what to do."""
    return (
        f"cannot write the state store {name}: it is on a read-only file system (a snapshot "
        "or a read-only mount); this change was not saved. Commands that only read it "
        "(status, history, report, state export, state backup -o FILE) still work: copy "
        "the state elsewhere with pdca state backup PLAYBOOK -o FILE and point --state at "
        "the copy, or mount the file system read-write"
    )


def read_only_engine(path: Path) -> sa.Engine:
    """An engine that only reads the state file, for commands that only read it.

    A state that cannot be written (a snapshot, a read-only mount, a file or folder
    of another user) is still worth reading. SQLite's ``mode=ro`` reads a WAL
    database only when its -wal and -shm files exist (or can be created); when they
    do not, no writer is at work and the file holds the whole state, so it is opened
    ``immutable`` (no locks, no -shm).
    """
    from urllib.parse import quote

    live = all(path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))
    uri = f"file:{quote(str(path))}?{'mode=ro' if live else 'immutable=1'}"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )

    engine = sa.create_engine(
        f"{DRIVER}://", creator=connect, poolclass=sa.pool.NullPool, **engine_options()
    )
    sa.event.listen(engine, "connect", on_connect_read_only)
    sa.event.listen(engine, "begin", on_begin)
    return engine


def on_connect_read_only(dbapi_con: sqlite3.Connection, _record: Any) -> None:
    """Set up a read-only connection: no journal mode to set, nothing to sync."""
    dbapi_con.isolation_level = None
    dbapi_con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
