"""The cycle rules as pure functions: a State in, a Draft's changes out; no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pdca.engine import transitions as tr
from pdca.engine.review import review
from pdca.playbook.model import Action, Cycle, Metric, Objective, Owner, Playbook, Task, When
from pdca.state.model import Lesson, Snapshot, State

NOW = "2026-01-05T09:00:00Z"
LATER = "2026-01-06T10:00:00Z"

OWNERS = {
    "maria": Owner("maria", "Maria"),
    "tom": Owner("tom", "Tom"),
    "aisha": Owner("aisha", "Aisha"),
    "lena": Owner("lena", "Lena"),
    "ops": Owner("ops", "Ops", members=("tom", "aisha")),
}
METRICS = {
    "nps": Metric("nps", "surveys", "nps", target=30, warn=20, baseline=12),
    "wait": Metric("wait", "tickets", "median", target=10, baseline=20, direction="decrease"),
}
OBJECTIVES = {
    "loyal": Objective("loyal", "Customers recommend us", owner="maria", metrics=("nps",)),
    "fast": Objective("fast", "Fast answers", owner="ops", metrics=("wait",)),
}


def task(tid: str, owner: str = "tom", phase: str = "do", **kw: Any) -> Task:
    return Task(tid, tid.title(), owner, phase=phase, **kw)


def playbook(*tasks: Task, **kw: Any) -> Playbook:
    return Playbook(
        id="demo",
        title="Demo",
        path=Path("/pb/playbook.yaml"),
        owners=OWNERS,
        metrics=kw.pop("metrics", METRICS),
        objectives=kw.pop("objectives", OBJECTIVES),
        tasks={t.id: t for t in tasks},
        **kw,
    )


def snapshot(**values: tuple[float | None, str]) -> Snapshot:
    return Snapshot(
        NOW,
        "2026-03-30",
        {"metrics": {m: {"value": v, "status": st} for m, (v, st) in values.items()}},
    )


BASIC = playbook(
    task("survey", phase="plan", owner="aisha"),
    task("analyse", phase="plan", owner="aisha", depends_on=("survey",)),
    task("coach", owner="tom", depends_on=("analyse",), objective="loyal"),
    task("staff", owner="ops", objective="fast"),
    task("review", owner="maria", phase="check", depends_on=("coach",)),
    task("standardise", owner="maria", phase="act", when=When("nps", ("met",))),
    task("second-slot", owner="tom", phase="act", when=When("wait", ("at_risk", "off_track"))),
)


def advanced(pb: Playbook, state: State | None = None, now: str = NOW) -> tr.Draft:
    d = tr.Draft(state or State(pb.id), now)
    tr.reconcile(pb, d)
    d.why = tr.advance(pb, d)  # type: ignore[attr-defined]
    return d


def commit(d: tr.Draft) -> State:
    """The state the store would read back after writing the draft's changes."""
    assert d.cycle is not None
    cycles = {c.number: c for c in d.state.cycles}
    cycles.update(d.changes.cycles)
    return State(
        playbook=d.state.playbook,
        cycle=d.cycle,
        tasks=dict(d.tasks),
        running=dict(d.running),
        baselines=dict(d.baselines),
        baseline_origins=dict(d.origins),
        snapshot=d.snapshot,
        decisions=dict(d.decisions),
        cycles=tuple(cycles[n] for n in sorted(cycles)),
    )


def statuses(d: tr.Draft) -> dict[str, str]:
    return {tid: row.status for tid, row in d.tasks.items() if not row.archived}


def events(d: tr.Draft, kind: str) -> list[tuple[Any, ...]]:
    return [(e.subject, e.old, e.new) for e in d.changes.events if e.kind == kind]


def with_status(state: State, **new: str) -> State:
    tasks = dict(state.tasks)
    for tid, status in new.items():
        tasks[tid.replace("_", "-")] = replace(tasks[tid.replace("_", "-")], status=status)
    return replace(state, tasks=tasks)


# -- opening and readiness ----------------------------------------------------------------


def test_first_advance_opens_cycle_1_with_plan_tasks_ready_and_playbook_baselines() -> None:
    d = advanced(BASIC)
    assert d.why == "work"
    assert d.cycle is not None and (d.cycle.number, d.cycle.phase) == (1, "plan")
    assert statuses(d) == {
        "survey": "ready",
        "analyse": "pending",
        "coach": "pending",
        "staff": "pending",
        "review": "pending",
        "standardise": "pending",
        "second-slot": "pending",
    }
    assert d.baselines == {"nps": 12, "wait": 20}
    assert set(d.origins.values()) == {"playbook"}
    kinds = [e.kind for e in d.changes.events]
    assert kinds[:2] == ["cycle_opened", "phase_changed"]
    assert events(d, "task_changed") == [("survey", "pending", "ready")]
    # every task row is written for cycle 1
    assert {key for key in d.changes.tasks} == {(1, t) for t in BASIC.tasks}


def test_task_is_ready_only_when_its_phase_is_reached_and_dependencies_done_or_skipped() -> None:
    state = commit(advanced(BASIC))
    d = tr.Draft(with_status(state, survey="skipped"), LATER)
    tr.reconcile(BASIC, d)
    assert d.tasks["analyse"].status == "ready"  # its dependency was skipped
    assert d.tasks["staff"].status == "pending"  # no dependency, but the do phase is not reached
    assert tr.why_waiting(BASIC, d, "staff") == (
        "it belongs to the do phase and cycle 1 is in plan"
    )
    assert (
        tr.why_waiting(BASIC, d, "review") == "it belongs to the check phase and cycle 1 is in plan"
    )


def test_phases_advance_when_complete_and_do_stops_for_measuring() -> None:
    state = commit(advanced(BASIC))
    d = advanced(BASIC, with_status(state, survey="done", analyse="done"), LATER)
    assert d.cycle is not None and d.cycle.phase == "do"
    assert d.why == "work"
    assert statuses(d)["coach"] == "ready" and statuses(d)["staff"] == "ready"
    assert events(d, "phase_changed") == [(None, "plan", "do")]
    d2 = advanced(BASIC, with_status(commit(d), coach="done", staff="skipped"), LATER)
    assert d2.why == "measure"
    assert d2.cycle is not None and d2.cycle.phase == "do"  # check needs the snapshot first


def test_reopened_earlier_work_holds_the_phase_back() -> None:
    state = commit(advanced(BASIC))
    state = commit(advanced(BASIC, with_status(state, survey="done", analyse="done")))
    state = with_status(state, coach="done", staff="done", analyse="pending")
    d = advanced(BASIC, state, LATER)
    assert d.why == "work"
    assert tr.open_work(BASIC, d) == ["analyse"]


def _at_do_complete() -> State:
    state = commit(advanced(BASIC))
    state = commit(advanced(BASIC, with_status(state, survey="done", analyse="done")))
    return with_status(state, coach="done", staff="done")


def test_enter_check_stores_snapshot_and_readies_check_tasks() -> None:
    d = advanced(BASIC, _at_do_complete(), LATER)
    report = {"metrics": {"nps": {"value": 33.0, "status": "met"}}}
    assert tr.enter_check(BASIC, d, report, date(2026, 3, 30)) is True
    assert d.cycle is not None and d.cycle.phase == "check"
    assert d.changes.snapshot is not None
    number, snap = d.changes.snapshot
    assert (
        number == 1
        and snap.as_of == "2026-03-30"
        and snap.report["metrics"]["nps"]["value"] == 33.0
    )
    assert statuses(d)["review"] == "ready"


def test_enter_check_refuses_when_the_cycle_moved_while_measuring() -> None:
    state = _at_do_complete()
    d = tr.Draft(with_status(state, coach="ready"), LATER)  # someone reopened coach meanwhile
    assert tr.enter_check(BASIC, d, {"metrics": {}}, date(2026, 3, 30)) is False
    assert not d.changes


def _at_check(nps: tuple[float | None, str], wait: tuple[float | None, str]) -> State:
    d = advanced(BASIC, _at_do_complete(), LATER)
    tr.enter_check(BASIC, d, snapshot(nps=nps, wait=wait).report, date(2026, 3, 30))
    return with_status(commit(d), review="done")


def test_entering_act_skips_tasks_whose_when_is_false_and_proposes_decisions() -> None:
    d = advanced(BASIC, _at_check(nps=(33.0, "met"), wait=(12.0, "met")), LATER)
    assert d.cycle is not None and d.cycle.phase == "act"
    st = statuses(d)
    assert st["standardise"] == "ready"  # nps is met
    assert st["second-slot"] == "skipped"  # wait is met, the task wanted at_risk/off_track
    assert d.tasks["second-slot"].note == "when: wait is met, not at_risk or off_track"
    # a skipped task is never announced as ready first
    assert ("second-slot", "pending", "ready") not in events(d, "task_changed")
    assert {o: (x.status, x.proposed, x.decision) for o, x in d.decisions.items()} == {
        "loyal": ("met", "standardize", None),
        "fast": ("met", "standardize", None),
    }
    assert d.why == "work"


def test_at_risk_objective_is_proposed_adjust_and_cycle_waits_for_decisions() -> None:
    state = _at_check(nps=(25.6, "at_risk"), wait=(9.0, "met"))
    d = advanced(BASIC, state, LATER)
    assert d.decisions["loyal"].proposed == "adjust"
    assert d.decisions["fast"].proposed == "standardize"
    state = with_status(commit(d), standardise="skipped", second_slot="skipped")
    d = advanced(BASIC, state, LATER)
    assert d.why == "decide"
    assert tr.undecided(BASIC, d) == ["loyal", "fast"]


def _decided(state: State, **decisions: str) -> State:
    d = tr.Draft(state, LATER)
    for oid, decision in decisions.items():
        by = "maria" if oid == "loyal" else "tom"
        tr.decide(BASIC, d, oid, decision, by, f"{oid} lesson")
    return commit(d)


def test_adjust_closes_the_cycle_and_opens_the_next_with_ratcheted_baselines() -> None:
    d = advanced(BASIC, _at_check(nps=(25.6, "at_risk"), wait=(None, "no_data")), LATER)
    state = with_status(commit(d), standardise="done", second_slot="done")
    state = _decided(state, loyal="adjust", fast="standardize")
    d = advanced(BASIC, state, "2026-04-01T08:00:00Z")
    assert d.cycle is not None and (d.cycle.number, d.cycle.phase) == (2, "plan")
    assert d.changes.cycles[1].phase == "closed" and d.changes.cycles[1].closed is not None
    # nps ratchets to the value measured at check; wait had no value and keeps its baseline
    assert d.baselines == {"nps": 25.6, "wait": 20}
    assert d.origins == {"nps": "cycle 1", "wait": "playbook"}
    assert statuses(d)["survey"] == "ready" and statuses(d)["coach"] == "pending"
    assert (2, "survey") in d.changes.tasks and d.decisions == {} and d.snapshot is None
    opened = [e for e in d.changes.events if e.kind == "cycle_opened"]
    assert opened[0].cycle == 2 and opened[0].data["ratcheted"] == 1


def test_cycle_closes_without_a_next_one_when_nothing_is_adjusted() -> None:
    d = advanced(BASIC, _at_check(nps=(33.0, "met"), wait=(9.0, "met")), LATER)
    state = with_status(commit(d), standardise="done")
    state = _decided(state, loyal="standardize", fast="abandon")
    d = advanced(BASIC, state, LATER)
    assert d.why == "finished"
    assert d.cycle is not None and d.cycle.phase == "closed" and d.cycle.number == 1
    with pytest.raises(tr.CycleError, match="cycle 1 is closed"):
        tr.person(BASIC, d, "done", "survey", "aisha", None)


def test_open_act_tasks_keep_the_cycle_open_even_when_everything_is_decided() -> None:
    d = advanced(BASIC, _at_check(nps=(33.0, "met"), wait=(9.0, "met")), LATER)
    state = _decided(commit(d), loyal="standardize", fast="standardize")
    d = advanced(BASIC, state, LATER)
    assert d.why == "work" and tr.open_work(BASIC, d) == ["standardise"]


# -- people ---------------------------------------------------------------------------


def _plan_state(**new: str) -> State:
    return with_status(commit(advanced(BASIC)), **new)


def test_start_then_done_then_dependents_become_ready() -> None:
    d = tr.Draft(_plan_state(), LATER)
    tr.person(BASIC, d, "start", "survey", "aisha", None)
    assert d.tasks["survey"].status == "in_progress" and d.tasks["survey"].by == "aisha"
    tr.person(BASIC, d, "done", "survey", "aisha", "200 answers")
    assert d.tasks["survey"].status == "done" and d.tasks["survey"].note == "200 answers"
    assert d.tasks["analyse"].status == "ready"
    assert [(e.subject, e.old, e.new, e.by) for e in d.changes.events] == [
        ("survey", "ready", "in_progress", "aisha"),
        ("survey", "in_progress", "done", "aisha"),
        ("analyse", "pending", "ready", None),
    ]


@pytest.mark.parametrize(
    ("action", "tid", "setup", "message"),
    [
        (
            "start",
            "analyse",
            {},
            "cannot start task 'analyse': it is pending (it waits for survey (ready))",
        ),
        ("start", "survey", {"survey": "in_progress"}, "already in progress"),
        ("done", "survey", {"survey": "done"}, "already done"),
        ("done", "survey", {"survey": "blocked"}, "it is blocked"),
        ("block", "survey", {"survey": "done"}, "cannot block task 'survey'"),
        ("reopen", "survey", {}, "task 'survey' is ready; only done, blocked, failed or skipped"),
    ],
)
def test_transitions_that_make_no_sense_are_refused(
    action: str, tid: str, setup: dict[str, str], message: str
) -> None:
    d = tr.Draft(_plan_state(**setup), LATER)
    with pytest.raises(tr.CycleError) as err:
        tr.person(BASIC, d, action, tid, "aisha", "why")
    assert message in str(err.value)
    assert not d.changes.events


def test_block_needs_a_reason_and_can_block_pending_work() -> None:
    d = tr.Draft(_plan_state(), LATER)
    with pytest.raises(tr.CycleError, match="needs --note"):
        tr.person(BASIC, d, "block", "analyse", "aisha", "  ")
    tr.person(BASIC, d, "block", "analyse", "aisha", "survey tool down")
    assert d.tasks["analyse"].status == "blocked" and d.tasks["analyse"].note == "survey tool down"


def test_reopen_returns_to_ready_and_puts_ready_dependents_back_to_pending() -> None:
    d = tr.Draft(_plan_state(survey="done", analyse="ready"), LATER)
    redo = tr.person(BASIC, d, "reopen", "survey", "aisha", "sample was biased")
    assert d.tasks["survey"].status == "ready"
    assert d.tasks["analyse"].status == "pending"
    assert d.tasks["analyse"].note == "it waits for survey (ready)"
    assert redo == []


def test_reopen_of_a_failed_task_resets_its_failures_and_names_done_downstream() -> None:
    state = _plan_state(survey="failed", analyse="done")
    state = replace(
        state, tasks={**state.tasks, "survey": replace(state.tasks["survey"], failures=3)}
    )
    d = tr.Draft(state, LATER)
    redo = tr.person(BASIC, d, "reopen", "survey", "aisha", None)
    assert d.tasks["survey"].status == "ready" and d.tasks["survey"].failures == 0
    assert redo == ["analyse"]  # left done; the output tells people to look at it
    assert d.tasks["analyse"].status == "done"


def test_reopen_goes_to_pending_when_dependencies_are_not_done() -> None:
    d = tr.Draft(_plan_state(analyse="blocked"), LATER)
    tr.person(BASIC, d, "reopen", "analyse", "aisha", "tool is back")
    assert d.tasks["analyse"].status == "pending"


@pytest.mark.parametrize(
    ("by", "allowed"),
    [("tom", True), ("aisha", True), ("maria", False), ("lena", False)],
)
def test_team_tasks_may_be_changed_by_members(by: str, allowed: bool) -> None:
    state = with_status(commit(advanced(BASIC)), survey="done", analyse="done")
    d = advanced(BASIC, state, LATER)  # now in do; staff (team ops) is ready
    if allowed:
        tr.person(BASIC, d, "start", "staff", by, None)
        assert d.tasks["staff"].status == "in_progress"
    else:
        with pytest.raises(tr.CycleError, match=f"{by} may not change task 'staff'"):
            tr.person(BASIC, d, "start", "staff", by, None)


def test_the_objective_owner_may_act_on_its_tasks() -> None:
    state = with_status(commit(advanced(BASIC)), survey="done", analyse="done")
    d = advanced(BASIC, state, LATER)
    tr.person(BASIC, d, "done", "coach", "maria", "done in the team meeting")  # coach -> loyal
    assert d.tasks["coach"].status == "done" and d.tasks["coach"].by == "maria"


def test_unknown_people_and_teams_cannot_act() -> None:
    d = tr.Draft(_plan_state(), LATER)
    with pytest.raises(tr.CycleError, match="unknown owner 'aisah'; did you mean 'aisha'"):
        tr.person(BASIC, d, "start", "survey", "aisah", None)
    with pytest.raises(tr.CycleError, match="'ops' is a team"):
        tr.person(BASIC, d, "start", "survey", "ops", None)
    with pytest.raises(tr.CycleError, match="no task 'survy' in playbook 'demo'; did you mean"):
        tr.person(BASIC, d, "start", "survy", "aisha", None)


def test_decisions_only_in_act_by_the_objective_owner_with_a_note() -> None:
    d = tr.Draft(_plan_state(), LATER)
    with pytest.raises(tr.CycleError, match="act phase; cycle 1 is in plan"):
        tr.decide(BASIC, d, "loyal", "adjust", "maria", "x")
    d = advanced(BASIC, _at_check(nps=(25.6, "at_risk"), wait=(9.0, "met")), LATER)
    with pytest.raises(tr.CycleError, match=r"no objective 'loyl'.*did you mean 'loyal'"):
        tr.decide(BASIC, d, "loyl", "adjust", "maria", "x")
    with pytest.raises(tr.CycleError, match="tom may not change the decision on objective 'loyal'"):
        tr.decide(BASIC, d, "loyal", "adjust", "tom", "x")
    with pytest.raises(tr.CycleError, match="needs --note"):
        tr.decide(BASIC, d, "loyal", "adjust", "maria", "")
    assert tr.decide(BASIC, d, "loyal", "adjust", "maria", "coaching too short") is None
    previous = tr.decide(BASIC, d, "loyal", "abandon", "maria", "customers do not care")
    assert previous is not None and previous.decision == "adjust"
    taken = [(e.old, e.new, e.by) for e in d.changes.events if e.kind == "decision_taken"]
    assert taken == [(None, "adjust", "maria"), ("adjust", "abandon", "maria")]
    assert d.decisions["loyal"].proposed == "adjust" and d.decisions["loyal"].decision == "abandon"


# -- playbook edits ---------------------------------------------------------------------


def test_edits_new_tasks_join_removed_are_archived_and_come_back() -> None:
    state = commit(advanced(BASIC))
    edited = playbook(
        *[t for t in BASIC.tasks.values() if t.id != "staff"],
        task("interview", phase="plan", owner="lena"),
        replace(BASIC.tasks["coach"], owner="aisha"),
    )
    d = tr.Draft(state, LATER)
    tr.reconcile(edited, d)
    assert d.tasks["interview"].status == "ready"
    assert d.tasks["staff"].archived and d.tasks["staff"].status == "pending"
    assert d.tasks["coach"].owner == "aisha"
    kinds = {(e.kind, e.subject) for e in d.changes.events}
    assert {
        ("task_added", "interview"),
        ("task_archived", "staff"),
        ("task_edited", "coach"),
    } <= kinds
    d2 = tr.Draft(commit(d), LATER)
    tr.reconcile(BASIC, d2)
    assert (
        not d2.tasks["staff"].archived
        and "interview" in d2.tasks
        and d2.tasks["interview"].archived
    )


def test_a_task_added_during_act_has_its_when_evaluated_at_once() -> None:
    d = advanced(BASIC, _at_check(nps=(25.6, "at_risk"), wait=(9.0, "met")), LATER)
    edited = playbook(
        *BASIC.tasks.values(),
        task("celebrate", owner="maria", phase="act", when=When("nps", ("met",))),
    )
    d2 = tr.Draft(commit(d), LATER)
    tr.reconcile(edited, d2)
    assert d2.tasks["celebrate"].status == "skipped"


# -- automated tasks ----------------------------------------------------------------------

AUTO = playbook(
    task("export", phase="plan", retries=1, action=Action("shell", {"command": "x"})),
    task("analyse", phase="plan", depends_on=("export",)),
)


def test_attempt_success_marks_done_and_readies_dependents() -> None:
    d = advanced(AUTO)
    assert tr.next_automated(AUTO, d) == "export"
    attempt = tr.start_attempt(AUTO, d, "export", "host-a", 4242)
    assert d.tasks["export"].status == "in_progress" and d.running["export"] == attempt
    assert attempt.number == 1 and d.tasks["export"].attempts == 1
    new = tr.finish_attempt(
        AUTO, d, "export", 1, ok=True, exit_code=0, output="12 rows", duration=0.5, error=None
    )
    assert new == "done" and d.tasks["analyse"].status == "ready"
    recorded = d.changes.attempts[(1, "export", 1)]
    assert (recorded.outcome, recorded.exit_code, recorded.output) == ("ok", 0, "12 rows")


def test_failures_are_retried_then_the_task_fails_and_dependents_wait() -> None:
    d = advanced(AUTO)
    tr.start_attempt(AUTO, d, "export", "h", 1)
    first = tr.finish_attempt(
        AUTO, d, "export", 1, ok=False, exit_code=2, output="", duration=0.1, error="exit status 2"
    )
    assert first == "ready"  # retries: 1
    assert tr.next_automated(AUTO, d) == "export"
    tr.start_attempt(AUTO, d, "export", "h", 1)
    second = tr.finish_attempt(
        AUTO, d, "export", 2, ok=False, exit_code=2, output="", duration=0.1, error="exit status 2"
    )
    assert second == "failed" and d.tasks["export"].failures == 2
    assert d.tasks["analyse"].status == "pending"
    assert tr.next_automated(AUTO, d) is None


def test_interrupted_attempt_runs_again_without_using_a_retry() -> None:
    d = advanced(AUTO)
    tr.start_attempt(AUTO, d, "export", "h", 1)
    d2 = tr.Draft(commit(d), LATER)
    gone = tr.interrupt_stale(d2, lambda a: True)
    assert [a.number for a in gone] == [1]
    assert d2.tasks["export"].status == "ready" and d2.tasks["export"].failures == 0
    assert d2.changes.attempts[(1, "export", 1)].outcome == "interrupted"
    again = tr.start_attempt(AUTO, d2, "export", "h", 2)
    assert again.number == 2
    # the first runner, had it survived, could no longer record over the second
    assert (
        tr.finish_attempt(
            AUTO, d2, "export", 1, ok=True, exit_code=0, output="", duration=1, error=None
        )
        is None
    )


def test_attempts_that_are_alive_are_left_alone() -> None:
    d = advanced(AUTO)
    tr.start_attempt(AUTO, d, "export", "h", 1)
    d2 = tr.Draft(commit(d), LATER)
    assert tr.interrupt_stale(d2, lambda a: False) == []
    assert not d2.changes


# -- due dates and review -------------------------------------------------------------------


def test_due_dates_shift_by_the_cycle_length_in_later_cycles() -> None:
    pb = playbook(task("a", due=date(2026, 1, 30)), cycle=Cycle(date(2026, 1, 5), 90))
    assert tr.effective_due(pb, pb.tasks["a"], 1) == date(2026, 1, 30)
    assert tr.effective_due(pb, pb.tasks["a"], 2) == date(2026, 4, 30)  # +90 days
    assert tr.effective_due(pb, pb.tasks["a"], 3) == date(2026, 7, 29)  # +180 days
    no_length = playbook(task("a", due=date(2026, 1, 30)))
    assert tr.effective_due(no_length, no_length.tasks["a"], 3) == date(2026, 1, 30)


def test_a_late_cycle_keeps_each_due_date_offset_from_its_actual_start() -> None:
    # cycle 1 planned from 2026-01-05; cycle 2 opened late, on 2026-04-24 (+109 days):
    # a task due 9 days into cycle 1 is due 9 days into cycle 2, not already overdue
    pb = playbook(task("a", due=date(2026, 1, 14)), cycle=Cycle(date(2026, 1, 5), 90))
    assert tr.effective_due(pb, pb.tasks["a"], 2, date(2026, 4, 24)) == date(2026, 5, 3)
    assert tr.effective_due(pb, pb.tasks["a"], 1, date(2026, 4, 24)) == date(2026, 1, 14)


def test_review_ranks_overdue_first_then_due_then_downstream_work() -> None:
    pb = playbook(
        task("root", owner="tom", due=date(2026, 2, 1)),
        task("mid", owner="tom", depends_on=("root",)),
        task("leaf", owner="tom", depends_on=("mid",)),
        task("late", owner="tom", due=date(2026, 1, 10)),
        task("free", owner="tom"),
        task("other", owner="aisha", due=date(2026, 1, 20)),
        task("no-due-blocker", owner="aisha"),
        task("after", owner="aisha", depends_on=("no-due-blocker",)),
    )
    state = commit(advanced(pb))
    state = commit(advanced(pb, state))  # plan has no tasks: now in do
    report = review(pb, state, date(2026, 1, 15))
    assert report["cycle"]["phase"] == "do"
    assert report["tasks"]["late"]["overdue"] is True
    assert report["tasks"]["root"]["overdue"] is False
    assert report["tasks"]["root"]["blocks"] == 2 and report["tasks"]["mid"]["blocks"] == 1
    # aisha's most urgent task is due before tom's first non-overdue one, but tom has an
    # overdue task, so tom comes first
    assert list(report["attention"]) == ["tom", "aisha"]
    assert report["attention"]["tom"] == ["late", "root", "free"]
    assert report["attention"]["aisha"] == ["other", "no-due-blocker"]
    assert report["metrics"]["nps"]["status"] == "not_measured"
    assert report["objectives"]["loyal"]["status"] == "not_measured"


def test_review_shows_snapshot_values_ratcheted_baselines_and_lessons() -> None:
    d = advanced(BASIC, _at_check(nps=(25.6, "at_risk"), wait=(None, "no_data")), LATER)
    state = with_status(commit(d), standardise="done", second_slot="done")
    state = _decided(state, loyal="adjust", fast="standardize")
    state = commit(advanced(BASIC, state, "2026-04-01T08:00:00Z"))
    lessons = (Lesson(1, "loyal", "adjust", "loyal lesson", "maria", LATER),)
    report = review(BASIC, replace(state, lessons=lessons), date(2026, 4, 2))
    assert report["cycle"]["number"] == 2
    assert report["metrics"]["nps"]["value"] is None  # cycle 2 has not been measured
    assert report["metrics"]["nps"]["baseline"] == 25.6
    assert report["metrics"]["nps"]["baseline_from"] == "cycle 1"
    assert report["lessons"][0]["note"] == "loyal lesson"
    # the cycle-1 snapshot still shows in cycle 1's check
    d = advanced(BASIC, _at_do_complete(), LATER)
    tr.enter_check(
        BASIC, d, snapshot(nps=(25.6, "at_risk"), wait=(9.0, "met")).report, date(2026, 3, 30)
    )
    report = review(BASIC, commit(d), date(2026, 4, 2))
    assert report["metrics"]["nps"]["value"] == 25.6
    assert report["metrics"]["nps"]["status"] == "at_risk"
    assert report["objectives"]["loyal"]["status"] == "at_risk"


def test_review_trend_is_the_direction_check_read() -> None:
    """One trend: status and reports say what Check's trend test said (its slope over the
    complete periods and its p-value), never a second reading of a shorter window."""
    from pdca.engine.review import check_trend

    improving = {"slope": 1.71, "p_value": 0.0009, "significant": True, "direction": "improving"}
    assert check_trend({"trend": improving}) == "improving"
    assert check_trend({"trend": {**improving, "direction": "worsening"}}) == "worsening"
    assert check_trend({"trend": {"significant": False, "direction": "flat"}}) == "flat"
    assert check_trend({"trend": None}) is None  # too few periods for Check
    assert check_trend({"status": "error"}) is None and check_trend(None) is None
    assert check_trend({"trend": {"direction": "<b>up</b>"}}) is None  # only the three words


def test_planned_start_of_later_cycles_in_data_time() -> None:
    pb = playbook(task("a"), cycle=Cycle(date(2026, 1, 5), 90))
    assert tr.planned_start(pb, 1) == date(2026, 1, 5)
    assert tr.planned_start(pb, 3) == date(2026, 7, 4)  # + 180 days
    assert tr.planned_start(playbook(task("a")), 2) is None
