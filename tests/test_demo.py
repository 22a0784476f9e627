"""``pdca demo``: the README's first command, end to end on the bundled example.

Most tests read one folder the demo ran in twice, as ``make demo`` twice in a
row does: the second run must start over, so everything below holds for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pdca.check.measure import check
from pdca.cli import cli
from pdca.examples.demo_team import LESSONS, NOTES
from pdca.playbook import load_checked

OBJECTIVES = ("loyal-customers", "fast-first-response", "right-first-time")


@dataclass(frozen=True)
class Twice:
    folder: Path
    first: Result
    second: Result

    @property
    def playbook(self) -> Path:
        return self.folder / "playbook.yaml"

    def pdca(self, *args: str) -> Result:
        result = CliRunner().invoke(cli, [args[0], str(self.playbook), *args[1:]])
        assert result.exit_code == 0, result.output
        return result


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> Twice:
    folder = tmp_path_factory.mktemp("make-demo") / "pdca-demo"
    first = CliRunner().invoke(cli, ["demo", str(folder)])
    assert first.exit_code == 0, first.output
    (folder / "my-notes.txt").write_text("mine\n")  # not the demo's: must survive
    second = CliRunner().invoke(cli, ["demo", str(folder)])
    assert second.exit_code == 0, second.output
    return Twice(folder, first, second)


def test_demo_runs_a_full_cycle_and_opens_the_next(twice: Twice) -> None:
    folder = twice.folder
    assert (folder / "playbook.yaml").is_file()
    assert (folder / "data" / "surveys.csv").is_file()
    assert (folder / ".pdca" / "state.db").is_file()
    assert (folder / "report.html").is_file() and (folder / "report.md").is_file()
    assert f"Everything is in {folder.resolve()}" in twice.second.output

    report = json.loads(twice.pdca("status", "--format", "json", "--as-of", "2026-04-24").output)
    assert report["cycle"]["number"] == 2
    assert report["cycle"]["phase"] == "plan"
    # every objective was decided in cycle 1, once, and each note became a lesson
    assert sorted((x["cycle"], x["objective"]) for x in report["lessons"]) == sorted(
        (1, oid) for oid in OBJECTIVES
    )
    # the ratchet: cycle 2's baselines are the values measured at Check (as of 2026-03-30)
    inspection = load_checked(twice.playbook)
    measured = check(inspection.playbook, inspection.registry, date(2026, 3, 30))
    for mid, metric in report["metrics"].items():
        assert metric["baseline"] == measured["metrics"][mid]["value"], mid
        assert metric["baseline_from"] == "cycle 1"
    # cycle 2's first tasks are not overdue the day the cycle opens
    assert not any(t["overdue"] for t in report["tasks"].values())


def test_the_second_run_starts_over_and_keeps_other_files(twice: Twice) -> None:
    assert "starting over" not in twice.first.output
    assert "starting over: removed the earlier demo's" in twice.second.output
    assert (twice.folder / "my-notes.txt").read_text() == "mine\n"
    history = json.loads(twice.pdca("history", "--format", "json").output)
    assert [c["number"] for c in history["cycles"]] == [1, 2]  # not 1, 2, 3, 4
    assert history["cycles"][0]["started"].startswith("2026-01-05")
    # one run of the cycle: the automated export ran once per cycle, not once per demo
    assert [(a["cycle"], a["task"]) for a in history["attempts"]] == [
        (1, "export-detractor-comments"),
        (2, "export-detractor-comments"),
    ]


def test_no_event_is_dated_before_its_cycle_opened(twice: Twice) -> None:
    history = json.loads(twice.pdca("history", "--format", "json").output)
    opened = {c["number"]: c["started"] for c in history["cycles"]}
    early = [e for e in history["events"] if e["cycle"] and e["at"] < opened[e["cycle"]]]
    assert early == []
    stamps = [e["at"] for e in history["events"]]
    assert stamps == sorted(stamps)  # and the log reads in order


def test_the_end_shows_what_cycle_1_achieved(twice: Twice) -> None:
    out = twice.second.output
    achieved = out[out.index("WHAT CYCLE 1 ACHIEVED") : out.index("CYCLE 2 IS OPEN")]
    assert "Check measured the data as of 2026-03-30" in achieved
    # each objective with its verdict and decision, and every metric with a value
    for title, verdict in (
        ("Customers recommend us (Maria Lopez)", "at risk"),
        ("Nobody waits long for a first answer (Support operations)", "at risk"),
        ("Solved on first contact, with little effort (Aisha Khan)", "off track"),
    ):
        block = achieved[achieved.index(title) :]
        assert block.splitlines()[1].split() == [
            "verdict:",
            *verdict.split(),
            "decision:",
            "adjust",
            "(by",
            "aisha)" if "Aisha" in title else "maria)",
        ]
    assert "not measured yet" not in achieved
    nps = next(line.split() for line in achieved.splitlines() if line.strip().startswith("nps "))
    assert nps == ["nps", "12", "33.0", "30", "met", "improved"]
    effort = next(
        line.split() for line in achieved.splitlines() if line.strip().startswith("effort ")
    )
    # effort drifts by noise around 3.4-3.5: off track, but no sustained change either way
    assert effort == ["effort", "3.40", "3.50", "3", "off", "track", "no", "signal"]
    # the countermeasures' before/after, as the report computes it
    assert "COUNTERMEASURES AND THEIR EFFECT" in achieved
    assert "nps                      11.8 -> 37.8     improved, signal from 2026-02-02" in achieved
    # the two fast-first-response changes went live the same day: shown together, once
    assert achieved.count("email_first_response    231.5 -> 113.0") == 1
    assert "  + Morning email triage rota" in achieved
    # and then where cycle 2 starts
    tail = out[out.index("CYCLE 2 IS OPEN") :]
    assert "baselines ratcheted from cycle 1" in tail
    assert "- lena: start pareto-contact-reasons" in tail


def test_lessons_differ_per_objective_and_carry_the_numbers(twice: Twice) -> None:
    report = json.loads(twice.pdca("status", "--format", "json").output)
    notes = {x["objective"]: x["note"] for x in report["lessons"]}
    assert len(set(notes.values())) == len(OBJECTIVES)
    for oid in OBJECTIVES:
        assert notes[oid].startswith(LESSONS[oid]["adjust"])
    assert notes["loyal-customers"].endswith(
        "At Check: NPS 33.0 (target 30, met), CSAT 82.2 (target 85, at risk)."
    )
    assert "customer effort 3.5 (target 3, off track)" in notes["right-first-time"]


def test_task_notes_read_as_the_team_wrote_them(twice: Twice) -> None:
    history = json.loads(twice.pdca("history", "--format", "json").output)
    done = {
        e["subject"]: e["note"]
        for e in history["events"]
        if e["kind"] == "task_changed" and e["new"] == "done" and e["by"] and e["cycle"] == 1
    }
    assert set(done) == set(NOTES) | {"review-control-charts"}
    for tid, note in NOTES.items():
        assert done[tid] == note
    # proper nouns as written, not lowercased or title-cased from the task titles
    text = " ".join(done.values())
    for name in ("Erlang C", "QA", "Aisha", "Q1", "SERVQUAL", "NPS"):
        assert name in text, name
    assert "erlang c" not in text and "qa calibration" not in text
    assert not any(note.startswith("Done:") for note in done.values())
    # the chart review says what the charts showed at Check
    assert done["review-control-charts"] == (
        "Control charts reviewed with the team: NPS, CSAT, email first response, emails "
        "answered within 4 hours, chat wait and first-contact resolution improved; customer "
        "effort showed no signal; the SERVQUAL gap had too few periods for a verdict."
    )


def test_demo_history_tells_the_story(twice: Twice) -> None:
    text = twice.pdca("history", "--format", "json").output
    # the automated export ran, people finished tasks, Check measured, Act decided
    for fragment in ("export-detractor-comments", "empathy-coaching", "check", "decision"):
        assert fragment in text


def test_a_folder_with_an_edited_playbook_is_refused_with_the_way_to_start_over(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "pdca-demo"
    folder.mkdir()
    (folder / "playbook.yaml").write_text("playbook: mine\ntitle: My own\n")
    result = CliRunner().invoke(cli, ["demo", str(folder)])
    assert result.exit_code == 1
    assert "its playbook.yaml is not the example's" in result.output
    assert f"rm -rf {folder} && pdca demo {folder}" in result.output
    assert "Traceback" not in result.output
    assert (folder / "playbook.yaml").read_text() == "playbook: mine\ntitle: My own\n"
    assert sorted(p.name for p in folder.iterdir()) == ["playbook.yaml"]


def test_a_folder_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "file" / "demo")])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot create the demo folder")
