"""How messages quote what a playbook's author wrote: values, tags and near-miss names.

Messages echo the author's own text back so they can find it; these keep that
echo short and printable whatever was written, and offer the closest known name
when a name is unknown. The validator and the engine's refusals use them too.
"""

from __future__ import annotations

import difflib
from typing import Any


def tag_name(tag: str) -> str:
    """``!!python/object`` as written, rather than its expanded URI."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


SHOWN = 60
"""Characters of a value quoted in a message; a 10 MB line is not echoed back whole."""


def visible(text: str) -> str:
    """``text`` with control and format characters written as escapes (``\\x1b``).

    A terminal acts on an ESC sequence and a bidi override reorders what follows;
    text from a playbook, a data file or a stored note is shown, never obeyed.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(text: str) -> str:
    """A value as messages quote it: cut when long, control characters made visible."""
    cut = visible(text[:SHOWN])
    return cut if len(text) <= SHOWN else f"{cut}... ({len(text)} characters)"


def suggest(word: str, options: Any, cutoff: float = 0.6) -> str:
    """A "did you mean" tail for an unknown name, or nothing when nothing is close.

    A name that differs only in case (``CSAT`` for ``csat``), or also in its
    separators (``CreatedAt`` for ``created_at``), wins over any spelling that is
    merely near: difflib compares characters exactly, so to it ``CSAT`` has
    nothing in common with ``csat``. Near spellings are then compared ignoring case.
    """
    names = [name for name in options if isinstance(name, str) and name != word]
    for fold in (str.casefold, _squashed):
        target = fold(word)
        for name in names:
            if fold(name) == target:
                return f"; did you mean '{name}'?"
    folded: dict[str, str] = {}
    for name in names:
        folded.setdefault(name.casefold(), name)
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=cutoff)
    return f"; did you mean '{folded[close[0]]}'?" if close else ""


def _squashed(name: str) -> str:
    """A name without case or separators: ``CreatedAt``, ``created_at``, ``created-at``."""
    return "".join(c for c in name.casefold() if c.isalnum())
