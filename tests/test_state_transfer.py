"""``pdca state backup|export|import``: lossless round trips between SQLite and PostgreSQL,
one-transaction imports, validation with clear errors, consistent backups while others write."""

from __future__ import annotations

import copy
import json
import multiprocessing
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

import pdca.cli
from pdca.cli.cycle import register as register_engine
from pdca.cli.state import register as register_state
from pdca.state import (
    Changes,
    CycleState,
    Event,
    PlaybookRef,
    State,
    TaskState,
    importing,
    open_store,
    transfer,
)
from pdca.state import schema as s
from pg_server import fresh_database


@pytest.fixture(scope="module")
def cli() -> click.Group:
    register_engine(pdca.cli.cli)
    register_state(pdca.cli.cli)
    register_state(pdca.cli.cli)
    return pdca.cli.cli


def pdca_run(cli: click.Group, *argv: Any, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in argv], catch_exceptions=False)
    assert result.exit_code == code, f"pdca {' '.join(map(str, argv))}:\n{result.output}"
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result


def _fresh_pg_database(pg_url: str) -> Iterator[str]:
    return fresh_database(pg_url, "pdca_xfer")


def _store_url(kind: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if kind == "sqlite":
        yield str(folder / f"{uuid.uuid4().hex[:8]}.db")
    else:
        yield from _fresh_pg_database(request.getfixturevalue("pg_url"))


PG = pytest.param("postgresql", marks=pytest.mark.postgres)


@pytest.fixture(params=["sqlite", PG])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- a state with two cycles, a failed and a retried run, decisions, an archived task ---------

PLAYBOOK = """\
playbook: desk
title: Desk – ünïcødé
owners:
  tom: {name: Tom}
  aisha: {name: Aisha}
sources:
  scores: {type: csv, path: scores.csv, timestamp: day}
metrics:
  score: {source: scores, kpi: mean, field: score, baseline: 5, target: 9, warn: 7, window: 7d}
objectives:
  happy: {title: Happy, owner: tom, metrics: [score]}
tasks:
  export:
    title: Export
    owner: tom
    phase: plan
    retries: 1
    action: {type: shell, command: "test -f ok.flag || (echo not yet; exit 3)"}
  a: {title: A, owner: tom, phase: plan, depends_on: [export]}
  gone: {title: Removed later, owner: aisha, phase: plan}
  c: {title: C, owner: tom, phase: do, objective: happy}
  keep: {title: Keep it, owner: tom, phase: act, objective: happy}
cycle: {start: 2026-01-05, length: 7d}
"""
SCORES = "day,score\n2026-01-05,4\n2026-01-07,6\n2026-01-09,8\n2026-01-12,9\n"


def _rich_state(cli: click.Group, folder: Path, state: str) -> Path:
    (folder / "scores.csv").write_text(SCORES)
    playbook = folder / "playbook.yaml"
    playbook.write_text(PLAYBOOK)
    st = ["--state", state]
    pdca_run(cli, "run", playbook, "--as-of", "2026-01-11", *st, code=1)  # export fails twice
    (folder / "ok.flag").write_text("")
    pdca_run(cli, "task", playbook, "reopen", "export", "--by", "tom", "--note", "fixed", *st)
    pdca_run(cli, "run", playbook, "--as-of", "2026-01-11", *st)
    pdca_run(
        cli,
        "task",
        playbook,
        "done",
        "a",
        "--by",
        "tom",
        "--note",
        'quotes " and \\ and\nlines',
        *st,
    )
    playbook.write_text(
        PLAYBOOK.replace("  gone: {title: Removed later, owner: aisha, phase: plan}\n", "")
    )
    for argv in (
        ["run", playbook, "--as-of", "2026-01-11"],
        ["task", playbook, "done", "c", "--by", "tom"],
        ["run", playbook, "--as-of", "2026-01-11"],
        ["run", playbook, "--as-of", "2026-01-11"],
        ["act", playbook, "happy", "--decision", "adjust", "--by", "tom", "--note", "again ✓"],
        ["task", playbook, "done", "keep", "--by", "tom"],
        ["run", playbook, "--as-of", "2026-01-18"],  # cycle 1 closes, cycle 2 opens
        ["task", playbook, "block", "a", "--by", "tom", "--note", "waiting for data"],
    ):
        pdca_run(cli, *argv, *st)
    return playbook


FINAL_PLAYBOOK = PLAYBOOK.replace("  gone: {title: Removed later, owner: aisha, phase: plan}\n", "")


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, cli: click.Group) -> tuple[Path, str]:
    """The rich state, built once in SQLite: (its checkpointed file, its export)."""
    folder = tmp_path_factory.mktemp("seed")
    db = folder / "seed.db"
    playbook = _rich_state(cli, folder, str(db))
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return db, pdca_run(cli, "state", "export", playbook, "--state", db).stdout


def _seeded(cli: click.Group, seed: tuple[Path, str], folder: Path, state: str) -> Path:
    """The playbook in ``folder`` with the rich state in ``state`` (a file copy, or imported)."""
    (folder / "scores.csv").write_text(SCORES)
    (folder / "ok.flag").write_text("")
    playbook = folder / "playbook.yaml"
    playbook.write_text(FINAL_PLAYBOOK)
    db, text = seed
    if "://" in state:
        source = folder / "seed.json"
        source.write_text(text)
        pdca_run(cli, "state", "import", playbook, source, "--state", state)
        source.unlink()
    else:
        shutil.copyfile(db, state)
    return playbook


def _export(cli: click.Group, playbook: Path, state: str) -> dict[str, Any]:
    doc = json.loads(pdca_run(cli, "state", "export", playbook, "--state", state).stdout)
    assert doc.pop("exported").endswith("Z")
    return doc


def _raw(state: str, table: sa.Table, column: str) -> list[Any]:
    """A column's stored values, as the database holds them (JSON as text)."""
    with open_store(state, create=False) as store, store.engine.connect() as conn:
        order = table.c.id if "id" in table.c else list(table.primary_key.columns)
        q = sa.select(table.c[column]).where(table.c.playbook == "desk")
        q = q.order_by(*(order if isinstance(order, list) else [order]))
        return list(conn.execute(q).scalars())


@pytest.mark.parametrize(
    ("source", "target"),
    [("sqlite", "sqlite"), pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres),
     pytest.param("postgresql", "sqlite", marks=pytest.mark.postgres)],
)  # fmt: skip
def test_export_import_export_is_lossless_across_store_kinds(
    cli: click.Group,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    seed: tuple[Path, str],
    source: str,
    target: str,
) -> None:
    src_gen = _store_url(source, tmp_path, request)
    dst_gen = _store_url(target, tmp_path, request)
    src, dst = next(src_gen), next(dst_gen)
    try:
        # a PostgreSQL source is built there by the engine, not imported
        build = _rich_state if source == "postgresql" else partial(_seeded, seed=seed)
        playbook = build(cli, folder=tmp_path, state=src)
        doc = _export(cli, playbook, src)
        tables = doc["tables"]
        # the state really has something in every table
        assert {name: bool(rows) for name, rows in tables.items()} == dict.fromkeys(tables, True)
        assert [c["number"] for c in tables["cycles"]] == [1, 2]
        assert any(t["archived"] for t in tables["tasks"])
        assert {a["outcome"] for a in tables["attempts"]} == {"failed", "ok"}
        out = tmp_path / "desk.json"
        pdca_run(cli, "state", "export", playbook, "-o", out, "--state", src)
        on_disk = json.loads(out.read_text(encoding="utf-8"))
        on_disk.pop("exported")
        assert on_disk == doc

        message = pdca_run(cli, "state", "import", playbook, out, "--state", dst).stdout
        assert message.startswith("imported the state of desk in ")
        assert "2 cycles" in message
        assert _export(cli, playbook, dst) == doc
        # the stored JSON text is the same too, not only its meaning
        assert _raw(dst, s.snapshots, "report") == _raw(src, s.snapshots, "report")
        assert _raw(dst, s.events, "data") == _raw(src, s.events, "data")
        # and what people see is the same
        for command in ("status", "history"):
            a = json.loads(
                pdca_run(cli, command, playbook, "--format", "json", "--state", src).stdout
            )
            b = json.loads(
                pdca_run(cli, command, playbook, "--format", "json", "--state", dst).stdout
            )
            for e in a.get("events", []) + b.get("events", []):
                e.pop("id")
            a.pop("state", None), b.pop("state", None)
            assert a == b, command
        # the imported state is a working state
        pdca_run(cli, "task", playbook, "reopen", "a", "--by", "tom", "--state", dst)
        assert _export(cli, playbook, dst) != doc
    finally:
        for gen in (src_gen, dst_gen):
            gen.close()


def test_the_export_is_stable_and_sorted(
    cli: click.Group, seed: tuple[Path, str], tmp_path: Path
) -> None:
    state = str(tmp_path / "state.db")
    playbook = _seeded(cli, seed, tmp_path, state)
    first = pdca_run(cli, "state", "export", playbook, "--state", state).stdout
    second = pdca_run(cli, "state", "export", playbook, "--state", state).stdout
    strip = lambda text: "\n".join(x for x in text.splitlines() if '"exported"' not in x)  # noqa: E731
    assert strip(first) == strip(second)
    doc = json.loads(first)
    assert list(doc) == [
        "format",
        "format_version",
        "schema_version",
        "playbook",
        "exported",
        "tables",
    ]
    assert list(doc["tables"]) == [name for name, _ in transfer.TABLES]
    tasks = [(t["cycle"], t["task"]) for t in doc["tables"]["tasks"]]
    assert tasks == sorted(tasks)
    assert list(doc["tables"]["tasks"][0]) == [
        c.name for c in s.tasks.columns if c.name != "playbook"
    ]
    at = [e["at"] for e in doc["tables"]["events"]]
    assert at == sorted(at)  # the audit log in its order
    assert "ü" in first  # readable text, not \\u escapes


# -- import: refused over an existing state, --replace, one transaction ------------------------


def test_import_refuses_an_existing_state_unless_replace_and_leaves_others_alone(
    cli: click.Group,
    seed: tuple[Path, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    kind: str,
) -> None:
    gen = _store_url(kind, tmp_path, request)
    state = next(gen)
    try:
        playbook = _seeded(cli, seed, tmp_path, state)
        saved = tmp_path / "saved.json"
        pdca_run(cli, "state", "export", playbook, "-o", saved, "--state", state)
        # another playbook in the same store
        other = tmp_path / "other.yaml"
        other.write_text("playbook: other\ntitle: Other\nowners:\n  tom: {name: Tom}\n"
                         "tasks:\n  x: {title: X, owner: tom, phase: plan}\n")  # fmt: skip
        pdca_run(cli, "run", other, "--state", state)
        other_before = _export(cli, other, state)

        pdca_run(cli, "task", playbook, "reopen", "a", "--by", "tom", "--state", state)
        changed = _export(cli, playbook, state)
        err = pdca_run(cli, "state", "import", playbook, saved, "--state", state, code=1).stderr
        assert err.startswith("error: playbook 'desk' already has state in ")
        assert "nothing was written" in err and "--replace" in err
        assert _export(cli, playbook, state) == changed

        out = pdca_run(cli, "state", "import", playbook, saved, "--replace", "--state", state)
        assert out.stdout.startswith("replaced the state of desk in ")
        restored = _export(cli, playbook, state)
        original = json.loads(saved.read_text())
        original.pop("exported")
        # the revision keeps counting up ("bumped by every write"); all else is restored
        assert restored["tables"]["playbooks"][0]["revision"] == (
            changed["tables"]["playbooks"][0]["revision"] + 1
        )
        for doc in (restored, original):
            doc["tables"]["playbooks"][0].pop("revision")
        assert restored == original
        assert _export(cli, other, state) == other_before
    finally:
        gen.close()


def test_an_import_that_fails_halfway_writes_nothing(
    cli: click.Group,
    seed: tuple[Path, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gen = _store_url(kind, tmp_path, request)
    state = next(gen)
    try:
        playbook = _seeded(cli, seed, tmp_path, state)
        saved = tmp_path / "saved.json"
        pdca_run(cli, "state", "export", playbook, "-o", saved, "--state", state)
        pdca_run(cli, "task", playbook, "reopen", "a", "--by", "tom", "--state", state)
        before = _export(cli, playbook, state)
        real_insert = importing._insert
        calls = []

        def flaky_insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
            calls.append(table.name)
            if table.name == s.events.name:  # the old rows are deleted, most new ones in
                raise sa.exc.OperationalError(
                    "INSERT", {}, Exception("server closed the connection")
                )
            real_insert(conn, table, rows)

        monkeypatch.setattr(importing, "_insert", flaky_insert)
        err = pdca_run(
            cli, "state", "import", playbook, saved, "--replace", "--state", state, code=1
        )
        assert "server closed the connection" in err.stderr
        assert calls[-2:] == [s.snapshots.name, s.events.name]
        monkeypatch.undo()
        assert _export(cli, playbook, state) == before
        # and into an empty store: still nothing at all
        empty = str(tmp_path / "empty.db")
        monkeypatch.setattr(importing, "_insert", flaky_insert)
        pdca_run(cli, "state", "import", playbook, saved, "--state", empty, code=1)
        monkeypatch.undo()
        err = pdca_run(cli, "state", "export", playbook, "--state", empty, code=1).stderr
        assert "has no state in" in err
    finally:
        gen.close()


def test_a_long_audit_log_keeps_its_order_across_batches(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    source = str(tmp_path / "source.db")
    now = "2026-01-05T09:00:00.000Z"
    with open_store(source) as store:

        def many(st: State) -> tuple[Changes, None]:
            ch = Changes()
            ch.cycles[1] = CycleState(1, "do", now, now)
            ch.tasks[(1, "t")] = TaskState("t", "ready", "do", "tom", now)
            # same time for all: only the order of insertion tells them apart
            ch.events.extend(
                Event("task_edited", now, 1, subject="t", data={"n": n}) for n in range(777)
            )
            return ch, None

        store.transact(PlaybookRef("desk"), many)
        doc = transfer.export_state(store, "desk")
    gen = _store_url(kind, tmp_path, request)
    target = next(gen)
    try:
        with open_store(target) as store:
            transfer.import_state(store, doc, "desk")
            again = transfer.export_state(store, "desk")
            events = store.history("desk")["events"]
    finally:
        gen.close()
    assert [e["data"]["n"] for e in again["tables"]["events"]] == list(range(777))
    assert [e.data["n"] for e in events] == list(range(777))
    doc.pop("exported"), again.pop("exported")
    assert again == doc


# -- validation --------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value

    return change


def _del(path: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        del node[last]

    return change


def _dup_task(doc: dict[str, Any]) -> None:
    doc["tables"]["tasks"].append(copy.deepcopy(doc["tables"]["tasks"][0]))


def _orphan_attempt(doc: dict[str, Any]) -> None:
    doc["tables"]["attempts"][0]["task"] = "nobody"


BAD_DOCUMENTS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("format", _set("format", "something-else"), "is not a pdca state export"),
    ("newer format", _set("format_version", 2), "newer pdca (export format 2"),
    ("format as text", _set("format_version", "1"), '"format_version" must be a whole number'),
    ("newer schema", _set("schema_version", 99), "newer pdca (state schema version 99"),
    ("older schema", _set("schema_version", 0), "holds state schema version 0"),
    ("other playbook", _set("playbook", "other"), 'holds the state of playbook "other"'),
    ("no tables", _del("tables"), '"tables" must be an object'),
    ("missing table", _del("tables.events"), 'table "events" is missing'),
    ("unknown table", _set("tables.extra", []), 'unknown table "extra"'),
    ("rows not a list", _set("tables.tasks", {}), '"tasks" must be a list of rows'),
    ("status", _set("tables.tasks.0.status", "dxne"), 'tasks[0].status is "dxne"; allowed:'),
    ("phase", _set("tables.cycles.0.phase", "lunch"), 'cycles[0].phase is "lunch"'),
    ("int as text", _set("tables.tasks.0.attempts", "3"), 'must be a whole number, not "3"'),
    ("bool as int", _set("tables.tasks.0.archived", 1), "tasks[0].archived must be true or false"),
    ("float as text", _set("tables.baselines.0.value", "5"), 'value must be a number, not "5"'),
    ("null key", _set("tables.tasks.0.task", None), "tasks[0].task must not be null"),
    ("too long", _set("tables.tasks.0.owner", "x" * 201), "owner is longer than 200 characters"),
    ("time", _set("tables.cycles.0.started", "now"), 'cycles[0].started is "now", not a time'),
    ("huge int", _set("tables.tasks.0.attempts", 2**40), "is out of range"),
    ("report", _set("tables.snapshots.0.report", [1]), "snapshots[0].report must be a JSON object"),
    ("extra column", _set("tables.tasks.0.colour", "red"), "tasks[0] has unknown columns: colour"),
    ("missing column", _del("tables.tasks.0.owner"), "tasks[0] lacks columns: owner"),
    ("duplicate key", _dup_task, "repeats the key {'cycle': 1, 'task': 'a'}"),
    ("orphan attempt", _orphan_attempt, "which is not in tasks"),
    ("unknown cycle", _set("tables.events.0.cycle", 7), "to cycle 7, which is not in cycles"),
    ("no playbook row", _set("tables.playbooks", []), '"playbooks" must hold exactly one row'),
]  # fmt: skip


@pytest.fixture(scope="module")
def good_export(
    tmp_path_factory: pytest.TempPathFactory, seed: tuple[Path, str]
) -> tuple[Path, str]:
    playbook = tmp_path_factory.mktemp("good") / "playbook.yaml"
    playbook.write_text(FINAL_PLAYBOOK)
    return playbook, seed[1]


@pytest.mark.parametrize(
    ("case", "change", "expected"), BAD_DOCUMENTS, ids=[c[0] for c in BAD_DOCUMENTS]
)
def test_a_bad_document_is_refused_with_a_clear_error_and_nothing_written(
    cli: click.Group,
    tmp_path: Path,
    good_export: tuple[Path, str],
    case: str,
    change: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    playbook, text = good_export
    doc = json.loads(text)
    change(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    target = str(tmp_path / "target.db")
    err = pdca_run(cli, "state", "import", playbook, bad, "--state", target, code=1).stderr
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err, err
    assert str(bad) in err
    with open_store(target, create=False) as store:
        assert store.read("desk") == State("desk")


def test_files_that_are_not_exports_are_refused(
    cli: click.Group, tmp_path: Path, good_export: tuple[Path, str]
) -> None:
    playbook, text = good_export
    target = ["--state", str(tmp_path / "t.db")]
    cases = {
        "truncated.json": (text[: len(text) // 2], "is not a pdca state export: not valid JSON"),
        "list.json": ("[1, 2]", "is not a pdca state export (it has no"),
        "binary.json": (b"\xff\xfe\x00garbage", "not UTF-8 text, not a SQLite state file"),
        "other.db": (None, "is a SQLite file but not a pdca state store"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        if content is None:
            con = sqlite3.connect(path)
            con.execute("CREATE TABLE invoices (id INTEGER)")
            con.commit()
            con.close()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        err = pdca_run(cli, "state", "import", playbook, path, *target, code=1).stderr
        assert expected in err and str(path) in err, err
    err = pdca_run(
        cli, "state", "import", playbook, tmp_path / "missing.json", *target, code=1
    ).stderr
    assert "missing.json: no such file" in err
    # a playbook whose id differs from the export's
    other = tmp_path / "other.yaml"
    other.write_text("playbook: other\ntitle: O\nowners:\n  tom: {name: Tom}\ntasks: {}\n")
    good = tmp_path / "good.json"
    good.write_text(text)
    err = pdca_run(cli, "state", "import", other, good, *target, code=1).stderr
    assert "holds the state of playbook \"desk\", not of 'other'" in err


# -- export and backup: files, empty stores, invalid playbooks ---------------------------------


def test_export_and_backup_of_a_playbook_without_state(cli: click.Group, tmp_path: Path) -> None:
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text(PLAYBOOK)
    out = tmp_path / "out.json"
    out.write_text("previous content")
    for argv in (["export", playbook, "-o", out], ["backup", playbook]):
        err = pdca_run(cli, "state", *argv, code=1).stderr
        assert "playbook 'desk' has no state in" in err and "run pdca run first" in err
    assert out.read_text() == "previous content"  # untouched
    assert not (tmp_path / ".pdca").exists()  # and no store was created
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "playbook.yaml"]


def test_export_and_backup_work_while_the_playbook_does_not_validate(
    cli: click.Group, seed: tuple[Path, str], tmp_path: Path
) -> None:
    state = str(tmp_path / "state.db")
    playbook = _seeded(cli, seed, tmp_path, state)
    playbook.write_text(
        playbook.read_text().replace("depends_on: [export]", "depends_on: [nowhere]")
    )
    pdca_run(cli, "status", playbook, "--state", state, code=1)  # the engine refuses it
    doc = json.loads(pdca_run(cli, "state", "export", playbook, "--state", state).stdout)
    assert doc["playbook"] == "desk"
    pdca_run(cli, "state", "backup", playbook, "--state", state)
    playbook.write_text("title: no id\n")
    err = pdca_run(cli, "state", "export", playbook, "--state", state, code=1).stderr
    assert err.startswith(f"{playbook}:1:1: error: the playbook needs 'playbook' (id of")


def test_a_failed_write_leaves_the_output_file_as_it_was(
    cli: click.Group, seed: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = str(tmp_path / "state.db")
    playbook = _seeded(cli, seed, tmp_path, state)
    out = tmp_path / "out.json"
    out.write_text("the previous export")

    def disk_full(path: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    err = pdca_run(cli, "state", "export", playbook, "-o", out, "--state", state, code=1).stderr
    monkeypatch.undo()
    assert err.strip() == (
        f"error: cannot write {out}: No space left on device; nothing was written "
        "(the file there is unchanged)"
    )
    assert out.read_text() == "the previous export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def _writer(db: str, stop: Any, counts: Any) -> None:
    """Keeps writing: each transaction bumps a counter and logs one event, together."""
    ref = PlaybookRef("demo", "Demo", "/x/playbook.yaml")
    n = 0
    with open_store(db) as store:
        while not stop.is_set():

            def bump(st: State) -> tuple[Changes, None]:
                ch = Changes()
                row = st.tasks["counter"]
                ch.tasks[(1, "counter")] = replace(row, attempts=row.attempts + 1)
                ch.events.append(
                    Event(
                        "task_edited",
                        "2026-01-05T09:00:00Z",
                        1,
                        subject="counter",
                        data={"n": row.attempts + 1},
                    )
                )
                return ch, None

            store.transact(ref, bump)
            n += 1
    counts.put(n)


def test_a_sqlite_backup_is_consistent_while_others_write_and_restores(
    cli: click.Group, tmp_path: Path
) -> None:
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text("playbook: demo\ntitle: Demo\nowners:\n  tom: {name: Tom}\n"
                        "tasks:\n  counter: {title: Counter, owner: tom, phase: do}\n")  # fmt: skip
    db = str(tmp_path / ".pdca" / "state.db")
    with open_store(db) as store:

        def setup(st: State) -> tuple[Changes, None]:
            ch = Changes()
            now = "2026-01-05T09:00:00Z"
            ch.cycles[1] = CycleState(1, "do", now, now)
            ch.tasks[(1, "counter")] = TaskState("counter", "ready", "do", "tom", now)
            return ch, None

        store.transact(PlaybookRef("demo"), setup)
    ctx = multiprocessing.get_context("fork")
    stop, counts = ctx.Event(), ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(db, stop, counts)) for _ in range(2)]
    for w in writers:
        w.start()
    seen = []
    try:
        time.sleep(0.3)
        for i in range(5):
            out = tmp_path / f"b{i}.db"
            message = pdca_run(cli, "state", "backup", playbook, "-o", out).stdout
            assert message.startswith(f"backed up {db} to {out}") and "integrity ok" in message
            header = out.read_bytes()[:20]
            assert header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x01\x01"  # no WAL
            con = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
            counter = con.execute(
                "SELECT attempts FROM pdca_tasks WHERE task = 'counter'"
            ).fetchone()[0]
            logged = con.execute(
                "SELECT count(*) FROM pdca_events WHERE kind = 'task_edited'"
            ).fetchone()[0]
            revision = con.execute("SELECT revision FROM pdca_playbooks").fetchone()[0]
            con.close()
            # one moment of the state: the counter and its log agree, whatever was in flight
            assert counter == logged and revision == counter + 1
            seen.append(counter)
            time.sleep(0.1)
    finally:
        stop.set()
        written = [counts.get(timeout=60) for _ in writers]
        for w in writers:
            w.join(timeout=30)
    assert [w.exitcode for w in writers] == [0, 0]
    assert seen == sorted(seen) and len(set(seen)) >= 3  # the writers really were writing
    assert sum(written) > seen[-1]
    # restore the first backup over the live state, in one transaction
    message = pdca_run(cli, "state", "import", playbook, tmp_path / "b0.db", "--replace").stdout
    assert message.startswith("replaced the state of demo")
    with open_store(db) as store:
        state = store.read("demo")
    assert state.tasks["counter"].attempts == seen[0]


def test_default_backup_names_and_a_postgresql_backup_is_the_export(
    cli: click.Group,
    seed: tuple[Path, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    kind: str,
) -> None:
    gen = _store_url(kind, tmp_path, request)
    state = next(gen)
    try:
        playbook = _seeded(cli, seed, tmp_path, state)
        first = pdca_run(cli, "state", "backup", playbook, "--state", state).stdout
        second = pdca_run(cli, "state", "backup", playbook, "--state", state).stdout
        backups = sorted((tmp_path / ".pdca" / "backups").iterdir())
        assert len(backups) == 2 and all(str(b) in first + second for b in backups)
        suffix = ".db" if kind == "sqlite" else ".json"
        stem = "state-" if kind == "sqlite" else "desk-"
        assert all(b.name.startswith(stem) and b.suffix == suffix for b in backups)
        if kind == "sqlite":  # never over the live file
            err = pdca_run(cli, "state", "backup", playbook, "-o", state, "--state", state, code=1)
            assert "is the state store itself" in err.stderr
        if kind == "postgresql":
            doc = json.loads(backups[0].read_text())
            doc.pop("exported")
            assert doc == _export(cli, playbook, state)
        # either kind restores into a new SQLite store as the same state
        moved = str(tmp_path / "moved.db")
        pdca_run(cli, "state", "import", playbook, backups[-1], "--state", moved)
        assert _export(cli, playbook, moved) == _export(cli, playbook, state)
    finally:
        gen.close()


def test_help_lists_the_state_commands(cli: click.Group) -> None:
    text = CliRunner().invoke(cli, ["state", "--help"]).output
    for name in ("backup", "export", "import"):
        assert f"  {name} " in text
    assert "--replace" in CliRunner().invoke(cli, ["state", "import", "--help"]).output
    assert "--state URL" in CliRunner().invoke(cli, ["state", "backup", "--help"]).output
