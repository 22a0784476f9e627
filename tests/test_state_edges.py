"""The state file at the edges of real life: deleted under a run, on a read-only file system.

* An automated task (or a clean-up job) deletes or replaces ``.pdca/state.db``
  while ``pdca run`` works. SQLite keeps writing into the file it has open, so
  the run used to report success while everything it recorded went into a file
  nobody can open again. Now the run compares the file at the path with the
  one it opened before each commit, and fails with exit 1.
* The state sits on a read-only file system (a snapshot, a read-only mount) or
  in a folder this user may not write. Commands that only read it (status,
  history, report, state export, state backup -o) open it read-only and work;
  writing commands say "read-only file system", not "permission".

The read-only file system is a real one: a read-only bind mount in a private
mount namespace (``unshare -m``), which stops root too, as chmod does not.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

PDCA = [sys.executable, "-m", "pdca"]

PLAYBOOK = """\
playbook: desk
title: Support desk
owners:
  maria: {name: Maria Lopez}
tasks:
  export:
    title: Export the data
    owner: maria
    phase: plan
    action: {type: shell, command: "%s"}
  after:
    title: Runs after the export
    owner: maria
    phase: plan
    depends_on: [export]
    action: {type: shell, command: "echo after >> after.log"}
  review: {title: Review, owner: maria, phase: do}
cycle: {start: 2026-01-05, length: 7d}
"""


def _pdca(
    cwd: Path, *args: object, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*prefix, *PDCA, *(str(a) for a in args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return proc


def _desk(folder: Path, command: str = "echo exported") -> Path:
    playbook = folder / "desk.yaml"
    playbook.write_text(PLAYBOOK % command, encoding="utf-8")
    return playbook


# -- deleted or replaced while pdca run works -----------------------------------------


@pytest.mark.parametrize(
    ("command", "what"),
    [
        ("rm -f .pdca/state.db", "deleted"),
        # a copy moved over the path: the same bytes, another file
        ("cp .pdca/state.db copy.db && mv copy.db .pdca/state.db", "replaced by another file"),
    ],
)
def test_a_state_file_deleted_during_run_fails_loudly(
    tmp_path: Path, command: str, what: str
) -> None:
    playbook = _desk(tmp_path, command)
    db = tmp_path / ".pdca" / "state.db"
    proc = _pdca(tmp_path, "run", playbook, "--as-of", "2026-01-06")
    assert proc.returncode == 1, proc.stdout
    assert proc.stderr == (
        f"error: the state file {db} was {what} while this command ran (by an automated "
        "task, a clean-up job or a person); this change was not saved, and what was "
        "recorded in the old file is lost with it: restore a backup with pdca state import "
        "PLAYBOOK BACKUP --replace (backups are in .pdca/backups), then run the command "
        "again\n"
    )
    # the run stopped at the first commit after the deletion: nothing ran after it
    assert proc.stdout.splitlines() == ["cycle 1 opened", "  task export: attempt 1 started ..."]
    assert not (tmp_path / "after.log").exists()


def test_the_same_file_rewritten_in_place_is_no_deletion(tmp_path: Path) -> None:
    """Writes by another pdca command go into the same file: the run goes on."""
    playbook = _desk(tmp_path, "echo exported")
    assert _pdca(tmp_path, "run", playbook, "--as-of", "2026-01-06").returncode == 0
    assert _pdca(tmp_path, "task", playbook, "start", "review", "--by", "maria").returncode == 0
    status = json.loads(_pdca(tmp_path, "status", playbook, "--format", "json").stdout)
    assert status["tasks"]["review"]["status"] == "in_progress"
    assert (tmp_path / "after.log").read_text() == "after\n"


# -- a state nobody may write ---------------------------------------------------------


def _read_only_mount() -> tuple[str, ...]:
    """A prefix that runs a command with ``$PDCA_RO_DIR`` bind-mounted read-only over itself.

    The mount lives in a private mount namespace that ends with the command, so
    nothing outside the test sees it. Skipped (with the reason) where a process
    may not make one (not root, no CAP_SYS_ADMIN, no unshare).
    """
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root and unshare (util-linux)")
    script = 'mount --bind -o ro "$PDCA_RO_DIR" "$PDCA_RO_DIR" && exec "$@"'
    prefix = (unshare, "-m", "--propagation", "private", "sh", "-c", script, "sh")
    probe = subprocess.run(
        [*prefix, "true"],
        env={**os.environ, "PDCA_RO_DIR": "/tmp"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only bind mount here: {probe.stderr.strip()}")
    return prefix


@pytest.fixture
def started(tmp_path: Path) -> Path:
    """A state with a cycle in do and a task started: something worth reading."""
    playbook = _desk(tmp_path)
    assert _pdca(tmp_path, "run", playbook, "--as-of", "2026-01-06").returncode == 0
    assert _pdca(tmp_path, "task", playbook, "start", "review", "--by", "maria").returncode == 0
    return playbook


def _reads(folder: Path, playbook: Path, out: Path, prefix: tuple[str, ...]) -> dict[str, str]:
    """What each reading command gives; each must succeed."""
    got = {}
    for name, args in {
        "status": ("status", playbook, "--format", "json", "--as-of", "2026-01-06"),
        "history": ("history", playbook, "--format", "json"),
        "export": ("state", "export", playbook),
        "report": ("report", playbook, "--format", "markdown", "-o", "-", "--as-of", "2026-01-06"),
        "backup": ("state", "backup", playbook, "-o", out),
    }.items():
        proc = _pdca(folder, *args, prefix=prefix)
        assert proc.returncode == 0, (name, proc.stderr)
        got[name] = proc.stdout
    doc = json.loads(got["export"])
    doc.pop("exported")
    got["export"] = json.dumps(doc, sort_keys=True)
    lines = got["report"].splitlines()
    got["report"] = "\n".join(x for x in lines if not x.startswith("_Generated by pdca"))
    return got


def test_a_state_on_a_read_only_file_system_can_be_read_but_not_written(
    started: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = started.parent
    prefix = _read_only_mount()
    os.environ["PDCA_RO_DIR"] = str(folder)  # the subprocesses inherit it
    try:
        outside = tmp_path_factory.mktemp("outside")
        before = _reads(folder, started, outside / "before.db", ())
        assert not (folder / ".pdca" / "state.db-wal").exists()  # closed cleanly: immutable
        after = _reads(folder, started, outside / "after.db", prefix)
        assert {k: v for k, v in after.items() if k != "backup"} == {
            k: v for k, v in before.items() if k != "backup"
        }
        assert json.loads(after["status"])["tasks"]["review"]["status"] == "in_progress"
        assert after["backup"].startswith(f"backed up {folder / '.pdca' / 'state.db'} to ")
        con = sqlite3.connect(outside / "after.db")
        assert con.execute("SELECT status FROM pdca_tasks WHERE task = 'review'").fetchall() == [
            ("in_progress",)
        ]
        con.close()
        # writing commands name the read-only file system, not permissions
        for args in (
            ("task", started, "done", "review", "--by", "maria"),
            ("run", started, "--as-of", "2026-01-06"),
            ("act", started, "x", "--decision", "adjust", "--by", "maria", "--note", "n"),
        ):
            proc = _pdca(folder, *args, prefix=prefix)
            assert proc.returncode == 1, args
            assert proc.stderr.startswith(
                f"error: cannot write the state store {folder / '.pdca' / 'state.db'}: it is "
                "on a read-only file system (a snapshot or a read-only mount); this change "
                "was not saved."
            ), proc.stderr
            assert "permission" not in proc.stderr and "for this user" not in proc.stderr
        backup = _pdca(folder, "state", "backup", started, prefix=prefix)
        assert backup.returncode == 1
        assert "Read-only file system; write it to a writable place (-o FILE)" in backup.stderr
    finally:
        os.environ.pop("PDCA_RO_DIR", None)
    # nothing changed, and the state is writable again outside the mount
    assert _reads(folder, started, outside / "again.db", ())["export"] == before["export"]
    assert _pdca(folder, "task", started, "done", "review", "--by", "maria").returncode == 0


def test_a_read_only_state_with_changes_still_in_its_wal_reads_them(
    started: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With -wal and -shm beside the file (a writer had it open when the snapshot was
    taken), the last change lives in the WAL only; the read-only open must see it."""
    folder = started.parent
    db = folder / ".pdca" / "state.db"
    prefix = _read_only_mount()
    holder = sqlite3.connect(db)  # an open connection keeps the WAL from being checkpointed
    try:
        holder.execute("PRAGMA wal_autocheckpoint = 0")
        holder.execute("SELECT count(*) FROM pdca_tasks").fetchall()
        done = _pdca(folder, "task", started, "block", "review", "--by", "maria", "--note", "wal")
        assert done.returncode == 0
        assert (folder / ".pdca" / "state.db-wal").stat().st_size > 0
        os.environ["PDCA_RO_DIR"] = str(folder)
        try:
            proc = _pdca(folder, "status", started, "--format", "json", prefix=prefix)
        finally:
            os.environ.pop("PDCA_RO_DIR", None)
    finally:
        holder.close()
    assert proc.returncode == 0, proc.stderr
    task = json.loads(proc.stdout)["tasks"]["review"]
    assert (task["status"], task["note"]) == ("blocked", "wal")


def _as_unprivileged() -> tuple[str, ...]:
    """Root bound by file modes (no permission bypass), as test_state_reliability runs it."""
    from test_state_reliability import _as_unprivileged as prefix

    return tuple(prefix())


def test_a_state_in_a_folder_this_user_may_not_write_can_be_read(
    started: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = started.parent
    state = folder / ".pdca"
    outside = tmp_path_factory.mktemp("outside")
    outside.chmod(0o777)
    before = _reads(folder, started, outside / "before.db", ())
    (state / "state.db").chmod(0o444)
    state.chmod(0o555)
    try:
        after = _reads(folder, started, outside / "after.db", _as_unprivileged())
        refused = _pdca(
            folder, "task", started, "done", "review", "--by", "maria", prefix=_as_unprivileged()
        )
    finally:
        state.chmod(0o755)
        (state / "state.db").chmod(0o644)
    assert after["export"] == before["export"] and after["status"] == before["status"]
    assert refused.returncode == 1
    assert f"its folder {state} is read-only for this user" in refused.stderr
