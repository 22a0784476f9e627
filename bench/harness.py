"""What every benchmark shares: the load average, timing, peak memory, and RESULT lines.

Each benchmark prints its figures as ``figure, reference, ratio`` against a
competent hand-written reference computed in the same run (and checked to give
the same numbers before it is timed), then one line per goal::

    RESULT <name> <pdca> <reference> <ratio> <goal> <yes|no> load=<1m>,<5m>,<15m>

The last field is the machine's load average when the figure was taken: a
ratio measured while other work ran is worth less, and the table says so.
``bench/summary.py`` collects those lines from every ``bench/bench_*.py`` into
``bench/results.md``. Fields hold no spaces: figures carry their unit
(``0.412s``, ``38.1MiB``; a figure in bytes, unit ``B``, is shown in B, KiB,
MiB or GiB, whichever keeps it short), the goal says what must hold (``ratio<=1.3``,
``pdca<=15s``).

Peak memory is measured per fresh process, never from a fork of the benchmark:
Linux carries a parent's high-water mark of resident memory into a forked
child (and through ``exec``), so ``ru_maxrss`` read in a child of a large
parent reports the parent. :func:`peak_rss_mib` runs the command under GNU
``/usr/bin/time -v`` (Debian package ``time``, installed by
``.ci/time-install.sh``) or, without it, under a tiny launcher that forks and
execs the command from a small process of its own.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")

_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as printed beside every figure."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def load_field() -> str:
    """The load average as the RESULT line's last field: ``load=1.05,0.98,0.77``."""
    return "load=" + ",".join(f"{x:.2f}" for x in os.getloadavg())


def header(title: str) -> None:
    """The benchmark's name, the machine's load and its cores: figures mean little without."""
    print(f"== {title}")
    print(f"load average: {load_average()} ({os.cpu_count()} cores)")


def figure(label: str, pdca: float, reference: float, unit: str = "s", note: str = "") -> float:
    """Print ``label: pdca X, reference Y, ratio Z``; returns the ratio."""
    ratio = pdca / reference if reference else float("inf")
    extra = f"  ({note})" if note else ""
    print(
        f"  {label}: pdca {_show(pdca, unit)}, reference {_show(reference, unit)}, "
        f"ratio {ratio:.2f}{extra}"
    )
    return ratio


def result(name: str, pdca: float, reference: float, unit: str, goal: str, holds: bool) -> None:
    """Print one RESULT line (see the module doc); ``name`` and ``goal`` hold no spaces."""
    print(result_text(name, pdca, reference, unit, goal, holds))


def result_text(name: str, pdca: float, reference: float, unit: str, goal: str, holds: bool) -> str:
    """The RESULT line :func:`result` prints, load average last."""
    assert " " not in name and " " not in goal, (name, goal)
    ratio = pdca / reference if reference else (1.0 if pdca == 0 else float("inf"))
    # three decimals, or three significant digits for a share too small to show in them
    shown = f"{ratio:.3g}" if 0 < abs(ratio) < 0.001 else f"{ratio:.3f}"
    return (
        f"RESULT {name} {_show(pdca, unit)} {_show(reference, unit)} {shown} {goal} "
        f"{'yes' if holds else 'no'} {load_field()}"
    )


def _show(value: float, unit: str) -> str:
    if unit == "s" and value < 1:
        return f"{value * 1000:.3g}ms"
    if unit == "B":  # bytes: in the binary multiple that keeps the figure short
        for prefix in ("", "Ki", "Mi"):
            if abs(value) < 1024:
                return f"{value:.4g}{prefix}B"
            value /= 1024
        return f"{value:.4g}GiB"
    return f"{value:.4g}{unit}"


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds: the least disturbed by other load."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def median_of(fn: Callable[[], object], repeat: int) -> float:
    """The median of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_of(argv: Sequence[str], **kwargs: object) -> tuple[float, subprocess.CompletedProcess[str]]:
    """The CPU seconds (user + system) a command and its children used, and its result."""
    before = os.times()
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)
    after = os.times()
    used = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return used, done


def peak_rss_mib(
    argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> float:
    """The peak resident memory of ``argv`` run as a fresh process, in MiB (see module doc)."""
    if GNU_TIME.exists():
        done = subprocess.run(
            [str(GNU_TIME), "-v", *argv], cwd=cwd, env=env, capture_output=True, text=True
        )
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        if done.returncode not in (0, 1) or found is None:
            raise RuntimeError(f"{argv[:3]} failed: {done.stderr[-2000:]}")
        return int(found[1]) / 1024
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *argv], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{argv[:3]} failed: {done.stderr[-2000:]}")
    return int(done.stderr.strip().splitlines()[-1]) / 1024


PYCACHE = Path(tempfile.gettempdir()) / "pdca-bench-pycache"
"""Where subprocesses keep their bytecode: an installed pdca has it, and a benchmark
run with ``PYTHONDONTWRITEBYTECODE`` set would otherwise time compiling every module."""


def pdca_env(**extra: str) -> dict[str, str]:
    """The environment for ``python -m pdca`` subprocesses: this checkout's src first,
    bytecode kept (in :data:`PYCACHE`, not beside the sources)."""
    src = str(Path(__file__).resolve().parent.parent / "src")
    path = os.environ.get("PYTHONPATH", "")
    env = dict(os.environ)
    env["PYTHONPATH"] = src + (os.pathsep + path if path else "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env
