"""Where pdca keeps a playbook's own files: the ``.pdca`` folder beside it.

One place for these names, so the commands, the report, the demo and the store
agree on where a playbook's state and cache are.
"""

from __future__ import annotations

from pathlib import Path

STATE_FOLDER = ".pdca"
STATE_FILE = "state.db"
CACHE_FOLDER = "cache"


def state_dir(playbook_path: Path) -> Path:
    """The ``.pdca`` folder beside the playbook: the SQLite state and the Parquet cache."""
    return Path(playbook_path).resolve().parent / STATE_FOLDER


def state_file(playbook_path: Path) -> Path:
    """The default SQLite state of a playbook, used when no ``--state`` is given."""
    return state_dir(playbook_path) / STATE_FILE


def cache_dir(playbook_path: Path) -> Path:
    """The Parquet cache of a playbook's file sources."""
    return state_dir(playbook_path) / CACHE_FOLDER
