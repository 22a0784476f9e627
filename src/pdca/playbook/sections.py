"""The model objects of each playbook section, from the values the reader checked.

The reader has already reported every bad value and left it out, so these take
what is there and fill the model's defaults for what is not; nothing here
reports a problem. Nested option mappings are frozen, so a plugin handed a
source's options cannot change the playbook another plugin sees.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pdca.playbook import model as m

Entries = dict[str, Any]
"""A section as :meth:`~pdca.playbook.reader.Reader.entries` reads it:
id -> (values, places, location)."""


def frozen(value: Any) -> Any:
    """``value`` with every dict made read-only and every list a tuple."""
    if isinstance(value, dict):
        return MappingProxyType({k: frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(frozen(v) for v in value)
    return value


def as_float(value: Any) -> float | None:
    """A number read from YAML (int or float) as a float; None stays None."""
    return None if value is None else float(value)


def days(hours: float | None, default: int | None) -> int | None:
    """A duration in whole days, at least one; ``default`` when none was written."""
    return default if hours is None else max(1, round(hours / 24))


def owners(entries: Entries) -> dict[str, m.Owner]:
    """Owners; keys beyond the model's fields (``slack``, ``timezone``) go to ``extra``."""
    return {
        oid: m.Owner(
            id=oid,
            name=v.get("name", oid),
            email=v.get("email"),
            role=v.get("role"),
            members=tuple(v.get("members", ())),
            extra=frozen({k: v[k] for k in ("slack", "timezone") if k in v}),
            loc=loc,
            locs=places,
        )
        for oid, (v, places, loc) in entries.items()
    }


SOURCE_KEYS = (
    "type",
    "timestamp",
    "comments",
    "description",
    "max_age",
    "settle",
    "allow_outside",
)
"""Keys every source has; the rest are its plugin's options."""


def sources(entries: Entries, base: Path) -> dict[str, m.Source]:
    """Sources; ``base`` is the playbook's folder, which relative file paths start from."""
    out = {}
    for sid, (v, places, loc) in entries.items():
        options = {k: x for k, x in v.items() if k not in SOURCE_KEYS}
        out[sid] = m.Source(
            id=sid,
            type=v.get("type", ""),
            options=frozen(options),
            timestamp=v.get("timestamp"),
            comments=v.get("comments"),
            base_dir=base,
            max_age_hours=v.get("max_age"),
            settle_hours=v.get("settle"),
            allow_outside=v.get("allow_outside") is True,
            loc=loc,
            locs=places,
        )
    return out


def metrics(entries: Entries) -> dict[str, m.Metric]:
    """Metrics; ``window`` in whole days (28 when not written), numbers as floats."""
    out = {}
    for mid, (v, places, loc) in entries.items():
        bench = v.get("benchmark")
        out[mid] = m.Metric(
            id=mid,
            source=v.get("source", ""),
            kpi=v.get("kpi", ""),
            target=float(v.get("target", math.nan)),
            title=v.get("title"),
            field=v.get("field"),
            params=frozen(v.get("params", {})),
            filter=v.get("filter"),
            baseline=as_float(v.get("baseline")),
            warn=as_float(v.get("warn")),
            direction=v.get("direction", "increase"),
            window_days=days(v.get("window"), 28),
            period=v.get("period", "week"),
            segment_by=v.get("segment_by"),
            comments=v.get("comments"),
            baseline_periods=v.get("baseline_periods"),
            benchmark=m.Benchmark(float(bench["value"]), bench.get("source"))
            if bench and "value" in bench
            else None,
            unit=v.get("unit"),
            chart=v.get("chart"),
            loc=loc,
            locs=places,
        )
    return out


def _due_date(value: Any) -> Any:
    """A ``due`` written as a date (``due: 14d`` reads as a whole number of days)."""
    return None if isinstance(value, int) else value


def _due_days(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def objectives(entries: Entries) -> dict[str, m.Objective]:
    """Objectives; an objective without a title is shown by its id."""
    return {
        oid: m.Objective(
            id=oid,
            title=v.get("title", oid),
            owner=v.get("owner"),
            metrics=tuple(v.get("metrics", ())),
            due=_due_date(v.get("due")),
            due_days=_due_days(v.get("due")),
            description=v.get("description"),
            loc=loc,
            locs=places,
        )
        for oid, (v, places, loc) in entries.items()
    }


def tasks(entries: Entries) -> dict[str, m.Task]:
    """Tasks; ``when`` and ``action`` only when complete (the reader reported a missing key)."""
    out = {}
    for tid, (v, places, loc) in entries.items():
        when = v.get("when")
        action = v.get("action")
        out[tid] = m.Task(
            id=tid,
            title=v.get("title", tid),
            owner=v.get("owner", ""),
            phase=v.get("phase", "do"),
            objective=v.get("objective"),
            depends_on=tuple(v.get("depends_on", ())),
            due=_due_date(v.get("due")),
            due_days=_due_days(v.get("due")),
            estimate_hours=v.get("estimate"),
            when=m.When(when["metric"], when["status"])
            if when and "metric" in when and "status" in when
            else None,
            action=m.Action(
                action["type"], frozen({k: x for k, x in action.items() if k != "type"})
            )
            if action and "type" in action
            else None,
            retries=v.get("retries", 0),
            retry_delay=round(v["retry_delay"] * 3600, 3) if v.get("retry_delay") else None,
            description=v.get("description"),
            loc=loc,
            locs=places,
        )
    return out


def cycle(values: dict[str, Any]) -> m.Cycle:
    """The cycle's start date and its length in whole days (None when not written)."""
    return m.Cycle(values.get("start"), days(values.get("length"), None))
