"""A command's process group: run it, keep the tail of its output, end it, find it again.

A ``shell`` action runs its command in a session (process group) of its own, so
pdca can end everything the command started, not only ``/bin/sh``:

* on timeout, and when ``pdca run`` itself is stopped, the whole group gets
  SIGTERM, then SIGKILL after a grace;
* when the shell exits, pdca stops waiting even if a child it put in the
  background still holds the output pipe: it reads what is left for a short
  bounded time and ends the rest of the group (a command that wants to leave a
  server running starts it in a session of its own, ``setsid``);
* output is read as it comes into a bounded tail, so a command writing
  gigabytes costs a few kilobytes of memory.

The group's identity (its id, the leader's start time and the boot it belongs
to) is what a later ``pdca run`` needs to end a group that a killed run left
behind, without ever signalling an unrelated process that reused the id.
Linux only reads ``/proc``; elsewhere the helpers that need it find nothing.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 65536
"""Bytes read from the pipe at a time."""
DRAIN_SECONDS = 0.5
"""How long output is still read after the shell exited while a child holds the pipe."""
LEAVE_SECONDS = 0.25
"""How long processes leaving the group (``setsid``) get once the shell has exited."""
TERM_GRACE = 2.0
"""Seconds between SIGTERM and SIGKILL when a group is ended."""
KILL_WAIT = 5.0
"""Seconds to wait for a SIGKILLed group to be gone (processes stuck in the kernel)."""
POLL = 0.05
"""Seconds between looks where no event can be waited for (no pidfd, group members)."""


class Tail:
    """The last ``limit`` bytes of a stream, kept in chunks: memory stays bounded."""

    def __init__(self, limit: int):
        self.limit = limit
        self.total = 0
        self._chunks: deque[bytes] = deque()
        self._kept = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self._chunks.append(chunk)
        self._kept += len(chunk)
        while self._kept - len(self._chunks[0]) >= self.limit:
            self._kept -= len(self._chunks.popleft())

    def text(self) -> str:
        """The tail decoded (invalid UTF-8 as U+FFFD), "…" first when bytes were dropped."""
        data = b"".join(self._chunks)
        if len(data) <= self.limit and self.total == len(data):
            return data.decode("utf-8", "replace")
        data = data[-self.limit :]
        start = 0
        while start < min(len(data), 4) and 0x80 <= data[start] <= 0xBF:
            start += 1  # a character cut in two by the bound: drop its remains
        return "…" + data[start:].decode("utf-8", "replace")


@dataclass(frozen=True)
class Finished:
    """How a command's run ended."""

    returncode: int | None
    """The shell's exit status (negative: the signal that ended it)."""
    output: str
    timed_out: bool = False
    leftovers: tuple[int, ...] = ()
    """Processes the command left in its group when it exited, ended by pdca."""


def _staying(group: int) -> tuple[int, ...]:
    """The processes still in the command's group once those leaving it have left.

    A daemon started with ``setsid cmd &`` leaves the group only when its
    ``setsid`` runs, which on a loaded machine can be after the shell has exited;
    it gets :data:`LEAVE_SECONDS` to do so before pdca ends what stays.
    """
    left = tuple(group_members(group, but=group))
    deadline = time.monotonic() + LEAVE_SECONDS
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = tuple(group_members(group, but=group))
    return left


def run_in_group(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    keep: int,
    on_start: Callable[[int], None] | None = None,
) -> Finished:
    """Run ``command`` with /bin/sh in a new session; see the module doc.

    ``on_start`` gets the group id once the command runs (pdca records it). Any
    exception while the command runs (a signal stopping pdca) ends the group
    before it propagates. Raises OSError when the command cannot be started.
    """
    proc = subprocess.Popen(
        command,
        shell=True,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        bufsize=0,
    )
    reader: _Reader | None = None
    try:
        reader = _Reader(proc, Tail(keep))
        if on_start is not None:
            on_start(proc.pid)
        exited = reader.until_exit(time.monotonic() + timeout)
        if not exited:
            end_group(proc.pid, reader)
            return Finished(proc.wait(), reader.tail.text(), timed_out=True)
        reader.drain(time.monotonic() + DRAIN_SECONDS)
        left = _staying(proc.pid)
        if left:
            end_group(proc.pid, reader)
        return Finished(proc.wait(), reader.tail.text(), leftovers=left)
    except BaseException:
        end_group(proc.pid, reader)
        proc.wait()
        raise
    finally:
        if reader is not None:
            reader.close()
        elif proc.stdout is not None:
            proc.stdout.close()


class _Reader:
    """Reads the command's output into a tail while waiting for the shell to exit."""

    def __init__(self, proc: subprocess.Popen[bytes], tail: Tail):
        assert proc.stdout is not None
        self.proc = proc
        self.tail = tail
        self.fd = proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.fd, selectors.EVENT_READ, "out")
        self.open = True
        self.pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self.pidfd = os.pidfd_open(proc.pid)  # readable once the shell has exited
            self.sel.register(self.pidfd, selectors.EVENT_READ, "exit")

    def exited(self) -> bool:
        """Whether the shell has exited; it stays a zombie (not reaped) so its id,
        the group's id, cannot be reused while pdca still signals the group."""
        try:
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.proc.pid, flags) is not None
        except ChildProcessError:
            return True

    def _read(self) -> None:
        try:
            chunk = os.read(self.fd, CHUNK)
        except BlockingIOError:
            return
        if chunk:
            self.tail.add(chunk)
        else:
            self.open = False
            self.sel.unregister(self.fd)

    def wait_some(self, seconds: float) -> None:
        """Wait up to ``seconds`` for output or the shell's exit, reading what came."""
        if not self.open and self.pidfd is None:
            time.sleep(min(seconds, POLL))
            return
        if self.pidfd is None:
            seconds = min(seconds, POLL)
        for key, _ in self.sel.select(max(seconds, 0.0)):
            if key.data == "out":
                self._read()

    def until_exit(self, deadline: float) -> bool:
        """Read until the shell exits (True) or the deadline passes (False)."""
        while not self.exited():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.wait_some(left)
        return True

    def drain(self, deadline: float) -> None:
        """Read what is left in the pipe until it closes or the deadline passes."""
        if self.pidfd is not None:
            self.sel.unregister(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        while self.open:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for _ in self.sel.select(left):
                self._read()

    def close(self) -> None:
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None
        self.sel.close()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def end_group(pgid: int, reader: _Reader | None = None) -> None:
    """SIGTERM the whole group, SIGKILL what is left after a grace; return once it is gone.

    With ``reader``, output written meanwhile still goes into the tail.
    """
    for sig, wait in ((signal.SIGTERM, TERM_GRACE), (signal.SIGKILL, KILL_WAIT)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        except PermissionError:  # pragma: no cover - a group of another user's
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            # our own leader is watched through the reader (it stays a zombie until
            # reaped); any other live member, an orphan's leader too, is in /proc
            leader_gone = reader is None or reader.exited()
            if leader_gone and not group_members(pgid):
                if reader is not None:
                    reader.drain(time.monotonic() + DRAIN_SECONDS)
                return
            if reader is not None and not leader_gone:
                reader.wait_some(min(POLL * 2, deadline - time.monotonic()))
            else:
                time.sleep(POLL)


# -- finding a group again ------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None.

    Read with bare ``os`` calls: :func:`group_members` reads every process's after
    each command a run finishes, and a pathlib round trip costs three times as much."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            data = os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError:
        return None
    _, paren, rest = data.rpartition(b")")
    return rest.decode("ascii", "replace").split() if paren else None


def group_members(pgid: int, *, but: int | None = None, since: int = 0) -> list[int]:
    """Live processes in group ``pgid`` (zombies do not count), started at or after
    ``since`` (clock ticks after boot), leaving out ``but``."""
    found = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit() or int(name) == but:
            continue
        fields = _stat(int(name))
        if not fields or len(fields) < 20 or fields[0] in ("Z", "X"):
            continue
        if int(fields[2]) == pgid and int(fields[19]) >= since:
            found.append(int(name))
    return sorted(found)


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def identity(pid: int) -> dict[str, Any] | None:
    """What recognises the group led by ``pid`` later: its id, the leader's start
    time (clock ticks after boot) and the boot. None where /proc cannot say."""
    fields = _stat(pid)
    boot = _boot_id()
    if not fields or len(fields) < 20 or boot is None:
        return None
    return {"pgid": pid, "start": int(fields[19]), "boot": boot}


def still_there(ident: Mapping[str, Any]) -> list[int]:
    """The processes still running in the group ``ident`` describes, or [] when it is
    gone or its id now belongs to someone else (another boot, a newer leader)."""
    try:
        pgid, start, boot = int(ident["pgid"]), int(ident["start"]), str(ident["boot"])
    except (KeyError, TypeError, ValueError):
        return []
    if boot != _boot_id():
        return []
    leader = _stat(pgid)
    if leader and len(leader) >= 20 and leader[0] not in ("Z", "X") and int(leader[19]) != start:
        return []  # the id was reused by a process that is not the command
    return group_members(pgid, since=start)


def end_orphan(ident: Mapping[str, Any]) -> list[int]:
    """End the group ``ident`` describes if it is still the same; returns who was in it."""
    members = still_there(ident)
    if members:
        end_group(int(ident["pgid"]))
    return members
