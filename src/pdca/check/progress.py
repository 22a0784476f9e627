"""A progress line on stderr while a long check reads its data, for people at a terminal.

Only when stderr is a terminal: piped, redirected or captured output (CI logs,
``pdca check --format json > out.json``, reports) never gets it. It shows counts
only, no names from the playbook, so nothing a playbook says reaches the
terminal unescaped. It appears after a second, so a quick check prints nothing.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

DELAY_SECONDS = 1.0


class Progress:
    """``pdca check: 120/500 metrics`` on one line, rewritten in place, cleared at the end."""

    def __init__(self, total: int, stream: TextIO | None = None):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.shown = False
        try:
            self.enabled = bool(self.stream.isatty()) and total > 1
        except (AttributeError, ValueError):
            self.enabled = False

    def step(self, done: int, what: str = "metrics") -> None:
        if not self.enabled or time.monotonic() - self.started < DELAY_SECONDS:
            return
        self.stream.write(f"\r\x1b[Kpdca check: {done}/{self.total} {what}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
