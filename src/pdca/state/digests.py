"""Digest marks: when a person's digest (or a due-soon reminder) was last made for sending.

A mark is an audit event (``digest_sent`` or ``reminder_sent``) whose subject is
the person's owner id, written in the state of every playbook the digest
covered. Its ``on`` is the digest's day (the as-of date) and ``at`` the moment
it was recorded; ``data.channel`` says who made it (``mark`` for ``pdca digest
--mark``, ``email`` for the email plugin). The next digest shows what was
recorded after the latest mark, so a late-entered update still reaches it, and
a sender asks :func:`sent_on` before sending so that a second run on the same
day sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

DIGEST = "digest_sent"
REMINDER = "reminder_sent"
KINDS = (DIGEST, REMINDER)


@dataclass(frozen=True)
class Mark:
    """One digest or reminder made for a person: ``on`` its day, ``at`` when recorded."""

    kind: str
    person: str
    on: str
    at: str
    channel: str
    event: int | None = None
    """The audit event's id: events after it are news for the next digest."""


def fold(events: Iterable[Any]) -> Mapping[str, tuple[Mark, ...]]:
    """Each person's marks, oldest first; other kinds ignored."""
    out: dict[str, list[Mark]] = {}
    for e in events:
        if e.kind not in KINDS or not e.subject:
            continue
        channel = str((e.data or {}).get("channel") or "mark")
        out.setdefault(e.subject, []).append(
            Mark(e.kind, e.subject, e.on or e.at[:10], e.at, channel, e.id)
        )
    return MappingProxyType({k: tuple(v) for k, v in out.items()})


def last_digest(marks: tuple[Mark, ...], until: str) -> Mark | None:
    """The latest digest mark on or before the day ``until`` (a replay of an earlier
    day does not see marks made for later ones)."""
    found = [m for m in marks if m.kind == DIGEST and m.on <= until]
    return found[-1] if found else None


def sent_on(marks: tuple[Mark, ...], kind: str, channel: str, day: str) -> bool:
    """Whether a ``kind`` mark of ``channel`` was already recorded for ``day``."""
    return any(m.kind == kind and m.channel == channel and m.on == day for m in marks)
