"""Data time: what happened keeps its day (``on``) beside the time it was recorded.

Uses the support-desk playbook of test_cli_engine (cycle.start 2026-01-05,
7-day cycles; analyse due 2026-01-06, i.e. day 2 of cycle 1).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import click
import pytest
import sqlalchemy as sa

from pdca.engine import transitions as tr
from pdca.playbook.model import Cycle, Objective, Task
from pdca.state import open_store
from pdca.state import schema as s
from pdca.state.model import CycleState, State
from test_cli_engine import Pdca, cli, desk, state  # noqa: F401  (fixtures)
from test_engine import playbook

V1 = Path(__file__).parent / "data" / "state_v1.db"
TODAY = date.today().isoformat()


def _finish_plan(pdca: Pdca) -> None:
    pdca("run", "--as-of", "2026-01-07")
    pdca("task", "done", "analyse", "--by", "aisha", "--on", "2026-01-06")


# -- cycles open on their start; updates carry --on -------------------------------------


def test_cycle_opens_on_its_start_and_late_updates_keep_their_day(
    cli: click.Group,  # noqa: F811
    desk: Path,  # noqa: F811
    state: str | None,  # noqa: F811
) -> None:
    pdca = Pdca(cli, desk, state)
    pdca("run", "--as-of", "2026-01-07")
    cyc = pdca.status("--as-of", "2026-01-07")["cycle"]
    # cycle.start (2026-01-05) is on or before the as-of date: the cycle opened then
    assert (cyc["started"], cyc["day"], cyc["length_days"]) == ("2026-01-05", 3, 7)
    assert cyc["recorded"][:10] == TODAY
    done = pdca.json("task", "done", "analyse", "--by", "aisha", "--on", "2026-01-06")
    assert (done["on"], done["recorded"][:10]) == ("2026-01-06", TODAY)
    task = pdca.status("--as-of", "2026-01-07")["tasks"]["analyse"]
    assert task["done_on"] == "2026-01-06" and task["updated"][:10] == TODAY
    assert task["overdue"] is False  # due 2026-01-06, done that day
    events = pdca.json("history")["events"]
    mine = [e for e in events if e["kind"] == "task_changed" and e["subject"] == "analyse"]
    assert [(e["new"], e["on"]) for e in mine][-1] == ("done", "2026-01-06")
    assert all(e["recorded"] == e["at"] for e in events)
    # the engine's own steps happen on the as-of day of the run that made them
    opened = next(e for e in events if e["kind"] == "cycle_opened")
    assert opened["on"] == "2026-01-05" and opened["recorded"][:10] == TODAY
    # a task that will not be done: skip; what waits for it goes ahead
    pdca("task", "skip", "staff", "--by", "tom", "--note", "no budget", "--on", "2026-01-07")
    report = pdca.status("--as-of", "2026-01-07")
    assert report["tasks"]["staff"]["status"] == "skipped"
    assert report["tasks"]["staff"]["done_on"] is None


@pytest.mark.parametrize(
    ("on", "message"),
    [
        ("2999-01-01", f"--on 2999-01-01 is after today ({TODAY})"),
        ("2026-01-04", "--on 2026-01-04 is before cycle 1 opened (2026-01-05)"),
        (
            "2026-01-05",
            "--on 2026-01-05 is before the last change to task 'analyse' (on 2026-01-06)",
        ),
    ],
)
def test_impossible_days_are_refused(
    cli: click.Group,  # noqa: F811
    desk: Path,  # noqa: F811
    on: str,
    message: str,
) -> None:
    pdca = Pdca(cli, desk, None)
    _finish_plan(pdca)  # analyse was done on 2026-01-06
    result = pdca("task", "reopen", "analyse", "--by", "aisha", "--on", on, code=1)
    assert f"error: {message}" in result.output
    assert pdca.status()["tasks"]["analyse"]["status"] == "done"


def test_decision_day_is_refused_after_today(
    cli: click.Group,  # noqa: F811
    desk: Path,  # noqa: F811
) -> None:
    pdca = Pdca(cli, desk, None)
    args = ("--decision", "adjust", "--by", "maria", "--note", "n", "--on", "2999-01-01")
    result = pdca("act", "happy", *args, code=1)
    assert "error: no cycle yet" in result.output or "after today" in result.output


def test_blocked_advice_names_the_command_that_unblocks(
    cli: click.Group,  # noqa: F811
    desk: Path,  # noqa: F811
) -> None:
    pdca = Pdca(cli, desk, None)
    pdca("run", "--as-of", "2026-01-07")
    pdca("task", "block", "analyse", "--by", "aisha", "--note", "no data")
    steps = pdca.status("--as-of", "2026-01-07")["next"]
    assert f"aisha: unblock analyse (overdue): pdca task {desk} reopen analyse --by aisha" in steps


# -- dry run ---------------------------------------------------------------------------


def test_dry_run_prints_the_transitions_and_changes_nothing(
    cli: click.Group,  # noqa: F811
    desk: Path,  # noqa: F811
) -> None:
    pdca = Pdca(cli, desk, None)
    db = desk.parent / ".pdca" / "state.db"
    out = pdca("run", "--dry-run", "--as-of", "2026-01-07").stdout
    assert "cycle 1 opened" in out and "then it would run the automated task export" in out
    assert not db.exists()  # nothing, not even an empty store, was created
    _finish_plan(pdca)
    before = db.read_bytes()
    history = pdca.json("history")
    out = pdca("run", "--dry-run", "--as-of", "2026-01-08").stdout
    assert "phase plan -> do" in out and "dry run: nothing was changed" in out
    dry = pdca.json("run", "--dry-run", "--as-of", "2026-01-08")
    assert dry["dry_run"] is True and dry["events"][0]["on"] == "2026-01-08"
    assert db.read_bytes() == before
    assert pdca.json("history") == history


# -- due dates ---------------------------------------------------------------------------


def test_due_dates_in_cycles_one_to_three() -> None:
    """cycle.start 2026-01-05, 28-day cycles: a task due 2026-01-19 (offset 14 days), one
    due 10d, an objective due 2026-02-01 (offset 27 days)."""
    pb = playbook(
        Task("a", "A", "tom", due=date(2026, 1, 19)),
        Task("r", "R", "tom", due_days=10),
        cycle=Cycle(start=date(2026, 1, 5), length_days=28),
        objectives={"o": Objective("o", "O", owner="maria", due=date(2026, 2, 1))},
        metrics={},
    )
    # cycle 2 opened late (closed on 2026-02-10, after its planned start 2026-02-02);
    # cycle 3 on its planned start 2026-03-02
    opened = {1: date(2026, 1, 5), 2: date(2026, 2, 10), 3: date(2026, 3, 2)}
    want = {
        1: ("2026-01-19", "2026-01-15", "2026-02-01"),
        2: ("2026-02-24", "2026-02-20", "2026-03-09"),
        3: ("2026-03-16", "2026-03-12", "2026-03-29"),
    }
    for n, start in opened.items():
        got = tuple(
            tr.effective_due(pb, item, n, start, date(2026, 1, 5)).isoformat()  # type: ignore[union-attr]
            for item in (pb.tasks["a"], pb.tasks["r"], pb.objectives["o"])
        )
        assert got == want[n], n
    # without cycle.start the offset is from the day cycle 1 opened
    pb2 = playbook(Task("a", "A", "tom", due=date(2026, 1, 19)), metrics={}, objectives={})
    first = tr.first_start(pb2, (CycleState(1, "closed", "2026-01-12", "x"),))
    assert first == date(2026, 1, 12)
    assert tr.effective_due(pb2, pb2.tasks["a"], 2, date(2026, 3, 1), first) == date(2026, 3, 8)


def test_the_days_cycles_open_on() -> None:
    pb = playbook(Task("a", "A", "tom"), cycle=Cycle(start=date(2026, 1, 5), length_days=28))
    empty = tr.Draft(State("demo"), "2026-06-01T00:00:00Z", "2026-01-20")
    assert tr.opening_day(pb, empty, 1) == "2026-01-05"  # cycle.start, before as-of
    early = tr.Draft(State("demo"), "2026-06-01T00:00:00Z", "2026-01-02")
    assert tr.opening_day(pb, early, 1) == "2026-01-02"  # cycle.start not reached: as-of
    closed_late = CycleState(1, "closed", "2026-01-05", "x", closed_on="2026-02-10")
    late = tr.Draft(State("demo", cycle=closed_late), "2026-06-01T00:00:00Z", "2026-02-12")
    assert tr.opening_day(pb, late, 2) == "2026-02-10"  # the day cycle 1 closed
    closed_early = CycleState(1, "closed", "2026-01-05", "x", closed_on="2026-01-25")
    early2 = tr.Draft(State("demo", cycle=closed_early), "2026-06-01T00:00:00Z", "2026-01-25")
    assert tr.opening_day(pb, early2, 2) == "2026-02-02"  # planned start, later


def test_relative_due_is_read_from_the_playbook(tmp_path: Path) -> None:
    import test_cli_engine
    from pdca.playbook import load_checked

    path = tmp_path / "playbook.yaml"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "scores.csv").write_text(test_cli_engine.SCORES)
    path.write_text(test_cli_engine.PLAYBOOK.replace("due: 2026-01-06", "due: 3d"))
    pb = load_checked(path).playbook
    assert pb.tasks["analyse"].due is None and pb.tasks["analyse"].due_days == 3


def test_a_cycle_past_its_length_is_said_and_its_open_work_is_late(
    cli: click.Group,  # noqa: F811
    desk: Path,  # noqa: F811
) -> None:
    pdca = Pdca(cli, desk, None)
    pdca("run", "--as-of", "2026-01-07")
    report = pdca.status("--as-of", "2026-01-20")
    assert (report["cycle"]["day"], report["cycle"]["overrun"]) == (16, 9)
    assert report["tasks"]["staff"]["overdue"] is True  # no due date, but the cycle is over
    assert "staff" in report["attention"]["ops"]
    text = pdca("status", "--as-of", "2026-01-20").stdout
    assert "day 16 of a 7-day cycle: 9 days past its length" in text


# -- migration of a version 1 state ----------------------------------------------------


def test_a_version_1_state_file_migrates(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    shutil.copy(V1, path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("select value from pdca_meta where key='schema_version'").fetchone()
        old_cycles = conn.execute("select number, started from pdca_cycles").fetchall()
        old_events = conn.execute("select count(*) from pdca_events").fetchone()[0]
    with open_store(path) as store:
        st = store.read("support-desk-q1")
        hist = store.history("support-desk-q1")
    assert [(c.number, c.started, c.recorded) for c in st.cycles] == [
        (n, started[:10], started) for n, started in old_cycles
    ]
    assert st.cycles[0].closed_on == "2026-04-24"
    assert len(hist["events"]) == old_events
    assert all(e.on == e.at[:10] for e in hist["events"])
    closed_1 = store_cycle_tasks(path, 1)
    assert closed_1["analyse-detractors"] == ("2026-01-16T16:00:01.000Z", "2026-01-16")
    with sqlite3.connect(path) as conn:
        version = conn.execute("select value from pdca_meta where key='schema_version'")
        assert int(version.fetchone()[0]) == s.SCHEMA_VERSION == 3
        decided = conn.execute("select decided, decided_on from pdca_decisions").fetchall()
    assert all(on == at[:10] for at, on in decided) and decided


def store_cycle_tasks(path: Path, cycle: int) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            'select task, updated, "on" from pdca_tasks where cycle = ?', (cycle,)
        ).fetchall()
    return {t: (u, o) for t, u, o in rows}


def test_an_export_of_version_1_imports(tmp_path: Path) -> None:
    from pdca.state.importing import import_state, read_source

    doc = read_source(V1, "support-desk-q1")  # a v1 file reads as this version
    assert doc["schema_version"] == s.SCHEMA_VERSION == 3
    assert doc["tables"]["events"][0]["on"] == doc["tables"]["events"][0]["at"][:10]
    old = {**doc, "schema_version": 1}
    for name, drop in (("cycles", ("recorded", "closed_on")), ("events", ("on",))):
        old["tables"] = {
            **old["tables"],
            name: [{k: v for k, v in r.items() if k not in drop} for r in old["tables"][name]],
        }
    old["tables"]["cycles"] = [
        {**r, "started": r["started"] + "T09:01:01.000Z"} for r in old["tables"]["cycles"]
    ]
    with open_store(tmp_path / "new.db") as store:
        import_state(store, old, "support-desk-q1")
        st = store.read("support-desk-q1")
    assert st.cycles[0].started == "2026-01-05" and st.cycles[0].closed_on == "2026-04-24"


@pytest.mark.postgres
def test_a_version_1_postgresql_store_migrates(pg_url: str) -> None:
    from pg_server import fresh_database

    for url in fresh_database(pg_url, "pdca_mig"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            s.metadata.create_all(conn)
            for table, col in (
                ("pdca_cycles", "recorded"),
                ("pdca_cycles", "closed_on"),
                ("pdca_tasks", '"on"'),
                ("pdca_decisions", "decided_on"),
                ("pdca_events", '"on"'),
            ):
                conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {col}"))
            conn.execute(
                sa.text(
                    "INSERT INTO pdca_meta VALUES ('schema_version', '1'), ('created', 'x');"
                    "INSERT INTO pdca_playbooks VALUES ('p', 't', 'x', '2026-01-01', 0);"
                    "INSERT INTO pdca_cycles VALUES ('p', 1, 'do', '2026-01-05T09:00:00Z',"
                    " '2026-01-06T09:00:00Z', NULL);"
                    "INSERT INTO pdca_events (playbook, cycle, at, kind)"
                    " VALUES ('p', 1, '2026-01-05T09:00:00Z', 'cycle_opened')"
                )
            )
        engine.dispose()
        with open_store(url) as store:
            st = store.read("p")
            events = store.history("p")["events"]
        assert (st.cycle.started, st.cycle.recorded) == ("2026-01-05", "2026-01-05T09:00:00Z")  # type: ignore[union-attr]
        assert [e.on for e in events] == ["2026-01-05"]


# -- late updates, same analysis -------------------------------------------------------


def test_updates_recorded_late_give_the_effects_of_timely_ones(tmp_path: Path) -> None:
    """The report desk's cycle 1 twice: as test_report drives it (each update recorded
    the day it happened), and with coach, staff and review entered weeks later with
    --on. The countermeasure effects and chart markers are the same."""
    import json

    from test_report import Pdca as ReportPdca
    from test_report import drive_desk, fake_clock, make_desk

    def effects(pdca: ReportPdca) -> tuple[object, object]:
        doc = json.loads(pdca.report("--cycle", "1", "--format", "json", "--as-of", "2026-03-05"))
        markers = {m: doc["metrics"][m]["markers"] for m in doc["metrics"]}
        return doc["effects"], markers

    with fake_clock() as clock:
        timely = ReportPdca(make_desk(tmp_path / "timely"), clock)
        drive_desk(timely)
        late = ReportPdca(make_desk(tmp_path / "late"), clock)
        late("run", "--as-of", "2026-01-05", at="2026-01-05T08:00:00.000Z")
        late("task", "done", "analyse", "--by", "aisha", "--on", "2026-01-07",
             at="2026-01-09T08:00:00.000Z")  # fmt: skip
        late("run", "--as-of", "2026-01-09", at="2026-01-09T09:00:00.000Z")
        for args in (
            ("done", "coach", "--by", "tom", "--on", "2026-01-12"),
            ("block", "staff", "--by", "aisha", "--note", "rota tool down", "--on", "2026-01-16"),
            ("reopen", "staff", "--by", "tom", "--on", "2026-01-19"),
            ("done", "staff", "--by", "tom", "--on", "2026-01-19"),
        ):  # all entered on 2026-02-27, weeks after they happened
            late("task", *args, at="2026-02-27T17:00:00.000Z")
        late("run", "--as-of", "2026-03-01", at="2026-03-02T08:00:00.000Z")
        late("task", "done", "review", "--by", "maria", at="2026-03-03T10:00:00.000Z")
        late("run", "--as-of", "2026-03-01", at="2026-03-03T10:05:00.000Z")
        for oid, decision, by in (("happy", "standardize", "maria"), ("fast", "adjust", "tom")):
            late("act", oid, "--decision", decision, "--by", by, "--note", "n",
                 at="2026-03-04T15:00:00.000Z")  # fmt: skip
        late("task", "done", "standardise", "--by", "aisha", at="2026-03-05T09:00:00.000Z")
        late("task", "done", "second-slot", "--by", "tom", at="2026-03-05T09:10:00.000Z")
        late("run", "--as-of", "2026-03-05", at="2026-03-05T09:30:00.000Z")
        got, want = effects(late), effects(timely)
    assert got == want
    completed = {e["task"]: e["completed"] for e in got[0]}  # type: ignore[index]
    assert completed == {"coach": "2026-01-12", "staff": "2026-01-19"}
