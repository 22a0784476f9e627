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


PLAYBOOK_NAMES = ("playbook.yaml", "*.pdca.yaml")
"""The file names ``pdca status FOLDER`` takes as playbooks below a folder."""


def find_playbooks(folder: Path) -> list[Path]:
    """Every ``playbook.yaml`` and ``*.pdca.yaml`` below ``folder``, sorted; hidden
    folders (``.pdca``, ``.git``) are not searched."""
    found: set[Path] = set()
    for pattern in PLAYBOOK_NAMES:
        for path in folder.rglob(pattern):
            parts = path.relative_to(folder).parts[:-1]
            if path.is_file() and not any(p.startswith(".") for p in parts):
                found.add(path)
    return sorted(found)
