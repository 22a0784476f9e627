"""Is a state location usable? Checked before anything connects to it.

A state location comes from ``--state`` or ``PDCA_STATE``: a PostgreSQL URL, a
SQLite URL, a SQLite file or a ``.pdca`` folder. A typo there would otherwise
surface as a driver's exception deep inside SQLAlchemy, and one location,
SQLite without a file, would quietly keep the state in memory and lose it when
the command ends. :func:`check_location` turns each of these into an error that
quotes what was typed (its password hidden) and says how to write it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pdca.errors import StateError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

POSTGRES_EXTRA = "pip install 'pdca[postgres]'"
URL_FORMS = "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:///PATH/TO/state.db"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def shown_location(text: str) -> str:
    """The location as it can be printed: a URL's password replaced by ``***``."""
    return _PASSWORD.sub(r"\1***@", text)


def check_location(location: str | os.PathLike[str]) -> None:
    """StateError when ``location`` cannot be a state store; nothing is opened or created."""
    text = os.fspath(location)
    if "\x00" in text:
        raise StateError(
            f"state location {shown_location(text)!r} contains a NUL character; "
            "give a file path or a URL"
        )
    if "://" in text:
        _check_url(text)
    else:
        _check_path(text)


def _check_path(text: str) -> None:
    try:
        Path(text).expanduser().is_dir()
    except (OSError, RuntimeError) as exc:  # a name too long; ~user that does not exist
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StateError(f"state location '{text[:200]}' cannot be used: {reason}") from None


def _check_url(text: str) -> None:
    import sqlalchemy as sa

    shown = shown_location(text)
    for bare in ("postgresql://", "postgres://"):
        if text.startswith(bare):
            text = "postgresql+psycopg://" + text[len(bare) :]
    try:
        url = sa.engine.make_url(text)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise StateError(
            f"state URL '{shown}' is not a valid URL ({exc}); write it as {URL_FORMS}"
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        _check_sqlite_url(shown, url)
    elif backend == "postgresql":
        _check_postgres_url(shown, url)
    else:
        raise StateError(
            f"state URL '{shown}': pdca keeps its state in PostgreSQL or SQLite, not "
            f"'{backend}'; write it as {URL_FORMS}"
        )


def _check_sqlite_url(shown: str, url: URL) -> None:
    database = url.database or ""
    in_memory = (
        not database
        or database == ":memory:"
        or database.startswith("file::memory:")
        or url.query.get("mode") == "memory"
    )
    if in_memory:
        raise StateError(
            f"state URL '{shown}' names no file, so the state would be kept in memory and "
            "lost when the command ends; write sqlite:///state.db (a path relative to the "
            "current folder) or sqlite:////absolute/path/state.db, or give the file's path"
        )


def _check_postgres_url(shown: str, url: URL) -> None:
    import sqlalchemy as sa

    if url.port is not None and not 0 < url.port < 65536:
        raise StateError(f"state URL '{shown}': port {url.port} is out of range (1 to 65535)")
    drivername = url.drivername
    try:
        dialect = url.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise StateError(
            f"state URL '{shown}': SQLAlchemy has no PostgreSQL driver '{drivername}'; "
            "write postgresql+psycopg://... (psycopg 3, installed by "
            f"{POSTGRES_EXTRA})"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        how = (
            f"install it with: {POSTGRES_EXTRA}"
            if drivername == "postgresql+psycopg"
            else f"install it, or {POSTGRES_EXTRA} and write postgresql+psycopg://..."
        )
        raise StateError(
            f"state URL '{shown}' needs the PostgreSQL driver for '{drivername}', which is "
            f"not installed ({exc}); {how}"
        ) from None
