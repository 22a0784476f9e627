"""The state store's tables, its schema version, and the migrations between versions.

Every table is prefixed ``pdca_`` so a team can keep the state in a PostgreSQL
database that holds other things too, and every row is keyed by the playbook
id, so one store serves many playbooks. Times are ISO 8601 UTC text
(``2026-01-05T09:12:33Z``): they sort, compare and read the same on SQLite and
PostgreSQL, and nobody has to think about time-zone-aware column types.

A release that changes the tables bumps :data:`SCHEMA_VERSION` and adds a
function to :data:`MIGRATIONS` that upgrades a store one version; opening an
older store runs the missing steps in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

SCHEMA_VERSION = 1
"""The version this pdca writes; a store with a higher one was written by a newer pdca."""

metadata = sa.MetaData()

meta = sa.Table(
    "pdca_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

playbooks = sa.Table(
    "pdca_playbooks",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("path", sa.Text),
    sa.Column("created", sa.String(32), nullable=False),
    # Bumped by every write: the row is also the per-playbook write lock on PostgreSQL.
    sa.Column("revision", sa.Integer, nullable=False, default=0),
)

cycles = sa.Table(
    "pdca_cycles",
    metadata,
    sa.Column("playbook", sa.String(200), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("started", sa.String(32), nullable=False),
    sa.Column("phase_since", sa.String(32), nullable=False),
    sa.Column("closed", sa.String(32)),
)

tasks = sa.Table(
    "pdca_tasks",
    metadata,
    sa.Column("playbook", sa.String(200), primary_key=True),
    sa.Column("cycle", sa.Integer, primary_key=True),
    sa.Column("task", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, default=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("updated", sa.String(32), nullable=False),
    sa.Column("by", sa.String(200)),
    sa.Column("note", sa.Text),
)

attempts = sa.Table(
    "pdca_attempts",
    metadata,
    sa.Column("playbook", sa.String(200), primary_key=True),
    sa.Column("cycle", sa.Integer, primary_key=True),
    sa.Column("task", sa.String(200), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("started", sa.String(32), nullable=False),
    sa.Column("finished", sa.String(32)),
    # running, ok, failed, interrupted
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("exit_code", sa.Integer),
    sa.Column("duration", sa.Float),
    sa.Column("output", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
)

snapshots = sa.Table(
    "pdca_snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", sa.String(200), nullable=False),
    sa.Column("cycle", sa.Integer, nullable=False),
    sa.Column("taken", sa.String(32), nullable=False),
    sa.Column("as_of", sa.String(10), nullable=False),
    # The ``pdca check`` JSON report, with the cycle's (ratcheted) baselines in it.
    sa.Column("report", sa.Text, nullable=False),
    sa.Index("pdca_snapshots_cycle", "playbook", "cycle"),
)

baselines = sa.Table(
    "pdca_baselines",
    metadata,
    sa.Column("playbook", sa.String(200), primary_key=True),
    sa.Column("cycle", sa.Integer, primary_key=True),
    sa.Column("metric", sa.String(200), primary_key=True),
    sa.Column("value", sa.Float),
    # "playbook" for cycle 1, "cycle N" when ratcheted from cycle N's check.
    sa.Column("origin", sa.String(32), nullable=False),
)

decisions = sa.Table(
    "pdca_decisions",
    metadata,
    sa.Column("playbook", sa.String(200), primary_key=True),
    sa.Column("cycle", sa.Integer, primary_key=True),
    sa.Column("objective", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("proposed", sa.String(16), nullable=False),
    sa.Column("decision", sa.String(16)),
    sa.Column("by", sa.String(200)),
    sa.Column("note", sa.Text),
    sa.Column("decided", sa.String(32)),
)

events = sa.Table(
    "pdca_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", sa.String(200), nullable=False),
    sa.Column("cycle", sa.Integer),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("by", sa.String(200)),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(200)),
    sa.Column("old", sa.String(32)),
    sa.Column("new", sa.String(32)),
    sa.Column("note", sa.Text),
    sa.Column("data", sa.Text),
    sa.Index("pdca_events_playbook", "playbook", "id"),
)

Migration = Callable[[sa.Connection], None]

MIGRATIONS: dict[int, Migration] = {}
"""``MIGRATIONS[n]`` upgrades a store from version n to n + 1 (none exist yet)."""
