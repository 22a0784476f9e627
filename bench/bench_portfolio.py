"""Benchmark ``pdca status FOLDER`` over 100 playbooks of 100 tasks each.

Each playbook has 100 tasks over four phases (up to two dependencies each), 10
owners and 3 objectives, and its own SQLite state with cycle 1 open and a few
tasks started (set up in this process, not timed). Timed, as a user runs them,
in fresh processes (interpreter start-up and imports included), best of REPEAT:

* ``pdca status`` of one of the playbooks, ``--format json``;
* ``pdca status FOLDER --format json``: all 100, with the roll-up;
* the same with ``--owner p3``: one person's inbox across the 100;
* the reference, once: ``pdca status`` of each of the 100 playbooks in turn,
  one process each, as a shell loop would get the same documents without the
  folder form. There is no hand-written status to compare with: a status is
  the engine's reading of the state (readiness, overdue work, what blocks
  what), and writing it again would be writing pdca again.

The folder's document for each playbook must equal that playbook's own
status (all 100 of them) before the figures are printed. Prints each figure,
its ratio, and whether the goal (under 3 s for the folder) holds.

Run: ``.venv/bin/python bench/bench_portfolio.py``.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import figure, header, pdca_env, result

PLAYBOOKS, TASKS, OWNERS, SEED, REPEAT = 100, 100, 10, 20261203, 3
AS_OF = "2026-02-02"
GOAL_SECONDS = 3.0


def write_playbook(folder: Path, n: int, rng: random.Random) -> Path:
    lines = [
        f"playbook: desk-{n:03d}",
        f"title: Desk {n}",
        "owners:",
        *(f"  p{i}: {{name: Person {i}}}" for i in range(OWNERS)),
        "objectives:",
        *(f"  o{i}: {{title: Objective {i}, owner: p{i}}}" for i in range(3)),
        "tasks:",
    ]
    phases = ["plan"] * 20 + ["do"] * 50 + ["check"] * 15 + ["act"] * 15
    for t in range(TASKS):
        deps = sorted({f"t{rng.randrange(t)}" for _ in range(rng.randint(0, 2))}) if t else []
        due = f", due: 2026-0{1 + t % 3}-{1 + t % 27:02d}" if t % 4 == 0 else ""
        lines.append(
            f"  t{t}: {{title: Task {t}, owner: p{t % OWNERS}, phase: {phases[t]}, "
            f"objective: o{t % 3}, depends_on: [{', '.join(deps)}]{due}}}"
        )
    lines.append("cycle: {start: 2026-01-05, length: 90d}")
    path = folder / f"desk{n:03d}" / "playbook.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def setup(root: Path) -> list[Path]:
    from click.testing import CliRunner

    from pdca.cli import cli

    rng = random.Random(SEED)
    runner = CliRunner()
    paths = []
    for n in range(PLAYBOOKS):
        path = write_playbook(root, n, rng)
        for argv in (
            ["run", str(path), "--as-of", "2026-01-05"],
            ["task", str(path), "start", "t0", "--by", "p0", "--on", "2026-01-05"],
        ):
            result = runner.invoke(cli, argv)
            assert result.exit_code == 0, result.output
        paths.append(path)
    return paths


def timed(argv: list[str]) -> tuple[float, str]:
    best, out = float("inf"), ""
    env = pdca_env()
    for _ in range(REPEAT):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pdca", *argv], capture_output=True, text=True, env=env
        )
        best = min(best, time.perf_counter() - start)
        assert done.returncode == 0, done.stderr
        out = done.stdout
    return best, out


def each(paths: list[Path], args: list[str]) -> tuple[float, list[object]]:
    """``pdca status`` of every playbook in turn, as a shell loop would: (seconds, documents).

    Run once, not best of REPEAT: it is a hundred processes, and its figure is the
    reference the folder's is divided by."""
    env = pdca_env()
    start, documents = time.perf_counter(), []
    for path in paths:
        done = subprocess.run(
            [sys.executable, "-m", "pdca", "status", str(path), *args],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        documents.append(json.loads(done.stdout))
    return time.perf_counter() - start, documents


def main() -> None:
    global PLAYBOOKS, TASKS
    if len(sys.argv) > 1:  # smaller sizes while developing: PLAYBOOKS [TASKS]
        PLAYBOOKS = int(sys.argv[1])
    if len(sys.argv) > 2:
        TASKS = int(sys.argv[2])
    header(f"bench_portfolio: pdca status over {PLAYBOOKS} playbooks of {TASKS} tasks")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = setup(root)
        args = ["--format", "json", "--as-of", AS_OF]
        pick = min(7, len(paths) - 1)  # the reference: one playbook of the folder
        one, single = timed(["status", str(paths[pick]), *args])
        folder, many = timed(["status", str(root), *args])
        assert json.loads(many)["playbooks"][f"desk-{pick:03d}"] == json.loads(single)
        inbox, _ = timed(["status", str(root), *args, "--owner", "p3"])
        loop, documents = each(paths, args)
        rolled = json.loads(many)["playbooks"]
        assert len(documents) == len(rolled) == PLAYBOOKS
        for i, document in enumerate(documents):
            assert rolled[f"desk-{i:03d}"] == document, f"desk-{i:03d} differs"
    print(f"same numbers: each of the {PLAYBOOKS} documents in the folder's equals its own status")
    note = f"reference: pdca status of each playbook in turn, {PLAYBOOKS} processes"
    figure(f"pdca status FOLDER ({PLAYBOOKS} playbooks)", folder, loop, note=note)
    figure("pdca status FOLDER", folder, one, note="against pdca status of one playbook")
    figure("pdca status FOLDER --owner p3", inbox, one)
    result(
        f"portfolio.{PLAYBOOKS}_playbooks",
        folder,
        loop,
        "s",
        f"pdca<={GOAL_SECONDS:g}s",
        folder <= GOAL_SECONDS,
    )


if __name__ == "__main__":
    main()
