"""Keeping watch over the actions ``pdca run`` starts: signals, orphans, waits.

* **Stopped by a signal.** While ``pdca run`` runs, SIGTERM and SIGINT raise
  :class:`RunStopped` at the next safe moment: at once while an action runs
  (the shell action then ends its process group), after the commit when a
  transaction is being written, so the runner can record the attempt as
  ``cancelled`` in a transaction of its own before pdca exits. (Raising on
  the way out of a transaction instead could leave an attempt just recorded as
  started without its action, to be found interrupted only by the next run.) A second signal
  while that clean-up runs is ignored; ``kill -9`` is the way to stop it for sure.
* **Killed outright.** Nothing runs after ``kill -9``, so each action's process
  group is written to the audit log (``attempt_process``) as soon as it starts;
  the next run on the same host finds the group of an attempt whose runner is
  dead, ends it if it is still the same group, records that
  (``attempt_orphan_ended``), and only then declares the attempt interrupted and
  runs the task again, so two copies never run side by side.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class RunStopped(BaseException):
    """``pdca run`` got SIGTERM or SIGINT. A BaseException, like KeyboardInterrupt,
    so an action's ``except Exception`` cannot swallow it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.cancelled: str | None = None
        """The attempt the runner recorded as cancelled ("attempt 2 of task 'x'"), if any."""

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    def explain(self, playbook: object) -> str:
        """What happened and what to do, for the error line ``pdca run`` ends with."""
        what = (
            f"it ended the running action and recorded {self.cancelled} as cancelled"
            if self.cancelled
            else "what it had done is saved"
        )
        return (
            f"pdca run was stopped by {self.name}; {what}; "
            f"run it again to continue: pdca run {playbook}"
        )

    @property
    def exit_code(self) -> int:
        """128 plus the signal's number, as a shell reports a process a signal ended."""
        return 128 + self.signum


class SignalGuard:
    """SIGTERM and SIGINT handlers for the length of a run; see the module doc.

    Outside the main thread (where Python cannot install handlers) it does nothing.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.raised = False
        self._shield = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            return  # already stopping: let the clean-up finish
        self.signum = signum
        if not self._shield:
            self.check()

    def check(self) -> None:
        """Raise :class:`RunStopped` if a signal came and has not been raised yet."""
        if self.signum is not None and not self.raised:
            self.raised = True
            raise RunStopped(self.signum)

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """No RunStopped inside (a transaction is written). A signal that came
        meanwhile is raised by the next :meth:`check`, which the runner calls
        where stopping is safe: before each step, before an action, in an action
        once its process group is recorded, before measuring."""
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1

    def sleep(self, seconds: float) -> None:
        """Sleep, cut short by a stopping signal (which then raises)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))
            self.check()


def process_of(events: list[Any], number: int) -> Mapping[str, Any] | None:
    """The process group recorded for attempt ``number`` among a task's events."""
    found = None
    for e in events:
        if e.kind == "attempt_process" and (e.data or {}).get("attempt") == number:
            found = e.data
    return found
