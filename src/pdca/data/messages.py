"""Wording shared by source errors, so every message names its place and source the same way.

Users meet these messages when a check fails at 6 am in a cron job; each one
starts with ``FILE:LINE:COL:`` where the playbook says where to look, names the
source, and ends with what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pdca.errors import Location, SourceError

if TYPE_CHECKING:
    from pdca.playbook.model import Source

MAX_LISTED = 40

EXCERPT = 200
"""Characters of any input (a filter, a database's error, a line of data) a message quotes.

Data is not trusted to be short: a 300 KB file of NUL bytes read as one column
name once made a 300,111-character message line."""


def at(location: Location | None) -> str:
    """``"FILE:LINE:COL: "`` for a known place, nothing otherwise."""
    return f"{location}: " if location else ""


class QueryRefused(SourceError):
    """A database refused the statement built from a request, e.g. over the metric's filter.

    ``detail`` is the database's own words, for callers that word the message themselves.
    """

    detail: str = ""


def source_error(
    source: Source, message: str, key: str | None = None, cls: type[SourceError] = SourceError
) -> SourceError:
    """An error about ``source``, placed at its ``key`` option (or the entry)."""
    return cls(f"{at(source.where(key))}source '{source.id}': {message}")


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """``text`` cut to ``limit`` characters with its length said, control characters visible."""
    from pdca.playbook.messages import visible

    if len(text) <= limit:
        return visible(text)
    return f"{visible(text[:limit])}... ({len(text):,} characters)"


def quoted(text: str) -> str:
    """``'text'`` as messages quote the author's input (Python's quoting, which also
    escapes control characters), bounded."""
    if len(text) <= EXCERPT:
        return repr(text)
    return f"{text[:EXCERPT]!r}... ({len(text):,} characters)"


def listing(names: Iterable[str]) -> str:
    """``a, b, c`` for messages; very wide tables, and very long names, are cut."""
    from pdca.playbook.messages import shown as cut

    names = [cut(str(name)) for name in names]
    if not names:
        return "none"
    shown = ", ".join(names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return f"{shown}, and {more} more" if more > 0 else shown


def suggestion(name: str, names: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` when a close spelling exists (case slips first).

    Column names are often short and alike (``id``, ``ts``), so a spelling must
    be closer than the playbook's own names need to be to be offered.
    """
    from pdca.playbook.messages import shown, suggest

    return suggest(name, [shown(n) for n in names if len(n) <= 1000], cutoff=0.75)


def unknown_column(name: str, names: Sequence[str]) -> str:
    return f"(available: {listing(names)}){suggestion(name, names)}"


def first_line(exc: BaseException) -> str:
    """The useful part of a database error: DuckDB appends a SQL excerpt we did not write.

    Bounded: a database quotes the values and lines it could not read, whatever their size.
    """
    text = str(exc).strip()
    for marker in ("\n\nLINE ", "\nLINE "):
        text = text.split(marker, 1)[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return excerpt(" ".join(lines[:3]), 2 * EXCERPT) if lines else type(exc).__name__
