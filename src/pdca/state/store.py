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
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from pdca.errors import PdcaError, StateError
from pdca.state import schema as s
from pdca.state.location import check_location
from pdca.state.model import (
    Attempt,
    Changes,
    CycleState,
    Decision,
    Event,
    Lesson,
    Snapshot,
    State,
    TaskState,
)

T = TypeVar("T")

STATE_FILE = "state.db"
BUSY_TIMEOUT_MS = 30_000
"""How long SQLite waits for another writer before reporting the database busy."""
RETRY_FOR_SECONDS = 120.0
"""How long a transaction keeps retrying transient lock and serialization failures."""
PG_SCHEMA_LOCK = 0x7064_6361  # "pdca": serialises schema creation and migration
PG_RETRY_STATES = frozenset({"40001", "40P01", "55P03"})


def now_utc() -> str:
    """Timestamps as the store keeps them: ISO 8601 UTC, to the millisecond, so that
    they sort as text and order the runs of one busy second."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class PlaybookRef:
    """What the store records about the playbook a transaction is for."""

    id: str
    title: str | None = None
    path: str | None = None


def resolve_location(location: str | os.PathLike[str]) -> tuple[str, str]:
    """(SQLAlchemy URL, name to show people) for a URL, a state file or a ``.pdca`` folder."""
    text = os.fspath(location)
    if "://" in text:
        for bare in ("postgresql://", "postgres://"):
            if text.startswith(bare):
                text = "postgresql+psycopg://" + text[len(bare) :]
        try:
            url = sa.engine.make_url(text)
        except sa.exc.ArgumentError as exc:
            raise StateError(f"state URL '{text}' is not valid: {exc}") from None
        if url.get_backend_name() == "sqlite":
            return text, url.database or ":memory:"
        if url.get_backend_name() != "postgresql":
            raise StateError(
                f"state URL '{url.render_as_string(hide_password=True)}': only sqlite and "
                "postgresql are supported"
            )
        return text, url.render_as_string(hide_password=True)
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
        self._engine: sa.Engine | None = None

    # -- connection and schema ------------------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> sa.Engine:
        if self.kind == "sqlite":
            engine = sa.create_engine(self.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            sa_event.listen(engine, "connect", _sqlite_connect)
            sa_event.listen(engine, "begin", _sqlite_begin)
            return engine
        return sa.create_engine(
            self.url,
            isolation_level="READ COMMITTED",
            connect_args={"connect_timeout": 10},
        )

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
                _check_sqlite_header(path)
        with self._errors():
            with self._connection(write=False) as conn, conn.begin():
                version = self._version(conn)
            if version == s.SCHEMA_VERSION:
                return
            if version is None and not create:
                self.available = False
                return
            with self._connection(write=True) as conn, conn.begin():
                if self.kind == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_SCHEMA_LOCK)))
                self._upgrade(conn, self._version(conn))

    def _version(self, conn: sa.Connection) -> int | None:
        """The stored schema version; None for an empty store; StateError when it is not ours."""
        inspector = sa.inspect(conn)
        if not inspector.has_table(s.meta.name):
            if self.kind == "sqlite":
                others = inspector.get_table_names()
                if others:
                    raise StateError(
                        f"{self.name} is not a pdca state store (it holds tables "
                        f"{', '.join(sorted(others)[:5])}); point --state elsewhere"
                    )
            return None
        raw = conn.execute(
            sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
        ).scalar_one_or_none()
        try:
            version = int(raw) if raw is not None else None
        except ValueError:
            version = None
        if version is None:
            raise StateError(
                f"{self.name}: the state store has no valid schema version ({raw!r} in "
                f"{s.meta.name}); it may be damaged or changed by hand: move it away and "
                "restore a backup"
            )
        if version > s.SCHEMA_VERSION:
            raise StateError(
                f"{self.name} was written by a newer pdca (state schema version {version}; "
                f"this pdca reads up to version {s.SCHEMA_VERSION}); upgrade pdca to use it"
            )
        return version

    def _upgrade(self, conn: sa.Connection, version: int | None) -> None:
        if version is None:
            s.metadata.create_all(conn)
            conn.execute(
                sa.insert(s.meta),
                [
                    {"key": "schema_version", "value": str(s.SCHEMA_VERSION)},
                    {"key": "created", "value": now_utc()},
                ],
            )
            return
        while version < s.SCHEMA_VERSION:
            step = s.MIGRATIONS.get(version)
            if step is None:
                raise StateError(
                    f"{self.name}: no migration from state schema version {version} "
                    f"to {version + 1}"
                )
            step(conn)
            version += 1
        conn.execute(
            sa.update(s.meta).where(s.meta.c.key == "schema_version").values(value=str(version))
        )

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
            raise StateError(self._describe(exc)) from None
        except sa.exc.SQLAlchemyError as exc:
            raise StateError(f"state store {self.name}: {exc}") from None
        except UnicodeDecodeError as exc:
            # Python's sqlite3 cannot decode an error message that quotes damaged bytes
            if self.kind != "sqlite":
                raise
            raise StateError(_describe_sqlite(self.name, None, f"garbled text: {exc}")) from None

    def _describe(self, exc: sa.exc.DBAPIError) -> str:
        orig = exc.orig
        message = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        if self.kind == "sqlite" and isinstance(orig, sqlite3.Error):
            return _describe_sqlite(self.name, orig, message)
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
            return self._load(conn, playbook_id, row[0] if row else 0, cycle)

    def transact(self, ref: PlaybookRef, decide: Callable[[State], tuple[Changes, T]]) -> T:
        """Read the state, let ``decide`` work out the changes, write them; all or nothing.

        ``decide`` must be a function of the state alone: after a transient
        failure it is called again on the state read in the retry.
        """
        if not self.available:
            raise StateError(f"state store {self.name} does not exist")
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        delay = 0.02
        while True:
            try:
                with self._errors():
                    return self._transact_once(ref, decide)
            except _Retry:
                if time.monotonic() > deadline:
                    raise StateError(
                        f"state store {self.name} stayed busy for {RETRY_FOR_SECONDS:.0f} s; "
                        "another pdca command holds it"
                    ) from None
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)

    def _transact_once(self, ref: PlaybookRef, decide: Callable[[State], tuple[Changes, T]]) -> T:
        try:
            with self._connection(write=True) as conn, conn.begin():
                revision = self._lock(conn, ref)
                state = self._load(conn, ref.id, revision)
                changes, value = decide(state)
                if changes:
                    self._apply(conn, state, changes)
                return value
        except sa.exc.DBAPIError as exc:
            if self._transient(exc):
                raise _Retry from exc
            raise

    def _transient(self, exc: sa.exc.DBAPIError) -> bool:
        orig = exc.orig
        if self.kind == "sqlite":
            text = str(orig).lower()
            return isinstance(orig, sqlite3.OperationalError) and (
                "locked" in text or "busy" in text
            )
        return getattr(orig, "sqlstate", None) in PG_RETRY_STATES

    def _lock(self, conn: sa.Connection, ref: PlaybookRef) -> int:
        """Take the playbook's write lock (its row) and bump its revision."""
        bump = (
            sa.update(s.playbooks)
            .where(s.playbooks.c.id == ref.id)
            .values(revision=s.playbooks.c.revision + 1, title=ref.title, path=ref.path)
            .returning(s.playbooks.c.revision)
        )
        revision = conn.execute(bump).scalar_one_or_none()
        if revision is None:
            insert = _insert_ignore(self.kind, s.playbooks).values(
                id=ref.id, title=ref.title, path=ref.path, created=now_utc(), revision=0
            )
            conn.execute(insert)
            revision = conn.execute(bump).scalar_one()
        return int(revision)

    # -- reading --------------------------------------------------------------------

    def _load(
        self, conn: sa.Connection, pid: str, revision: int, cycle: int | None = None
    ) -> State:
        """The state, or StateError when a stored value is damaged (bytes changed on disk)."""
        try:
            state = self._read_state(conn, pid, revision, cycle)
        except ValueError as exc:  # a JSON column or a time that does not parse
            raise StateError(self._damaged(f"a stored value cannot be read: {exc}")) from None
        problem = _implausible(state)
        if problem:
            raise StateError(self._damaged(problem))
        return state

    def _damaged(self, problem: str) -> str:
        return (
            f"{self.name} holds damaged state for this playbook ({problem}); it may be "
            "corrupt: move it away and restore a backup (pdca state import)"
        )

    def _read_state(
        self, conn: sa.Connection, pid: str, revision: int, cycle: int | None = None
    ) -> State:
        cyc = s.cycles.c
        query = sa.select(s.cycles).where(cyc.playbook == pid).order_by(cyc.number)
        if cycle is not None:
            query = query.where(cyc.number <= cycle)
        cycle_rows = conn.execute(query).all()
        all_cycles = tuple(
            CycleState(r.number, r.phase, r.started, r.phase_since, r.closed) for r in cycle_rows
        )
        lessons = self._lessons(conn, pid)
        if cycle is not None:
            lessons = tuple(x for x in lessons if x.cycle <= cycle)
        if not all_cycles or (cycle is not None and all_cycles[-1].number != cycle):
            return State(pid, revision=revision, lessons=lessons)
        current = all_cycles[-1]
        n = current.number
        t = s.tasks.c
        tasks = {
            r.task: TaskState(
                id=r.task,
                status=r.status,
                phase=r.phase,
                owner=r.owner,
                updated=r.updated,
                archived=bool(r.archived),
                attempts=r.attempts,
                failures=r.failures,
                by=r.by,
                note=r.note,
            )
            for r in conn.execute(sa.select(s.tasks).where(t.playbook == pid, t.cycle == n)).all()
        }
        a = s.attempts.c
        running = {
            r.task: _attempt(r)
            for r in conn.execute(
                sa.select(s.attempts).where(a.playbook == pid, a.cycle == n, a.outcome == "running")
            ).all()
        }
        b = s.baselines.c
        base_rows = conn.execute(
            sa.select(b.metric, b.value, b.origin).where(b.playbook == pid, b.cycle == n)
        ).all()
        snap = s.snapshots.c
        snap_row = conn.execute(
            sa.select(snap.taken, snap.as_of, snap.report)
            .where(snap.playbook == pid, snap.cycle == n)
            .order_by(snap.id.desc())
            .limit(1)
        ).first()
        d = s.decisions.c
        decisions = {
            r.objective: _decision(r)
            for r in conn.execute(
                sa.select(s.decisions).where(d.playbook == pid, d.cycle == n)
            ).all()
        }
        return State(
            playbook=pid,
            cycle=current,
            tasks=tasks,
            running=running,
            baselines={r.metric: r.value for r in base_rows},
            baseline_origins={r.metric: r.origin for r in base_rows},
            snapshot=(
                Snapshot(snap_row.taken, snap_row.as_of, json.loads(snap_row.report))
                if snap_row
                else None
            ),
            decisions=decisions,
            cycles=all_cycles,
            lessons=lessons,
            revision=revision,
        )

    def _lessons(self, conn: sa.Connection, pid: str) -> tuple[Lesson, ...]:
        d = s.decisions.c
        rows = conn.execute(
            sa.select(s.decisions)
            .where(d.playbook == pid, d.decision.is_not(None), d.note.is_not(None))
            .order_by(d.cycle, d.decided, d.objective)
        ).all()
        return tuple(
            Lesson(r.cycle, r.objective, r.decision, r.note, r.by, r.decided)
            for r in rows
            if r.note
        )

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
            c, d, a = s.cycles.c, s.decisions.c, s.attempts.c
            cq = sa.select(s.cycles).where(c.playbook == playbook_id).order_by(c.number)
            dq = sa.select(s.decisions).where(d.playbook == playbook_id)
            aq = sa.select(s.attempts).where(a.playbook == playbook_id)
            if cycle is not None:
                cq = cq.where(c.number == cycle)
                dq = dq.where(d.cycle == cycle)
                aq = aq.where(a.cycle == cycle)
            if subject is not None:
                dq = dq.where(d.objective == subject)
                aq = aq.where(a.task == subject)
            return {
                "cycles": [
                    CycleState(r.number, r.phase, r.started, r.phase_since, r.closed)
                    for r in conn.execute(cq).all()
                ],
                "decisions": [
                    (r.cycle, _decision(r))
                    for r in conn.execute(dq.order_by(d.cycle, d.objective)).all()
                ],
                "attempts": [
                    (r.cycle, _attempt(r))
                    for r in conn.execute(aq.order_by(a.cycle, a.started, a.task, a.number))
                ],
                "events": self._events(conn, playbook_id, cycle, subject, limit),
            }

    def _events(
        self,
        conn: sa.Connection,
        pid: str,
        cycle: int | None,
        subject: str | None,
        limit: int | None,
    ) -> list[Event]:
        from pdca.state import events as ev

        try:
            return ev.query(conn, pid, cycle=cycle, subject=subject, limit=limit)
        except ValueError as exc:  # an event's JSON data that does not parse
            raise StateError(self._damaged(f"a stored value cannot be read: {exc}")) from None

    # -- writing --------------------------------------------------------------------

    def _apply(self, conn: sa.Connection, state: State, ch: Changes) -> None:
        pid = state.playbook
        current = state.cycle.number if state.cycle else None
        known_cycles = {c.number for c in state.cycles}
        for number, cyc in sorted(ch.cycles.items()):
            values = {
                "phase": cyc.phase,
                "started": cyc.started,
                "phase_since": cyc.phase_since,
                "closed": cyc.closed,
            }
            if number in known_cycles:
                conn.execute(
                    sa.update(s.cycles)
                    .where(s.cycles.c.playbook == pid, s.cycles.c.number == number)
                    .values(**values)
                )
            else:
                conn.execute(sa.insert(s.cycles).values(playbook=pid, number=number, **values))
        self._upsert(
            conn,
            s.tasks,
            ("cycle", "task"),
            [
                (
                    cycle == current and tid in state.tasks,
                    {
                        "playbook": pid,
                        "cycle": cycle,
                        "task": tid,
                        "status": row.status,
                        "phase": row.phase,
                        "owner": row.owner,
                        "archived": row.archived,
                        "attempts": row.attempts,
                        "failures": row.failures,
                        "updated": row.updated,
                        "by": row.by,
                        "note": row.note,
                    },
                )
                for (cycle, tid), row in ch.tasks.items()
            ],
        )
        running = {(current, a.task, a.number) for a in state.running.values()}
        self._upsert(
            conn,
            s.attempts,
            ("cycle", "task", "number"),
            [
                (
                    key in running,
                    {
                        "playbook": pid,
                        "cycle": key[0],
                        "task": att.task,
                        "number": att.number,
                        "started": att.started,
                        "finished": att.finished,
                        "outcome": att.outcome,
                        "exit_code": att.exit_code,
                        "duration": att.duration,
                        "output": att.output,
                        "error": att.error,
                        "host": att.host,
                        "pid": att.pid,
                    },
                )
                for key, att in ch.attempts.items()
            ],
        )
        self._upsert(
            conn,
            s.baselines,
            ("cycle", "metric"),
            [
                (
                    cycle == current and metric in state.baselines,
                    {
                        "playbook": pid,
                        "cycle": cycle,
                        "metric": metric,
                        "value": value,
                        "origin": origin,
                    },
                )
                for (cycle, metric), (value, origin) in ch.baselines.items()
            ],
        )
        self._upsert(
            conn,
            s.decisions,
            ("cycle", "objective"),
            [
                (
                    cycle == current and oid in state.decisions,
                    {
                        "playbook": pid,
                        "cycle": cycle,
                        "objective": oid,
                        "status": dec.status,
                        "proposed": dec.proposed,
                        "decision": dec.decision,
                        "by": dec.by,
                        "note": dec.note,
                        "decided": dec.decided,
                    },
                )
                for (cycle, oid), dec in ch.decisions.items()
            ],
        )
        if ch.snapshot is not None:
            cycle, snap = ch.snapshot
            conn.execute(
                sa.insert(s.snapshots).values(
                    playbook=pid,
                    cycle=cycle,
                    taken=snap.taken,
                    as_of=snap.as_of,
                    report=json.dumps(snap.report, default=str),
                )
            )
        if ch.events:
            from pdca.state import events as ev

            ev.insert(conn, pid, ch.events)

    @staticmethod
    def _upsert(
        conn: sa.Connection,
        table: sa.Table,
        keys: tuple[str, ...],
        rows: list[tuple[bool, dict[str, Any]]],
    ) -> None:
        """Insert new rows and update existing ones, each group in one executemany."""
        inserts = [values for exists, values in rows if not exists]
        updates = [values for exists, values in rows if exists]
        if inserts:
            conn.execute(sa.insert(table), inserts)
        if updates:
            where = [table.c.playbook == sa.bindparam("k_playbook")]
            where += [table.c[k] == sa.bindparam(f"k_{k}") for k in keys]
            stmt = (
                sa.update(table)
                .where(*where)
                .values(
                    {
                        c: sa.bindparam(f"v_{c}")
                        for c in updates[0]
                        if c not in keys and c != "playbook"
                    }
                )
            )
            params = []
            for values in updates:
                p = {f"v_{c}": v for c, v in values.items() if c not in keys and c != "playbook"}
                p["k_playbook"] = values["playbook"]
                p.update({f"k_{k}": values[k] for k in keys})
                params.append(p)
            conn.execute(stmt, params)


class _Retry(Exception):
    """A transient failure: run the transaction again."""


def _insert_ignore(kind: str, table: sa.Table) -> Any:
    if kind == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def _attempt(r: Any) -> Attempt:
    return Attempt(
        task=r.task,
        number=r.number,
        started=r.started,
        outcome=r.outcome,
        finished=r.finished,
        exit_code=r.exit_code,
        duration=r.duration,
        output=r.output,
        error=r.error,
        host=r.host,
        pid=r.pid,
    )


def _decision(r: Any) -> Decision:
    return Decision(
        objective=r.objective,
        status=r.status,
        proposed=r.proposed,
        decision=r.decision,
        by=r.by,
        note=r.note,
        decided=r.decided,
    )


def _implausible(state: State) -> str | None:
    """What in a loaded state cannot have been written by pdca (None when all is well).

    SQLite has no checksums: a changed byte inside a value reads back as another
    value. Those that would break the engine later are caught here instead.
    """
    from pdca.state.model import CYCLE_PHASES, DECISIONS, TASK_STATUSES

    for c in state.cycles:
        if c.phase not in CYCLE_PHASES:
            return f"cycle {c.number} has the unknown phase {c.phase!r}"
        for stamp in (c.started, c.phase_since, c.closed):
            if stamp is not None and parse_utc(stamp) is None:
                return f"cycle {c.number} has the time {stamp!r}"
    for t in state.tasks.values():
        if t.status not in TASK_STATUSES:
            return f"task {t.id!r} has the unknown status {t.status!r}"
        if t.phase not in CYCLE_PHASES:
            return f"task {t.id!r} has the unknown phase {t.phase!r}"
        if parse_utc(t.updated) is None:
            return f"task {t.id!r} has the time {t.updated!r}"
    for a in state.running.values():
        if parse_utc(a.started) is None:
            return f"a run of task {a.task!r} has the time {a.started!r}"
    for d in state.decisions.values():
        if d.proposed not in DECISIONS or d.decision not in (None, *DECISIONS):
            return f"the decision on {d.objective!r} is {d.decision or d.proposed!r}"
    if state.snapshot is not None and parse_utc(state.snapshot.as_of) is None:
        return f"the check snapshot has the date {state.snapshot.as_of!r}"
    return None


SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_sqlite_header(path: Path) -> None:
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
            _describe_sqlite(
                str(path), None, f"not a database: {size} bytes without a SQLite header"
            )
        )


_DAMAGED = ("not a database", "malformed", "corrupt", "could not decode", "garbled")
_NOT_OURS = ("no such table", "no such column")


def _describe_sqlite(name: str, orig: sqlite3.Error | None, message: str) -> str:
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


def _sqlite_connect(dbapi_con: sqlite3.Connection, _record: Any) -> None:
    # pysqlite's own BEGIN handling is switched off: _sqlite_begin issues the BEGIN
    # itself, IMMEDIATE for writers. busy_timeout comes first so that switching a
    # new file to WAL waits for a concurrent process instead of failing.
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


def _sqlite_begin(conn: sa.Connection) -> None:
    mode = conn.get_execution_options().get("pdca_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


__all__ = [
    "Event",
    "PlaybookRef",
    "Store",
    "now_utc",
    "open_store",
    "parse_utc",
    "resolve_location",
]
