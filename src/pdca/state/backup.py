"""``pdca state backup`` of a SQLite store: a consistent copy of the whole database file.

The copy is made with SQLite's online backup API in one step, i.e. in one read
transaction: a single moment of the state while other commands keep writing
(WAL readers never block writers). It is then checked with ``PRAGMA
integrity_check`` and switched to a rollback journal, so the backup is a single
self-contained file that can be imported or copied back as it is.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pdca.errors import StateError
from pdca.state.files import is_special, replace_with
from pdca.state.store import Store


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
    if is_special(target):
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

    replace_with(target, fill)
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
