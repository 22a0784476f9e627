"""``pdca run --dry-run``: the transitions a run would make, worked out and thrown away.

The stored state is read in a read-only transaction and the same rules as
:meth:`~pdca.engine.runner.Engine.run` are applied to a draft that is never
written, so the store (its file's bytes, for SQLite) stays exactly as it was.
A dry run runs no action and measures nothing: it stops where the real run
would first do either, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pdca.engine import transitions as tr
from pdca.playbook.model import Playbook
from pdca.state.model import Event, State
from pdca.state.times import now_utc


@dataclass(frozen=True)
class Preview:
    """The events a run would record, and what it would do next that a dry run does not."""

    events: tuple[Event, ...]
    stopped: str
    """work, measure, decide or finished (as :func:`pdca.engine.transitions.advance`)."""
    then: str | None
    """The step a real run would take next (run an automated task, measure), if any."""


def preview(pb: Playbook, state: State, as_of: date, now: str | None = None) -> Preview:
    d = tr.Draft(state, now or now_utc(), as_of.isoformat())
    tr.reconcile(pb, d)
    why = tr.advance(pb, d)
    then = None
    if why == "work":
        tid = tr.next_automated(pb, d)
        delayed = tr.next_retry(pb, d) if tid is None else None
        if tid is not None:
            then = f"run the automated task {tid}"
        elif delayed is not None:
            then = f"retry the automated task {delayed[0]} once it is due at {tr.iso(delayed[1])}"
    elif why == "measure":
        then = f"measure the metrics as of {as_of.isoformat()} and enter check"
    return Preview(tuple(d.changes.events), why, then)
