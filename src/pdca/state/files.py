"""Writing export and backup files whole or not at all.

A backup that is half written when the disk fills, or a power cut leaves as a
truncated file under the final name, is worse than none: it looks like a
backup. So every file is written beside its target, fsynced, and renamed into
place, and the folder is fsynced so the rename itself survives.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from pdca.errors import StateError

_NOT_HERE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
"""Errors that mean "not in this folder": a read-only file system, no permission."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, fsync, rename.

    A device or a pipe (``-o /dev/stdout``, a FIFO) is written in place: renaming
    over it would replace the device with a file.
    """
    if is_special(path):
        try:
            with path.open("wb") as f:
                f.write(data)
        except OSError as exc:
            raise StateError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    replace_with(path, lambda tmp: tmp.write_bytes(data))


def is_special(path: Path) -> bool:
    """Is ``path`` something other than a regular file or a folder (a device, a pipe)?"""
    try:
        return path.exists() and not path.is_file() and not path.is_dir()
    except OSError:
        return False


def replace_with(path: Path, fill: Callable[[Path], None]) -> None:
    """Let ``fill`` write a temporary file beside ``path``, then move it into place."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        where = "; write it to a writable place (-o FILE)" if exc.errno in _NOT_HERE else ""
        raise StateError(f"cannot write {path}: {exc.strerror or exc}{where}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
        fill(tmp)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(folder)
    except OSError as exc:
        raise StateError(
            f"cannot write {path}: {exc.strerror or exc}; nothing was written"
            + (" (the file there is unchanged)" if path.exists() else "")
        ) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
