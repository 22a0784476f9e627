"""``pdca exclude``, ``pdca include`` and ``pdca rebase``: people's notes on a metric's chart.

Each is one audit event written in its own transaction (see
:mod:`pdca.state.annotations` for why events and not rows). The rules here
refuse what cannot be meant: a period that has not started, a day after
today, undoing what was never done, a person who does not answer for the
metric. Changing a reason is recording it again: the latest event wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pdca.engine.draft import CycleError, Draft
from pdca.engine.people import not_after_today
from pdca.engine.permissions import check_person, may_annotate
from pdca.playbook.model import Metric
from pdca.state import annotations as notes
from pdca.state.model import Changes, Event, State

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """A metric's period as people name it: its first day and its chart label."""

    start: date
    label: str


def parse_period(text: str, metric: Metric) -> Period:
    """``2026-W05`` (weekly metrics), ``2026-03`` (monthly) or any day inside the period
    (``2026-02-04``); CycleError saying which forms the metric takes otherwise."""
    from pdca.check.measure import period_label, period_start

    value = text.strip()
    forms = {"week": "2026-W05", "month": "2026-03", "day": "2026-03-02"}[metric.period]
    hint = (
        f"metric '{metric.id}' has {metric.period}ly periods: name one as {forms} "
        "(as the chart labels it) or give any day inside it as YYYY-MM-DD"
    )
    start: date | None = None
    try:
        if (m := _WEEK.match(value)) and metric.period == "week":
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        elif (m := _MONTH.match(value)) and metric.period == "month":
            start = date(int(m[1]), int(m[2]), 1)
        elif len(value) == 10:
            start = period_start(date.fromisoformat(value), metric.period)
    except ValueError:
        start = None
    if start is None:
        raise CycleError(f"'{value}' is not a period of this metric: {hint}")
    return Period(start, period_label(start, metric.period))


def period_note(
    pb: Any,
    metric: Metric,
    period: Period,
    reason: str,
    by: str,
    now: str,
    on: str | None,
    *,
    include: bool = False,
) -> Any:
    """A ``decide`` function for :meth:`Store.transact` that excludes ``period`` (or,
    with ``include``, counts an excluded one again)."""
    kind = notes.INCLUDED if include else notes.EXCLUDED
    return _decide(pb, metric, kind, period.start.isoformat(), period.label, reason, by, now, on)


def rebase(
    pb: Any,
    metric: Metric,
    day: date,
    reason: str,
    by: str,
    now: str,
    on: str | None,
    *,
    remove: bool = False,
) -> Any:
    """New limits from ``day`` on (or, with ``remove``, the rebase on ``day`` withdrawn)."""
    kind = notes.UNREBASED if remove else notes.REBASED
    return _decide(pb, metric, kind, day.isoformat(), day.isoformat(), reason, by, now, on)


def _decide(
    pb: Any,
    metric: Metric,
    kind: str,
    key: str,
    label: str,
    reason: str,
    by: str,
    now: str,
    on: str | None,
) -> Any:
    def decide(state: State) -> tuple[Changes, tuple[Event, notes.Note | None]]:
        check_person(pb, by, may_annotate(pb, metric.id), f"how metric '{metric.id}' is read")
        if not reason.strip():
            raise CycleError("--reason must say why (it is shown on the chart and in the log)")
        d = Draft(state, now, on)
        not_after_today(d)
        today = now[:10]
        if key > today:
            what = "period" if kind in (notes.EXCLUDED, notes.INCLUDED) else "rebase day"
            raise CycleError(f"{what} {label} starts after today ({today}): nothing to read yet")
        current = state.annotations.of(metric.id)
        before = (
            current.excluded if kind in (notes.EXCLUDED, notes.INCLUDED) else current.rebases
        ).get(key)
        if kind == notes.INCLUDED and before is None:
            raise CycleError(
                f"{label} of metric '{metric.id}' is not excluded"
                + _listing("excluded periods", current.excluded)
            )
        if kind == notes.UNREBASED and before is None:
            raise CycleError(
                f"metric '{metric.id}' has no rebase on {label}"
                + _listing("rebases", current.rebases)
            )
        e = d.event(
            kind,
            by=by,
            subject=metric.id,
            old=before.reason if before else None,
            new=key,
            note=reason.strip(),
            data={"label": label},
        )
        return d.changes, (e, before)

    return decide


def _listing(what: str, found: Any) -> str:
    if not found:
        return f"; it has no {what}"
    return f"; its {what}: " + ", ".join(n.label for _, n in sorted(found.items()))


def checkin(
    pb: Any, oid: str, confidence: int, note: str, by: str, now: str, on: str | None
) -> Any:
    """A ``decide`` function recording an objective owner's check-in (``pdca checkin``)."""
    from pdca.engine.permissions import may_decide
    from pdca.playbook.messages import suggest
    from pdca.state.checkins import CHECKIN

    def decide(state: State) -> tuple[Changes, Event]:
        if oid not in pb.objectives:
            raise CycleError(
                f"no objective '{oid}'{suggest(oid, pb.objectives)} "
                f"(objectives: {', '.join(pb.objectives) or 'none'})"
            )
        check_person(pb, by, may_decide(pb, oid), f"objective '{oid}'")
        if not note.strip():
            raise CycleError("--note must say why (what the confidence rests on)")
        d = Draft(state, now, on)
        not_after_today(d)
        e = d.event(CHECKIN, by=by, subject=oid, new=str(confidence), note=note.strip())
        return d.changes, e

    return decide
