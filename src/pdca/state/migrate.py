"""A store's schema version, and bringing an older store up to this pdca's.

Kept apart from connecting: this is the one place that decides whether a store
is ours, too new, or damaged, so every command refuses a foreign or newer store
with the same words before it reads a single row. ``s.SCHEMA_VERSION`` is read
at call time, not imported, so a migration can be tried against a bumped version.
"""

from __future__ import annotations

import sqlalchemy as sa

from pdca.errors import StateError
from pdca.state import schema as s
from pdca.state.times import now_utc


def stored_version(conn: sa.Connection, kind: str, name: str) -> int | None:
    """The stored schema version; None for an empty store; StateError when it is not ours."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(s.meta.name):
        if kind == "sqlite":
            others = inspector.get_table_names()
            if others:
                raise StateError(
                    f"{name} is not a pdca state store (it holds tables "
                    f"{', '.join(sorted(others)[:5])}); point --state elsewhere"
                )
        return None
    raw = conn.execute(
        sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
    ).scalar_one_or_none()
    try:
        version = int(raw) if raw is not None else None
    except ValueError:
        version = None
    if version is None:
        raise StateError(
            f"{name}: the state store has no valid schema version ({raw!r} in "
            f"{s.meta.name}); it may be damaged or changed by hand: move it away and "
            "restore a backup"
        )
    if version > s.SCHEMA_VERSION:
        raise StateError(
            f"{name} was written by a newer pdca (state schema version {version}; "
            f"this pdca reads up to version {s.SCHEMA_VERSION}); upgrade pdca to use it"
        )
    return version


def upgrade(conn: sa.Connection, name: str, version: int | None) -> None:
    """Create the tables in an empty store, or run the missing migrations in order.

    The caller holds the transaction (and on PostgreSQL the schema lock), so a
    failing step leaves the store at its old version.
    """
    if version is None:
        s.metadata.create_all(conn)
        conn.execute(
            sa.insert(s.meta),
            [
                {"key": "schema_version", "value": str(s.SCHEMA_VERSION)},
                {"key": "created", "value": now_utc()},
            ],
        )
        return
    while version < s.SCHEMA_VERSION:
        step = s.MIGRATIONS.get(version)
        if step is None:
            raise StateError(
                f"{name}: no migration from state schema version {version} to {version + 1}"
            )
        step(conn)
        version += 1
    conn.execute(
        sa.update(s.meta).where(s.meta.c.key == "schema_version").values(value=str(version))
    )
