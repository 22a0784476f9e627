"""What the state store and a terminal can take: ids that fit, text without control characters.

A playbook's ids become keys of the state store's rows, in columns of
:data:`MAX_ID_LENGTH` characters (``pdca.state.schema``); a longer id passed
``pdca validate`` and failed later, inside a database, when a run tried to
write it. A NUL or an escape sequence in a title or a note is stored as it is
and shown on every terminal that prints it. Both are refused here, at the line
that holds them, before anything runs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pdca.errors import Location, Problem
from pdca.playbook.messages import shown, visible
from pdca.playbook.model import Playbook

MAX_ID_LENGTH = 200
"""Characters in an id: the width of the id columns in ``pdca.state.schema``."""

ALLOWED_CONTROLS = frozenset("\t\n")
"""Control characters text may hold: tabs and line breaks (descriptions, commands)."""

_SKIPPED = frozenset({"id", "loc", "locs", "base_dir", "path"})
_SECTIONS = ("owners", "sources", "metrics", "objectives", "tasks")
_INLINE = frozenset({"options", "extra"})


def control_at(text: str) -> int | None:
    """Index of the first control character (C0, DEL or C1) other than a tab or line break."""
    for i, c in enumerate(text):
        code = ord(c)
        if (code < 0x20 or 0x7F <= code <= 0x9F) and c not in ALLOWED_CONTROLS:
            return i
    return None


_RISKY = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\\]")
"""A control character other than a tab or line break, or a backslash (an escape)."""


def may_hold_controls(source: str) -> bool:
    """Whether a playbook read from ``source`` can hold a control character at all.

    Every text of the model comes from the file: a control character in it is
    one written raw (a carriage return included) or one written as an escape of
    a double-quoted string (``"\\x1b"``, ``"\\e"``), which needs a backslash. A
    file with neither cannot produce one, so its model need not be walked: that
    walk was a sixth of loading a playbook of a hundred tasks.
    """
    return _RISKY.search(source) is not None


def problems(pb: Playbook, source: str | None = None) -> list[Problem]:
    """Ids longer than the store's columns and text holding control characters, each placed.

    ``source``, the playbook's text, skips the search for control characters
    when it cannot find any (:func:`may_hold_controls`).
    """
    walk = source is None or may_hold_controls(source)
    found: list[Problem] = []
    for section in _SECTIONS:
        what = section[:-1]
        for eid, entry in getattr(pb, section).items():
            if len(eid) > MAX_ID_LENGTH:
                found.append(_too_long(f"{what} id", eid, entry.loc))
            if walk:
                for label, text, where in _texts(entry, f"{what} '{shown(eid)}'"):
                    found.append(_control(label, text, where))
    if len(pb.id) > MAX_ID_LENGTH:
        found.append(_too_long("playbook id", pb.id, pb.where("playbook")))
    if walk:
        for label, text, where in _texts(pb, "the playbook"):
            found.append(_control(label, text, where))
    return found


def _too_long(what: str, value: str, where: Location | None) -> Problem:
    return Problem(
        f"{what} '{shown(value)}' is longer than the {MAX_ID_LENGTH} characters the state "
        "store keeps for an id: shorten it",
        where,
    )


def _control(label: str, text: str, where: Location | None) -> Problem:
    at = control_at(text)
    assert at is not None
    return Problem(
        f"{label} holds the control character '{visible(text[at])}' (character {at + 1}); "
        "remove it: text is stored in the state and shown on terminals, which would obey it "
        "(write a tab or a line break as such)",
        where,
    )


def _texts(entry: Any, name: str) -> Iterator[tuple[str, str, Location | None]]:
    """(label, text, place) of each text in ``entry`` that holds a control character."""
    for f in dataclasses.fields(entry):
        if f.name in _SKIPPED or (f.name in _SECTIONS and isinstance(entry, Playbook)):
            continue
        for path, text in _strings(getattr(entry, f.name), _join("", f.name)):
            if control_at(text) is not None:
                yield f"{name}: '{path}'", text, _place(entry, path)


def _join(path: str, name: str) -> str:
    """``path.name``; plugin options and extra keys are written without their field's name."""
    if name in _INLINE:
        return path
    return f"{path}.{name}" if path else name


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string under ``value`` (mapping keys too), with its dotted path as written."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            inner = _join(path, str(key))
            if isinstance(key, str):
                yield inner, key
            yield from _strings(item, inner)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, _join(path, str(i)))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name), _join(path, f.name))


def _place(entry: Any, path: str) -> Location | None:
    """The most precise place the entry knows for ``path`` (``params.x.0``, then ``params.x``)."""
    parts = path.split(".")
    while parts:
        key = ".".join(parts)
        if key in entry.locs:
            return entry.locs[key]
        parts.pop()
    return entry.loc
