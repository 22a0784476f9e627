"""Run every benchmark and gather its RESULT lines into one table: ``bench/results.md``.

Each ``bench/bench_*.py`` runs at its default size as a process of its own
(its output is shown as it comes), in file name order. A benchmark ends with
lines ``RESULT <name> <pdca> <reference> <ratio> <goal> <yes|no> load=<1m>,<5m>,<15m>``
(see ``bench/harness.py``); they are collected into a table of benchmark, pdca,
reference, ratio, goal, whether it holds and the load average it was measured
under, printed and written to ``bench/results.md`` with the date, the commit,
the load average before and after, each benchmark's time and the total. A run
over :data:`BUDGET_MINUTES` is flagged there: ``make bench`` is meant to fit in
it, and a benchmark that outgrows it should get a smaller default size.
Generated data shared between benchmarks (the 10M-row export of bench_check
and bench_cache) lives in one temporary folder for the run.

    python bench/summary.py                 # every benchmark (what ``make bench`` runs)
    python bench/summary.py bench_run.py    # only these
    python bench/summary.py --parse LOG     # the table from output saved earlier

Exit status 1 when a benchmark failed (its row says so); a goal that does not
hold is reported, not an error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUTPUT = HERE / "results.md"
DATA_ENV = "PDCA_BENCH_DATA"
BUDGET_MINUTES = 20.0
"""The time ``make bench`` may take at default sizes on the benchmark machine (2 cores)."""


@dataclass(frozen=True)
class Row:
    """One RESULT line, with the benchmark that printed it."""

    bench: str
    name: str
    pdca: str
    reference: str
    ratio: str
    goal: str
    holds: str
    load: str = "-"
    """The 1, 5 and 15 minute load averages when the figure was taken (``-``: not given)."""


def parse(bench: str, text: str) -> list[Row]:
    """The RESULT lines of one benchmark's output.

    A line has seven fields, or eight with ``load=...`` last (older output has no
    load field; its row shows ``-``). Anything else starting with RESULT is no row.
    """
    rows = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0] != "RESULT":
            continue
        if len(fields) == 7:
            rows.append(Row(bench, *fields[1:]))
        elif len(fields) == 8 and fields[7].startswith("load="):
            load = fields[7].removeprefix("load=").replace(",", ", ")
            rows.append(Row(bench, *fields[1:7], load=load))
    return rows


def run_one(script: Path, env: dict[str, str]) -> tuple[str, int, float]:
    """Run a benchmark, echoing its output; (output, exit status, seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    return "".join(lines), proc.wait(), time.perf_counter() - start


def commit() -> str:
    """The commit benchmarked, with ``+changes`` when the tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' +changes' if dirty else ''}" if head else "unknown"


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def table(rows: list[Row]) -> str:
    head = (
        "| benchmark | pdca | reference | ratio | goal | holds? | load (1, 5, 15 min) |\n"
        "|---|---:|---:|---:|---|---|---|\n"
    )
    return head + "".join(
        f"| {r.name} | {r.pdca} | {r.reference} | {r.ratio} | {r.goal} | {r.holds} | {r.load} |\n"
        for r in rows
    )


def took(minutes: float, seconds: dict[str, float]) -> str:
    """The run's time, flagged when over budget, then each benchmark's share."""
    text = f"{minutes:.1f} min"
    if minutes > BUDGET_MINUTES:
        text += f" (**over the {BUDGET_MINUTES:g} min budget**)"
    if seconds:
        text += " (" + ", ".join(f"{name} {s:.0f} s" for name, s in seconds.items()) + ")"
    return text


def write(
    rows: list[Row], failed: list[str], load_before: str, load_after: str, spent: str, at: str
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        "# Benchmark results\n\n"
        "Written by `bench/summary.py` (`make bench`): every `bench/bench_*.py` at its "
        "default size, each figure against a reference computed in the same run: the same "
        "numbers computed by a competent hand-written program, checked equal to pdca's "
        "before timing, or where there are none to compute, the floor or the whole the "
        "figure is a share of (each benchmark's docstring says which and why). The ratio "
        "is pdca / reference; `holds?` says whether the goal does; `load` is the load "
        "average the figure was taken under.\n\n"
        f"- date: {when}\n"
        f"- commit: {at}\n"
        f"- machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}\n"
        f"- load average (1, 5, 15 min): {load_before} before, {load_after} after\n"
        f"- took: {spent}\n\n" + table(rows)
    )
    if failed:
        text += "\nFailed to run: " + ", ".join(failed) + "\n"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benches", nargs="*", help="bench_*.py files to run (default: all)")
    parser.add_argument("--parse", type=Path, help="summarise saved output instead of running")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    load_before, start, at = load(), time.perf_counter(), commit()  # the code as it starts
    rows: list[Row] = []
    failed: list[str] = []
    seconds: dict[str, float] = {}
    if args.parse:
        rows = parse(args.parse.name, args.parse.read_text())
    else:
        scripts = [HERE / b for b in args.benches] or sorted(HERE.glob("bench_*.py"))
        data = Path(tempfile.mkdtemp(prefix="pdca-bench-data-"))
        env = {**os.environ, DATA_ENV: str(data)}
        try:
            for script in scripts:
                output, status, secs = run_one(script, env)
                seconds[script.name] = secs
                print(f"-- {script.name}: exit {status} in {secs:.0f} s", flush=True)
                found = parse(script.name, output)
                rows.extend(found)
                if status != 0 or not found:
                    failed.append(script.name)
                    rows.append(Row(script.name, script.stem, "-", "-", "-", "-", "FAILED"))
        finally:
            shutil.rmtree(data, ignore_errors=True)
    minutes = (time.perf_counter() - start) / 60
    spent = f"parsed from {args.parse.name}" if args.parse else took(minutes, seconds)
    text = write(rows, failed, load_before, load(), spent, at)
    print()
    print(text)
    print(f"make bench: {minutes:.1f} min (budget {BUDGET_MINUTES:g} min)", flush=True)
    args.output.write_text(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
