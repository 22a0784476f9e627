"""Output cut short by a pipe ends quietly, and ``pdca run`` leaves its state whole.

Real ``pdca`` processes whose standard output is a pipe the reader closes:
before the first byte (every command), after the first line (``| head -1``
through a real shell) and in the middle of ``pdca run``. Each must end with
exit 0 or 141 (128 + SIGPIPE, what a shell reports for other commands cut
short) and nothing on standard error: no "BrokenPipeError", no "Exception
ignored". A run whose reader goes away finishes the step it is in, so no
attempt stays "running", and the next run goes on from there.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

PDCA = [sys.executable, "-m", "pdca"]

PLAYBOOK = """\
playbook: pipes
title: Pipes
owners:
  tom: {name: Tom Becker}
sources:
  scores: {type: csv, path: data/scores.csv, timestamp: day, comments: comment}
metrics:
  score: {source: scores, kpi: mean, field: score, baseline: 5, target: 9, warn: 7, window: 7d}
objectives:
  happy: {title: Happy customers, owner: tom, metrics: [score]}
tasks:
  first:
    title: First export
    owner: tom
    phase: plan
    action: {type: shell, command: "sleep 0.3; echo first >> runs.log"}
  second:
    title: Second export
    owner: tom
    phase: plan
    depends_on: [first]
    action: {type: shell, command: "echo second >> runs.log"}
  review: {title: Review, owner: tom, phase: plan, depends_on: [second]}
  coach: {title: Coach, owner: tom, objective: happy, depends_on: [review]}
cycle: {start: 2026-01-05, length: 7d}
"""

SCORES = "day,score,comment\n2026-01-05,4,slow\n2026-01-07,6,slow again\n2026-01-09,8,kind\n"


def _write_playbook(folder: Path) -> Path:
    (folder / "data").mkdir()
    (folder / "data" / "scores.csv").write_text(SCORES, encoding="utf-8")
    path = folder / "playbook.yaml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    return path


@pytest.fixture
def pb(tmp_path: Path) -> Path:
    """A playbook whose cycle is not open yet."""
    return _write_playbook(tmp_path)


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A playbook after its first ``pdca run``: both exports ran, 'review' is ready."""
    path = _write_playbook(tmp_path_factory.mktemp("pipes"))
    assert _run(["run", str(path), "--as-of", "2026-01-05"], path.parent).returncode == 0
    assert _attempts(path) == [("first", 1, "ok"), ("second", 1, "ok")]
    return path


def _closed_early(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run pdca with a stdout pipe whose reader is gone before the first write."""
    proc = subprocess.Popen([*PDCA, *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def _attempts(pb: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(pb.parent / ".pdca" / "state.db") as db:
        rows = db.execute("SELECT task, number, outcome FROM pdca_attempts ORDER BY started")
        return [tuple(r) for r in rows]


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PDCA, *argv], cwd=cwd, capture_output=True, text=True, timeout=120)


COMMANDS = [
    ["--help"],
    ["--version"],
    ["history", "--help"],
    ["validate", "{pb}"],
    ["graph", "{pb}"],
    ["check", "{pb}", "--as-of", "2026-01-11"],
    ["status", "{pb}"],
    ["history", "{pb}"],
    ["report", "{pb}", "--format", "text"],
    ["report", "{pb}", "--format", "html", "-o", "-"],
    ["themes", "{pb}", "score", "--as-of", "2026-01-11", "--min-count", "1"],
    ["schema"],
    ["plugins"],
    ["state", "export", "{pb}"],
    ["task", "{pb}", "start", "review", "--by", "tom"],
    ["nonsense"],
]


@pytest.mark.slow
@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w).replace("{pb}", "PB"))
def test_every_command_ends_quietly_when_its_reader_is_gone(opened: Path, words: list[str]) -> None:
    argv = [w.replace("{pb}", str(opened)) for w in words]
    code, err = _closed_early(argv, opened.parent)
    # a usage error goes to stderr, which is still open: it must say so, and only that
    if words == ["nonsense"]:
        assert code == 2 and "No such command 'nonsense'" in err
        return
    assert code in (0, 141), err
    assert err == ""


@pytest.mark.slow
def test_head_in_a_real_shell(opened: Path) -> None:
    command = shlex.join([*PDCA, "history", str(opened)])
    # pipefail makes the shell report pdca's own exit code, not head's
    shell = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.stdout.startswith("cycle 1: opened ")
    assert shell.stdout.count("\n") == 1
    assert shell.returncode in (0, 141)
    assert shell.stderr == ""
    for reader in ("true", "head -c 10"):
        shell = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {command} | {reader} >/dev/null"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert shell.returncode in (0, 141), shell.stderr
        assert shell.stderr == ""


@pytest.mark.slow
def test_run_whose_reader_is_gone_finishes_its_step(pb: Path) -> None:
    """The first line ("cycle 1 opened") fails to print after the commit that also
    started attempt 1 of 'first': the attempt still runs and is recorded, then the run
    stops; the next run carries on with 'second'."""
    code, err = _closed_early(["run", str(pb), "--as-of", "2026-01-05"], pb.parent)
    assert (code, err) == (141, "")
    assert _attempts(pb) == [("first", 1, "ok")]
    assert (pb.parent / "runs.log").read_text() == "first\n"

    again = _run(["run", str(pb), "--as-of", "2026-01-05", "--format", "json"], pb.parent)
    assert again.returncode == 0, again.stderr
    assert _attempts(pb) == [("first", 1, "ok"), ("second", 1, "ok")]
    assert (pb.parent / "runs.log").read_text() == "first\nsecond\n"
    kinds = [e["kind"] for e in json.loads(again.stdout)["events"]]
    assert "cycle_opened" not in kinds  # the first run's work was kept, not redone


@pytest.mark.slow
def test_run_whose_reader_leaves_mid_run_leaves_no_attempt_running(pb: Path) -> None:
    proc = subprocess.Popen(
        [*PDCA, "run", str(pb), "--as-of", "2026-01-05"],
        cwd=pb.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"cycle 1 opened\n"
    proc.stdout.close()  # while 'first' sleeps
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 141), err
    assert err == ""
    attempts = _attempts(pb)
    assert attempts[0] == ("first", 1, "ok")
    assert all(outcome == "ok" for _, _, outcome in attempts)
