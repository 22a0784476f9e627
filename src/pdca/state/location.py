"""Is a state location usable? Checked before anything connects to it.

A state location comes from ``--state`` or ``PDCA_STATE``: a PostgreSQL URL, a
SQLite URL, a SQLite file or a ``.pdca`` folder. A typo there would otherwise
surface as a driver's exception deep inside SQLAlchemy, and one location,
SQLite without a file, would quietly keep the state in memory and lose it when
the command ends. :func:`check_location` turns each of these into an error that
quotes what was typed (its password hidden) and says how to write it.

:func:`redact_url` is the one way a URL is shown, for state stores and SQL
sources alike: messages, ``pdca status`` and reports all print what it gives,
so a password written in any form a driver accepts (in the user information,
holding ``:`` or ``@``, or as a query parameter) is never printed.
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
HIDDEN = "***"

# Query parameters whose value is a secret, in the spellings drivers accept:
# password, pass, passwd, pwd, sslpassword, token, access_token, secret, api_key ...
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&;](?P<name>[^=&;#]*?(?:pass|pwd|secret|token|api[-_]?key|credential|auth)"
    r"[^=&;#]*)=)(?P<value>[^&;#]*)",
    re.IGNORECASE,
)


def _parts(text: str) -> tuple[str, str, str, str] | None:
    """(scheme://, user, password, the rest) of a URL with a password; None otherwise.

    The user information ends at the *last* ``@``: a password holding an
    unencoded ``@`` or ``:`` (``u:p@ss:w@rd@host``) is hidden whole, where a
    URL parser would read part of it as the host and print it.
    """
    head, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return None
    userinfo, _, after = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if not colon:
        return None
    return head + sep, user, password, after


def url_secrets(text: str) -> list[str]:
    """Every secret a URL holds (its password, secret query values), longest first.

    Each is given as written and percent-decoded, so that a driver's message
    quoting either form can be cleaned by :func:`redact`.
    """
    from urllib.parse import unquote

    found: set[str] = set()
    parts = _parts(text)
    if parts is not None and parts[2]:
        found.add(parts[2])
    found.update(m.group("value") for m in _SECRET_PARAM.finditer(text) if m.group("value"))
    found |= {unquote(s) for s in found}
    return sorted((s for s in found if s and s != HIDDEN), key=len, reverse=True)


def redact_url(text: str) -> str:
    """The URL as it may be printed: its password and secret query values as ``***``.

    The one function every message, status and report uses to show a state or
    source URL; text that is not a URL comes back unchanged.
    """
    parts = _parts(text)
    if parts is not None:
        scheme, user, _, after = parts
        text = f"{scheme}{user}:{HIDDEN}@{after}"
    return _SECRET_PARAM.sub(lambda m: m.group("key") + HIDDEN, text)


def redact(message: str, url: str) -> str:
    """``message`` with ``url`` shown redacted and every secret of ``url`` replaced by ``***``.

    Drivers and URL parsers quote what they were given (a host read out of a
    misplaced password, a connection string), so their words go through this
    before anyone sees them. A secret shorter than :data:`MIN_SECRET` characters
    is hidden in the URL only: replacing every ``a`` of a message would leave
    nothing to read, and such a password guards nothing anyway.
    """
    message = message.replace(url, redact_url(url))
    for secret in url_secrets(url):
        if len(secret) >= MIN_SECRET:
            message = message.replace(secret, HIDDEN)
    return message


MIN_SECRET = 4
"""Shortest secret :func:`redact` looks for in free text."""


def unencoded_at(text: str) -> bool:
    """Whether a URL's user or password holds an ``@`` that is not percent-encoded.

    Parsers then read part of the password as the host, connect there and
    print it; pdca refuses such a URL and asks for ``%40``. An ``@`` in the
    query (``?application_name=a@b``) is not in the user information.
    """
    rest = text.partition("://")[2]
    first, last = rest.find("@"), rest.rfind("@")
    return 0 <= first < last and "?" not in rest[first:last]


AT_ADVICE = (
    "its user or password holds an '@' that is not percent-encoded, so the rest would be "
    "read as the host; write '@' as %40 (and ':' in the user as %3A, '/' as %2F)"
)


def check_location(location: str | os.PathLike[str]) -> None:
    """StateError when ``location`` cannot be a state store; nothing is opened or created."""
    text = os.fspath(location)
    if "\x00" in text:
        raise StateError(
            f"state location {redact_url(text)!r} contains a NUL character; "
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

    shown = redact_url(text)
    if unencoded_at(text):
        raise StateError(f"state URL '{shown}': {AT_ADVICE}")
    for bare in ("postgresql://", "postgres://"):
        if text.startswith(bare):
            text = "postgresql+psycopg://" + text[len(bare) :]
    try:
        url = sa.engine.make_url(text)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise StateError(
            f"state URL '{shown}' is not a valid URL ({redact(str(exc), text)}); "
            f"write it as {URL_FORMS}"
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

    text = url.render_as_string(hide_password=False)
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
            f"not installed ({redact(str(exc), text)}); {how}"
        ) from None
