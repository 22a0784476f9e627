"""Where pdca keeps a playbook's own files: the ``.pdca`` folder beside it."""

from __future__ import annotations

from pathlib import Path

STATE_FOLDER = ".pdca"


def state_dir(playbook_path: Path) -> Path:
    """The ``.pdca`` folder beside the playbook: the SQLite state and the Parquet cache."""
    return Path(playbook_path).resolve().parent / STATE_FOLDER
