"""XmR (individuals) charts, the eight Western Electric / Nelson tests and Wheeler's two.

A Check phase that compares one number with a target makes a team react to
week-to-week noise. Reading the period series as a process-behaviour chart
(Wheeler, *Understanding Variation*) separates routine variation from a real
change: limits come from a baseline stretch and are then frozen, and later
periods are judged against them (phase I / phase II, like ``newdata`` in R's
qcc), so an improvement cannot drag its own limits along and hide itself.

Conventions every function here follows (tests pin them down):

* Values that are ``None``, NaN or infinite are *missing*: they are skipped, but
  their period keeps its index, and signals report indices into the series as
  given. A missing period neither breaks nor extends a run, and moving ranges
  are taken between consecutive *present* values.
* Limits: centre = mean of the baseline values; MR̄ = mean moving range of the
  baseline; natural process limits = centre ± 2.66 × MR̄ (Wheeler's constant);
  sigma = MR̄ / 1.128 (d2 for n = 2), used for the 1σ and 2σ zones; the moving
  range chart's upper limit = 3.268 × MR̄. Rule 1 uses the natural process
  limits themselves (2.66 × MR̄, a hair wider than 3 × MR̄ / 1.128 = 2.6596 × MR̄),
  so a point the chart shows inside its limits never fires rule 1.
* "Beyond" is strict: a point exactly on a limit or zone boundary is not beyond
  it; "within 1σ" is strict too. A point exactly on the centre line is on
  neither side: it breaks runs on one side (rule 2) and counts for neither side
  in rules 5 and 6. Two equal consecutive values break a rising/falling run
  (rule 3) and an alternation (rule 4). Comparisons with the centre line use a
  relative tolerance of 1e-9 so that a value equal to the centre up to float
  rounding counts as on it.
* Several overlapping occurrences of one pattern are one signal: a run of 12
  points on one side is one rule-2 signal listing all 12 periods, consecutive
  points beyond the same limit are one rule-1 signal, and overlapping
  qualifying windows of rules 5 and 6 are merged, listing only the points that
  lie beyond the zone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdca.check.stats.base import D2, as_array, finite

E2 = 2.66
"""Natural process limits = centre ± E2 × MR̄ (3 / 1.128, as Wheeler rounds it)."""
D4 = 3.268
"""Upper limit of the moving range chart = D4 × MR̄."""

ALL_RULES: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
DEFAULT_RULES: tuple[int, ...] = (1, 2, 3, 5)
"""Detection rules 1, 2, 3 and 5 catch the changes a service team cares about (a
jump, a shift, a drift) while keeping the false-alarm rate low on 100 weekly
points; rules 4, 6, 7 and 8 are opt-in."""

DIRECTIONS: tuple[str, ...] = ("increase", "decrease")
UP, DOWN = "up", "down"

RULE_DESCRIPTIONS: dict[int, str] = {
    1: "1 point beyond the natural process limits (3 sigma)",
    2: "9 points in a row on the same side of the centre line",
    3: "6 points in a row steadily rising or falling",
    4: "14 points in a row alternating up and down",
    5: "2 of 3 points in a row beyond 2 sigma on the same side",
    6: "4 of 5 points in a row beyond 1 sigma on the same side",
    7: "15 points in a row within 1 sigma of the centre line",
    8: "8 points in a row beyond 1 sigma, on either side",
    9: "3 of 4 points in a row beyond 1.5 sigma on the same side",
    10: "1 moving range above its upper limit (3.268 x the mean moving range)",
}
"""Rules 1 to 8 are Nelson's; 9 and 10 are Wheeler's zone test and his mR-chart test.
Rules 2 and 3 are described at their default lengths; :func:`describe` gives others."""

SHIFT_POINTS = 9
"""Nelson's rule 2: points in a row on one side of the centre line."""
TREND_POINTS = 6
"""Nelson's rule 3: points in a row steadily rising or falling, endpoints included."""
RUN_LENGTHS = range(6, 10)
"""The lengths a playbook may give rules 2 and 3 (``shift_points``, ``trend_points``)."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules a chart is read with and the lengths of its shift and trend rules.

    A playbook's preset (``nhs``, ``wheeler``, ... in
    :data:`pdca.playbook.model.RULE_PRESETS`) is a named rule set; a list of rule
    numbers is one with Nelson's lengths.
    """

    numbers: tuple[int, ...] = (1, 2, 3, 5)
    shift_points: int = SHIFT_POINTS
    trend_points: int = TREND_POINTS
    name: str | None = None

    @classmethod
    def of(cls, rules: Iterable[int] | RuleSet) -> RuleSet:
        """``rules`` as a rule set: itself, or rule numbers at Nelson's lengths."""
        return rules if isinstance(rules, RuleSet) else cls(tuple(rules))

    def describe(self, rule: int) -> str:
        return describe(rule, self.shift_points, self.trend_points)

    def to_json(self) -> dict[str, Any]:
        return {
            "preset": self.name,
            "rules": list(self.numbers),
            "shift_points": self.shift_points,
            "trend_points": self.trend_points,
        }


def describe(rule: int, shift_points: int = SHIFT_POINTS, trend_points: int = TREND_POINTS) -> str:
    """A rule in words, at the lengths in use."""
    if rule == 2:
        return f"{shift_points} points in a row on the same side of the centre line"
    if rule == 3:
        return f"{trend_points} points in a row steadily rising or falling"
    return RULE_DESCRIPTIONS[rule]


_REL_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class Limits:
    """Frozen XmR limits. NaN fields mean "not computable" (fewer than 2 baseline values)."""

    centre: float
    mr_bar: float
    baseline_points: int
    """How many present values the limits rest on (missing baseline periods excluded)."""

    @property
    def sigma(self) -> float:
        return self.mr_bar / D2

    @property
    def lower(self) -> float:
        return self.centre - E2 * self.mr_bar

    @property
    def upper(self) -> float:
        return self.centre + E2 * self.mr_bar

    @property
    def mr_upper(self) -> float:
        """Upper limit of the moving-range chart: a jump between two periods above it is
        itself a signal of a change in variation."""
        return D4 * self.mr_bar

    @property
    def available(self) -> bool:
        return math.isfinite(self.centre) and math.isfinite(self.mr_bar)

    def band(self, k: float) -> tuple[float, float]:
        """The ``k``-sigma band around the centre line (k = 1, 2 are the rule zones)."""
        return (self.centre - k * self.sigma, self.centre + k * self.sigma)

    def to_json(self) -> dict[str, Any]:
        return {
            "centre": finite(self.centre),
            "lower": finite(self.lower),
            "upper": finite(self.upper),
            "sigma": finite(self.sigma),
            "mr_bar": finite(self.mr_bar),
            "mr_upper": finite(self.mr_upper),
            "baseline_points": self.baseline_points,
        }


@dataclass(frozen=True, slots=True)
class Signal:
    """One special-cause pattern: which rule, where, and which way it points."""

    rule: int
    description: str
    periods: tuple[int, ...]
    """Indices into the series as given (missing periods keep their index)."""
    direction: str | None
    """``up`` / ``down``; None for rules 4, 7 and 10 and for a rule-8 run mixing both sides."""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "description": self.description,
            "periods": list(self.periods),
            "direction": self.direction,
        }


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """Whether a target is a matter of noise, of improvement, or of a new system."""

    code: str
    """``within_noise``, ``beyond_limits``, ``unreachable``, ``already_met`` or ``unknown``."""
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def _check_rules(rules: Iterable[int]) -> tuple[int, ...]:
    out = tuple(sorted({int(r) for r in rules}))
    bad = [r for r in out if r not in RULE_DESCRIPTIONS]
    if bad:
        raise ValueError(f"unknown rule number(s) {bad}: rules are numbered 1 to 10")
    return out


def _check_direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'increase' or 'decrease', not {direction!r}")
    return direction


def compute_limits(
    values: Sequence[float | None] | np.ndarray, baseline: int | None = None
) -> Limits:
    """XmR limits from the first ``baseline`` periods (all periods when None).

    ``baseline`` counts periods, missing ones included, because callers think in
    periods ("the 12 weeks before the cycle started"); ``Limits.baseline_points``
    then says how many values that really was.
    """
    arr = as_array(values)
    n = len(arr) if baseline is None else max(0, min(int(baseline), len(arr)))
    base = arr[:n]
    base = base[~np.isnan(base)]
    m = int(base.size)
    with np.errstate(all="ignore"):
        if m == 0:
            centre = math.nan
        else:
            # Clamped to the data's range: float rounding can put the mean of a
            # constant baseline a hair off its value, which would make every later
            # equal value "beyond" zero-width limits.
            lo, hi = float(base.min()), float(base.max())
            centre = min(max(float(base.mean()), lo), hi)
        mr_bar = float(np.abs(np.diff(base)).mean()) if m >= 2 else math.nan
    return Limits(centre=centre, mr_bar=mr_bar, baseline_points=m)


def _runs(keys: np.ndarray, min_len: int) -> list[tuple[int, int, int]]:
    """Maximal runs of equal non-zero keys at least ``min_len`` long: (start, stop, key)."""
    n = keys.size
    if n < min_len or n == 0:
        return []
    change = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [n]))
    sel = ((stops - starts) >= min_len) & (keys[starts] != 0)
    return [(int(s), int(e), int(keys[s])) for s, e in zip(starts[sel], stops[sel], strict=True)]


def _windows(flag: np.ndarray, width: int, need: int) -> list[np.ndarray]:
    """Points of ``flag`` inside merged windows of ``width`` holding at least ``need`` flags.

    Overlapping qualifying windows form one episode; their union is contiguous, so
    every flagged point in it belongs to some qualifying window and is "involved".
    """
    n = flag.size
    if n < width:
        return []
    c = np.concatenate(([0], np.cumsum(flag, dtype=np.int64)))
    starts = np.flatnonzero((c[width:] - c[:-width]) >= need)
    if starts.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(starts) >= width) + 1
    out = []
    for group in np.split(starts, cuts):
        lo, hi = int(group[0]), int(group[-1]) + width
        out.append(lo + np.flatnonzero(flag[lo:hi]))
    return out


def detect_signals(
    values: Sequence[float | None] | np.ndarray,
    limits: Limits,
    rules: Iterable[int] | RuleSet = DEFAULT_RULES,
) -> tuple[Signal, ...]:
    """Every occurrence of the chosen rules in the whole series, against frozen ``limits``.

    ``rules`` is a :class:`RuleSet` or rule numbers (Nelson's lengths). Sorted by
    first period, then rule number. Empty when the limits are not computable.
    """
    ruleset = RuleSet.of(rules)
    chosen = _check_rules(ruleset.numbers)
    shift, trend = ruleset.shift_points, ruleset.trend_points
    if not limits.available:
        return ()
    arr = as_array(values)
    pos = np.flatnonzero(~np.isnan(arr))
    x = arr[pos]
    if x.size == 0:
        return ()
    centre, sigma, half = limits.centre, limits.sigma, E2 * limits.mr_bar
    with np.errstate(all="ignore"):
        eps = _REL_TOL * max(abs(centre), sigma)
        d = x - centre
        side = np.where(d > eps, 1, np.where(d < -eps, -1, 0)).astype(np.int8)
        found: list[Signal] = []

        def add(rule: int, idx: Iterable[int] | np.ndarray, direction: str | None) -> None:
            periods = tuple(int(pos[i]) for i in idx)
            found.append(Signal(rule, ruleset.describe(rule), periods, direction))

        def sided(key: int) -> str:
            return UP if key > 0 else DOWN

        if 1 in chosen:
            beyond = np.where(d > half + eps, 1, np.where(d < -half - eps, -1, 0)).astype(np.int8)
            for s, e, k in _runs(beyond, 1):
                add(1, range(s, e), sided(k))
        if 2 in chosen:
            for s, e, k in _runs(side, shift):
                add(2, range(s, e), sided(k))
        if 3 in chosen or 4 in chosen:
            dx = np.diff(x)
            dsign = np.sign(dx).astype(np.int8)
            dsign[np.isnan(dx)] = 0
            if 3 in chosen:
                # runs of trend - 1 same-sign steps = trend points, endpoints included
                for s, e, k in _runs(dsign, trend - 1):
                    add(3, range(s, e + 1), sided(k))
            if 4 in chosen:
                # alternation = constant sign once every other step is flipped
                flip = np.where(np.arange(dsign.size) % 2 == 0, 1, -1).astype(np.int8)
                for s, e, _ in _runs(dsign * flip, 13):
                    add(4, range(s, e + 1), None)
        for rule, k_sigma, width, need in ((5, 2.0, 3, 2), (6, 1.0, 5, 4), (9, 1.5, 4, 3)):
            if rule in chosen:
                bound = k_sigma * sigma + eps
                for key, flag in ((1, d > bound), (-1, d < -bound)):
                    for pts in _windows(flag, width, need):
                        add(rule, pts, sided(key))
        if 7 in chosen:
            within = (np.abs(d) < sigma - eps).astype(np.int8)
            for s, e, _ in _runs(within, 15):
                add(7, range(s, e), None)
        if 8 in chosen:
            outside = (np.abs(d) > sigma + eps).astype(np.int8)
            for s, e, _ in _runs(outside, 8):
                sides = side[s:e]
                if np.all(sides > 0):
                    direction: str | None = UP
                elif np.all(sides < 0):
                    direction = DOWN
                else:
                    direction = None
                add(8, range(s, e), direction)
        if 10 in chosen and x.size >= 2:
            # moving ranges beyond the mR chart's limit; consecutive ones are one signal,
            # listing both ends of each jump. A jump has no side: direction None.
            jump = (np.abs(np.diff(x)) > limits.mr_upper + eps).astype(np.int8)
            for s, e, _ in _runs(jump, 1):
                add(10, range(s, e + 1), None)
    found.sort(key=lambda sig: (sig.periods[0], sig.rule))
    return tuple(found)


FAR_FACTOR = 1.5
"""A target further than this many limit-distances from the centre is out of the
system's reach (see :func:`target_sanity`)."""


def target_sanity(
    limits: Limits,
    target: float,
    direction: str,
    value_range: tuple[float | None, float | None] = (None, None),
) -> TargetCheck:
    """Say whether a target is met or missed by noise alone, or needs a new system.

    Codes: ``within_noise`` (target inside the natural process limits: some
    periods will meet it and some miss it with nothing changing), ``already_met``
    (outside the limits on the side the process already satisfies: every period
    meets it, it asks for nothing), ``beyond_limits`` (outside on the wanted side,
    but within ``FAR_FACTOR`` × the limit distance: reachable with a real
    improvement), ``unreachable`` (further than that: only a change to the system
    gets there), ``unknown`` (no limits yet).
    """
    good = 1.0 if _check_direction(direction) == "increase" else -1.0
    if not limits.available or target is None or not math.isfinite(target):
        return TargetCheck("unknown", "Not enough history to compute process limits yet.")
    lo, hi, c = limits.lower, limits.upper, limits.centre
    low, high = value_range
    shown_lo = lo if low is None else max(lo, low)
    shown_hi = hi if high is None else min(hi, high)
    rng = f"{shown_lo:.4g} to {shown_hi:.4g}"
    if (shown_lo, shown_hi) != (lo, hi):
        rng += ", at the end of the values the KPI can take"
    if lo <= target <= hi:
        return TargetCheck(
            "within_noise",
            f"The target {target:.4g} lies inside the natural process limits ({rng}): "
            "the process as it is will meet it in some periods and miss it in others by "
            "noise alone. Judge it on signals, not on single periods.",
        )
    dist = target - c
    if dist * good < 0:
        return TargetCheck(
            "already_met",
            f"The target {target:.4g} lies outside the natural process limits ({rng}) on "
            "the side the process already satisfies: every period meets it, so it asks "
            "for no improvement.",
        )
    if abs(dist) > FAR_FACTOR * (hi - c):
        return TargetCheck(
            "unreachable",
            f"The target {target:.4g} lies far outside the natural process limits ({rng}): "
            "it is unreachable without changing the system; pushing harder within the "
            "current process will not get there.",
        )
    return TargetCheck(
        "beyond_limits",
        f"The target {target:.4g} lies just outside the natural process limits ({rng}): "
        "meeting it consistently needs a real improvement, one that shows as a signal.",
    )
