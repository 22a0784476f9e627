"""Whether an export document can be imported as it is: every problem, named by row.

An import checks the whole document before it writes a row, and an export
checks what it is about to write, so a state the import would refuse (a value
damaged on disk that SQLite still reads) is reported at export time, not at
restore time. The checks follow the tables' own definitions (type, length,
nullability) plus what the engine relies on (allowed values, times that parse,
keys unique, rows pointing at cycles and tasks that exist).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from pdca.state import schema as s
from pdca.state.document import FORMAT_VERSION, JSON_COLUMNS, SERIAL, TABLES, columns
from pdca.state.model import CYCLE_PHASES, DECISIONS, TASK_STATUSES
from pdca.state.times import parse_utc

ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("cycles", "phase"): frozenset(CYCLE_PHASES),
    ("tasks", "status"): frozenset(TASK_STATUSES),
    ("tasks", "phase"): frozenset(p for p in CYCLE_PHASES if p != "closed"),
    ("attempts", "outcome"): frozenset({"running", "ok", "failed", "interrupted", "cancelled"}),
    ("decisions", "proposed"): frozenset(DECISIONS),
    ("decisions", "decision"): frozenset(DECISIONS),
}

TIMES = frozenset(
    {"created", "started", "phase_since", "closed", "updated", "finished", "taken", "at"}
    | {"decided", "as_of", "recorded", "closed_on", "on", "decided_on"}
)
"""Columns holding an ISO 8601 time (or date, as_of): checked to parse."""


def validate(doc: dict[str, Any], playbook_id: str) -> list[str]:
    """Every problem that would keep the document from being imported as it is."""
    fv = doc.get("format_version")
    if not is_int(fv):
        return ['"format_version" must be a whole number']
    if fv > FORMAT_VERSION:
        return [
            f"it was written by a newer pdca (export format {fv}; this pdca reads format "
            f"{FORMAT_VERSION}); upgrade pdca to import it"
        ]
    if fv < 1:
        return [f'"format_version" {fv} is not valid']
    sv = doc.get("schema_version")
    if not is_int(sv):
        return ['"schema_version" must be a whole number']
    if sv != s.SCHEMA_VERSION:
        return [version_message("it", sv)]
    if doc.get("playbook") != playbook_id:
        return [
            f"it holds the state of playbook {json.dumps(doc.get('playbook'))}, not of "
            f"'{playbook_id}'; import it with the playbook it belongs to"
        ]
    if not isinstance(doc.get("exported"), str):
        return ['"exported" must be a time (text)']
    tables = doc.get("tables")
    if not isinstance(tables, dict):
        return ['"tables" must be an object with one list of rows per table']
    known = [name for name, _ in TABLES]
    problems = [f'unknown table "{name}"' for name in tables if name not in known]
    problems += [f'table "{name}" is missing' for name in known if name not in tables]
    if problems:
        return problems
    for name, table in TABLES:
        rows = tables[name]
        if not isinstance(rows, list):
            problems.append(f'"{name}" must be a list of rows')
            continue
        cols = columns(name, table)
        wanted = {c.name for c in cols}
        for i, row in enumerate(rows):
            where = f"{name}[{i}]"
            if not isinstance(row, dict):
                problems.append(f"{where} must be an object")
                continue
            extra = sorted(set(row) - wanted)
            missing = [c.name for c in cols if c.name not in row]
            if extra:
                problems.append(f"{where} has unknown columns: {', '.join(extra)}")
            if missing:
                problems.append(f"{where} lacks columns: {', '.join(missing)}")
            for col in cols:
                if col.name in row:
                    problem = check_value(name, col, row[col.name])
                    if problem:
                        problems.append(f"{where}.{col.name} {problem}")
        if len(problems) > 20:
            return problems
    if problems:
        return problems
    return check_references(tables, playbook_id)


def check_value(table: str, col: sa.Column[Any], value: Any) -> str | None:
    """What is wrong with one value for its column (None when it fits)."""
    if value is None:
        if col.nullable and not col.primary_key:
            return None
        return "must not be null"
    kind = col.type
    if (table, col.name) in JSON_COLUMNS:
        if col.name == "report" and not isinstance(value, dict):
            return "must be a JSON object"
        try:
            JSON_COLUMNS[(table, col.name)](value)
        except (TypeError, ValueError) as exc:
            return f"cannot be stored as JSON ({exc})"
        return None
    if isinstance(kind, sa.Boolean):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(kind, sa.Integer):
        if not is_int(value):
            return f"must be a whole number, not {json.dumps(value)}"
        if not -(2**31) <= value < 2**31:
            return f"{value} is out of range"
        return None
    if isinstance(kind, sa.Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, not {json.dumps(value)}"
        try:
            float(value)
        except OverflowError:
            return "is out of range"
        return None
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            return f"must be text, not {json.dumps(value)}"
        if kind.length is not None and len(value) > kind.length:
            return f"is longer than {kind.length} characters"
        if "\x00" in value:
            return "must not contain NUL characters"
        allowed = ALLOWED.get((table, col.name))
        if allowed is not None and value not in allowed:
            return f"is {json.dumps(value)}; allowed: {', '.join(sorted(allowed))}"
        if col.name in TIMES and parse_utc(value) is None:
            return f"is {json.dumps(value)}, not a time (ISO 8601)"
        return None
    return None  # pragma: no cover - every column type is handled above


def is_int(value: Any) -> bool:
    """A JSON whole number: Python's bool is an int, but true is not a count."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_references(tables: dict[str, list[dict[str, Any]]], playbook_id: str) -> list[str]:
    """Keys unique per table, and rows pointing at cycles and tasks the document holds."""
    problems: list[str] = []
    pbs = tables["playbooks"]
    if len(pbs) != 1 or pbs[0]["id"] != playbook_id:
        problems.append(f'"playbooks" must hold exactly one row, with id "{playbook_id}"')
    for name, table in TABLES:
        if name in SERIAL:
            continue
        keys = [c.name for c in table.primary_key.columns if c.name != "playbook"]
        seen: set[tuple[Any, ...]] = set()
        for i, row in enumerate(tables[name]):
            key = tuple(row[k] for k in keys)
            if key in seen:
                problems.append(f"{name}[{i}] repeats the key {dict(zip(keys, key, strict=True))}")
            seen.add(key)
    cycles = {row["number"] for row in tables["cycles"]}
    task_keys = {(row["cycle"], row["task"]) for row in tables["tasks"]}
    for name in ("tasks", "attempts", "baselines", "decisions", "snapshots", "events"):
        for i, row in enumerate(tables[name]):
            cycle = row["cycle"]
            if cycle is not None and cycle not in cycles:
                problems.append(f"{name}[{i}] belongs to cycle {cycle}, which is not in cycles")
    for i, row in enumerate(tables["attempts"]):
        if (row["cycle"], row["task"]) not in task_keys:
            problems.append(
                f"attempts[{i}] is a run of task '{row['task']}' in cycle {row['cycle']}, "
                "which is not in tasks"
            )
    return problems


def version_message(where: str, version: int) -> str:
    """Why a document or file of another schema version cannot be imported, and what to do."""
    if version > s.SCHEMA_VERSION:
        return (
            f"{where} was written by a newer pdca (state schema version {version}; this pdca "
            f"reads up to version {s.SCHEMA_VERSION}); upgrade pdca to import it"
        )
    return (
        f"{where} holds state schema version {version}, and this pdca imports version "
        f"{s.SCHEMA_VERSION}: import it with the pdca that wrote it, then open the store "
        "with this pdca (it migrates stores in place) and export again"
    )
