"""Fixed costs: how long pdca commands take to start, against a bare ``python -c pass``.

Every command pays the interpreter's start plus pdca's imports; a command that
only prints (``--help``) should pay little more. Each command runs ``--repeat``
times interleaved with the reference (so drifting load hits both alike); the
median wall time of each is compared.

Goal: ``pdca --help`` at most 6x ``python -c pass``. The other commands are
printed for the record (``validate`` and ``status`` on a small playbook).

The reference is the floor, not the same output: what is measured is the
fixed cost of starting, and nothing a user could write prints pdca's help
faster than the interpreter starts, so ``python -c pass`` is the honest
zero and the ratio the cost of pdca's imports and command set-up.

    python bench/bench_startup.py [--repeat 40]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import figure, header, pdca_env, result

HELP_GOAL = 6.0
PLAYBOOK = """\
playbook: startup
title: Startup
owners:
  tom: {name: Tom}
tasks:
  a: {title: A, owner: tom, phase: plan}
  b: {title: B, owner: tom, phase: do, depends_on: [a]}
"""


def medians(commands: dict[str, list[str]], repeat: int, cwd: Path) -> dict[str, float]:
    env = pdca_env()
    for argv in commands.values():  # warm the file cache and any bytecode
        subprocess.run(argv, capture_output=True, check=False, cwd=cwd, env=env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, check=False, cwd=cwd, env=env)
            times[name].append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise SystemExit(f"{argv} failed: {done.stderr.decode()[-2000:]}")
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    header("bench_startup: fixed costs of pdca commands vs python -c pass")
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "playbook.yaml").write_text(PLAYBOOK)
        commands = {
            "python -c pass": [py, "-c", "pass"],
            "import pdca.cli.main": [py, "-c", "import pdca.cli.main"],
            "pdca --help": [py, "-m", "pdca", "--help"],
            "pdca validate --help": [py, "-m", "pdca", "validate", "--help"],
            "pdca validate": [py, "-m", "pdca", "validate", "playbook.yaml"],
            "pdca status": [py, "-m", "pdca", "status", "playbook.yaml"],
        }
        found = medians(commands, args.repeat, folder)
    ref = found.pop("python -c pass")
    print(f"median wall time of {args.repeat} runs each, interleaved:")
    ratios = {name: figure(name, t, ref) for name, t in found.items()}
    result(
        "startup.help",
        found["pdca --help"],
        ref,
        "s",
        f"ratio<={HELP_GOAL:g}",
        ratios["pdca --help"] <= HELP_GOAL,
    )


if __name__ == "__main__":
    main()
