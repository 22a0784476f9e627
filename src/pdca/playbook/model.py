"""The playbook model: what a validated playbook means, as frozen dataclasses.

Everything downstream (graph, engine, data, reports) reads these objects, never
raw YAML, so the format's quirks live in the loader alone. Each object keeps the
places its keys came from (``loc`` for the entry, ``locs`` per field) so that
errors found later, for instance an unknown column met while reading data, can
still point at the playbook line to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pdca.errors import Location

PHASES: tuple[str, ...] = ("plan", "do", "check", "act")
CHARTS: tuple[str, ...] = ("xmr", "p", "p_prime", "u_prime")
"""Control charts a metric may ask for with ``chart:``."""
RULE_PRESETS: Mapping[str, tuple[tuple[int, ...], int, int]] = MappingProxyType(
    {
        # NHS England, Making Data Count: a point outside the limits, a shift of 7 on
        # one side of the mean, a trend of 7, 2 of 3 beyond 2 sigma on one side.
        "nhs": ((1, 2, 3, 5), 7, 7),
        # Wheeler, Understanding Variation: a point outside the limits of the X or the
        # mR chart, 3 of 4 closer to a limit than to the centre, 8 on one side.
        "wheeler": ((1, 2, 9, 10), 8, 6),
        # Western Electric Statistical Quality Control Handbook (1956): 1 beyond 3
        # sigma, 2 of 3 beyond 2 sigma, 4 of 5 beyond 1 sigma, 8 on one side.
        "western_electric": ((1, 2, 5, 6), 8, 6),
        # Nelson (1984) at his lengths: the rules pdca reads by default.
        "nelson": ((1, 2, 3, 5), 9, 6),
    }
)
"""``check: {rules: NAME}``: name -> (rule numbers, shift points, trend points)."""
MIN_BASELINE = 12
"""Baseline values needed before control limits are trusted (``check: {min_baseline: ...}``):
fewer give a stable process a false verdict far too often."""
PHASE_INDEX: Mapping[str, int] = MappingProxyType({p: i for i, p in enumerate(PHASES)})
DIRECTIONS: tuple[str, ...] = ("increase", "decrease")
PERIODS: tuple[str, ...] = ("day", "week", "month")
METRIC_STATUSES: tuple[str, ...] = ("met", "at_risk", "off_track", "no_data", "error")
EMPTY: Mapping[str, Any] = MappingProxyType({})
_NOWHERE: Mapping[str, Location] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return EMPTY


def _nowhere() -> Mapping[str, Location]:
    return _NOWHERE


class _Located:
    """Entries remember where they were written; ``where(key)`` finds one of their values."""

    loc: Location | None
    locs: Mapping[str, Location]

    def where(self, key: str | None = None) -> Location | None:
        if key:
            try:
                return self.locs[key]
            except KeyError:
                pass
        return self.loc

    def where_item(self, key: str, index: int) -> Location | None:
        """Where the ``index``-th item of the list under ``key`` was written."""
        item = getattr(self.locs, "item", None)
        found = item(key, index) if item is not None else None
        return found or self.where(key)


@dataclass(frozen=True)
class Owner(_Located):
    """A person, or a team when ``members`` lists other owners."""

    id: str
    name: str
    email: str | None = None
    role: str | None = None
    members: tuple[str, ...] = ()
    extra: Mapping[str, Any] = _field(default_factory=_empty)
    loc: Location | None = _field(default=None, compare=False, repr=False)
    locs: Mapping[str, Location] = _field(default_factory=_nowhere, compare=False, repr=False)

    @property
    def is_team(self) -> bool:
        return bool(self.members)


@dataclass(frozen=True)
class Source(_Located):
    """A data source; ``type`` names a source plugin which reads ``options``."""

    id: str
    type: str
    options: Mapping[str, Any] = _field(default_factory=_empty)
    timestamp: str | None = None
    comments: str | None = None
    base_dir: Path = Path(".")
    max_age_hours: float | None = None
    """``max_age: 3d``: how old the newest row may be before the source's metrics are
    stale; None means one period of the metric that reads it (see check/freshness.py)."""
    settle_hours: float | None = None
    """``settle: 7d``: how long after a period ends its rows may still arrive or change;
    older periods of a database source are final (see check/periodcache.py). None: 7d."""
    allow_outside: bool = False
    """``allow_outside: true``: ``path`` may name a file outside the playbook's folder.
    Off by default, so a playbook from elsewhere cannot make pdca read ``/etc/shadow``."""
    loc: Location | None = _field(default=None, compare=False, repr=False)
    locs: Mapping[str, Location] = _field(default_factory=_nowhere, compare=False, repr=False)

    @property
    def path(self) -> Path | None:
        """The ``path`` option resolved against the playbook's folder."""
        raw = self.options.get("path")
        if raw is None:
            return None
        p = Path(str(raw)).expanduser()
        return p if p.is_absolute() else self.base_dir / p


@dataclass(frozen=True)
class Benchmark:
    """An outside reference value (industry survey, peer group) to compare against."""

    value: float
    source: str | None = None


@dataclass(frozen=True)
class Metric(_Located):
    """A KPI computed by calculator ``kpi`` over ``source`` rows, judged against ``target``."""

    id: str
    source: str
    kpi: str
    target: float
    title: str | None = None
    field: str | None = None
    params: Mapping[str, Any] = _field(default_factory=_empty)
    filter: str | None = None
    baseline: float | None = None
    warn: float | None = None
    direction: str = "increase"
    window_days: int = 28
    period: str = "week"
    segment_by: str | None = None
    comments: str | None = None
    baseline_periods: int | None = None
    benchmark: Benchmark | None = None
    unit: str | None = None
    chart: str | None = None
    """``xmr``, ``p``, ``p_prime`` or ``u_prime`` when the playbook overrides the KPI's chart."""
    loc: Location | None = _field(default=None, compare=False, repr=False)
    locs: Mapping[str, Location] = _field(default_factory=_nowhere, compare=False, repr=False)

    @property
    def label(self) -> str:
        return self.title or self.id

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "increase"


@dataclass(frozen=True)
class Objective(_Located):
    """An outcome the team commits to; its status is the worst of its metrics'."""

    id: str
    title: str
    owner: str | None = None
    metrics: tuple[str, ...] = ()
    due: date | None = None
    description: str | None = None
    due_days: int | None = None
    """``due: 14d``: due that many days after each cycle opens (``due`` is then None)."""
    loc: Location | None = _field(default=None, compare=False, repr=False)
    locs: Mapping[str, Location] = _field(default_factory=_nowhere, compare=False, repr=False)


@dataclass(frozen=True)
class When:
    """An act-phase condition: the task applies only if ``metric`` has one of ``statuses``."""

    metric: str
    statuses: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """What an automated task runs; ``type`` names an action plugin (``shell`` is built in)."""

    type: str
    options: Mapping[str, Any] = _field(default_factory=_empty)


@dataclass(frozen=True)
class Task(_Located):
    """A piece of work with an owner, placed in a phase and ordered by ``depends_on``."""

    id: str
    title: str
    owner: str
    phase: str = "do"
    objective: str | None = None
    depends_on: tuple[str, ...] = ()
    due: date | None = None
    estimate_hours: float | None = None
    due_days: int | None = None
    """``due: 14d``: due that many days after each cycle opens (``due`` is then None)."""
    when: When | None = None
    action: Action | None = None
    retries: int = 0
    retry_delay: float | None = None
    """Seconds before the first retry of a failed automated task; doubles with each retry."""
    description: str | None = None
    loc: Location | None = _field(default=None, compare=False, repr=False)
    locs: Mapping[str, Location] = _field(default_factory=_nowhere, compare=False, repr=False)

    @property
    def automated(self) -> bool:
        return self.action is not None


@dataclass(frozen=True)
class Cycle:
    """When cycle 1 starts and how long a cycle is meant to last."""

    start: date | None = None
    length_days: int | None = None


STALE_AFTER = 7
"""Days without an event after which ``pdca status`` flags a task in progress."""


@dataclass(frozen=True)
class Playbook(_Located):
    """A validated playbook. Mappings keep the order entries were written in."""

    id: str
    title: str
    path: Path
    description: str | None = None
    owners: Mapping[str, Owner] = _field(default_factory=_empty)
    sources: Mapping[str, Source] = _field(default_factory=_empty)
    metrics: Mapping[str, Metric] = _field(default_factory=_empty)
    objectives: Mapping[str, Objective] = _field(default_factory=_empty)
    tasks: Mapping[str, Task] = _field(default_factory=_empty)
    cycle: Cycle = Cycle()
    plugins: tuple[str, ...] = ()
    rules: tuple[int, ...] = (1, 2, 3, 5)
    rule_preset: str | None = None
    """The preset ``check.rules`` named, if it named one (``rules`` holds its numbers)."""
    shift_points: int | None = None
    trend_points: int | None = None
    """``check.shift_points`` / ``trend_points``; None: the preset's (Nelson's: 9 and 6)."""
    min_baseline: int = MIN_BASELINE
    """Baseline values a metric needs before Check trusts its control limits."""
    stale_after: int = STALE_AFTER
    """``review.stale_after`` in days: a task in progress with no event for this long is
    flagged as gone quiet."""
    loc: Location | None = _field(default=None, compare=False, repr=False)
    locs: Mapping[str, Location] = _field(default_factory=_nowhere, compare=False, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def rule_lengths(self) -> tuple[int, int]:
        """Points that make a shift (rule 2) and a trend (rule 3): the playbook's own
        ``shift_points``/``trend_points``, else its preset's, else Nelson's 9 and 6."""
        _, shift, trend = RULE_PRESETS[self.rule_preset or "nelson"]
        return (self.shift_points or shift, self.trend_points or trend)

    def metrics_of(self, objective_id: str) -> list[Metric]:
        return [self.metrics[m] for m in self.objectives[objective_id].metrics]
