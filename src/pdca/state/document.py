"""The export document's layout: which tables, which columns, in which order, as which JSON.

An export, an import and a backup of a PostgreSQL store all speak this one
format (see :mod:`pdca.state.transfer`), so what a document holds is decided
here and nowhere else: SQLite and PostgreSQL then export the same state as the
same text, and an import writes back exactly what an export read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from pdca.errors import StateError
from pdca.state import schema as s

FORMAT = "pdca-state"
FORMAT_VERSION = 1
"""Bumped when the document's layout changes (not when a table does: that is schema_version)."""

TABLES: tuple[tuple[str, sa.Table], ...] = (
    ("playbooks", s.playbooks),
    ("cycles", s.cycles),
    ("tasks", s.tasks),
    ("attempts", s.attempts),
    ("baselines", s.baselines),
    ("decisions", s.decisions),
    ("snapshots", s.snapshots),
    ("events", s.events),
)
SERIAL = frozenset({"snapshots", "events"})
"""Tables whose rows are numbered by the store (``id``): exported in id order, without it."""

JSON_COLUMNS: dict[tuple[str, str], Callable[[Any], str]] = {
    # exactly as the store writes them (pdca.state.writing.apply, Event.data_json)
    ("snapshots", "report"): lambda v: json.dumps(v, default=str),
    ("events", "data"): lambda v: json.dumps(v, sort_keys=True, default=str),
}


def columns(name: str, table: sa.Table) -> list[sa.Column[Any]]:
    """The columns a document carries for a table (no playbook key, no serial id)."""
    skip = {"playbook"} | ({"id"} if name in SERIAL else set())
    return [c for c in table.columns if c.name not in skip]


def sort_key(name: str, table: sa.Table) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """Rows' order in a document: by id for serial tables, else by key (Python's order)."""
    if name in SERIAL:
        return lambda row: (row["id"],)
    keys = [c.name for c in table.primary_key.columns if c.name != "playbook"]
    return lambda row: tuple(row[k] for k in keys)


def _v1_rows(tables: dict[str, Any]) -> dict[str, Any]:
    """Version 1 rows as version 2 has them: each thing happened on its recorded day.

    The same rule as the store's migration (:func:`pdca.state.schema._v1_to_v2`).
    """

    def day(value: Any) -> Any:
        return value[:10] if isinstance(value, str) else value

    out = dict(tables)
    fixes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "cycles": lambda r: {
            **r,
            "started": day(r.get("started")),
            "recorded": r.get("started"),
            "closed_on": day(r.get("closed")),
        },
        "tasks": lambda r: {**r, "on": day(r.get("updated"))},
        "decisions": lambda r: {**r, "decided_on": day(r.get("decided"))},
        "events": lambda r: {**r, "on": day(r.get("at"))},
    }
    for name, fix in fixes.items():
        rows = out.get(name)
        if isinstance(rows, list):
            out[name] = [fix(r) if isinstance(r, dict) else r for r in rows]
    return out


def _v2_rows(tables: dict[str, Any]) -> dict[str, Any]:
    """Version 2 rows are version 3's: version 3 added only the period cache and the
    definition fingerprints, which exports leave out (they are measured again)."""
    return dict(tables)


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_rows, 2: _v2_rows}
"""``UPGRADES[n]`` turns a document's tables of schema version n into version n + 1."""


def upgraded(doc: dict[str, Any]) -> dict[str, Any]:
    """An export of an older schema version brought to this one, so old exports import."""
    version = doc.get("schema_version")
    tables = doc.get("tables")
    if not isinstance(version, int) or not isinstance(tables, dict):
        return doc
    while version in UPGRADES and version < s.SCHEMA_VERSION:
        tables = UPGRADES[version](tables)
        version += 1
    return {**doc, "schema_version": version, "tables": tables}


def dumps(doc: dict[str, Any]) -> str:
    """The document as text: stable, readable, one line per value."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def load_document(text: str, source: str) -> dict[str, Any]:
    """Parse an export's text; StateError naming the file when it is not one."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise StateError(f"{source} is not a pdca state export: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateError(
            f'{source} is not a pdca state export (it has no "format": "{FORMAT}"); '
            "make one with: pdca state export PLAYBOOK -o FILE"
        )
    return doc


def row_counts(doc: dict[str, Any]) -> dict[str, int]:
    """Rows per table, as the commands report what they exported or imported."""
    return {name: len(rows) for name, rows in doc["tables"].items()}
