"""``pdca run`` reads the whole state a fixed number of times, however many tasks it runs.

Each transaction of a run starts from the state its previous commit left
(:meth:`pdca.engine.draft.Draft.settled`) when nobody else wrote in between,
instead of reading every row again and reconciling it with the playbook. These
tests count the reads and readiness checks through their module-level seams
(not time), check that the state a commit leaves is exactly what the store
reads back (SQLite and a real PostgreSQL server), and that a write by another
command in between is read afresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pdca.cli.common import session
from pdca.engine import readiness
from pdca.engine.runner import Engine
from pdca.state import (
    Changes,
    CycleState,
    PlaybookRef,
    State,
    TaskState,
    open_store,
    reading,
)
from pg_server import fresh_database

AS_OF = date(2026, 3, 2)


def _chain(folder: Path, n: int) -> Path:
    """``n`` automated tasks running ``true``, each depending on the one before, then a
    person's task, so the run stops there without measuring."""
    lines = ["playbook: chain", "title: Chain", "owners:", "  tom: {name: Tom}", "tasks:"]
    for i in range(n):
        deps = f", depends_on: [t{i - 1}]" if i else ""
        lines.append(
            f"  t{i}: {{title: T{i}, owner: tom, phase: plan{deps}, "
            "action: {type: shell, command: 'true'}}"
        )
    lines.append(f"  review: {{title: Review, owner: tom, phase: plan, depends_on: [t{n - 1}]}}")
    folder.mkdir(exist_ok=True)
    path = folder / "playbook.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _counted_run(
    folder: Path, n: int, monkeypatch: pytest.MonkeyPatch, state: str | None = None
) -> dict[str, int]:
    counts = {"reads": 0, "deps_done": 0}
    real_load, real_deps_done = reading.load, readiness.deps_done

    def load(*args: Any, **kwargs: Any) -> State:
        counts["reads"] += 1
        return real_load(*args, **kwargs)

    def deps_done(*args: Any, **kwargs: Any) -> bool:
        counts["deps_done"] += 1
        return real_deps_done(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(reading, "load", load)
        m.setattr(readiness, "deps_done", deps_done)
        with session(_chain(folder, n), state, create=True) as engine:
            out = engine.run(AS_OF)
    assert not out.failed
    assert out.state is not None
    assert [out.state.tasks[f"t{i}"].status for i in range(n)] == ["done"] * n
    assert out.state.tasks["review"].status == "ready"
    return counts


def test_a_run_reads_the_state_three_times_whatever_the_number_of_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _counted_run(tmp_path / "small", 3, monkeypatch)
    large = _counted_run(tmp_path / "large", 12, monkeypatch)
    # once to look for orphans, once in the first transaction, once for the summary
    assert small["reads"] == 3
    assert large["reads"] == 3
    # opening the cycle checks each of the n + 1 tasks once; finishing task i checks
    # t_i and its one dependent (t_i+1, or review after the last): n + 1 + 2n
    assert small["deps_done"] == 4 + 6
    assert large["deps_done"] == 13 + 24


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_location(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
    else:
        yield from fresh_database(request.getfixturevalue("pg_url"), "pdca_reads")


def test_the_state_each_commit_leaves_is_what_the_store_reads_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_location: str | None
) -> None:
    compared = []
    real_commit = Engine._commit

    def commit(self: Engine, *args: Any, **kwargs: Any) -> Any:
        result = real_commit(self, *args, **kwargs)
        assert self._known is not None
        assert self._known == self.store.read(self.pb.id)
        compared.append(self._known.revision)
        return result

    monkeypatch.setattr(Engine, "_commit", commit)
    with session(_chain(tmp_path, 3), state_location, create=True) as engine:
        engine.run(AS_OF)
    # three commits per task: started (the first opens the cycle too), its process
    # recorded, finished; then one that finds only the person's task left
    assert len(compared) == 3 * 3 + 1
    assert compared == sorted(compared)


def test_a_write_by_another_command_in_between_is_read_afresh(tmp_path: Path) -> None:
    ref = PlaybookRef("demo", "Demo", str(tmp_path / "playbook.yaml"))
    url = str(tmp_path / ".pdca" / "state.db")
    now = "2026-03-02T09:00:00Z"
    seen: list[State] = []

    def add(tid: str, *, cycle: bool = False) -> Any:
        def decide(state: State) -> tuple[Changes, None]:
            seen.append(state)
            ch = Changes()
            if cycle:
                ch.cycles[1] = CycleState(1, "plan", "2026-03-02", now)
            ch.tasks[(1, tid)] = TaskState(tid, "ready", "plan", "tom", now)
            return ch, None

        return decide

    with open_store(url) as mine, open_store(url) as other:
        mine.transact(ref, add("a", cycle=True))
        known = mine.read("demo")
        mine.transact(ref, add("b"), known=known)
        assert seen[-1].revision == known.revision + 1
        assert seen[-1].tasks is known.tasks  # handed on, not read
        left = replace(known, revision=known.revision + 1)  # as "b" left it, b aside
        other.transact(ref, add("c"))  # another command writes in between
        mine.transact(ref, add("d"), known=left)
        assert seen[-1].revision == known.revision + 3
        assert sorted(seen[-1].tasks) == ["a", "b", "c"]  # read afresh
