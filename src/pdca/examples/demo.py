"""``pdca demo``: the bundled support-desk example driven through a whole cycle.

It is the first thing a new user runs, so it shows the real path: the engine,
its SQLite state, people's task updates (simulated, on the dates the playbook
plans them), Check reading the data, Act decisions, the next cycle opening with
ratcheted baselines, and the reports. It needs no network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

Echo = Callable[[str], None]

LESSONS = {
    "standardize": "Worked and held up on the control chart: make it the standard way of working.",
    "adjust": "Not there yet: keep what helped, rework what did not, and measure again.",
    "abandon": "Did not move the numbers: stop and free the time for something else.",
}


@dataclass
class DemoResult:
    """Where the demo put things, for the closing message and for tests."""

    folder: Path
    playbook: Path
    state: Path
    status: dict[str, Any] = field(default_factory=dict)
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
) -> DemoResult:
    """Copy the example into ``folder``, run one full cycle, print status, write reports."""
    from pdca.examples.generate import SUPPORT_DESK, install_example

    folder = folder.resolve()
    echo(f"Setting up the support-desk example in {folder}")
    playbook_path = install_example(folder, SUPPORT_DESK.name)
    sim = _Simulation(playbook_path, SUPPORT_DESK.as_of, SUPPORT_DESK.countermeasure)
    steps = sim.steps()
    (progress or _plain_progress(echo))(steps)
    result = DemoResult(folder, playbook_path, sim.state_path)
    result.status = sim.status()
    from pdca.cli.status_text import render_text

    echo("")
    echo(render_text(result.status, color=color).rstrip("\n"))
    result.outputs = sim.write_reports(folder)
    return result


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
        from pdca.playbook.paths import state_dir
        from pdca.state import STATE_FILE

        self.inspection = load_checked(playbook_path)
        self.pb = self.inspection.playbook
        self.state_path = state_dir(self.pb.path) / STATE_FILE
        self.cache_dir = state_dir(self.pb.path) / "cache"
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
                for tid in ready:
                    task = self.pb.tasks[tid]
                    by = self._person(task.owner)
                    finished = self._done_on(task)
                    began = min(max(finished - timedelta(days=2), self.opened(state)), finished)
                    # each update says the day it happened (--on), as a team records them
                    self.clock.at(began)
                    engine.task("start", tid, by, None, began)
                    self.clock.at(finished, 16)
                    engine.task("done", tid, by, f"Done: {task.title.lower()}.", finished)
            self.run(run_on if run_on and last else self.clock.moment.date())

    def decide(self) -> None:
        """The objective owner confirms the engine's proposal, with a lesson."""
        with self.engine() as engine:
            state = engine.store.read(self.pb.id)
            for oid, objective in self.pb.objectives.items():
                decision = state.decisions.get(oid)
                proposed = decision.proposed if decision else "adjust"
                by = self._person(objective.owner or next(iter(self.pb.owners)))
                day = self.measure_on + timedelta(days=3)
                self.clock.at(day, 11)
                engine.act(oid, proposed, by, LESSONS[proposed], day)

    def status(self) -> dict[str, Any]:
        from pdca.engine import review

        with self.engine() as engine:
            state = engine.store.read(self.pb.id)
            return review(self.pb, state, self.clock.moment.date(), store=engine.store.name)

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
