"""The state under hostile conditions: damaged files, full disks, read-only folders,
kill -9 at random moments, and many processes writing at once (SQLite and PostgreSQL).

What is already covered elsewhere is not repeated here: one corrupt file, a newer
schema, one truncation and one kill (tests/test_state_store.py,
tests/test_cli_engine.py). These tests loop over many damaged files and crash
points and check the engine's invariants after each one. The figures they reach
are in docs/reliability.md ("State and concurrency").
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

import pdca.cli
from pdca.cli.cycle import register as register_engine
from pdca.cli.state import register as register_state
from pdca.state import store as store_module
from pg_server import fresh_database

PDCA = [sys.executable, "-m", "pdca"]
"""The real command, as a user runs it, in a process of its own."""


@pytest.fixture(scope="module")
def cli() -> click.Group:
    register_engine(pdca.cli.cli)
    register_state(pdca.cli.cli)
    register_state(pdca.cli.cli)  # twice changes nothing
    return pdca.cli.cli


def invoke(cli: click.Group, *argv: Any) -> Result:
    """One pdca command in-process; never an escaped exception, never a traceback."""
    result = CliRunner().invoke(cli, [str(a) for a in argv], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"pdca {argv} raised {result.exception!r}") from result.exception
    assert "Traceback" not in result.output
    assert "internal error" not in result.stderr, result.stderr
    return result


def export_doc(cli: click.Group, playbook: Path, *extra: str) -> dict[str, Any]:
    result = invoke(cli, "state", "export", playbook, *extra)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    doc.pop("exported")
    return doc


# -- a state with something in every table --------------------------------------------

SMALL = """\
playbook: small
title: Small
owners:
  tom: {name: Tom}
  aisha: {name: Aisha}
sources:
  scores: {type: csv, path: scores.csv, timestamp: day}
metrics:
  score: {source: scores, kpi: mean, field: score, baseline: 5, target: 9, window: 7d}
objectives:
  happy: {title: Happy, owner: tom, metrics: [score]}
tasks:
  export:
    title: Export
    owner: tom
    phase: plan
    action: {type: shell, command: "echo exported"}
  a: {title: A, owner: tom, phase: plan, depends_on: [export]}
  b: {title: B, owner: aisha, phase: plan}
  c: {title: C, owner: tom, phase: do, objective: happy}
  d: {title: D, owner: aisha, phase: do}
  keep: {title: Keep it, owner: tom, phase: act, objective: happy}
cycle: {start: 2026-01-05, length: 7d}
"""
SCORES = "day,score\n2026-01-05,4\n2026-01-07,6\n2026-01-09,8\n"


def _small(folder: Path, cli: click.Group, state: str | None = None) -> Path:
    """A playbook run into its act phase: cycles, tasks, attempts, a snapshot, a decision."""
    (folder / "scores.csv").write_text(SCORES)
    playbook = folder / "playbook.yaml"
    playbook.write_text(SMALL)
    extra = ["--state", state] if state else []
    steps = [
        ["run", playbook, "--as-of", "2026-01-11"],
        ["task", playbook, "done", "a", "--by", "tom", "--note", "first note"],
        ["task", playbook, "done", "b", "--by", "aisha"],
        ["run", playbook, "--as-of", "2026-01-11"],
        ["task", playbook, "done", "c", "--by", "tom"],
        ["task", playbook, "done", "d", "--by", "aisha", "--note", "ünïcødé ✓"],
        ["run", playbook, "--as-of", "2026-01-11"],
        ["run", playbook, "--as-of", "2026-01-11"],
        ["act", playbook, "happy", "--decision", "adjust", "--by", "tom", "--note", "more"],
        ["task", playbook, "block", "keep", "--by", "tom", "--note", "waiting"],
    ]
    for argv in steps:
        result = invoke(cli, *argv, *extra)
        assert result.exit_code == 0, (argv, result.output)
    return playbook


def _checkpoint(db: Path) -> None:
    """Fold the WAL into the file, so the file alone is the whole state."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    finally:
        con.close()
    for ext in ("-wal", "-shm"):
        Path(f"{db}{ext}").unlink(missing_ok=True)


# -- damaged files: truncated at many offsets, bytes overwritten at random ---------------

TRUNCATIONS = 20
FLIPS = 20
BYTES_PER_FLIP = 4


def _commands(playbook: Path) -> list[tuple[str, list[Any]]]:
    return [
        ("status", ["status", playbook, "--format", "json"]),
        ("history", ["history", playbook, "--format", "json"]),
        ("export", ["state", "export", playbook]),
        ("write", ["task", playbook, "reopen", "keep", "--by", "tom", "--note", "go on"]),
        ("run", ["run", playbook, "--as-of", "2026-01-11"]),
    ]


def _try_damaged(
    cli: click.Group, playbook: Path, db: Path, data: bytes, original: dict[str, Any]
) -> Counter[str]:
    """Every command on a damaged file: a clear error naming it, or the state as it was."""
    for ext in ("-wal", "-shm"):
        Path(f"{db}{ext}").unlink(missing_ok=True)
    db.write_bytes(data)
    seen: Counter[str] = Counter()
    for name, argv in _commands(playbook):
        result = invoke(cli, *argv)
        if result.exit_code == 0:
            seen[f"{name} ok"] += 1
            if name == "export":
                doc = json.loads(result.stdout)
                doc.pop("exported")
                seen["export identical" if doc == original else "export changed"] += 1
        else:
            assert result.exit_code == 1, result.output
            message = result.stderr.strip()
            assert message.startswith("error: ") and "\n" not in message, message
            if name == "write" and "cannot reopen task 'keep'" in message:
                seen["write refused by the engine"] += 1  # the state read has keep elsewhere
                continue
            assert str(db) in message, message
            assert re.search(r"corrupt|damaged|restore a backup", message), message
            seen[f"{name} refused"] += 1
    return seen


def test_truncated_state_files_give_a_clear_error_or_the_intact_state(
    cli: click.Group, tmp_path: Path
) -> None:
    playbook = _small(tmp_path, cli)
    db = tmp_path / ".pdca" / "state.db"
    original = export_doc(cli, playbook)
    _checkpoint(db)
    data = db.read_bytes()
    page = 4096
    rng = random.Random(20260105)
    offsets = {1, 16, 50, 99, 100, 101, page - 1, page, page + 1, 2 * page, len(data) - page}
    offsets |= {rng.randrange(1, len(data)) for _ in range(TRUNCATIONS - len(offsets))}
    totals: Counter[str] = Counter()
    for cut in sorted(offsets):
        seen = _try_damaged(cli, playbook, db, data[:cut], original)
        # a file cut short never silently reads as another state
        assert seen["export changed"] == 0, (cut, seen)
        totals.update(seen)
    db.write_bytes(data)
    assert len(offsets) >= TRUNCATIONS - 1
    assert totals["status refused"] > 0  # the loop did hit damage
    print(f"\ntruncations: {len(offsets)} offsets, outcomes {dict(totals)}")


def test_random_bytes_overwritten_give_a_clear_error_or_a_consistent_state(
    cli: click.Group, tmp_path: Path
) -> None:
    playbook = _small(tmp_path, cli)
    db = tmp_path / ".pdca" / "state.db"
    original = export_doc(cli, playbook)
    _checkpoint(db)
    data = db.read_bytes()
    rng = random.Random(42)
    totals: Counter[str] = Counter()
    for _ in range(FLIPS):
        damaged = bytearray(data)
        for _ in range(BYTES_PER_FLIP):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        # when it reads, the export has passed the import's validation: the state is
        # consistent (known statuses and phases, valid times, keys and references);
        # SQLite has no checksums, so a changed letter in a note reads as that letter
        totals.update(_try_damaged(cli, playbook, db, bytes(damaged), original))
    # the header, the schema and b-tree pages are hit at random: some must be refused
    assert totals["status refused"] > 0
    assert totals["status ok"] > 0
    print(f"\nbyte damage: {FLIPS} files x {BYTES_PER_FLIP} bytes, outcomes {dict(totals)}")


def test_a_damaged_value_that_sqlite_still_reads_is_refused_not_a_crash(
    cli: click.Group, tmp_path: Path
) -> None:
    playbook = _small(tmp_path, cli)
    db = tmp_path / ".pdca" / "state.db"
    damage = [
        "UPDATE pdca_cycles SET started = '2026-1F-23T09:00:00Z'",
        "UPDATE pdca_tasks SET status = 'dxne' WHERE task = 'a'",
        "UPDATE pdca_snapshots SET report = '{\"metrics\": {'",
        "UPDATE pdca_events SET data = '[1, 2' WHERE kind = 'attempt_started'",
    ]
    _checkpoint(db)
    for sql in damage:
        before = db.read_bytes()
        con = sqlite3.connect(db)
        con.execute(sql)
        con.commit()
        con.close()
        results = [invoke(cli, *argv) for _, argv in _commands(playbook)]
        refused = [r for r in results if r.exit_code == 1]
        assert refused, sql
        for r in refused:
            assert str(db) in r.stderr and "damaged" in r.stderr, (sql, r.stderr)
        _checkpoint(db)
        db.write_bytes(before)


# -- a full disk, a file size limit, a read-only state ----------------------------------


def _limit_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every new connection may not grow the file: writes needing a page get SQLITE_FULL."""
    connect = store_module._sqlite_connect

    def full_disk(dbapi_con: sqlite3.Connection, record: Any) -> None:
        connect(dbapi_con, record)
        pages = dbapi_con.execute("PRAGMA page_count").fetchone()[0]
        dbapi_con.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(store_module, "_sqlite_connect", full_disk)


def test_a_full_disk_is_a_clear_error_and_the_state_is_unchanged(
    cli: click.Group, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    playbook = _small(tmp_path, cli)
    db = tmp_path / ".pdca" / "state.db"
    before = export_doc(cli, playbook)
    long_note = "why it can go on, at length. " * 2000  # about 60 KB: needs new pages
    with monkeypatch.context() as m:
        _limit_pages(m)
        result = invoke(cli, "task", playbook, "reopen", "keep", "--by", "tom", "--note", long_note)
        assert result.exit_code == 1
        message = result.stderr.strip()
        assert message == (
            f"error: cannot write the state store {db}: the disk is full (database or disk "
            "is full); the failed change was rolled back, so the state is as the last "
            "successful command left it: free some space and run the command again"
        )
        assert export_doc(cli, playbook) == before  # reading still works, nothing changed
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    # with space again, the same command works
    ok = invoke(cli, "task", playbook, "reopen", "keep", "--by", "tom", "--note", long_note)
    assert ok.exit_code == 0, ok.output
    assert export_doc(cli, playbook)["tables"]["tasks"] != before["tables"]["tasks"]


def _file_size_limit(limit: int) -> Any:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_write_failing_at_the_disk_in_a_real_process_loses_nothing(
    cli: click.Group, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE makes the kernel refuse the write-ahead log's growth: a real I/O error."""
    playbook = _small(tmp_path, cli)
    db = tmp_path / ".pdca" / "state.db"
    _checkpoint(db)
    before = export_doc(cli, playbook)
    argv = [*PDCA, "task", str(playbook), "reopen", "keep", "--by", "tom", "--note", "x" * 60_000]
    proc = subprocess.run(
        argv,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_file_size_limit(40_000),  # room for -shm (32 KB), not for the WAL frames
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert proc.stderr.startswith(f"error: cannot use the state store {db}: disk I/O error")
    assert "rolled back" in proc.stderr
    assert export_doc(cli, playbook) == before
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def _as_unprivileged() -> list[str]:
    """A prefix that runs a command without root's permission bypass (root ignores chmod)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:  # pragma: no cover - util-linux is everywhere we run
        pytest.skip("running as root without setpriv: cannot drop the permission bypass")
    # still root (so the venv under /root stays readable) but bound by file modes
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="pdca-ro-"))
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_read_only_state_is_a_clear_error_and_stays_intact(
    cli: click.Group, shared_tmp: Path
) -> None:
    playbook = _small(shared_tmp, cli)
    folder = shared_tmp / ".pdca"
    db = folder / "state.db"
    _checkpoint(db)
    before = export_doc(cli, playbook)
    prefix = _as_unprivileged()

    def pdca_cmd(*args: Any) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*prefix, *PDCA, *(str(a) for a in args)],
            cwd=shared_tmp,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
        return proc

    write = ("task", playbook, "reopen", "keep", "--by", "tom", "--note", "unblocked")
    # 1. the folder is read-only: SQLite cannot create the WAL's -shm beside the file,
    # so writing is refused; commands that only read open the state read-only
    db.chmod(0o444)
    folder.chmod(0o555)
    proc = pdca_cmd(*write)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"error: cannot use the state store {db}: its folder {folder} is read-only for "
        "this user, and SQLite must create the -wal and -shm files beside the state "
        "there: make the folder writable, or point --state elsewhere"
    )
    shown = pdca_cmd("status", playbook)
    assert shown.returncode == 0 and shown.stderr == ""
    assert "keep" in shown.stdout
    # 2. the folder is writable, the file is not: reading works, writing is refused
    folder.chmod(0o755)
    proc = pdca_cmd(*write)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"error: cannot write the state store {db}: it is read-only for this user (attempt "
        "to write a readonly database); this change was not saved: make the file and its "
        "folder writable, or point --state elsewhere"
    )
    assert pdca_cmd("status", playbook).returncode == 0
    copy = shared_tmp / "copy.json"
    assert pdca_cmd("state", "export", playbook, "-o", copy).returncode == 0
    exported = json.loads(copy.read_text())
    exported.pop("exported")
    assert exported == before  # a read-only state can still be exported (and so moved)
    # 3. writable again: nothing was lost, and the refused command now works
    db.chmod(0o644)
    assert export_doc(cli, playbook) == before
    assert pdca_cmd(*write).returncode == 0
    assert export_doc(cli, playbook) != before


def test_a_state_folder_that_cannot_be_created_is_a_clear_error(
    cli: click.Group, shared_tmp: Path
) -> None:
    (shared_tmp / "scores.csv").write_text(SCORES)
    playbook = shared_tmp / "playbook.yaml"
    playbook.write_text(SMALL)
    shared_tmp.chmod(0o555)
    proc = subprocess.run(
        [*_as_unprivileged(), *PDCA, "run", str(playbook)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    shared_tmp.chmod(0o755)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: cannot create the state folder {shared_tmp}/.pdca")
    assert not (shared_tmp / ".pdca").exists()


# -- kill -9 at random moments of pdca run, invariants after every resume ----------------

CHAIN = 30
ITERATIONS = 10
SEED = 20260105


def _chain_playbook(folder: Path) -> Path:
    """A chain of automated tasks; some slow, some writing their effect before the sleep,
    some after (a kill then falls between the effect and its record)."""
    lines = ["playbook: chain", "title: Chain", "owners:", "  tom: {name: Tom}", "tasks:"]
    for i in range(CHAIN):
        effect = f'echo \\"t{i} $PDCA_ATTEMPT\\" >> effects.log'
        if i % 3 == 0:
            command = f"{effect}; sleep 0.25"
        elif i % 3 == 1:
            command = f"sleep 0.15; {effect}; sleep 0.1"
        else:
            command = effect
        deps = f", depends_on: [t{i - 1}]" if i else ""
        lines.append(
            f"  t{i}: {{title: T{i}, owner: tom, phase: plan{deps},"
            f' action: {{type: shell, command: "{command}", timeout: 60}}}}'
        )
    path = folder / "playbook.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _spawn(playbook: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*PDCA, "run", str(playbook)],
        cwd=playbook.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # kill -9 the group: the action's shell dies too
    )


def _kill9(proc: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the run and its children; False when it had already finished."""
    if proc.poll() is not None:
        proc.communicate()
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    return True


def _rows(db: Path, sql: str) -> list[sqlite3.Row]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _effects(folder: Path) -> list[tuple[str, int]]:
    path = folder / "effects.log"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        task, attempt = line.split()
        out.append((task, int(attempt)))
    return out


def _check_invariants(db: Path, folder: Path, allowed_running_pids: set[int]) -> dict[str, int]:
    """What must hold whenever pdca was killed, whatever the moment."""
    if not db.exists():
        return {}
    assert _rows(db, "PRAGMA integrity_check")[0][0] == "ok"
    tasks = {r["task"]: r for r in _rows(db, "SELECT * FROM pdca_tasks")}
    if not tasks:
        return {}  # killed before cycle 1 opened
    order = [f"t{i}" for i in range(CHAIN)]
    statuses = [tasks[t]["status"] for t in order]
    # the chain: done ones first, then at most one ready or in progress, then pending
    shape = "".join(
        {"done": "d", "in_progress": "i", "ready": "r", "pending": "p"}[s] for s in statuses
    )
    assert re.fullmatch(r"d*[ir]?p*", shape), shape
    attempts = _rows(db, "SELECT * FROM pdca_attempts ORDER BY task, number")
    by_task: dict[str, list[sqlite3.Row]] = {}
    for a in attempts:
        by_task.setdefault(a["task"], []).append(a)
        assert a["outcome"] in ("ok", "interrupted", "running"), dict(a)
    running = [a for a in attempts if a["outcome"] == "running"]
    assert len(running) <= 1
    # a started run is never left behind by a later run
    assert {a["pid"] for a in running} <= allowed_running_pids, ([dict(a) for a in running],)
    assert {a["task"] for a in running} == {t for t in order if tasks[t]["status"] == "in_progress"}
    for t in order:
        mine = by_task.get(t, [])
        assert [a["number"] for a in mine] == list(range(1, len(mine) + 1))
        oks = [a for a in mine if a["outcome"] == "ok"]
        assert len(oks) == (1 if tasks[t]["status"] == "done" else 0), (t, [dict(a) for a in mine])
        assert tasks[t]["attempts"] == len(mine)
    # the audit log agrees with the rows
    events = _rows(db, "SELECT * FROM pdca_events ORDER BY id")
    last: dict[str, str] = {}
    started: Counter[tuple[str, int]] = Counter()
    finished: dict[tuple[str, int], list[str]] = {}
    done_events: Counter[str] = Counter()
    for e in events:
        if e["kind"] in ("task_changed", "task_added"):
            last[e["subject"]] = e["new"]
            done_events[e["subject"]] += e["new"] == "done"
        elif e["kind"] == "attempt_started":
            started[(e["subject"], json.loads(e["data"])["attempt"])] += 1
        elif e["kind"] == "attempt_finished":
            key = (e["subject"], json.loads(e["data"])["attempt"])
            finished.setdefault(key, []).append(e["new"])
    for t in order:
        assert last.get(t, "pending") == tasks[t]["status"], (t, last.get(t))
        assert done_events[t] <= 1
    for a in attempts:
        key = (a["task"], a["number"])
        assert started[key] == 1, key
        assert finished.get(key, []) == ([] if a["outcome"] == "running" else [a["outcome"]])
    # effects: at least once, never without a recorded start, once per successful run
    effects = _effects(folder)
    counted = Counter(effects)
    known = {(a["task"], a["number"]): a["outcome"] for a in attempts}
    for key, n in counted.items():
        assert key in known, f"{key} ran without its attempt being recorded first"
        assert n == 1, f"attempt {key} ran its action {n} times"
    for key, outcome in known.items():
        if outcome == "ok":
            assert counted[key] == 1, f"{key} recorded ok but its effect is missing"
    return {
        "interrupted": sum(a["outcome"] == "interrupted" for a in attempts),
        "effects_of_interrupted": sum(
            1 for key in counted if known.get(key) in ("interrupted", "running")
        ),
        "done": statuses.count("done"),
    }


def _wait_for_first_attempt(db: Path, proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Until the resumed run has committed its first attempt (so it has cleaned up)."""
    while proc.poll() is None and time.monotonic() < deadline:
        if db.exists():
            try:
                rows = _rows(db, f"SELECT 1 FROM pdca_attempts WHERE pid = {proc.pid}")
            except sqlite3.OperationalError:  # tables not created yet
                rows = []
            if rows:
                return
        time.sleep(0.02)


@pytest.mark.slow
def test_kill_9_at_random_moments_keeps_every_invariant_after_each_resume(
    cli: click.Group, tmp_path: Path
) -> None:
    playbook = _chain_playbook(tmp_path)
    db = tmp_path / ".pdca" / "state.db"
    rng = random.Random(SEED)
    kills = 0
    began = time.monotonic()
    figures: dict[str, int] = {}
    previous: set[int] = set()
    for _ in range(ITERATIONS):
        # a run killed at a random moment: while starting, in a transaction, in an action
        first = _spawn(playbook)
        time.sleep(rng.uniform(0.2, 1.2))
        kills += _kill9(first)
        # killed before its first transaction, it left the previous run's attempt as it was
        figures = _check_invariants(db, tmp_path, {first.pid, *previous})
        # the resume: once it has started its first attempt, the killed run's attempt
        # must be settled (interrupted or finished); then it is killed too, at random
        resume = _spawn(playbook)
        _wait_for_first_attempt(db, resume, time.monotonic() + 30)
        time.sleep(rng.uniform(0.0, 0.3))
        kills += _kill9(resume)
        figures = _check_invariants(db, tmp_path, {resume.pid})
        previous = {resume.pid}
    final = subprocess.run(
        [*PDCA, "run", str(playbook)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert final.returncode == 0, final.stderr
    figures = _check_invariants(db, tmp_path, set())
    assert figures["done"] == CHAIN
    cycle = _rows(db, "SELECT phase FROM pdca_cycles")
    assert [r["phase"] for r in cycle] == ["closed"]  # the cycle completed
    assert "the playbook is finished" in final.stdout
    effects = Counter(task for task, _ in _effects(tmp_path))
    assert set(effects) == {f"t{i}" for i in range(CHAIN)}
    assert kills >= ITERATIONS  # most runs were really killed mid-way
    assert figures["interrupted"] >= 1
    print(
        f"\nkill -9: {ITERATIONS} iterations, {kills} kills survived, "
        f"{figures['interrupted']} attempts interrupted, "
        f"{figures['effects_of_interrupted']} actions ran again (at-least-once), "
        f"{time.monotonic() - began:.1f} s"
    )


# -- many processes at once, on SQLite and PostgreSQL ---------------------------------------

PEOPLE = 6


def _race_playbook(folder: Path) -> Path:
    (folder / "scores.csv").write_text(SCORES)
    lines = [
        "playbook: crowd",
        "title: Crowd",
        "owners:",
        "  tom: {name: Tom}",
        "  aisha: {name: Aisha}",
        "sources:",
        "  scores: {type: csv, path: scores.csv, timestamp: day}",
        "metrics:",
        "  score: {source: scores, kpi: mean, field: score, baseline: 5, target: 9, window: 7d}",
        "tasks:",
    ]
    for i in range(3):
        lines.append(
            f"  auto{i}: {{title: Auto {i}, owner: tom, phase: plan,"
            f' action: {{type: shell, command: "echo auto{i} >> effects.log; sleep 0.1"}}}}'
        )
    for i in range(PEOPLE):
        lines.append(f"  p{i}: {{title: P{i}, owner: {'tom' if i % 2 else 'aisha'}, phase: plan}}")
    lines.append("  shared: {title: Shared, owner: tom, phase: plan}")
    lines.append("  later: {title: Later, owner: tom, phase: do}")
    path = folder / "playbook.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _workers(playbook: Path) -> list[list[tuple[list[str], tuple[int, ...]]]]:
    """Each worker process's commands, with the exit codes each may end with."""
    pb = str(playbook)
    workers = []
    for i in range(PEOPLE):
        by = "tom" if i % 2 else "aisha"
        t = f"p{i}"
        workers.append(
            [
                (["task", pb, "start", t, "--by", by], (0,)),
                (["task", pb, "block", t, "--by", by, "--note", f"{t} waits"], (0,)),
                (["task", pb, "reopen", t, "--by", by, "--note", "go on"], (0,)),
                (["task", pb, "start", t, "--by", by], (0,)),
                (["task", pb, "done", t, "--by", by, "--note", f"{t} finished"], (0,)),
            ]
        )
    workers.append(
        [
            (["run", pb, "--as-of", "2026-01-11"], (0,)),
            (["task", pb, "done", "shared", "--by", "tom"], (0, 1)),
            (["check", pb, "--as-of", "2026-01-11", "--format", "json"], (0,)),
            (["run", pb, "--as-of", "2026-01-11"], (0,)),
        ]
    )
    workers.append(
        [
            (["check", pb, "--as-of", "2026-01-11", "--format", "json"], (0,)),
            (["task", pb, "done", "shared", "--by", "tom"], (0, 1)),
            (["task", pb, "start", "later", "--by", "tom"], (1,)),  # do phase: refused
            (["status", pb, "--format", "json"], (0,)),
            (["run", pb, "--as-of", "2026-01-11"], (0,)),
        ]
    )
    return workers


def _worker(commands: list[list[str]], barrier: Any, results: Any) -> None:
    barrier.wait()
    out = []
    for argv in commands:
        result = CliRunner().invoke(pdca.cli.cli, argv)
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        out.append(
            (argv, result.exit_code, result.stderr, repr(result.exception) if crashed else "")
        )
    results.put(out)


def _fresh_pg_database(pg_url: str) -> Iterator[str]:
    return fresh_database(pg_url, "pdca_rel")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
    else:
        yield from _fresh_pg_database(request.getfixturevalue("pg_url"))


@pytest.mark.slow
def test_processes_updating_tasks_and_running_checks_at_once_lose_nothing(
    cli: click.Group, tmp_path: Path, state: str | None
) -> None:
    playbook = _race_playbook(tmp_path)
    extra = ["--state", state] if state else []
    first = invoke(cli, "run", playbook, "--as-of", "2026-01-11", *extra)
    assert first.exit_code == 0, first.output
    (tmp_path / "effects.log").unlink()
    for i in range(3):  # so the racing runs have automated work to do
        assert (
            invoke(cli, "task", playbook, "reopen", f"auto{i}", "--by", "tom", *extra).exit_code
            == 0
        )
    plans = _workers(playbook)
    commands = [[argv + (extra if argv[0] != "check" else []) for argv, _ in w] for w in plans]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(plans))
    results = ctx.Queue()
    began = time.monotonic()
    procs = [ctx.Process(target=_worker, args=(c, barrier, results)) for c in commands]
    for p in procs:
        p.start()
    outputs = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    elapsed = time.monotonic() - began
    assert [p.exitcode for p in procs] == [0] * len(procs)
    allowed = {tuple(a + (extra if a[0] != "check" else [])): ok for w in plans for a, ok in w}
    shared_codes = []
    for out in outputs:
        for argv, code, err, crash in out:
            assert not crash, (argv, crash)
            assert code in allowed[tuple(argv)], (argv, code, err)
            assert "locked" not in err and "Traceback" not in err and "internal error" not in err
            if "shared" in argv:
                shared_codes.append(code)
            if code == 1 and "shared" in argv:
                assert "cannot mark task 'shared' done: it is already done" in err, err
            if code == 1 and "later" in argv:
                assert "cannot start task 'later'" in err, err
    assert sorted(shared_codes) == [0, 1]  # one of the two wins, the other is told why
    assert elapsed < 90
    history = json.loads(invoke(cli, "history", playbook, "--format", "json", *extra).stdout)
    status = json.loads(invoke(cli, "status", playbook, "--format", "json", *extra).stdout)
    for i in range(PEOPLE):
        t = f"p{i}"
        assert status["tasks"][t]["status"] == "done"
        assert status["tasks"][t]["note"] == f"{t} finished"
        moves = [
            (e["old"], e["new"])
            for e in history["events"]
            if e["kind"] == "task_changed" and e["subject"] == t and e["by"]
        ]
        # every update of every process is in the log, once, in its order
        assert moves == [
            ("ready", "in_progress"),
            ("in_progress", "blocked"),
            ("blocked", "ready"),
            ("ready", "in_progress"),
            ("in_progress", "done"),
        ], (t, moves)
    done = Counter(
        e["subject"]
        for e in history["events"]
        if e["kind"] == "task_changed" and e["new"] == "done"
    )
    assert done["shared"] == 1
    assert all(done[f"p{i}"] == 1 for i in range(PEOPLE))
    assert all(done[f"auto{i}"] == 2 for i in range(3))  # before the race, and once in it
    assert sorted((tmp_path / "effects.log").read_text().split()) == ["auto0", "auto1", "auto2"]
    kind = "postgresql" if state else "sqlite"
    print(f"\n{len(procs)} processes ({kind}): {elapsed:.1f} s")
