"""Errors users see, and the exit codes scripts rely on.

Every failure that bad input can cause is a :class:`PdcaError`; the CLI prints
``str(error)`` and exits with ``error.exit_code``. Anything else escaping to the
CLI is a bug in pdca, not in the user's playbook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes: a contract with CI jobs and cron scripts."""

    OK = 0
    ERROR = 1
    USAGE = 2
    THRESHOLD = 3


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file, 1-based like compilers and editors print it."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a playbook: an error, or a warning that does not fail validation."""

    message: str
    location: Location | None = None
    severity: str = "error"
    data: Mapping[str, Any] | None = field(default=None, compare=False)
    """Figures behind the message for machine readers (``validate --format json``)."""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity}: {self.message}"

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.col, self.message) if loc else ("", 0, 0, self.message)


class PdcaError(Exception):
    """Base of every error caused by input rather than by a bug."""

    exit_code: int = ExitCode.ERROR


class PlaybookError(PdcaError):
    """A playbook that cannot be used; carries every problem found, each with its place."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=lambda p: p.sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, message: str, location: Location | None = None) -> PlaybookError:
        return cls([Problem(message, location)])


class SourceError(PdcaError):
    """A data source that cannot be read: missing file, unknown column, bad timestamp."""


class KpiError(PdcaError):
    """A KPI calculator that cannot compute a metric from the data it was given."""


class PluginError(PdcaError):
    """A plugin that fails to load or register; the message names the plugin."""


class StateError(PdcaError):
    """The state store cannot be opened, read or written."""
