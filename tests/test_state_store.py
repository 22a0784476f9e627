"""The state store on SQLite and a real PostgreSQL server: round trips, versions, damage, races."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from pdca.errors import StateError
from pdca.state import (
    SCHEMA_VERSION,
    Attempt,
    Changes,
    CycleState,
    Decision,
    Event,
    PlaybookRef,
    Snapshot,
    State,
    TaskState,
    open_store,
)
from pdca.state import schema as s
from pdca.state.store import resolve_location
from pg_server import fresh_database

NOW = "2026-01-05T09:00:00Z"
REF = PlaybookRef("demo", "Demo", "/pb/playbook.yaml")


def _fresh_pg_database(pg_url: str) -> Iterator[str]:
    return fresh_database(pg_url, "pdca_state")


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[str]:
    """A URL to a database of its own, so schema tests cannot disturb other tests."""
    yield from _fresh_pg_database(pg_url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / ".pdca" / "state.db")
    else:
        yield from _fresh_pg_database(request.getfixturevalue("pg_url"))


def _cycle_one_changes() -> Changes:
    ch = Changes()
    ch.cycles[1] = CycleState(1, "check", NOW, NOW)
    ch.tasks[(1, "a")] = TaskState("a", "done", "plan", "tom", NOW, by="tom", note="ok")
    ch.tasks[(1, "b")] = TaskState("b", "in_progress", "do", "ops", NOW, attempts=1)
    ch.attempts[(1, "b", 1)] = Attempt("b", 1, NOW, host="h", pid=77)
    ch.baselines[(1, "nps")] = (12.0, "playbook")
    ch.baselines[(1, "wait")] = (None, "playbook")
    ch.decisions[(1, "loyal")] = Decision(
        "loyal", "at_risk", "adjust", "adjust", "maria", "too short", NOW
    )
    ch.snapshot = (1, Snapshot(NOW, "2026-03-30", {"metrics": {"nps": {"value": 25.6}}}))
    ch.events.append(
        Event("task_changed", NOW, 1, "tom", "a", "ready", "done", "ok", {"k": [1, 2]})
    )
    return ch


# -- round trips ------------------------------------------------------------------------


def test_changes_written_are_the_state_read_back(location: str) -> None:
    with open_store(location) as store:
        assert store.read("demo") == State("demo")
        store.transact(REF, lambda st: (_cycle_one_changes(), None))
        state = store.read("demo")
    assert state.cycle == CycleState(1, "check", NOW, NOW)
    assert state.tasks["a"] == TaskState("a", "done", "plan", "tom", NOW, by="tom", note="ok")
    assert state.tasks["b"].attempts == 1 and state.tasks["b"].owner == "ops"
    assert state.running == {"b": Attempt("b", 1, NOW, host="h", pid=77)}
    assert state.baselines == {"nps": 12.0, "wait": None}
    assert state.snapshot is not None and state.snapshot.report["metrics"]["nps"]["value"] == 25.6
    assert state.decisions["loyal"].note == "too short"
    assert [(x.cycle, x.objective, x.note) for x in state.lessons] == [(1, "loyal", "too short")]
    assert state.revision == 1
    with open_store(location, create=False) as store:
        history = store.history("demo")
    (event,) = history["events"]
    assert (event.kind, event.by, event.old, event.new, event.data) == (
        "task_changed",
        "tom",
        "ready",
        "done",
        {"k": [1, 2]},
    )
    assert event.id is not None


def test_updates_replace_rows_and_a_new_cycle_keeps_the_old_one(location: str) -> None:
    with open_store(location) as store:
        store.transact(REF, lambda st: (_cycle_one_changes(), None))

        def close_and_open(st: State) -> tuple[Changes, None]:
            ch = Changes()
            ch.cycles[1] = replace(st.cycle, phase="closed", closed=NOW)
            ch.cycles[2] = CycleState(2, "plan", NOW, NOW)
            ch.tasks[(2, "a")] = TaskState("a", "ready", "plan", "tom", NOW)
            ch.attempts[(1, "b", 1)] = replace(st.running["b"], outcome="ok", exit_code=0)
            ch.baselines[(2, "nps")] = (25.6, "cycle 1")
            return ch, None

        store.transact(REF, close_and_open)
        state = store.read("demo")
        history = store.history("demo")
    assert [(c.number, c.phase) for c in state.cycles] == [(1, "closed"), (2, "plan")]
    assert state.tasks == {"a": TaskState("a", "ready", "plan", "tom", NOW)}
    assert state.running == {} and state.snapshot is None and state.decisions == {}
    assert state.baselines == {"nps": 25.6} and state.baseline_origins == {"nps": "cycle 1"}
    assert [(n, a.outcome, a.exit_code) for n, a in history["attempts"]] == [(1, "ok", 0)]
    assert state.lessons[0].cycle == 1  # lessons span cycles


def test_a_failing_decision_writes_nothing(location: str) -> None:
    with open_store(location) as store:
        store.transact(REF, lambda st: (_cycle_one_changes(), None))

        def broken(st: State) -> tuple[Changes, None]:
            raise StateError("refused")

        with pytest.raises(StateError, match="refused"):
            store.transact(REF, broken)
        state = store.read("demo")
    assert state.revision == 1 and state.tasks["a"].status == "done"


def test_playbooks_share_a_store_without_seeing_each_other(location: str) -> None:
    with open_store(location) as store:
        store.transact(REF, lambda st: (_cycle_one_changes(), None))
        other = store.read("other")
    assert other == State("other")


# -- schema versions and damage -----------------------------------------------------------


def test_schema_version_is_stored(location: str) -> None:
    with open_store(location) as store, store.engine.connect() as conn:
        version = conn.execute(
            sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
        ).scalar_one()
    assert int(version) == SCHEMA_VERSION


def test_a_state_from_a_newer_pdca_is_refused_naming_the_store(location: str) -> None:
    with open_store(location) as store, store.engine.begin() as conn:
        conn.execute(sa.update(s.meta).where(s.meta.c.key == "schema_version").values(value="99"))
    with pytest.raises(StateError) as err:
        open_store(location)
    message = str(err.value)
    assert "newer pdca" in message and "version 99" in message
    assert (
        sa.engine.make_url(location).database in message
        if "://" in location
        else (location in message)
    )


def test_an_older_state_is_migrated_in_place(
    location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(location) as store:
        store.transact(REF, lambda st: (_cycle_one_changes(), None))
    ran = []

    def to_v2(conn: sa.Connection) -> None:
        ran.append(True)
        conn.execute(sa.text("CREATE TABLE pdca_v2_marker (x INTEGER)"))

    monkeypatch.setattr(s, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(s.MIGRATIONS, SCHEMA_VERSION, to_v2)
    with open_store(location) as store:
        assert store.read("demo").tasks["a"].status == "done"  # data survives
        with store.engine.connect() as conn:
            version = conn.execute(
                sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
            ).scalar_one()
            assert sa.inspect(conn).has_table("pdca_v2_marker")
    assert ran == [True] and int(version) == SCHEMA_VERSION + 1
    with open_store(location):
        pass
    assert ran == [True]  # migrated once


def test_a_corrupt_sqlite_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(StateError) as err:
        open_store(path)
    assert str(path) in str(err.value)
    assert "not a readable pdca state store" in str(err.value)


def test_a_truncated_sqlite_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with open_store(path) as store:
        store.transact(REF, lambda st: (_cycle_one_changes(), None))
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\x00" * 50 + data[150:4096])
    for ext in ("-wal", "-shm"):
        (tmp_path / f"state.db{ext}").unlink(missing_ok=True)
    with pytest.raises(StateError, match=str(path)), open_store(path) as store:
        store.read("demo")


def test_another_applications_sqlite_file_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(StateError, match="is not a pdca state store"):
        open_store(path)


def test_read_only_commands_do_not_create_a_state(tmp_path: Path) -> None:
    with open_store(tmp_path / ".pdca" / "state.db", create=False) as store:
        assert store.read("demo") == State("demo")
        assert store.history("demo")["events"] == []
    assert not (tmp_path / ".pdca").exists()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    with open_store(tmp_path) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert (tmp_path / "state.db").exists()  # a folder means state.db inside it


def test_locations_and_urls() -> None:
    url, name = resolve_location("postgresql://pdca:s3cret@db.example:5432/pdca")
    assert url.startswith("postgresql+psycopg://pdca:s3cret@")
    assert "s3cret" not in name and "***" in name
    with pytest.raises(StateError, match="only sqlite and postgresql"):
        resolve_location("mysql://x@y/z")


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(StateError) as err:
        open_store("postgresql+psycopg://pdca:s3cret@127.0.0.1:1/pdca")
    assert "cannot use the state store" in str(err.value)
    assert "s3cret" not in str(err.value)


# -- concurrency ------------------------------------------------------------------------

WORKERS = 6
INCREMENTS = 8


def _bump(location: str, start: multiprocessing.synchronize.Barrier) -> None:  # type: ignore[name-defined]
    """Read-modify-write of one counter: a lost update would show as a missing increment."""
    start.wait()
    with open_store(location) as store:
        for _ in range(INCREMENTS):

            def plus_one(st: State) -> tuple[Changes, None]:
                ch = Changes()
                row = st.tasks["counter"]
                ch.tasks[(1, "counter")] = replace(row, attempts=row.attempts + 1)
                return ch, None

            store.transact(REF, plus_one)


def test_concurrent_writers_lose_no_update(location: str) -> None:
    with open_store(location) as store:

        def setup(st: State) -> tuple[Changes, None]:
            ch = Changes()
            ch.cycles[1] = CycleState(1, "do", NOW, NOW)
            ch.tasks[(1, "counter")] = TaskState("counter", "ready", "do", "tom", NOW)
            return ch, None

        store.transact(REF, setup)
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    procs = [ctx.Process(target=_bump, args=(location, barrier)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WORKERS
    with open_store(location) as store:
        state = store.read("demo")
    assert state.tasks["counter"].attempts == WORKERS * INCREMENTS
    assert state.revision == 1 + WORKERS * INCREMENTS
