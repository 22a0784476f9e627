"""A folder of Parquet copies of text files, so a second check skips parsing CSV and JSON.

Parsing a 10-million-row CSV takes seconds; scanning the same rows as Parquet,
with only the needed columns and row groups, takes milliseconds. A copy that
answers for a file it no longer matches would report old numbers as today's,
so an entry is keyed by the file's path, size, modification and change times,
inode and a content fingerprint (see :func:`fingerprint`), plus everything that
changes how it is read. Each entry has a manifest written beside it (rows,
size, SHA-256, the entry's own file state); an entry that does not match its
manifest is removed and rebuilt. Entries are written to a temporary name and
renamed, and temporary files older than an hour (a killed check's) are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: bump when the way entries are written changes, to ignore older entries
FORMAT_VERSION = 2
#: files up to this size are hashed whole; larger ones are sampled
FULL_HASH_LIMIT = 8 * 1024 * 1024
BLOCK = 64 * 1024
#: evenly spaced blocks sampled between the first and the last of a large file
SAMPLES = 32
#: a temporary file untouched for this long belongs to no live writer (a writer
#: appends as it goes, so its file's modification time stays fresh)
STALE_TEMP_SECONDS = 3600
#: an entry changed within this long of its manifest could be changed again with
#: the same timestamps (filesystem clocks tick coarsely): its content is re-hashed
RACY_NS = 2_000_000_000


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:40] or "file"


def fingerprint(path: Path) -> str:
    """A blake2b of the file's content: all of it up to 8 MiB, else sampled blocks and the size.

    Sampling is what keeps this cheap on every check (about 2 MiB read of a
    1 GB export). Tools that rewrite an export change its whole content and
    appended rows change its tail and size, which the samples see; an edit of a
    few bytes between samples, with size and modification time kept, is caught
    by the change time and inode the key also holds, not by this.
    """
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        h.update(str(size).encode())
        if size <= FULL_HASH_LIMIT:
            while chunk := f.read(1 << 20):
                h.update(chunk)
            return h.hexdigest()
        last = size - BLOCK
        for i in range(SAMPLES + 2):
            f.seek(last * i // (SAMPLES + 1))
            h.update(f.read(BLOCK))
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _state(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _write_json(target: Path, value: Mapping[str, Any]) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        temp.write_text(json.dumps(value))
        os.replace(temp, target)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


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
                # rewriting a file, or setting its mtime back, moves its change time
                "ctime_ns": stat.st_ctime_ns,
                "inode": stat.st_ino,
                "content": fingerprint(path),
                "params": params,
                "version": FORMAT_VERSION,
            }
        )[:20]
        return self.folder / f"{_slug(path.stem)}-{path_key}-{state_key}.parquet"

    def lookup(
        self, file: Path, params: Mapping[str, Any], count_rows: Callable[[Path], int | None]
    ) -> Path | None:
        """The verified entry for ``file``; None (a damaged entry removed) when there is none.

        ``count_rows`` reads an entry's Parquet footer (None when it cannot).
        """
        self.remove_stale_temps()
        entry = self.entry(file, params)
        if not entry.is_file():
            return None
        problem = self._problem(entry, count_rows)
        if problem is None:
            return entry
        log.info("cache entry %s %s; rebuilding it from %s", entry.name, problem, file)
        for path in (entry, _manifest(entry)):
            with contextlib.suppress(OSError):
                path.unlink()
        return None

    def _problem(self, entry: Path, count_rows: Callable[[Path], int | None]) -> str | None:
        """Why ``entry`` cannot be trusted, or None."""
        try:
            manifest = json.loads(_manifest(entry).read_text())
            state = _state(entry)
        except (OSError, ValueError):
            return "has no readable manifest"
        if state[1] != manifest.get("size"):
            return "does not have the size it was written with"
        if state != manifest.get("state") or manifest.get("racy", True):
            try:
                if _file_digest(entry) != manifest.get("sha256"):
                    return "changed since it was written"
            except OSError as exc:
                return f"cannot be read ({exc})"
            with contextlib.suppress(OSError):  # remember the check; a read-only cache re-checks
                _write_json(_manifest(entry), {**manifest, **_seen(entry)})
        if count_rows(entry) != manifest.get("rows"):
            return "does not hold the rows it was written with"
        return None

    def store(
        self, file: Path, params: Mapping[str, Any], write: Callable[[Path], int]
    ) -> Path | None:
        """Make the entry with ``write(temp_path)`` (its row count); None when it cannot be written.

        A cache that cannot be written (full disk, read-only folder) must not
        fail a check: the caller then reads the file itself. Errors from
        ``write`` other than OSError (bad data) do propagate.
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
            rows = write(temp)
            sha = _file_digest(temp)
            os.replace(temp, entry)
            _write_json(
                _manifest(entry),
                {"version": FORMAT_VERSION, "rows": rows, "sha256": sha, **_seen(entry)},
            )
        except OSError as exc:
            log.warning("cache entry for %s cannot be written (%s); reading it directly", file, exc)
            for path in (entry, _manifest(entry)):
                with contextlib.suppress(OSError):
                    path.unlink()
            return None
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()
        self._remove_stale(entry)
        return entry

    def remove_stale_temps(self) -> None:
        """Delete temporary files of writers long gone (a killed check); never a live one's."""
        limit = time.time() - STALE_TEMP_SECONDS
        with contextlib.suppress(OSError):
            for temp in self.folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    if temp.stat().st_mtime < limit:
                        temp.unlink()

    def _remove_stale(self, entry: Path) -> None:
        """Delete older entries of the same file: the file changed, or its read options did."""
        path_key = entry.stem.split("-")[-2]
        for other in self.folder.glob(f"*-{path_key}-*"):
            if other not in (entry, _manifest(entry)) and other.suffix in (".parquet", ".json"):
                with contextlib.suppress(OSError):
                    other.unlink()


def _manifest(entry: Path) -> Path:
    return entry.with_suffix(".json")


def _seen(entry: Path) -> dict[str, Any]:
    """The entry's file state now, and whether a change could still leave it unchanged."""
    state = _state(entry)
    return {"size": state[1], "state": state, "racy": time.time_ns() - state[3] < RACY_NS}
