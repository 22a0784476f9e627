"""Fixture: what SQLite sources send a check, to show that only aggregates come back."""

from __future__ import annotations

from typing import Any

import pytest

from pdca.data import databases


@pytest.fixture
def sqlite_returned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row count of each statement a SQLite source runs; reading rows fails the test."""
    returned: list[int] = []
    real = databases.SqliteBackend.execute_core

    def counted(self: Any, statement: Any) -> Any:
        rows = real(self, statement)
        returned.append(len(rows))
        return rows

    def no_rows(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rows were read")

    monkeypatch.setattr(databases.SqliteBackend, "execute_core", counted)
    monkeypatch.setattr(databases, "database_relation", no_rows)
    return returned
