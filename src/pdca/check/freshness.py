"""Freshness: how old each metric's newest row is, and whether that is too old.

An export that stopped arriving leaves every window short of rows without
making any of them fail: the values and verdicts look current while they
describe the past. Each metric therefore carries the day of the newest row its
source holds for it (``data_until``) and whether that day is further from the
as-of date than its source's ``max_age`` allows (``stale``), so a check, a
status, a report and ``pdca run`` can all say so rather than present old data
as today's.

Pure functions of the check JSON and the playbook; the newest row itself is
found by :meth:`pdca.data.session.DataSession.newest`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pdca.playbook.model import Metric, Playbook, Source

DEFAULT_MAX_AGE_DAYS: Mapping[str, int] = {"day": 1, "week": 7, "month": 31}
"""One period of the metric: a source that misses its next period's delivery is late."""


def max_age_hours(source: Source | None, metric: Metric) -> float:
    """The age past which ``metric``'s data is stale: the source's ``max_age``, or one period."""
    if source is not None and source.max_age_hours is not None:
        return source.max_age_hours
    return DEFAULT_MAX_AGE_DAYS.get(metric.period, 7) * 24.0


def is_stale(as_of: date, data_until: date | None, max_age: float) -> bool:
    """Whether as-of minus ``data_until`` exceeds ``max_age`` hours; no data at all is stale."""
    if data_until is None:
        return True
    return (as_of - data_until).days * 24.0 > max_age


def age_text(hours: float) -> str:
    """A duration as the playbook writes it: 36h, 3d, 2w."""
    if hours % 168 == 0:
        return f"{hours / 168:.0f}w"
    if hours % 24 == 0:
        return f"{hours / 24:.0f}d"
    return f"{hours:.0f}h"


def annotate(
    entry: dict[str, Any], pb: Playbook, metric: Metric, newest: date | None, as_of: date
) -> None:
    """Add ``data_until`` and ``stale`` to a metric's check entry.

    A metric that could not be computed (status ``error``) gets ``data_until``
    None and ``stale`` false: its error is what to fix, and its data's age is unknown.
    """
    if entry.get("status") == "error":
        entry["data_until"], entry["stale"] = None, False
        return
    limit = max_age_hours(pb.sources.get(metric.source), metric)
    entry["data_until"] = newest.isoformat() if newest is not None else None
    entry["stale"] = is_stale(as_of, newest, limit)


def objective_stale(metrics: Mapping[str, Mapping[str, Any]], ids: list[str]) -> bool:
    """An objective is measured on stale data when any of its metrics is."""
    return any(bool((metrics.get(m) or {}).get("stale")) for m in ids)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _how_old(days: int) -> str:
    if days < 14:
        return "1 day old" if days == 1 else f"{days} days old"
    if days < 120:
        return f"{days // 7} weeks old"
    return f"{days // 30} months old"


def note(data_until: Any, as_of: Any) -> str:
    """``data until 28 Mar, 9 weeks old``; ``no data up to 30 May`` when there is none.

    Plain text: each output escapes it for where it goes (HTML, Markdown, a terminal).
    """
    end, until = _day(as_of), _day(data_until)
    if until is None:
        return f"no data up to {_short(end, end)}" if end else "no data"
    if end is None:
        return f"data until {_short(until, until)}"
    return f"data until {_short(until, end)}, {_how_old((end - until).days)}"


def _short(day: date | None, against: date | None) -> str:
    if day is None:
        return "-"
    text = f"{day.day} {day:%b}"
    return text if against is not None and day.year == against.year else f"{text} {day.year}"


def metric_note(entry: Mapping[str, Any], as_of: Any) -> str | None:
    """The note a stale metric's entry shows, or None when it is fresh (or unmeasured)."""
    if not entry.get("stale"):
        return None
    return note(entry.get("data_until"), as_of)


def stale_sources(pb: Playbook, report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each source with a stale metric: the newest day its stale metrics see, and which.

    ``data_until`` is the newest of the stale metrics' days (None when none has any
    row), ``max_age`` the limit in the playbook's words. This is what ``pdca run``
    reports when it will not enter Check, and what a snapshot taken anyway records.
    """
    out: dict[str, dict[str, Any]] = {}
    for mid, entry in (report.get("metrics") or {}).items():
        if not entry.get("stale") or mid not in pb.metrics:
            continue
        metric = pb.metrics[mid]
        item = out.setdefault(
            metric.source,
            {
                "source": metric.source,
                "data_until": None,
                "as_of": report.get("as_of"),
                "max_age": age_text(max_age_hours(pb.sources.get(metric.source), metric)),
                "metrics": [],
            },
        )
        item["metrics"].append(mid)
        until = entry.get("data_until")
        if until and (item["data_until"] is None or until > item["data_until"]):
            item["data_until"] = until
    return list(out.values())


def source_sentence(item: Mapping[str, Any]) -> str:
    """``source 'surveys' holds data until 2026-03-28 (as of 2026-05-30, 9 weeks old; ...)``."""
    metrics = ", ".join(item["metrics"])
    until, as_of = item.get("data_until"), item.get("as_of")
    if until is None:
        held = f"holds no rows up to {as_of}"
    else:
        age = _how_old((_day(as_of) - _day(until)).days) if _day(as_of) and _day(until) else ""
        held = f"holds data until {until} (as of {as_of}, {age})"
    return (
        f"source '{item['source']}' {held}, older than its max_age {item['max_age']} "
        f"(metrics {metrics})"
    )
