"""The state store: SQLite beside the playbook by default, PostgreSQL for a shared team state.

Both go through SQLAlchemy Core with the same tables (:mod:`pdca.state.schema`).
Each command reads the playbook's :class:`~pdca.state.model.State` and writes
the engine's :class:`~pdca.state.model.Changes` in one transaction
(:meth:`Store.transact`), and writers to one playbook are serialised:

* SQLite runs in WAL mode (readers never wait for the writer) with a busy
  timeout, and write transactions start with ``BEGIN IMMEDIATE``: a writer takes
  the write lock before it reads, so two writers cannot both read, then deadlock
  upgrading their locks ("database is locked" after the timeout, whatever it is).
* PostgreSQL runs in READ COMMITTED; a write transaction first updates the
  playbook's row in ``pdca_playbooks``, which holds that row lock until commit,
  so the next writer waits and then reads what the first one wrote.

Transient failures (a lock still busy after the timeout, a PostgreSQL
serialization failure or deadlock) roll back and re-run the whole transaction,
engine decision included, on a freshly read state: nothing is lost or applied
twice, because nothing was written.

This module opens and connects stores and runs their transactions; the rest
has its own home, re-exported here under the names it always had:
:mod:`~pdca.state.sqlite` (pragmas, locking, file header, error messages),
:mod:`~pdca.state.migrate` (schema version and upgrades),
:mod:`~pdca.state.reading` (rows into the model), :mod:`~pdca.state.writing`
(Changes into rows), :mod:`~pdca.state.periods` (the period cache's rows) and
:mod:`~pdca.state.times`.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from pdca.errors import PdcaError, StateError
from pdca.playbook.paths import STATE_FILE as STATE_FILE
from pdca.state import events, migrate, periods, reading, sqlite, writing
from pdca.state import schema as s
from pdca.state.location import check_location, redact, redact_url
from pdca.state.model import Attempt as Attempt
from pdca.state.model import Changes, Event, PlaybookRef, State
from pdca.state.model import CycleState as CycleState
from pdca.state.model import Decision as Decision
from pdca.state.model import Lesson as Lesson
from pdca.state.model import Snapshot as Snapshot
from pdca.state.model import TaskState as TaskState
from pdca.state.sqlite import BUSY_TIMEOUT_MS
from pdca.state.sqlite import SQLITE_MAGIC as SQLITE_MAGIC
from pdca.state.times import now_utc, parse_utc

T = TypeVar("T")

RETRY_FOR_SECONDS = 120.0
"""How long a transaction keeps retrying transient lock and serialization failures."""
PG_SCHEMA_LOCK = 0x7064_6361  # "pdca": serialises schema creation and migration
PG_PERIODS_LOCK = 0x7064_6370  # "pdcp": with the playbook's hash, one cache writer at a time
PG_RETRY_STATES = frozenset({"40001", "40P01", "55P03"})

_PG_ENGINES: dict[str, sa.Engine] = {}
"""PostgreSQL engines of this process by URL. Closing a store disposes of its
connections, not of the engine: the next store on the same URL (the next playbook
of ``pdca status`` over a team's shared state) reuses its dialect and the
statements it compiled instead of compiling them again."""

# The SQLite connection hooks, looked up here (not in pdca.state.sqlite) each time
# an engine is made, so that patching them on this module reaches new stores.
_sqlite_connect = sqlite.on_connect
_sqlite_begin = sqlite.on_begin

# Names this module has always offered (``X as X`` above re-exports the model's
# and SQLite's; these are the helpers as they were called when they lived here).
_check_sqlite_header = sqlite.check_header
_describe_sqlite = sqlite.describe
_DAMAGED = sqlite._DAMAGED
_NOT_OURS = sqlite._NOT_OURS
_attempt = reading._attempt
_decision = reading._decision
_implausible = reading._implausible
_insert_ignore = writing._insert_ignore


def resolve_location(location: str | os.PathLike[str]) -> tuple[str, str]:
    """(SQLAlchemy URL, name to show people) for a URL, a state file or a ``.pdca`` folder."""
    text = os.fspath(location)
    if "://" in text:
        for bare in ("postgresql://", "postgres://"):
            if text.startswith(bare):
                text = "postgresql+psycopg://" + text[len(bare) :]
        try:
            url = sa.engine.make_url(text)
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise StateError(
                f"state URL '{redact_url(text)}' is not valid: {redact(str(exc), text)}"
            ) from None
        if url.get_backend_name() == "sqlite":
            return text, url.database or ":memory:"
        if url.get_backend_name() != "postgresql":
            raise StateError(
                f"state URL '{redact_url(text)}': only sqlite and postgresql are supported"
            )
        return text, redact_url(text)
    path = Path(text).expanduser()
    if path.is_dir() or text.endswith(("/", os.sep)):
        path = path / STATE_FILE
    path = path.resolve()
    return f"sqlite:///{path}", str(path)


def open_store(location: str | os.PathLike[str], *, create: bool = True) -> Store:
    """The store at a PostgreSQL URL, a SQLite file or a ``.pdca`` folder.

    With ``create=False`` a missing SQLite file is not created: read-only
    commands (status, history) then see an empty state instead of leaving files
    behind.
    """
    check_location(location)
    url, name = resolve_location(location)
    store = Store(url, name)
    try:
        store.prepare(create=create)
    except BaseException:
        store.close()
        raise
    return store


class Store:
    """One state store. Use :func:`open_store`; close it (or use ``with``) when done."""

    def __init__(self, url: str, name: str):
        self.url = url
        self.name = name
        self.kind = sa.engine.make_url(url).get_backend_name()
        self.available = True
        self.read_only = False
        """A SQLite state this command only reads and may not write: opened read-only."""
        self._engine: sa.Engine | None = None
        self._identity: tuple[int, int] | None = None

    # -- connection and schema ------------------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> sa.Engine:
        if self.kind == "sqlite" and self.read_only:
            return sqlite.read_only_engine(Path(self.name))
        if self.kind == "sqlite":
            engine = sa.create_engine(
                sa.engine.make_url(self.url).set(drivername=sqlite.DRIVER),
                connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
                **sqlite.engine_options(),
            )
            sa_event.listen(engine, "connect", _sqlite_connect)
            sa_event.listen(engine, "begin", _sqlite_begin)
            return engine
        engine = _PG_ENGINES.get(self.url)
        if engine is None:
            engine = sa.create_engine(
                self.url,
                isolation_level="READ COMMITTED",
                connect_args={"connect_timeout": 10},
            )
            _PG_ENGINES[self.url] = engine
        return engine

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def prepare(self, *, create: bool = True) -> None:
        """Check the schema version; create or migrate the tables when allowed to."""
        if self.kind == "sqlite":
            path = Path(self.name)
            if self.name != ":memory:" and create and sqlite.read_only_fs(path):
                raise StateError(sqlite.read_only_fs_message(self.name))
            if self.name != ":memory:" and not path.exists():
                if not create:
                    self.available = False
                    return
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StateError(
                        f"cannot create the state folder {path.parent}: {exc}"
                    ) from None
            elif self.name != ":memory:":
                sqlite.check_header(path)
                # a command that only reads opens a state it may not write read-only
                self.read_only = not create and not sqlite.writable(path)
        with self._errors():
            with self._connection(write=False) as conn, conn.begin():
                version = migrate.stored_version(conn, self.kind, self.name)
            if version == s.SCHEMA_VERSION:
                self._remember_file()
                return
            if version is None and not create:
                self.available = False
                return
            with self._connection(write=True) as conn, conn.begin():
                if self.kind == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_SCHEMA_LOCK)))
                migrate.upgrade(conn, self.name, migrate.stored_version(conn, self.kind, self.name))
        self._remember_file()

    def _remember_file(self) -> None:
        """Note which SQLite file is open, so that a commit can tell it was deleted since."""
        self._identity = sqlite.file_identity(self.name) if self.kind == "sqlite" else None

    @contextmanager
    def _connection(self, *, write: bool) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            if self.kind == "sqlite":
                conn = conn.execution_options(pdca_begin="IMMEDIATE" if write else "DEFERRED")
            elif not write:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Database failures become StateError naming the store, never a traceback."""
        try:
            yield
        except PdcaError:
            raise
        except sa.exc.DBAPIError as exc:
            raise StateError(redact(self._describe(exc), self.url)) from None
        except sa.exc.SQLAlchemyError as exc:
            raise StateError(redact(f"state store {self.name}: {exc}", self.url)) from None
        except UnicodeDecodeError as exc:
            # Python's sqlite3 cannot decode an error message that quotes damaged bytes
            if self.kind != "sqlite":
                raise
            raise StateError(sqlite.describe(self.name, None, f"garbled text: {exc}")) from None

    def _describe(self, exc: sa.exc.DBAPIError) -> str:
        orig = exc.orig
        message = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        if self.kind == "sqlite" and isinstance(orig, sqlite3.Error):
            return sqlite.describe(self.name, orig, message)
        if self.kind == "postgresql" and isinstance(exc, sa.exc.OperationalError):
            return f"cannot use the state store {self.name}: {message}"
        return f"state store {self.name}: {message}"

    # -- transactions ---------------------------------------------------------------

    def read(self, playbook_id: str, cycle: int | None = None) -> State:
        """The playbook's state as of now, read in one consistent transaction.

        ``cycle`` reads an earlier cycle as it was kept (every row is keyed by its
        cycle): its tasks, baselines, snapshot and decisions, with the lessons up
        to it. A cycle that does not exist gives a state without a cycle.
        """
        if not self.available:
            return State(playbook_id)
        with self._errors(), self._connection(write=False) as conn, conn.begin():
            row = conn.execute(
                sa.select(s.playbooks.c.revision).where(s.playbooks.c.id == playbook_id)
            ).first()
            return reading.load(conn, self.name, playbook_id, row[0] if row else 0, cycle)

    def history(
        self,
        playbook_id: str,
        *,
        cycle: int | None = None,
        subject: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """Cycles, decisions, attempts and events (oldest first) for ``pdca history``."""
        empty: dict[str, Any] = {"cycles": [], "decisions": [], "attempts": [], "events": []}
        if not self.available:
            return empty
        with self._errors(), self._connection(write=False) as conn, conn.begin():
            return reading.history(
                conn, self.name, playbook_id, cycle=cycle, subject=subject, limit=limit
            )

    def events(self, playbook_id: str, kinds: Iterable[str]) -> list[Event]:
        """The playbook's audit events of these kinds, oldest first, across all cycles."""
        if not self.available:
            return []
        with self._errors(), self._connection(write=False) as conn, conn.begin():
            return events.query(conn, playbook_id, kinds=list(kinds))

    def read_periods(self, playbook_id: str, metrics: Iterable[str]) -> dict[str, periods.Kept]:
        """The period cache of these metrics: definitions and their periods."""
        if not self.available:
            return {}
        with self._errors(), self._connection(write=False) as conn, conn.begin():
            return periods.read(conn, playbook_id, metrics)

    def keep_periods(self, playbook_id: str, keeps: list[periods.Keep]) -> bool:
        """Write the period cache in one transaction, retried like :meth:`transact`.

        It is derived data, not the playbook's state: the revision is not bumped and
        no event is written. A state this command may not write (read-only) keeps
        its cache as it was; False then, True when written.
        """
        if not self.available or self.read_only or not keeps:
            return False

        def write_once() -> bool:
            try:
                with self._connection(write=True) as conn, conn.begin():
                    if self.kind == "postgresql":
                        key = zlib.crc32(playbook_id.encode())
                        conn.execute(
                            sa.select(sa.func.pg_advisory_xact_lock(PG_PERIODS_LOCK, key - 2**31))
                        )
                    periods.write(conn, playbook_id, keeps)
            except sa.exc.DBAPIError as exc:
                if self._transient(exc):
                    raise _Retry from exc
                raise
            return True

        return self._retrying(write_once)

    def _retrying(self, once: Callable[[], T]) -> T:
        """Run ``once`` until it does not raise :class:`_Retry`, up to the retry deadline."""
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        delay = 0.02
        while True:
            try:
                with self._errors():
                    return once()
            except _Retry:
                if time.monotonic() > deadline:
                    raise StateError(
                        f"state store {self.name} stayed busy for {RETRY_FOR_SECONDS:.0f} s; "
                        "another pdca command holds it"
                    ) from None
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)

    def transact(
        self,
        ref: PlaybookRef,
        decide: Callable[[State], tuple[Changes, T]],
        *,
        known: State | None = None,
    ) -> T:
        """Read the state, let ``decide`` work out the changes, write them; all or nothing.

        ``decide`` must be a function of the state alone: after a transient
        failure it is called again on the state read in the retry.

        ``known`` is the state as this caller left it (its revision that of the
        caller's last write): when the revision this transaction takes is the next
        one, nobody wrote in between, and ``decide`` gets ``known`` (at the new
        revision) instead of a read of every row. Every write bumps the revision
        (:func:`~pdca.state.writing.lock`, an import), so a state another command
        changed is always read afresh. ``decide`` can tell which it got: the state
        is ``known``'s exactly when its revision is ``known.revision + 1``.
        """
        if not self.available:
            raise StateError(f"state store {self.name} does not exist")
        return self._retrying(lambda: self._transact_once(ref, decide, known))

    def _transact_once(
        self,
        ref: PlaybookRef,
        decide: Callable[[State], tuple[Changes, T]],
        known: State | None,
    ) -> T:
        try:
            with self._connection(write=True) as conn, conn.begin():
                revision = writing.lock(conn, self.kind, ref)
                follows = known is not None and known.playbook == ref.id
                if known is not None and follows and revision == known.revision + 1:
                    state = replace(known, revision=revision)
                else:
                    state = reading.load(conn, self.name, ref.id, revision)
                changes, value = decide(state)
                if changes:
                    writing.apply(conn, state, changes)
                    if self._identity is not None:  # a SQLite file: is it still the one opened?
                        sqlite.check_identity(self.name, self._identity)
                return value
        except sa.exc.DBAPIError as exc:
            if self._transient(exc):
                raise _Retry from exc
            raise

    def _transient(self, exc: sa.exc.DBAPIError) -> bool:
        if self.kind == "sqlite":
            return sqlite.is_busy(exc.orig)
        return getattr(exc.orig, "sqlstate", None) in PG_RETRY_STATES


class _Retry(Exception):
    """A transient failure: run the transaction again."""


__all__ = [
    "Event",
    "PlaybookRef",
    "Store",
    "now_utc",
    "open_store",
    "parse_utc",
    "resolve_location",
]
