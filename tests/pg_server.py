"""A throwaway PostgreSQL cluster for tests: ``pg_url`` is a SQLAlchemy URL to a fresh database.

The ``sql`` source is only trustworthy if it is tested against a real server:
pushdown, parameter types and error messages all differ from SQLite. The
cluster lives in a temporary folder, listens on a free localhost port, trusts
local connections, and is stopped at the end of the session. PostgreSQL will
not run as root, so as root the server runs as the ``postgres`` (or
``nobody``) user.

Without a server the tests are skipped, except in CI (``CI`` set), where a
skipped database test would hide a broken ``sql`` source: there they fail.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

DATABASE = "pdca_test"
SUPERUSER = "pdca"
RUN_AS = ("postgres", "nobody")


def _version(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: from PATH first, then Debian's versioned folders."""
    candidates: list[Path] = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        candidates.append(Path(folder))
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI, where the server must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests must run in CI, but {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason} (run .ci/postgres-install.sh)")


class Cluster:
    """One initdb'd data folder and the server running on it."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="pdca-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = next((u for u in RUN_AS if _user_exists(u)), None)
            if self.user is None:
                raise RuntimeError("running as root and no 'postgres' or 'nobody' user exists")
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(
            cmd, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )

    def _options(self) -> str:
        opts = [
            f"-p {self.port}",
            f"-k {self.root}",
            "-c listen_addresses=127.0.0.1",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
        ]
        if self._has_library("pg_stat_statements"):
            opts.append("-c shared_preload_libraries=pg_stat_statements")
        return " ".join(opts)

    def _has_library(self, name: str) -> bool:
        libdirs = [self.bindir.parent / "lib"]
        config = self.bindir / "pg_config"
        if config.is_file():
            out = subprocess.run(
                [str(config), "--pkglibdir"], capture_output=True, text=True, timeout=30
            )
            if out.returncode == 0:
                libdirs.append(Path(out.stdout.strip()))
        return any((d / f"{name}.so").is_file() for d in libdirs)

    def start(self) -> None:
        init = self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "-E", "UTF8", "--no-locale", "-N",
        )  # fmt: skip
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        started = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", self._options(), "start",
        )  # fmt: skip
        if started.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()}\n{log}")

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as con:
            con.execute(f"CREATE DATABASE {DATABASE}")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A SQLAlchemy URL (``postgresql+psycopg://``) to an empty database on a private server."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the psycopg driver is not installed (pip install 'pdca[postgres]')")
    bindir = find_bindir()
    if bindir is None:
        unavailable("initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin")
    try:
        cluster = Cluster(bindir)
    except (OSError, RuntimeError) as exc:
        unavailable(str(exc))
    try:
        cluster.start()
        cluster.create_database()
    except Exception as exc:
        cluster.stop()
        unavailable(f"the server did not start: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


def fresh_database(pg_url: str, prefix: str = "pdca") -> Iterator[str]:
    """A new, empty database on the test server for one test, dropped afterwards.

    Yields its SQLAlchemy URL; state stores opened on it start from nothing, so
    tests on PostgreSQL are as independent as tests on a fresh SQLite file.
    """
    import uuid

    import psycopg
    import sqlalchemy as sa

    url = sa.engine.make_url(pg_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    args = {"host": url.host, "port": url.port, "user": url.username, "dbname": "postgres"}
    with psycopg.connect(**args, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**args, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
