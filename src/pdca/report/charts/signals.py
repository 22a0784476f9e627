"""Reading the statistical signals for the chart: which periods they mark, and good or bad.

Signals arrive as JSON (from :func:`pdca.check.stats.spc.detect_signals` via the
report document, or from a plugin), so anything may be missing or malformed: a
period index that is not a number or not in the series is skipped, never fatal,
because one bad entry must not cost the reader the whole chart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pdca.report.charts.axes import Point

Entry = tuple[int, str, str]
"""A signal on one point: its rule number, its description, its verdict."""


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def signal_indices(sig: Mapping[str, Any], n: int) -> list[int]:
    """The signal's period indices that exist in the series; junk is skipped, not fatal."""
    out = []
    for idx in sig.get("periods") or ():
        i = as_int(idx, -1)
        if 0 <= i < n:
            out.append(i)
    return out


def signal_map(
    signals: Iterable[Mapping[str, Any]], n: int, direction: str
) -> dict[int, list[Entry]]:
    """Point index → [(rule, description, verdict)], verdict better / worse / unclear."""
    out: dict[int, list[Entry]] = {}
    for sig in signals:
        rule = sig.get("rule")
        desc = str(sig.get("description") or "")
        sdir = sig.get("direction")
        if sdir in ("up", "down"):
            verdict = "better" if (sdir == "up") == (direction == "increase") else "worse"
        else:
            verdict = "unclear"
        for i in signal_indices(sig, n):
            out.setdefault(i, []).append((as_int(rule), desc, verdict))
    return out


def point_verdict(entries: list[Entry]) -> str:
    """One colour for a point several signals mark: a worse signal outweighs a better one."""
    verdicts = {v for _, _, v in entries}
    if "worse" in verdicts:
        return "worse"
    if "better" in verdicts:
        return "better"
    return "unclear"


def describe_signals(signals: Sequence[Mapping[str, Any]], points: Sequence[Point]) -> str:
    """The signals in words for the accessible summary: ``rule 2 at W3 to W10``."""
    n = len(points)
    described = []
    for sig in signals:
        idx = signal_indices(sig, n)
        if idx:
            described.append(
                f"rule {sig.get('rule')} at {points[idx[0]].period}"
                + (f" to {points[idx[-1]].period}" if len(idx) > 1 else "")
            )
    return f"Signals: {', '.join(described)}."
