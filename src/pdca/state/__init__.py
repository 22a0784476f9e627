"""Where cycles, tasks, decisions and the audit log are kept between commands.

``open_store(location)`` gives a :class:`Store` for a ``.pdca`` folder, a SQLite
file or a ``postgresql+psycopg://`` URL. The model (:class:`State` and its
parts) imports nothing heavy; SQLAlchemy loads when ``open_store``, ``Store``
or ``SCHEMA_VERSION`` is first used, so a command that only reads the model
(``pdca check`` of a playbook without state) never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pdca.playbook.paths import STATE_FILE
from pdca.state.model import (
    Attempt,
    Changes,
    CycleState,
    Decision,
    Event,
    Lesson,
    PlaybookRef,
    Snapshot,
    State,
    TaskState,
)
from pdca.state.times import now_utc

if TYPE_CHECKING:
    from pdca.state.schema import SCHEMA_VERSION
    from pdca.state.store import Store, open_store

_LAZY = {"SCHEMA_VERSION": "pdca.state.schema", "Store": "pdca.state.store"}
_LAZY["open_store"] = "pdca.state.store"


def __getattr__(name: str) -> Any:
    """The names that need SQLAlchemy, imported on first use."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pdca.state' has no attribute {name!r}")


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
