"""A progress line on stderr while a long check reads its data, for people at a terminal.

Only when stderr is a terminal: piped, redirected or captured output (CI logs,
``pdca check --format json > out.json``, reports) never gets it. It shows counts
and seconds only, no names from the playbook, so nothing a playbook says reaches
the terminal unescaped. It appears after a second, so a quick check prints nothing.

Two phases: while sources are read and scanned (the long part of a first check
of a large file: converting a CSV, one scan per source) a ticker thread shows
DuckDB's own progress of the running query and the seconds spent, and then a
count of metrics as each is judged.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

DELAY_SECONDS = 1.0
TICK_SECONDS = 0.25
"""How often the reading line is rewritten: often enough to move, rarely enough to cost nothing."""


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """``pdca check: 120/500 metrics`` on one line, rewritten in place, cleared at the end."""

    def __init__(self, total: int, stream: TextIO | None = None):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.shown = False
        self.enabled = _is_terminal(self.stream) and total > 1

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


def reading_line(percent: float, seconds: float) -> str:
    """``pdca check: reading data 42% (12 s)``; the percentage only when DuckDB knows it."""
    share = f" {min(max(percent, 0.0), 100.0):.0f}%" if percent >= 0 else ""
    return f"pdca check: reading data{share} ({seconds:.0f} s)"


@contextmanager
def reading(con: Any, stream: TextIO | None = None) -> Iterator[None]:
    """Show ``reading data`` with the running query's progress while the block runs.

    ``con`` is the check's DuckDB connection; its progress bar is switched on
    (without printing: pdca prints the line) only for a terminal, and back off
    after, so nothing changes for pipes. A SQL source read through another
    driver has no percentage: the line then shows the seconds alone.
    """
    out = stream if stream is not None else sys.stderr
    if not _is_terminal(out):
        yield
        return
    con.execute(
        "SET enable_progress_bar = true; SET enable_progress_bar_print = false; "
        "SET progress_bar_time = 0"
    ).fetchall()
    started = time.monotonic()
    stop = threading.Event()
    shown = threading.Event()

    def tick() -> None:
        if stop.wait(DELAY_SECONDS):
            return
        while not stop.is_set():
            try:
                percent = float(con.query_progress())
            except Exception:  # a closed or busy connection just has no figure
                percent = -1.0
            out.write("\r\x1b[K" + reading_line(percent, time.monotonic() - started))
            out.flush()
            shown.set()
            stop.wait(TICK_SECONDS)

    ticker = threading.Thread(target=tick, name="pdca-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        if shown.is_set():
            out.write("\r\x1b[K")
            out.flush()
        con.execute("SET enable_progress_bar = false").fetchall()
