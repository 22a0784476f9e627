"""Timestamps as the state keeps them, shared by the store, the engine and exports.

They live apart from the store so that whatever writes or checks a time (the
engine, an import's validation, a report) agrees on one format without
depending on the database code.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now_utc() -> str:
    """Timestamps as the store keeps them: ISO 8601 UTC, to the millisecond, so that
    they sort as text and order the runs of one busy second."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
