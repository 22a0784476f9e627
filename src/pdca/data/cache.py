"""A folder of Parquet copies of text files, so a second check skips parsing CSV and JSON.

Parsing a 10-million-row CSV takes seconds; scanning the same rows as Parquet,
with only the needed columns and row groups, takes milliseconds. An entry is
keyed by the file's absolute path, size and modification time plus everything
that changes how it is read, so editing the file or the playbook's read
options makes a new entry and the old one is removed. Entries are written to a
temporary name and renamed, so a crash or a second process never leaves a
half-written file under a real entry's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: bump when the way entries are written changes, to ignore older entries
FORMAT_VERSION = 1


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:40] or "file"


class ParquetCache:
    """Parquet copies of files in one folder, one current entry per source file."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def entry(self, file: Path, params: Mapping[str, Any]) -> Path:
        """Where the copy of ``file`` as it is now, read with ``params``, lives."""
        path = file.resolve()
        stat = path.stat()
        path_key = _digest(str(path))[:16]
        state_key = _digest(
            {
                "path": str(path),
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "params": params,
                "version": FORMAT_VERSION,
            }
        )[:20]
        return self.folder / f"{_slug(path.stem)}-{path_key}-{state_key}.parquet"

    def lookup(self, file: Path, params: Mapping[str, Any]) -> Path | None:
        entry = self.entry(file, params)
        return entry if entry.is_file() else None

    def store(
        self, file: Path, params: Mapping[str, Any], write: Callable[[Path], None]
    ) -> Path | None:
        """Make the entry with ``write(temp_path)``; None when the folder cannot be written.

        A cache that cannot be written must not fail a check: the caller then
        reads the file itself. Errors from ``write`` (bad data) do propagate.
        """
        entry = self.entry(file, params)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning(
                "cache folder %s cannot be created (%s); reading %s directly",
                self.folder,
                exc,
                file,
            )
            return None
        temp = self.folder / f".{entry.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            write(temp)
            os.replace(temp, entry)
        except OSError as exc:
            log.warning("cache entry for %s cannot be written (%s); reading it directly", file, exc)
            return None
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()
        self._remove_stale(entry)
        return entry

    def _remove_stale(self, entry: Path) -> None:
        """Delete older entries of the same file: the file changed, or its read options did."""
        path_key = entry.stem.split("-")[-2]
        for other in self.folder.glob(f"*-{path_key}-*.parquet"):
            if other != entry:
                with contextlib.suppress(OSError):
                    other.unlink()
