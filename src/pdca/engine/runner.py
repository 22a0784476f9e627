"""The engine's I/O: transactions around the pure transitions, actions, measuring, hooks.

Every change goes through :meth:`Store.transact`, which reads the state, calls
a pure function of it, and writes the result atomically. Slow work (running an
action, measuring the metrics) happens between transactions, never while the
playbook's write lock is held:

1. commit "attempt N started" (the task is in progress),
2. run the action,
3. commit the result.

Killed between 1 and 3, a later ``pdca run`` sees a started attempt whose
process is gone, records it as interrupted and runs the task again: an action
may therefore run more than once, never zero times, and should be idempotent.
Measuring is done outside the lock too, and its snapshot is stored only if the
cycle is still where it was (another run may have got there first).

Plugin hooks fire after the commit that caused them: a failing plugin cannot
undo or corrupt a change, and its error is reported once the work is saved.

:mod:`pdca.engine.supervise` watches over the actions: SIGTERM or Ctrl-C ends
the running action and records it as cancelled; the process group of an action
that a killed run left behind is ended by the next run before it retries.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from pdca.engine import transitions as tr
from pdca.engine.supervise import RunStopped, SignalGuard, process_of
from pdca.errors import PdcaError, PluginError
from pdca.playbook.model import Playbook
from pdca.state.model import Attempt, Changes, Decision, Event, State, TaskState
from pdca.state.store import PlaybookRef, Store, now_utc, parse_utc

HOST = socket.gethostname()
STALE_MARGIN = 300.0
"""Seconds past an action's timeout after which a run on another host is presumed dead."""

RETRY_WAIT_IN_RUN = 60.0
"""A delayed retry due within this many seconds is waited for by the run; a later one
is left to the next ``pdca run`` (the run stops with ``retry``)."""

_IN_FLIGHT: set[tuple[str, int, str, int]] = set()
"""Attempts this process is running right now: (playbook, cycle, task, attempt)."""


@dataclass
class Outcome:
    """What one command did: the events it committed, and problems to report."""

    events: list[Event] = field(default_factory=list)
    hook_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    stopped: str = ""
    state: State | None = None
    info: dict[str, Any] = field(default_factory=dict)


class Engine:
    """One playbook and one store, for the length of a command."""

    def __init__(
        self,
        playbook: Playbook,
        store: Store,
        *,
        registry: Any = None,
        plugin_manager: Any = None,
        cache_dir: Path | None = None,
        clock: Callable[[], str] = now_utc,
    ):
        self.pb = playbook
        self.store = store
        self.registry = registry
        self.pm = plugin_manager
        self.cache_dir = cache_dir
        self.clock = clock
        self.ref = PlaybookRef(playbook.id, playbook.title, str(playbook.path))
        self.day: str | None = None
        """The day engine changes happen on: ``pdca run``'s as-of (None: the clock's day)."""
        self.allow_stale = False
        """``pdca run --allow-stale``: enter check even when a metric's data is stale."""
        self._known: State | None = None
        """The state as this engine's last commit left it: the next transaction starts
        from it, reading nothing, unless another command wrote in between."""
        self.guard = SignalGuard()
        """Defers SIGTERM and SIGINT while a transaction is written (armed by :meth:`run`)."""

    # -- transactions ---------------------------------------------------------------

    def _commit(
        self, out: Outcome, step: Callable[[tr.Draft], Any], on: str | None = None
    ) -> tuple[Any, tr.Draft]:
        """Run ``step`` on a draft of the fresh state in one transaction; fire hooks after.

        ``on`` is the day the change happened: a person's ``--on``, "" for the clock's
        day; by default the as-of day of the run (:attr:`day`)."""

        known = self._known

        def decide(state: State) -> tuple[Changes, tuple[Any, tr.Draft]]:
            d = tr.Draft(state, self.clock(), self.day if on is None else on)
            if known is None or state.revision != known.revision + 1:
                tr.reconcile(self.pb, d)  # read afresh: bring it in line with the playbook
            value = step(d)
            return d.changes, (value, d)

        self._known = None  # until this commit is known to have been written
        with self.guard.shielded():
            value, d = self.store.transact(self.ref, decide, known=known)
            out.events.extend(d.changes.events)
            self._known = d.settled(d.state.revision)
        self._fire(out, d.changes.events)
        return value, d

    def _fire(self, out: Outcome, events: Iterable[Event]) -> None:
        if self.pm is None:
            return
        from pdca.plugins import notify

        for e in events:
            try:
                if e.kind == "task_changed" or (e.kind == "task_added"):
                    notify(
                        self.pm,
                        "pdca_task_changed",
                        playbook=self.pb,
                        cycle=e.cycle,
                        task=e.subject,
                        old=e.old,
                        new=e.new,
                        by=e.by,
                        note=e.note,
                    )
                elif e.kind == "phase_changed":
                    notify(
                        self.pm,
                        "pdca_phase_changed",
                        playbook=self.pb,
                        cycle=e.cycle,
                        old=e.old,
                        new=e.new,
                    )
            except PluginError as exc:
                out.hook_errors.append(str(exc))

    # -- pdca run -------------------------------------------------------------------

    def run(
        self,
        as_of: date,
        *,
        echo: Callable[[Event], None] | None = None,
        allow_stale: bool = False,
    ) -> Outcome:
        """Advance the playbook as far as it goes without people; see the module doc.

        Check is not entered while a metric's data is stale (``stopped`` is then
        ``stale`` and ``info["stale"]`` lists the sources); ``allow_stale`` enters
        it anyway and marks the snapshot as taken on stale data. A delayed retry
        due later than :data:`RETRY_WAIT_IN_RUN` stops it with ``retry``
        (``info["retry"]`` says which task, when). SIGTERM or SIGINT raise
        :class:`~pdca.engine.supervise.RunStopped` once the running attempt is
        recorded as cancelled.
        """
        with SignalGuard() as self.guard:
            return self._run(as_of, echo, allow_stale)

    def _run(self, as_of: date, echo: Callable[[Event], None] | None, allow_stale: bool) -> Outcome:
        out = Outcome()
        self.allow_stale = allow_stale
        seen = 0
        self.day = as_of.isoformat()  # what the engine does in this run happens on as-of
        echo_failed: Exception | None = None

        def report() -> None:
            """Show the new events; a failing ``echo`` (its reader gone) is kept for later:
            the step it interrupted, say an attempt just marked started, finishes first."""
            nonlocal seen, echo_failed
            if echo is not None and echo_failed is None:
                try:
                    for e in out.events[seen:]:
                        echo(e)
                except Exception as exc:
                    echo_failed = exc
            seen = len(out.events)

        self._end_orphans(out)
        report()
        for _ in range(100_000):
            self.guard.check()
            value, d = self._commit(out, self._step)
            kind, payload = value
            if kind != "attempt":  # an attempt shows its start itself: a signal then cancels it
                report()
            if kind == "attempt":
                self._run_attempt(out, *payload, as_of, report)
                report()
            elif kind == "retry":
                tid, due = payload
                wait = (due - (parse_utc(self.clock()) or due)).total_seconds()
                if wait > RETRY_WAIT_IN_RUN:
                    out.stopped = "retry"
                    out.info["retry"] = {"task": tid, "at": tr.iso(due)}
                    out.state = self.store.read(self.pb.id)
                else:
                    self.guard.sleep(wait + 0.01)
            elif kind == "measure":
                self.guard.check()
                self._measure(out, d, as_of)
                report()
            else:
                out.stopped = kind
                out.state = self.store.read(self.pb.id)
            if echo_failed is not None:
                raise echo_failed
            if out.stopped:
                return out
        raise PdcaError("pdca run did not settle; this is a bug")  # pragma: no cover

    def _step(self, d: tr.Draft) -> tuple[str, Any]:
        tr.interrupt_stale(d, lambda a: self._stale(d, a))
        why = tr.advance(self.pb, d)
        if why == "work":
            tid = tr.next_automated(self.pb, d)
            if tid is not None:
                return "attempt", (d.number, tr.start_attempt(self.pb, d, tid, HOST, os.getpid()))
            delayed = tr.next_retry(self.pb, d)
            if delayed is not None:
                return "retry", delayed
        if why == "measure":
            return "measure", d.number
        return why, None

    def _stale(self, d: tr.Draft, attempt: Attempt) -> bool:
        """Is the process that started this attempt gone? (so nobody will record it)."""
        if attempt.host == HOST and attempt.pid is not None:
            if attempt.pid == os.getpid():
                return (self.pb.id, d.number, attempt.task, attempt.number) not in _IN_FLIGHT
            return not _alive(attempt.pid, attempt.started)
        task = self.pb.tasks.get(attempt.task)
        timeout = 3600.0
        if task is not None and task.action is not None:
            timeout = float(task.action.options.get("timeout") or timeout)
        return _age(attempt.started, d.now) > timeout + STALE_MARGIN

    def _end_orphans(self, out: Outcome) -> None:
        """End the process groups that killed runs on this host left running, and
        record it, before their attempts are declared interrupted and run again."""
        from pdca.builtins.processes import end_orphan

        state = self.store.read(self.pb.id)
        if state.cycle is None:
            return
        for tid, attempt in state.running.items():
            if attempt.host != HOST or attempt.pid is None or attempt.pid == os.getpid():
                continue
            if _alive(attempt.pid, attempt.started):
                continue  # its run is alive and watching over it
            events = self.store.history(self.pb.id, cycle=state.cycle.number, subject=tid)
            process = process_of(events["events"], attempt.number)
            if process is None or process.get("host") != HOST:
                continue
            pids = end_orphan(process)
            if pids:
                note = partial(tr.record_orphan, tid=tid, number=attempt.number)
                self._commit(out, partial(note, process=process, pids=pids))

    def _run_attempt(
        self, out: Outcome, cycle: int, attempt: Attempt, as_of: date, report: Callable[[], None]
    ) -> None:
        """Run one started attempt and record its result; SIGTERM or SIGINT from its
        start on (while it is shown, while it runs) record it as cancelled."""
        from pdca.action import ActionContext, ActionResult, storable, tail

        key = (self.pb.id, cycle, attempt.task, attempt.number)
        task = self.pb.tasks[attempt.task]
        assert task.action is not None

        def on_process(pgid: int) -> None:
            from pdca.builtins.processes import identity

            process = identity(pgid)
            if process is not None:
                process = {**process, "host": HOST}
                self._commit(
                    out, lambda d: tr.record_process(d, attempt.task, attempt.number, process)
                )
            self.guard.check()  # a signal while it was recorded: the action ends its group

        ctx = ActionContext(
            playbook_id=self.pb.id,
            task_id=attempt.task,
            cycle=cycle,
            cwd=self.pb.base_dir,
            as_of=as_of.isoformat(),
            env={"PDCA_ATTEMPT": str(attempt.number)},
            on_process=on_process,
        )
        registered = self.registry.actions.get(task.action.type) if self.registry else None
        started = time.monotonic()
        _IN_FLIGHT.add(key)
        try:
            report()
            self.guard.check()  # a signal between the start's commit and here
            if registered is None:
                result = ActionResult(
                    False, None, "", 0.0, f"action type '{task.action.type}' is not registered"
                )
            else:
                try:
                    result = registered.obj.run(task.action.options, ctx)
                except Exception as exc:  # a plugin's bug fails the task, not the run
                    result = ActionResult(
                        False,
                        None,
                        "",
                        time.monotonic() - started,
                        f"action '{task.action.type}' (plugin '{registered.plugin}') raised "
                        f"{type(exc).__name__}: {exc}",
                    )
        except RunStopped as stop:
            why = stop.name
            self._commit(out, lambda d: tr.cancel_attempt(d, attempt.task, attempt.number, why))
            stop.cancelled = f"attempt {attempt.number} of task '{attempt.task}'"
            raise
        finally:
            _IN_FLIGHT.discard(key)

        def record(d: tr.Draft) -> str | None:
            return tr.finish_attempt(
                self.pb,
                d,
                attempt.task,
                attempt.number,
                ok=result.ok,
                exit_code=result.exit_code,
                output=tail(storable(result.output or "")),
                duration=result.duration or (time.monotonic() - started),
                error=storable(result.error) if result.error is not None else None,
            )

        status, _ = self._commit(out, record)
        if status == "failed":
            out.failed.append(attempt.task)

    def _measure(self, out: Outcome, d: tr.Draft, as_of: date) -> None:
        from pdca.check import measure
        from pdca.check.periodcache import PeriodCache
        from pdca.check.phases import Recorded

        measured_pb = tr.with_baselines(self.pb, d.baselines)
        periods = PeriodCache.from_store(measured_pb, as_of, self.store)
        report = measure.check(
            measured_pb,
            self.registry,
            as_of,
            cache_dir=self.cache_dir,
            plugin_manager=None,
            cycle_start=tr.planned_start(self.pb, d.number),
            recorded=Recorded.from_store(self.pb, self.store, d.state),
            periods=periods,
        )
        # what was measured is kept whatever the cycle does next (derived data: no revision)
        self.store.keep_periods(self.pb.id, periods.keeps(report["metrics"]))
        broken = [(mid, m["error"]) for mid, m in report["metrics"].items() if m.get("error")]
        if broken:
            lines = "; ".join(f"metric '{mid}': {err}" for mid, err in broken)
            raise tr.CycleError(
                f"cannot enter check: {lines}. The do phase is complete; fix the data or "
                "the metric and run again"
            )
        from pdca.check.freshness import stale_sources

        stale = stale_sources(measured_pb, report)
        if stale and not self.allow_stale:
            # nothing is stored: the cycle stays in do until the data arrives
            out.stopped = "stale"
            out.info["stale"] = stale
            out.state = self.store.read(self.pb.id)
            return
        if stale:
            report = {**report, "stale_data": stale}
        number = d.number

        def store_it(draft: tr.Draft) -> bool:
            if draft.cycle is None or draft.number != number:
                return False
            return tr.enter_check(self.pb, draft, report, as_of)

        stored, _ = self._commit(out, store_it)
        if stored and self.pm is not None:
            from pdca.plugins import notify

            for mid, entry in report["metrics"].items():
                try:
                    notify(
                        self.pm,
                        "pdca_metric_evaluated",
                        playbook=measured_pb,
                        metric=measured_pb.metrics[mid],
                        result=entry,
                    )
                except PluginError as exc:
                    out.hook_errors.append(str(exc))

    # -- people ---------------------------------------------------------------------

    def task(
        self, action: str, tid: str, by: str, note: str | None, on: date | None = None
    ) -> Outcome:
        out = Outcome()

        def change(d: tr.Draft) -> dict[str, Any]:
            before = d.tasks[tid].status if tid in d.tasks else None
            redo = tr.person(self.pb, d, action, tid, by, note)
            return {
                "before": before,
                "row": d.tasks[tid],
                "downstream_done": redo,
                "phase_complete": d.cycle is not None and not tr.open_work(self.pb, d),
                "cycle": d.cycle,
            }

        out.info, _ = self._commit(out, change, on.isoformat() if on else "")
        return out

    def act(
        self, oid: str, decision: str, by: str, note: str | None, on: date | None = None
    ) -> Outcome:
        out = Outcome()

        def change(d: tr.Draft) -> dict[str, Any]:
            previous = tr.decide(self.pb, d, oid, decision, by, note)
            return {
                "previous": previous,
                "decision": d.decisions[oid],
                "undecided": tr.undecided(self.pb, d),
                "open_tasks": tr.open_work(self.pb, d),
                "cycle": d.cycle,
            }

        out.info, _ = self._commit(out, change, on.isoformat() if on else "")
        return out


def _alive(pid: int, started: str) -> bool:
    """Whether ``pid`` is a live process that was already running at ``started``.

    A zombie counts as dead; a process that started after the attempt is a
    different one that reused the pid.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    if fields and fields[0] in ("Z", "X"):
        return False
    try:
        ticks = int(fields[19])
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        proc_start = boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return True
    attempt_start = parse_utc(started)
    if attempt_start is None:
        return True
    return proc_start <= attempt_start.timestamp() + 2


def _age(started: str, now: str) -> float:
    a, b = parse_utc(started), parse_utc(now)
    return (b - a).total_seconds() if a and b else 0.0


__all__ = ["HOST", "Decision", "Engine", "Outcome", "TaskState"]
