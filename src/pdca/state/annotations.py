"""What people said about a metric's chart: points left out, limits started afresh.

An excluded point (``pdca exclude``) is a period whose value is known to be
wrong or unrepresentative (a system outage, a survey sent twice): it stays on
the chart, drawn hollow with its reason, but the limits and the rules leave it
out. A rebase (``pdca rebase``) starts a new phase of the chart: the process
changed on that day, so limits from then on rest on the new periods only.

Both are kept as audit events (``point_excluded``, ``point_included``,
``metric_rebased``, ``rebase_removed``), never as rows of their own: the audit
log already travels with ``pdca state export``/``import`` between SQLite and
PostgreSQL, and the latest event for a period or a day wins, so undoing is
recording another event, with its own who, when and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

EXCLUDED = "point_excluded"
INCLUDED = "point_included"
REBASED = "metric_rebased"
UNREBASED = "rebase_removed"
KINDS: tuple[str, ...] = (EXCLUDED, INCLUDED, REBASED, UNREBASED)


@dataclass(frozen=True)
class Note:
    """Who said it, why, on which day (``on``) and when it was recorded (``at``)."""

    reason: str
    by: str | None
    on: str
    at: str
    label: str
    """The period's label as the chart shows it (``2026-W05``), or the rebase day."""

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "by": self.by,
            "on": self.on,
            "recorded": self.at,
            "label": self.label,
        }


_NONE: Mapping[str, Note] = MappingProxyType({})


@dataclass(frozen=True)
class MetricNotes:
    """One metric's excluded periods and rebases, keyed by the period's first day
    (``YYYY-MM-DD``; for a rebase the first day of the new phase's first period)."""

    excluded: Mapping[str, Note] = field(default_factory=lambda: _NONE)
    rebases: Mapping[str, Note] = field(default_factory=lambda: _NONE)

    def __bool__(self) -> bool:
        return bool(self.excluded or self.rebases)

    def to_json(self) -> dict[str, Any]:
        return {
            "excluded": {k: v.to_json() for k, v in sorted(self.excluded.items())},
            "rebases": {k: v.to_json() for k, v in sorted(self.rebases.items())},
        }


NO_NOTES = MetricNotes()


@dataclass(frozen=True)
class Annotations:
    """Every metric's notes; :meth:`fold` builds them from the audit log."""

    metrics: Mapping[str, MetricNotes] = field(default_factory=lambda: MappingProxyType({}))
    changed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """metric -> when its latest note was recorded (undoing one included): a report
    built from an older Check snapshot reads that metric's chart again."""

    def of(self, metric: str) -> MetricNotes:
        return self.metrics.get(metric, NO_NOTES)

    def __bool__(self) -> bool:
        return any(self.metrics.values())

    @classmethod
    def fold(cls, events: Iterable[Any]) -> Annotations:
        """The notes in force after ``events`` (oldest first; :class:`pdca.state.model.Event`,
        which imports this module for State's field); other kinds are ignored."""
        excluded: dict[str, dict[str, Note]] = {}
        rebases: dict[str, dict[str, Note]] = {}
        changed: dict[str, str] = {}
        for e in events:
            if e.kind not in KINDS or not e.subject or not e.new:
                continue
            changed[e.subject] = max(changed.get(e.subject, ""), e.at)
            book = excluded if e.kind in (EXCLUDED, INCLUDED) else rebases
            notes = book.setdefault(e.subject, {})
            if e.kind in (EXCLUDED, REBASED):
                label = str((e.data or {}).get("label") or e.new)
                notes[e.new] = Note(e.note or "", e.by, e.on or e.at[:10], e.at, label)
            else:
                notes.pop(e.new, None)
        names = sorted(set(excluded) | set(rebases))
        return cls(
            MappingProxyType(
                {
                    m: MetricNotes(
                        MappingProxyType(excluded.get(m, {})),
                        MappingProxyType(rebases.get(m, {})),
                    )
                    for m in names
                    if excluded.get(m) or rebases.get(m)
                }
            ),
            MappingProxyType(changed),
        )


NO_ANNOTATIONS = Annotations()
