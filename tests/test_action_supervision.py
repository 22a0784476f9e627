"""``pdca run`` keeps watch over the commands of automated tasks, with real processes.

Each test runs ``pdca`` as a user does, in a process of its own, with shell
actions that record their own process ids, so the test can see which processes
are still alive afterwards. What each one guards against:

* a timeout ends the command's whole group before the next attempt starts;
* a command that leaves a child in the background (holding the output pipe)
  counts as finished when the shell exits, and the child is ended;
* SIGTERM or Ctrl-C of ``pdca run`` ends the running command and records the
  attempt as cancelled; after ``kill -9`` the next run ends the orphaned group
  before it runs the task again;
* output is kept as a bounded tail while it streams (200 MB of output, a few
  MB of memory);
* NUL and other control bytes are stored so every backend and an export/import
  accept them;
* ``retry_delay`` spaces retries out, doubling each time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pg_server import fresh_database

PDCA = [sys.executable, "-m", "pdca"]


def _playbook(folder: Path, task: str, then_person: bool = True) -> Path:
    """A playbook with one automated task (``task`` is its YAML body) and, after it,
    a person's task, so a run stops there without measuring anything."""
    person = (
        "  review: {title: Review, owner: tom, phase: plan, depends_on: [job]}\n"
        if then_person
        else ""
    )
    text = (
        "playbook: watch\n"
        "title: Supervised actions\n"
        "owners:\n"
        "  tom: {name: Tom}\n"
        "tasks:\n"
        "  job:\n"
        "    title: The job\n"
        "    owner: tom\n"
        "    phase: plan\n" + textwrap.indent(textwrap.dedent(task).strip("\n"), "    ") + "\n"
        f"{person}"
    )
    path = folder / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def pdca(playbook: Path, *args: str, state: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--state", state] if state else []
    return subprocess.run(
        [*PDCA, *args, str(playbook), *extra],
        cwd=playbook.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _history(playbook: Path, state: str | None = None) -> dict[str, Any]:
    done = pdca(playbook, "history", "--format", "json", state=state)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _spawn(playbook: Path) -> subprocess.Popen[str]:
    """``pdca run`` in a session of its own, so a signal to it reaches only it."""
    return subprocess.Popen(
        [*PDCA, "run", str(playbook)],
        cwd=playbook.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _alive(pid: int) -> bool:
    """A live process (a zombie is gone as far as work is concerned)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _gone(pid: int, within: float = 10.0) -> bool:
    """Whether ``pid`` is gone, giving init a moment to reap it."""
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _wait_for(path: Path, proc: subprocess.Popen[str] | None = None) -> int:
    """The pid a command wrote to ``path``, once it is there."""
    deadline = time.monotonic() + 60
    while not (path.exists() and path.read_text().strip()):
        assert proc is None or proc.poll() is None, proc.communicate() if proc else None
        assert time.monotonic() < deadline, f"{path.name} was never written"
        time.sleep(0.05)
    return int(path.read_text().split()[0])


@pytest.fixture
def reaper() -> Iterator[list[int]]:
    """Process groups a test started: ended afterwards whatever the outcome."""
    groups: list[int] = []
    yield groups
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


# A command that complains when the child of an earlier attempt is still alive
# (a zombie does not count), then starts a child of its own and waits for it.
OVERLAP_CHECK = (
    "if [ -f child.pid ]; then s=$(cut -d' ' -f3 /proc/$(cat child.pid)/stat 2>/dev/null); "
    'if [ -n "$s" ] && [ "$s" != Z ]; then echo overlap >> overlap.log; fi; fi; '
)


# -- timeouts and retries -----------------------------------------------------------------


def test_a_timed_out_attempt_is_ended_whole_before_the_retry_starts(tmp_path: Path) -> None:
    command = (
        OVERLAP_CHECK + "echo $PDCA_ATTEMPT >> attempts.log; sleep 30 & echo $! > child.pid; wait"
    )
    playbook = _playbook(
        tmp_path,
        f"""
        retries: 2
        action: {{type: shell, timeout: 1, command: {json.dumps(command)}}}
        """,
    )
    done = pdca(playbook, "run")
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "attempts.log").read_text().split() == ["1", "2", "3"]
    assert not (tmp_path / "overlap.log").exists()  # no two copies side by side
    assert _gone(int((tmp_path / "child.pid").read_text()))
    outcomes = [(a["attempt"], a["outcome"], a["error"]) for a in _history(playbook)["attempts"]]
    assert outcomes == [(n, "failed", "stopped after 1 s (timeout)") for n in (1, 2, 3)]


# -- a child left in the background ---------------------------------------------------------


def test_a_child_left_in_the_background_does_not_hold_the_run(tmp_path: Path) -> None:
    # Before: the child held the output pipe, so the run waited for the 60 s timeout
    # and recorded a failure.
    playbook = _playbook(
        tmp_path,
        """
        action:
          type: shell
          timeout: 60
          command: "sleep 300 & echo $! > server.pid; echo started"
        """,
    )
    done = pdca(playbook, "run")
    assert done.returncode == 0, done.stderr
    assert "task job: attempt 1 ok" in done.stdout
    server = int((tmp_path / "server.pid").read_text())
    assert _gone(server)  # the safer default: what the command left in its group is ended
    (attempt,) = _history(playbook)["attempts"]
    assert attempt["outcome"] == "ok" and attempt["exit_code"] == 0
    assert attempt["output"] == (
        "started\n[pdca: the command exited and left 1 process running in its group "
        f"({server}); pdca ended it]"
    )


@pytest.mark.parametrize(
    "command",
    [
        "setsid sleep 300 > /dev/null 2>&1 < /dev/null & echo $! > server.pid",
        # setsid runs only 50 ms after the shell has exited, as a daemon's start-up
        # may on a loaded machine: pdca gives it time to leave the group
        "(sleep 0.05; exec setsid sleep 300) > /dev/null 2>&1 < /dev/null & echo $! > server.pid",
    ],
    ids=["at-once", "just-after-the-shell-exits"],
)
def test_a_server_started_in_a_session_of_its_own_is_left_running(
    tmp_path: Path, reaper: list[int], command: str
) -> None:
    playbook = _playbook(
        tmp_path,
        f"""
        action:
          type: shell
          timeout: 60
          command: {json.dumps(command)}
        """,
    )
    done = pdca(playbook, "run")
    assert done.returncode == 0, done.stderr
    server = _wait_for(tmp_path / "server.pid")
    reaper.append(server)
    assert _alive(server)
    (attempt,) = _history(playbook)["attempts"]
    assert attempt["outcome"] == "ok" and attempt["output"] == ""


# -- pdca run stopped by a signal ----------------------------------------------------------


SLOW_ONCE = (
    "if [ -f second.marker ]; then echo second >> effects.log; exit 0; fi; "
    "echo $$ > shell.pid; sleep 60 & echo $! > child.pid; wait"
)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stopped_run_ends_its_action_and_records_it_cancelled(
    tmp_path: Path, reaper: list[int], sig: signal.Signals, code: int
) -> None:
    playbook = _playbook(tmp_path, f"action: {{type: shell, command: {json.dumps(SLOW_ONCE)}}}")
    run = _spawn(playbook)
    shell = _wait_for(tmp_path / "shell.pid", run)
    reaper.append(shell)
    child = _wait_for(tmp_path / "child.pid", run)
    run.send_signal(sig)
    _, err = run.communicate(timeout=60)
    assert run.returncode == code, err
    assert err == (
        f"error: pdca run was stopped by {sig.name}; it ended the running action and "
        f"recorded attempt 1 of task 'job' as cancelled; run it again to continue: "
        f"pdca run {playbook}\n"
    )
    assert _gone(shell) and _gone(child)
    history = _history(playbook)
    (attempt,) = history["attempts"]
    assert attempt["outcome"] == "cancelled"
    assert attempt["error"] == f"pdca run was stopped ({sig.name}) and ended the action"
    changes = [(e["old"], e["new"]) for e in history["events"] if e["kind"] == "task_changed"]
    assert changes[-1] == ("in_progress", "ready")  # runs again, no retry used up

    (tmp_path / "second.marker").touch()
    again = pdca(playbook, "run")
    assert again.returncode == 0, again.stderr
    assert "task job: attempt 2 ok" in again.stdout
    assert (tmp_path / "effects.log").read_text() == "second\n"


def test_after_kill_9_the_next_run_ends_the_orphaned_group_before_it_retries(
    tmp_path: Path, reaper: list[int]
) -> None:
    command = OVERLAP_CHECK + (
        "if [ -f child.pid ]; then echo second >> effects.log; exit 0; fi; "
        "echo $$ > shell.pid; sleep 60 & echo $! > child.pid; wait"
    )
    playbook = _playbook(tmp_path, f"action: {{type: shell, command: {json.dumps(command)}}}")
    run = _spawn(playbook)
    shell = _wait_for(tmp_path / "shell.pid", run)
    reaper.append(shell)
    child = _wait_for(tmp_path / "child.pid", run)
    # the group's record is committed just after the command started
    deadline = time.monotonic() + 30
    while not any(e["kind"] == "attempt_process" for e in _history(playbook)["events"]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run.kill()  # kill -9 of pdca alone: its command lives on in its own session
    run.communicate(timeout=30)
    assert _alive(shell) and _alive(child)

    again = pdca(playbook, "run")
    assert again.returncode == 0, again.stderr
    assert _gone(shell) and _gone(child)
    assert not (tmp_path / "overlap.log").exists()  # attempt 2 never ran beside attempt 1
    assert (tmp_path / "effects.log").read_text() == "second\n"
    events = _history(playbook)["events"]
    kinds = [e["kind"] for e in events if e["kind"].startswith("attempt_")]
    assert kinds == [
        "attempt_started",
        "attempt_process",
        "attempt_orphan_ended",
        "attempt_finished",
        "attempt_started",
        "attempt_process",
        "attempt_finished",
    ]
    (process,) = [e for e in events if e["kind"] == "attempt_process"][:1]
    assert process["data"]["pgid"] == shell
    (ended,) = [e for e in events if e["kind"] == "attempt_orphan_ended"]
    assert ended["data"] == {"attempt": 1, "pgid": shell, "pids": sorted([shell, child])}
    assert ended["note"] == (
        "ended 2 processes of attempt 1 left running by a pdca run that was killed"
    )
    outcomes = [(a["attempt"], a["outcome"]) for a in _history(playbook)["attempts"]]
    assert outcomes == [(1, "interrupted"), (2, "ok")]


def test_a_recorded_group_is_ended_only_while_it_is_the_same(reaper: list[int]) -> None:
    from pdca.builtins.processes import end_orphan, identity, still_there

    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    reaper.append(proc.pid)
    ident = identity(proc.pid)
    assert ident is not None and ident["pgid"] == proc.pid
    assert still_there({**ident, "start": ident["start"] + 1}) == []  # a newer process
    assert still_there({**ident, "boot": "another-boot"}) == []
    assert still_there({"pgid": "x"}) == []
    assert still_there(ident) == [proc.pid]
    assert end_orphan(ident) == [proc.pid]
    assert proc.wait(timeout=30) == -signal.SIGTERM
    assert end_orphan(ident) == []


# -- bounded output --------------------------------------------------------------------------

MEASURE = """\
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_kib(playbook: Path) -> int:
    """Peak RSS (KiB) of a fresh ``pdca run`` (and its children), measured in a process
    that runs only it."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *PDCA, "run", str(playbook)],
        cwd=playbook.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    code, peak = map(int, done.stdout.split())
    assert code == 0, done.stderr
    return peak


def test_200_mb_of_output_keep_memory_bounded(tmp_path: Path) -> None:
    small, big = tmp_path / "small", tmp_path / "big"
    small.mkdir()
    big.mkdir()
    baseline = _peak_kib(_playbook(small, 'action: {type: shell, command: "echo x"}'))
    playbook = _playbook(
        big,
        """
        action: {type: shell, timeout: 600, command: "head -c 200000000 /dev/zero | tr '\\\\0' x"}
        """,
    )
    peak = _peak_kib(playbook)
    # Before: the output was held whole (200 MB took the run to about 640 MB).
    assert peak - baseline < 20_000, (baseline, peak)
    (attempt,) = _history(playbook)["attempts"]
    assert attempt["outcome"] == "ok"
    assert attempt["output"] == "…" + "x" * 4000


# -- what is stored --------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
    else:
        yield from fresh_database(request.getfixturevalue("pg_url"), "pdca_watch")


def test_nul_and_control_bytes_in_output_are_stored_and_exported(
    tmp_path: Path, state: str | None
) -> None:
    # Before: PostgreSQL refused the NUL, so the attempt was never saved and ran again
    # on every run; SQLite kept it and `state export` then called the state corrupt.
    playbook = _playbook(
        tmp_path,
        r"""
        action:
          type: shell
          command: "printf 'a\\000b\\033[31mred\\377\\r\\nnext\\001\\tend'; exit 3"
        """,
    )
    done = pdca(playbook, "run", state=state)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (attempt,) = _history(playbook, state)["attempts"]
    assert attempt["outcome"] == "failed" and attempt["exit_code"] == 3
    assert attempt["output"] == "a\\x00b\\x1b[31mred\ufffd\nnext\\x01\tend"

    first = tmp_path / "first.json"
    exported = pdca(playbook, "state", "export", "-o", str(first), state=state)
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(first.read_text(encoding="utf-8"))
    assert [a["output"] for a in doc["tables"]["attempts"]] == [attempt["output"]]

    other = str(tmp_path / "other.db")
    imported = subprocess.run(
        [*PDCA, "state", "import", str(playbook), str(first), "--state", other],
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    second = tmp_path / "second.json"
    assert pdca(playbook, "state", "export", "-o", str(second), state=other).returncode == 0
    again = json.loads(second.read_text(encoding="utf-8"))
    assert again["tables"] == doc["tables"]


# -- retry_delay ------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _times(history: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    return [
        (datetime.fromisoformat(a["started"]), datetime.fromisoformat(a["finished"]))
        for a in history["attempts"]
    ]


def test_retry_delay_doubles_and_a_short_wait_is_waited_out_by_the_run(tmp_path: Path) -> None:
    playbook = _playbook(
        tmp_path,
        """
        retries: 2
        retry_delay: 1s
        action: {type: shell, command: "echo $PDCA_ATTEMPT >> tries.log; exit 4"}
        """,
    )
    done = pdca(playbook, "run")
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "tries.log").read_text().split() == ["1", "2", "3"]
    history = _history(playbook)
    (_, f1), (s2, f2), (s3, _) = _times(history)
    retries = [e for e in history["events"] if e["kind"] == "task_changed" and e["new"] == "ready"]
    notes = [e["note"] for e in retries[1:]]  # the first is the task becoming ready
    due1 = f1 + timedelta(seconds=1)
    due2 = f2 + timedelta(seconds=2)
    assert notes == [
        "attempt 1 failed (exit status 4); retry 1 of 2 at " + _iso(due1),
        "attempt 2 failed (exit status 4); retry 2 of 2 at " + _iso(due2),
    ]
    assert s2 >= due1 and s3 >= due2


def test_a_long_retry_delay_is_left_to_the_next_run(tmp_path: Path) -> None:
    playbook = _playbook(
        tmp_path,
        """
        retries: 3
        retry_delay: 2m
        action: {type: shell, command: "echo $PDCA_ATTEMPT >> tries.log; exit 4"}
        """,
    )
    done = pdca(playbook, "run", "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    ((_, f1),) = _times(_history(playbook))
    due = _iso(f1 + timedelta(minutes=2))
    assert out["stopped"] == "retry"
    assert out["retry"] == {"task": "job", "at": due}

    text = pdca(playbook, "run")
    assert text.returncode == 0, text.stderr
    assert text.stdout == (
        f"cycle 1, plan phase: task job retries at {due}; run again then: pdca run {playbook}\n"
    )
    assert (tmp_path / "tries.log").read_text().split() == ["1"]
    dry = pdca(playbook, "run", "--dry-run")
    assert f"  then it would retry the automated task job once it is due at {due}\n" in dry.stdout

    # three minutes later (the task went back to ready three minutes ago)
    earlier = _iso(datetime.now(UTC) - timedelta(minutes=3))
    with sqlite3.connect(tmp_path / ".pdca" / "state.db") as con:
        con.execute("UPDATE pdca_tasks SET updated = ? WHERE task = 'job'", (earlier,))
    third = pdca(playbook, "run", "--format", "json")
    assert third.returncode == 0, third.stderr
    assert (tmp_path / "tries.log").read_text().split() == ["1", "2"]
    (_, _), (_, f2) = _times(_history(playbook))
    due2 = _iso(f2 + timedelta(minutes=4))
    assert json.loads(third.stdout)["retry"] == {"task": "job", "at": due2}


NOT_A_DURATION = "is not a duration: write an integer followed by s | m | h (e.g. 30s)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3d", f"'retry_delay': '3d' {NOT_A_DURATION}"),
        ("soon", f"'retry_delay': 'soon' {NOT_A_DURATION}"),
        ("0s", "'retry_delay': '0s' must be longer than zero"),
        ("[1]", "'retry_delay' must be a duration, not a list"),
    ],
)
def test_a_bad_retry_delay_is_reported_at_its_line(
    tmp_path: Path, value: str, message: str
) -> None:
    playbook = _playbook(
        tmp_path,
        f"""
        retries: 1
        retry_delay: {value}
        action: {{type: shell, command: "true"}}
        """,
    )
    done = pdca(playbook, "validate")
    assert done.returncode == 1
    assert done.stdout == f"{playbook}:11:18: error: {message}\n"
    assert done.stderr == ""


def test_retry_delay_reads_seconds_minutes_hours_and_bare_seconds(tmp_path: Path) -> None:
    from pdca import load_playbook

    for written, seconds in (("45", 45.0), ("45s", 45.0), ("5m", 300.0), ("2h", 7200.0)):
        playbook = _playbook(
            tmp_path,
            f"""
            retries: 1
            retry_delay: {written}
            action: {{type: shell, command: "true"}}
            """,
        )
        assert load_playbook(playbook).tasks["job"].retry_delay == seconds


def test_a_retry_delay_that_cannot_apply_is_warned_about_at_its_line(tmp_path: Path) -> None:
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text(
        textwrap.dedent(
            """\
            playbook: warn
            title: Warnings
            owners:
              tom: {name: Tom}
            tasks:
              by-hand:
                title: Done by a person
                owner: tom
                retry_delay: 30s
              no-retries:
                title: Automated, never retried
                owner: tom
                retry_delay: 5m
                action: {type: shell, command: "true"}
            """
        ),
        encoding="utf-8",
    )
    done = pdca(playbook, "validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[:2] == [
        f"{playbook}:9:18: warning: task 'by-hand': 'retry_delay' applies only to automated "
        "tasks (with an 'action')",
        f"{playbook}:13:18: warning: task 'no-retries': 'retry_delay' has no effect without "
        "'retries'",
    ]


def test_an_orphan_that_ignores_sigterm_is_killed(reaper: list[int]) -> None:
    from pdca.builtins.processes import end_orphan, identity

    proc = subprocess.Popen(
        ["sh", "-c", "trap '' TERM; echo ready; read line"],  # the shell alone, no child
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    reaper.append(proc.pid)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    ident = identity(proc.pid)
    assert ident is not None
    assert proc.pid in end_orphan(ident)
    assert proc.wait(timeout=30) == -signal.SIGKILL
