"""Where cycles, tasks, decisions and the audit log are kept between commands.

``open_store(location)`` gives a :class:`Store` for a ``.pdca`` folder, a SQLite
file or a ``postgresql+psycopg://`` URL. SQLAlchemy is imported here, so
import this package inside the commands that need it.
"""

from __future__ import annotations

from pdca.state.model import (
    Attempt,
    Changes,
    CycleState,
    Decision,
    Event,
    Lesson,
    Snapshot,
    State,
    TaskState,
)
from pdca.state.schema import SCHEMA_VERSION
from pdca.state.store import STATE_FILE, PlaybookRef, Store, now_utc, open_store

__all__ = [
    "SCHEMA_VERSION",
    "STATE_FILE",
    "Attempt",
    "Changes",
    "CycleState",
    "Decision",
    "Event",
    "Lesson",
    "PlaybookRef",
    "Snapshot",
    "State",
    "Store",
    "TaskState",
    "now_utc",
    "open_store",
]
