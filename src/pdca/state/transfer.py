"""Back up, export and import one playbook's state: ``pdca state backup|export|import``.

An **export** is one JSON document holding every row the store keeps for one
playbook, read in one consistent transaction::

    {"format": "pdca-state", "format_version": 1, "schema_version": 1,
     "playbook": "desk", "exported": "2026-01-05T09:00:00.000Z",
     "tables": {"playbooks": [...], "cycles": [...], "tasks": [...], ...}}

* Tables come in :data:`TABLES` order, rows sorted by their key (Python's
  string order, so SQLite and PostgreSQL export the same state identically),
  columns in the table's order. The ``playbook`` key column is left out of the
  rows: the document is about one playbook, named at the top.
* The audit log's and the snapshots' row ids are left out too: rows come in id
  order and an import appends them in that order, so the target store numbers
  them (its ids may differ, the order never does).
* ``report`` (snapshots) and ``data`` (events), which the store keeps as JSON
  text, are embedded as JSON values and written back the way the store writes
  them.

An **import** checks the whole document first (format, versions, the playbook
id, every column's type, length and allowed values, keys unique, rows pointing
at cycles and tasks that exist) and then writes it in ONE transaction: a failure
halfway leaves the target store as it was. Export, import into an empty store,
export again gives the same document apart from ``exported``.

A **backup** of a SQLite store is a copy of the whole database file made with
SQLite's online backup API: one read transaction, so it is consistent while
other commands keep writing (WAL readers never block writers), checked with
``PRAGMA integrity_check`` and switched to a rollback journal so it is a single
self-contained file. A PostgreSQL store has no file to copy; its backup is the
export document (pg_dump would need a client of the server's version and
rights on the whole database; the export needs neither and is read in one
REPEATABLE READ transaction, so it is just as consistent).

The import also takes such a SQLite backup (or any pdca state file) as its
source: the playbook's rows are read from it, read-only.

Each part has its own module, and this one offers all of their names as it
always has: :mod:`~pdca.state.document` (the layout, reading and writing the
text, row counts), :mod:`~pdca.state.document_check` (validation),
:mod:`~pdca.state.exporting`, :mod:`~pdca.state.importing`,
:mod:`~pdca.state.backup` and :mod:`~pdca.state.files` (atomic writes). To
replace a function in a test, patch it in its home module, where it is looked up.
"""

from __future__ import annotations

from pdca.errors import StateError as StateError
from pdca.state import backup, document, document_check, exporting, files, importing
from pdca.state import schema as s  # noqa: F401
from pdca.state.backup import backup_name, backup_sqlite
from pdca.state.document import FORMAT, FORMAT_VERSION, TABLES, dumps, load_document, row_counts
from pdca.state.document import JSON_COLUMNS as JSON_COLUMNS
from pdca.state.document import SERIAL as SERIAL
from pdca.state.document import columns as columns
from pdca.state.document_check import ALLOWED as ALLOWED
from pdca.state.document_check import TIMES as TIMES
from pdca.state.document_check import validate
from pdca.state.exporting import export_file, export_state
from pdca.state.exporting import read_rows as read_rows
from pdca.state.files import write_atomically
from pdca.state.importing import Imported, import_state, read_source
from pdca.state.model import CYCLE_PHASES as CYCLE_PHASES
from pdca.state.model import DECISIONS as DECISIONS
from pdca.state.model import TASK_STATUSES as TASK_STATUSES
from pdca.state.sqlite import SQLITE_MAGIC as SQLITE_MAGIC
from pdca.state.store import Store as Store
from pdca.state.times import now_utc as now_utc
from pdca.state.times import parse_utc as parse_utc

# The helpers as they were called when they lived in this module.
_sort_key = document.sort_key
_check_value = document_check.check_value
_is_int = document_check.is_int
_check_references = document_check.check_references
_version_message = document_check.version_message
_schema_version = exporting._schema_version
_quote_uri = exporting._quote_uri
_row_name = exporting._row_name
_document = exporting._document
_existing = importing._existing
_db_row = importing._db_row
_insert = importing._insert
_replace_with = files.replace_with
_umask = files._umask
_fsync_dir = files._fsync_dir
_sqlite_errors = backup._sqlite_errors
_raw_sqlite = backup._raw_sqlite

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TABLES",
    "Imported",
    "backup_name",
    "backup_sqlite",
    "dumps",
    "export_file",
    "export_state",
    "import_state",
    "load_document",
    "read_source",
    "row_counts",
    "validate",
    "write_atomically",
]
