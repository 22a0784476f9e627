"""Period aggregates kept in the state, so a re-check queries only what can still change.

A metric over a database source is a series of periods (two years of weeks) and
a window. Each period's value, n and (where the KPI is a quotient) numerator and
denominator are kept in the state (:mod:`pdca.state.periods`) with the
fingerprint of the metric's definition. A period is *final* once its end is
older than its source's ``settle:`` horizon (default 7 days) as of the check's
date: rows that arrive or change later than that are not expected. A re-check
then asks the database only for the periods from the first one that is not
final; the window is still computed from its rows, exactly, so the statement
starts at the earlier of that period and the window's start. Final periods come
from the state. Cached and fresh periods together are the numbers a full
recomputation gives, as long as no row older than the settle horizon changes:
that is what ``settle:`` promises, and what it should be set to.

The fingerprint hashes everything the periods depend on: the source's identity
(type, options, timestamp column), the KPI, its field, filter and params, the
period kind, the time zone periods are cut in, and :data:`CACHE_VERSION`. A
changed definition does not reuse one period measured under the old one: its
history is measured again, and the day it changed (the check's as-of) is kept,
so the chart draws a break there.

File sources are not cached here: DuckDB reads them whole in a fraction of the
time a warehouse query takes, and their Parquet cache (:mod:`pdca.data.cache`)
already spares re-reading a CSV or JSON export that did not change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pdca.check.periodkinds import period_end, period_start
from pdca.state.periods import Definition, Keep, Kept, PeriodRow
from pdca.state.times import now_utc

if TYPE_CHECKING:
    from pdca.data.pushdown import Pushed
    from pdca.playbook.model import Metric, Playbook, Source

CACHE_VERSION = 1
"""Part of every fingerprint: bumped when the way pdca computes a period changes, so
that no period computed the old way is reused."""

DEFAULT_SETTLE_HOURS = 7 * 24.0
"""How long after its end a period's rows may still change when the source does not say."""


def settle_hours(source: Source) -> float:
    return DEFAULT_SETTLE_HOURS if source.settle_hours is None else float(source.settle_hours)


def fingerprint(metric: Metric, source: Source, zone: str) -> str:
    """The hash of everything a metric's periods depend on (not its target or window)."""
    # which database: the URL an ``*_env`` option names (a file's path as written: a
    # playbook folder that moves keeps its history); never a password (the fingerprint
    # is shown, and a short password could be guessed from it)
    options = {k: _no_password(v) for k, v in source.options.items()}
    where = {
        k: _no_password(os.environ.get(str(v))) for k, v in options.items() if k.endswith("_env")
    }
    doc = {
        "cache": CACHE_VERSION,
        "source": {
            "id": source.id,
            "type": source.type,
            "options": options,
            "where": where,
            "timestamp": source.timestamp,
        },
        "kpi": metric.kpi,
        "field": metric.field,
        "filter": metric.filter,
        "params": metric.params,
        "period": metric.period,
        "zone": zone,
    }
    text = json.dumps(doc, sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


_PASSWORD = re.compile(r"(://[^/@:]*):[^@/]*@")


def _no_password(value: Any) -> Any:
    return _PASSWORD.sub(r"\1@", value) if isinstance(value, str) else value


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (tuple, list, set, frozenset)):
        return list(value)
    return str(value)


def is_final(start: date, period: str, settle: float, as_of: date) -> bool:
    """Whether a period's end lies at least ``settle`` hours before the check's end."""
    end = datetime.combine(period_end(start, period), time())
    return end + timedelta(hours=settle) <= datetime.combine(as_of + timedelta(days=1), time())


def first_open(period: str, settle: float, as_of: date) -> date:
    """The start of the first period that is not final as of ``as_of``."""
    start = period_start(as_of, period)
    while True:
        before = period_start(start - timedelta(days=1), period)
        if is_final(before, period, settle, as_of):
            return start
        start = before


@dataclass(frozen=True)
class _Plan:
    """One metric's use of the cache in this check."""

    fingerprint: str
    history: date
    """The first day of the metric's history in this check."""
    fresh_from: date
    """Periods from this day on are asked of the database; earlier ones come from the state."""
    cached: tuple[PeriodRow, ...]
    measured_from: date


class PeriodCache:
    """One check's use of the period cache: what the state holds, what is measured anew.

    ``use`` False (``--no-cache``) reads and writes no period: every period is
    queried, and the definitions are only shown. A mutable collector of one
    check, not a value: the check records what it measured, the caller writes it.
    """

    def __init__(
        self,
        playbook: Playbook,
        as_of: date,
        kept: Mapping[str, Kept] | None = None,
        *,
        use: bool = True,
    ):
        self.playbook = playbook
        self.as_of = as_of
        self.kept = dict(kept or {})
        self.use = use
        self.zone = "UTC"
        self._plans: dict[str, _Plan] = {}
        self._measured: dict[str, Keep] = {}
        self._definitions: dict[str, Definition] = {}
        self._now = now_utc()

    @classmethod
    def from_store(
        cls, playbook: Playbook, as_of: date, store: Any, *, use: bool = True
    ) -> PeriodCache:
        """The cache of the playbook's metrics as ``store`` holds it."""
        return cls(playbook, as_of, store.read_periods(playbook.id, playbook.metrics), use=use)

    # -- definitions --------------------------------------------------------------------
    def fingerprint(self, metric: Metric) -> str:
        source = self.playbook.sources.get(metric.source)
        if source is None:
            return ""
        return fingerprint(metric, source, self.zone)

    def definition(self, metric: Metric) -> Definition:
        """The metric's definition as of this check: changed today when the stored
        fingerprint differs, as stored when it does not, unchanged when first seen."""
        if metric.id not in self._definitions:
            fp = self.fingerprint(metric)
            kept = self.kept.get(metric.id)
            stored = kept.definition if kept is not None else None
            if stored is None:
                found = Definition(fp)
            elif stored.fingerprint == fp:
                found = stored
            else:
                found = Definition(fp, self.as_of.isoformat(), self._now)
            self._definitions[metric.id] = found
        return self._definitions[metric.id]

    def definition_json(self, metric: Metric) -> dict[str, Any]:
        d = self.definition(metric)
        return {
            "fingerprint": d.fingerprint,
            "changed_on": d.changed_on,
            "changed_at": d.changed_at,
        }

    # -- periods ------------------------------------------------------------------------
    def query_start(
        self, metric: Metric, history_start: datetime, window_start: datetime
    ) -> datetime:
        """Where the database statement for ``metric`` starts: the first period not in
        the cache (or ``history_start``), and never after the window's start."""
        source = self.playbook.sources[metric.source]
        fp = self.fingerprint(metric)
        history = history_start.date()
        if history_start != datetime.combine(period_start(history, metric.period), time()):
            # a window longer than the history cuts a period in two: measured in full
            return history_start
        opens = first_open(metric.period, settle_hours(source), self.as_of)
        kept = self.kept.get(metric.id)
        usable = (
            self.use
            and kept is not None
            and kept.definition is not None
            and kept.definition.fingerprint == fp
            and kept.measured_from is not None
            and kept.final_until is not None
            and kept.measured_from <= history
        )
        if usable and kept is not None and kept.final_until is not None:
            fresh = max(history, min(kept.final_until, opens))
            cached = tuple(p for p in kept.periods if history <= p.start < fresh and p.final)
            measured_from = kept.measured_from or history
        else:
            fresh, cached, measured_from = history, (), history
        self._plans[metric.id] = _Plan(fp, history, fresh, cached, measured_from)
        start = datetime.combine(fresh, time())
        return min(start, window_start)

    def merge(self, metric: Metric, pushed: Pushed) -> Pushed:
        """The database's fresh periods after the cached final ones; what to keep noted."""
        plan = self._plans.get(metric.id)
        if plan is None:
            return pushed
        source = self.playbook.sources[metric.source]
        settle = settle_hours(source)
        # (value, n, rows): a period's rows are not kept, and nothing after this reads them
        series = {p.start: (p.value, p.n, p.n) for p in plan.cached}
        fresh: list[PeriodRow] = []
        for start, (value, n, rows) in sorted(pushed.series.items()):
            if start < plan.fresh_from:
                continue  # a period the window's rows reach into: the cache has it whole
            series[start] = (value, n, rows)
            top, bottom = pushed.parts.get(start, (None, None))
            fresh.append(
                PeriodRow(
                    start,
                    period_end(start, metric.period),
                    value,
                    n,
                    top,
                    bottom,
                    is_final(start, metric.period, settle, self.as_of),
                )
            )
        until = first_open(metric.period, settle, self.as_of)
        if self.use:
            self._measured[metric.id] = Keep(
                metric.id,
                self.definition(metric),
                plan.fresh_from,
                tuple(fresh),
                plan.measured_from,
                max(until, plan.fresh_from),
            )
        return replace(pushed, series=dict(sorted(series.items())))

    def narrowed(self, metric: Metric) -> bool:
        """Whether the statement for ``metric`` starts after its history does."""
        plan = self._plans.get(metric.id)
        return plan is not None and plan.fresh_from > plan.history

    def keeps(self, metrics: Mapping[str, Mapping[str, Any]]) -> list[Keep]:
        """What to write: the definition of every metric measured without an error, and
        the periods of those its database computed."""
        if not self.use:
            return []
        out = []
        for mid, entry in metrics.items():
            metric = self.playbook.metrics.get(mid)
            if metric is None or entry.get("status") == "error":
                continue
            if entry.get("computed") == "database" and mid in self._measured:
                out.append(self._measured[mid])
            else:
                out.append(Keep(mid, self.definition(metric)))
        return out
