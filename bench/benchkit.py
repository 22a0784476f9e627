"""What the pdca-against-a-reference benchmarks share: timing, comparing, the RESULT line."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

from harness import result_text


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds: the least disturbed by other work."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def same(a: object, b: object) -> bool:
    """Equal, numbers to 1e-9 (sums in another order differ in the last bits)."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def load_average() -> str:
    return "load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def result_line(name: str, pdca_s: float, ref_s: float, goal: float, holds: bool) -> str:
    """``RESULT name pdca reference ratio goal yes|no load=...``, the line summaries collect
    (the same fields as :func:`harness.result`: seconds with their unit, the goal as
    ``ratio<=X``, and the load average when the figure was taken)."""
    return result_text(name, pdca_s, ref_s, "s", f"ratio<={goal:g}", holds)
