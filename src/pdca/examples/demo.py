"""``pdca demo``: the bundled support-desk example driven through a whole cycle.

It is the first thing a new user runs, so it shows the real path: the engine,
its SQLite state, people's task updates (simulated, on the dates the playbook
plans them), Check reading the data, Act decisions, the next cycle opening with
ratcheted baselines, and the reports. It needs no network.

Run again on the same folder, it starts over: the simulated updates are dated
in Q1 2026, so replaying them into the cycle a previous run left open would
log events before that cycle began. What an earlier demo wrote (and only that)
is removed first; a folder whose playbook is not the example's is refused, with
the command that starts over.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pdca.errors import PdcaError

Echo = Callable[[str], None]

DEMO_ENTRIES = (
    "playbook.yaml",
    "playbook.schema.json",
    "README.md",
    "data",
    "out",
    ".pdca",
    "report.html",
    "report.md",
)
"""What a demo run writes into its folder: the example, its data, the export task's
output, the state and the reports. Starting over removes these and nothing else."""


@dataclass
class DemoResult:
    """Where the demo put things, for the closing message and for tests."""

    folder: Path
    playbook: Path
    state: Path
    status: dict[str, Any] = field(default_factory=dict)
    """``pdca status`` of the cycle the demo leaves open (cycle 2)."""
    achieved: dict[str, Any] = field(default_factory=dict)
    """The report document of cycle 1 as it closed: verdicts, decisions, effects."""
    outputs: dict[str, Path] = field(default_factory=dict)


class SimulatedClock:
    """The engine's clock, moved by the demo to the day each simulated update happens."""

    def __init__(self, start: date):
        self.moment = datetime.combine(start, time(9, 0))

    def at(self, day: date, hour: int = 9) -> None:
        target = datetime.combine(day, time(hour, 0))
        self.moment = max(self.moment + timedelta(minutes=1), target)

    def __call__(self) -> str:
        self.moment += timedelta(seconds=1)
        return self.moment.isoformat(timespec="milliseconds") + "Z"


def run_demo(
    folder: Path,
    echo: Echo,
    *,
    color: bool = False,
    progress: Callable[[list[tuple[str, Callable[[], None]]]], None] | None = None,
    shown_as: str | None = None,
) -> DemoResult:
    """Set up ``folder`` (starting over if an earlier demo is there), run one full cycle,
    print what it achieved, write the reports. ``shown_as`` is the folder as the user
    typed it, for the command a refusal suggests."""
    from pdca.examples.generate import SUPPORT_DESK, install_example

    folder = folder.resolve()
    removed = start_over(folder, shown_as or str(folder))
    echo(f"Setting up the support-desk example in {folder}")
    if removed:
        echo("  (starting over: removed the earlier demo's playbook, data, state and reports)")
    playbook_path = install_example(folder, SUPPORT_DESK.name)
    sim = _Simulation(playbook_path, SUPPORT_DESK.as_of, SUPPORT_DESK.countermeasure)
    steps = sim.steps()
    (progress or _plain_progress(echo))(steps)
    result = DemoResult(folder, playbook_path, sim.state_path)
    result.status = sim.status()
    result.achieved = sim.cycle_document(1)
    from pdca.examples.demo_summary import render_summary

    echo("")
    echo(render_summary(result.achieved, result.status, color=color).rstrip("\n"))
    result.outputs = sim.write_reports(folder)
    return result


def start_over(folder: Path, shown: str) -> list[str]:
    """Make ``folder`` ready for a fresh demo; the names of what an earlier demo left and
    this removed. PdcaError when the folder cannot be used or holds someone's own files."""
    from pdca.examples.generate import SUPPORT_DESK, bundled_example

    try:
        if folder.exists() and not folder.is_dir():
            raise PdcaError(f"{shown} is a file, not a folder; give the demo a folder")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PdcaError(f"cannot create the demo folder {shown}: {exc.strerror or exc}") from None
    present = [name for name in DEMO_ENTRIES if (folder / name).exists()]
    if not present:
        return []
    ours = bundled_example(SUPPORT_DESK.name) / "playbook.yaml"
    theirs = folder / "playbook.yaml"
    if not (theirs.is_file() and theirs.read_bytes() == ours.read_bytes()):
        why = (
            "its playbook.yaml is not the example's (changed since, or your own)"
            if theirs.exists()
            else f"it holds {', '.join(present)} but no demo playbook"
        )
        again = shlex.quote(shown)
        raise PdcaError(
            f"{shown} is not an earlier demo's folder: {why}, and the demo does not "
            f"overwrite it. To start over: rm -rf {again} && pdca demo {again}; or run "
            "the demo in another folder: pdca demo OTHER-FOLDER"
        )
    for name in present:
        path = folder / name
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            raise PdcaError(
                f"cannot start {shown} over: removing {path} failed: {exc.strerror or exc}"
            ) from None
    return present


def _plain_progress(echo: Echo) -> Callable[[list[tuple[str, Callable[[], None]]]], None]:
    def run(steps: list[tuple[str, Callable[[], None]]]) -> None:
        for label, step in steps:
            echo(f"  {label}")
            step()

    return run


class _Simulation:
    """One cycle of the example, step by step, through the engine's public API."""

    def __init__(self, playbook_path: Path, measure_on: date, live_on: date):
        from pdca.playbook import load_checked
        from pdca.playbook.paths import cache_dir, state_file

        self.inspection = load_checked(playbook_path)
        self.pb = self.inspection.playbook
        self.state_path = state_file(self.pb.path)
        self.cache_dir = cache_dir(self.pb.path)
        self.start = self.pb.cycle.start or date(2026, 1, 5)
        self.measure_on = measure_on
        self.live_on = live_on
        self.clock = SimulatedClock(self.start)

    @contextmanager
    def engine(self) -> Iterator[Any]:
        from pdca.engine import Engine
        from pdca.state import open_store

        with open_store(self.state_path, create=True) as store:
            yield Engine(
                self.pb,
                store,
                registry=self.inspection.registry,
                plugin_manager=self.inspection.plugin_manager,
                cache_dir=self.cache_dir,
                clock=self.clock,
            )

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("Opening cycle 1: plan", lambda: self.run(self.start)),
            ("Plan: root causes, contact reasons, staffing", lambda: self.work("plan")),
            (
                f"Do, then Check measures the data as of {self.measure_on}",
                lambda: self.work("do", run_on=self.measure_on),
            ),
            ("Check: calibration and control-chart review", lambda: self.work("check")),
            ("Act: decisions on each objective", self.decide),
            ("Act: follow-up tasks, closing the cycle", lambda: self.work("act")),
        ]

    def run(self, as_of: date) -> None:
        self.clock.at(as_of, 8)
        with self.engine() as engine:
            engine.run(as_of)

    @staticmethod
    def opened(state: Any) -> date:
        """The day the current cycle opened: no update can be dated before it."""
        return date.fromisoformat(state.cycle.started[:10])

    def _person(self, owner: str) -> str:
        """Who acts for an owner: the person, or a team's first member."""
        members = self.pb.owners[owner].members
        return members[0] if members else owner

    def _done_on(self, task: Any) -> date:
        """The day the simulated person finishes: on the due date, and the Do phase's
        countermeasures on the day they went live in the data."""
        due = task.due or self.start
        if task.phase == "do":
            return min(due, self.live_on)
        if task.phase in ("check", "act"):
            return max(due, self.measure_on + timedelta(days=1))
        return due

    def work(self, phase: str, run_on: date | None = None) -> None:
        """Start and finish every ready task of the phase, in dependency order.

        After each round ``pdca run`` advances the cycle; ``run_on`` is the as-of
        date of the run that ends the phase (the day Check measures the data).
        """
        from pdca.examples.demo_team import task_note

        for _ in range(len(self.pb.tasks) + 1):
            with self.engine() as engine:
                state = engine.store.read(self.pb.id)
                ready = [
                    tid
                    for tid, row in sorted(state.tasks.items())
                    if row.status == "ready"
                    and tid in self.pb.tasks
                    and self.pb.tasks[tid].phase == phase
                    and not self.pb.tasks[tid].automated
                ]
                if not ready:
                    break
                last = not any(
                    row.status not in ("done", "skipped")
                    for tid, row in state.tasks.items()
                    if tid in self.pb.tasks
                    and self.pb.tasks[tid].phase == phase
                    and tid not in ready
                )
                ready.sort(key=lambda t: (self._done_on(self.pb.tasks[t]), t))
                snapshot = state.snapshot.report if state.snapshot else None
                for tid in ready:
                    task = self.pb.tasks[tid]
                    by = self._person(task.owner)
                    finished = self._done_on(task)
                    began = min(max(finished - timedelta(days=2), self.opened(state)), finished)
                    # each update says the day it happened (--on), as a team records them
                    self.clock.at(began)
                    engine.task("start", tid, by, None, began)
                    self.clock.at(finished, 16)
                    note = task_note(self.pb, tid, snapshot)
                    engine.task("done", tid, by, note, finished)
            self.run(run_on if run_on and last else self.clock.moment.date())

    def decide(self) -> None:
        """The objective owner confirms the engine's proposal, with this objective's lesson."""
        from pdca.examples.demo_team import lesson

        with self.engine() as engine:
            state = engine.store.read(self.pb.id)
            snapshot = state.snapshot.report if state.snapshot else None
            for oid, objective in self.pb.objectives.items():
                decision = state.decisions.get(oid)
                proposed = decision.proposed if decision else "adjust"
                by = self._person(objective.owner or next(iter(self.pb.owners)))
                day = self.measure_on + timedelta(days=3)
                self.clock.at(day, 11)
                note = lesson(self.pb, oid, proposed, snapshot)
                engine.act(oid, proposed, by, note, day)

    def status(self) -> dict[str, Any]:
        from pdca.engine import review

        with self.engine() as engine:
            state = engine.store.read(self.pb.id)
            return review(self.pb, state, self.clock.moment.date(), store=engine.store.name)

    def cycle_document(self, number: int) -> dict[str, Any]:
        """Cycle ``number``'s report document as it closed (what ``pdca report --cycle``
        shows), or an empty dict when the report layer is not in this build."""
        try:
            from pdca.report.context import document_for
        except ImportError:  # reports not installed in this build
            return {}
        with self.engine() as engine:
            return document_for(
                self.pb,
                engine.store,
                registry=self.inspection.registry,
                as_of=self.measure_on,
                cycle=number,
                cache_dir=self.cache_dir,
            )

    def write_reports(self, folder: Path) -> dict[str, Path]:
        """report.html and report.md of the cycle just closed, when the report layer is here."""
        try:
            from pdca.report import write_report
        except ImportError:  # reports not installed in this build
            return {}
        outputs = {}
        for fmt, name in (("html", "report.html"), ("markdown", "report.md")):
            outputs[fmt] = write_report(
                self.pb.path,
                fmt,
                folder / name,
                as_of=self.measure_on,
                cycle=1,
                state=str(self.state_path),
            )
        return outputs
