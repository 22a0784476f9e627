"""The state store's tables, its schema version, and the migrations between versions.

Every table is prefixed ``pdca_`` so a team can keep the state in a PostgreSQL
database that holds other things too, and every row is keyed by the playbook
id, so one store serves many playbooks. Times are ISO 8601 UTC text
(``2026-01-05T09:12:33Z``): they sort, compare and read the same on SQLite and
PostgreSQL, and nobody has to think about time-zone-aware column types.

A release that changes the tables bumps :data:`SCHEMA_VERSION` and adds a
function to :data:`MIGRATIONS` that upgrades a store one version; opening an
older store runs the missing steps in one transaction.

Two times are kept for what people and the engine do (version 2): ``on``, the
day it happened in the data's time (``YYYY-MM-DD``: what analyses, charts, due
checks and reports use), and the recorded wall-clock time (``at``, ``updated``,
``recorded``, ``decided``: the audit trail). A cycle's ``started`` is the day it
opened; ``recorded`` is when that was written.

Version 3 keeps what a check measured per metric and period (``pdca_periods``)
and each metric's definition fingerprint (``pdca_definitions``): a re-check of a
database source then queries only the periods that are new or not yet final
(:mod:`pdca.check.periodcache`). Both are derived from the data, so exports leave
them out: an imported state measures them again.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

SCHEMA_VERSION = 3
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
    # version 2: the wall-clock time the cycle was opened, and the day it closed
    sa.Column("recorded", sa.String(32)),
    sa.Column("closed_on", sa.String(10)),
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
    # version 2: the day of the last status change (the completion day when done)
    sa.Column("on", sa.String(10)),
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
    # running, ok, failed, interrupted, cancelled
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
    sa.Column("decided_on", sa.String(10)),  # version 2
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
    sa.Column("on", sa.String(10)),  # version 2: the day it happened
    sa.Index("pdca_events_playbook", "playbook", "id"),
)

periods = sa.Table(
    "pdca_periods",
    metadata,
    sa.Column("playbook", sa.String(200), primary_key=True),
    sa.Column("metric", sa.String(200), primary_key=True),
    sa.Column("period_start", sa.String(10), primary_key=True),
    # the definition the period was measured under (pdca.check.periodcache.fingerprint)
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("period_end", sa.String(10), nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("n", sa.Integer, nullable=False),
    # the sums the value is a quotient of, where the KPI is one (mean: sum and count)
    sa.Column("numerator", sa.Float),
    sa.Column("denominator", sa.Float),
    # past its source's settle horizon when measured: never queried again
    sa.Column("final", sa.Boolean, nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
)

definitions = sa.Table(
    "pdca_definitions",
    metadata,
    sa.Column("playbook", sa.String(200), primary_key=True),
    sa.Column("metric", sa.String(200), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    # the as-of day of the check that first saw this definition, and the wall-clock
    # time it did; both NULL for the definition a metric was first measured under
    sa.Column("changed_on", sa.String(10)),
    sa.Column("changed_at", sa.String(32)),
    # the cached periods cover [measured_from, final_until) completely: a period in
    # that range without a row had no rows; from final_until on they are measured again
    sa.Column("measured_from", sa.String(10)),
    sa.Column("final_until", sa.String(10)),
)

Migration = Callable[[sa.Connection], None]


def _add_column(conn: sa.Connection, table: sa.Table, name: str) -> None:
    column = table.c[name]
    kind = column.type.compile(dialect=conn.dialect)
    quote = conn.dialect.identifier_preparer.quote
    conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {quote(name)} {kind}"))


def _day(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    return sa.func.substr(column, 1, 10)


def _v1_to_v2(conn: sa.Connection) -> None:
    """Give every row the day it happened: its recorded date, the only one version 1 kept.

    A cycle's ``started`` becomes that day and its old timestamp moves to ``recorded``.
    """
    for table, name in (
        (cycles, "recorded"),
        (cycles, "closed_on"),
        (tasks, "on"),
        (decisions, "decided_on"),
        (events, "on"),
    ):
        _add_column(conn, table, name)
    c = cycles.c
    conn.execute(
        sa.update(cycles).values(
            {c.recorded: c.started, c.started: _day(c.started), c.closed_on: _day(c.closed)}
        )
    )
    conn.execute(sa.update(tasks).values({tasks.c.on: _day(tasks.c.updated)}))
    conn.execute(sa.update(decisions).values({decisions.c.decided_on: _day(decisions.c.decided)}))
    conn.execute(sa.update(events).values({events.c.on: _day(events.c.at)}))


def _v2_to_v3(conn: sa.Connection) -> None:
    """Add the period cache and the definition fingerprints, both empty: the next check
    measures every period once, as before, and keeps them."""
    periods.create(conn, checkfirst=True)
    definitions.create(conn, checkfirst=True)


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2, 2: _v2_to_v3}
"""``MIGRATIONS[n]`` upgrades a store from version n to n + 1."""
