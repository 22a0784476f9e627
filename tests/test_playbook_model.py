"""What a valid playbook means once loaded: the model the rest of pdca reads."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from pdca import load_playbook
from pdca.errors import PlaybookError
from pdca.playbook.build import parse_duration

FULL = Path(__file__).parent / "data" / "playbooks" / "valid" / "full.yaml"


@pytest.fixture(scope="module")
def full():
    return load_playbook(FULL)


def test_top_level(full) -> None:
    assert full.id == "service-desk-q1"
    assert full.title == "Service desk excellence"
    assert full.description == "Raise NPS and cut first-response time on the email channel.\n"
    assert full.cycle.start == date(2026, 1, 5)
    assert full.cycle.length_days == 90
    assert full.rules == (1, 2, 3, 5)
    assert list(full.tasks) == [
        "analyse-detractors",
        "coach-agents",
        "review-effect",
        "roll-out",
        "export",
    ]


def test_owners_and_teams(full) -> None:
    assert full.owners["maria"].email == "maria@example.com"
    assert full.owners["maria"].role == "Support lead"
    assert full.owners["ops"].members == ("maria", "tom")
    assert full.owners["ops"].is_team and not full.owners["tom"].is_team


def test_source_path_is_relative_to_the_playbook(full) -> None:
    source = full.sources["surveys"]
    assert source.type == "csv"
    assert source.timestamp == "submitted_at"
    assert source.path == FULL.parent / "data" / "surveys.csv"
    assert dict(source.options) == {"path": "data/surveys.csv"}


def test_metric_defaults_and_durations(full) -> None:
    nps = full.metrics["nps"]
    assert (nps.target, nps.warn, nps.baseline) == (30.0, 20.0, 10.0)
    assert (nps.window_days, nps.period, nps.direction) == (28, "week", "increase")
    assert nps.filter == "channel = 'email'"
    p90 = full.metrics["p90_wait"]
    assert p90.window_days == 28  # 4w
    assert p90.period == "month"
    assert p90.direction == "decrease" and not p90.higher_is_better
    assert dict(p90.params) == {"q": 90}
    assert p90.label == "p90_wait" and nps.label == "Net Promoter Score"


def test_tasks(full) -> None:
    tasks = full.tasks
    assert tasks["analyse-detractors"].estimate_hours == 72  # 3d
    assert tasks["coach-agents"].estimate_hours == 336  # 2w
    assert tasks["review-effect"].estimate_hours == 4
    assert tasks["coach-agents"].phase == "do"  # default
    assert tasks["coach-agents"].depends_on == ("analyse-detractors",)
    assert tasks["analyse-detractors"].due == date(2026, 1, 16)
    when = tasks["roll-out"].when
    assert (when.metric, when.statuses) == ("nps", ("met", "at_risk"))
    export = tasks["export"]
    assert export.automated and export.action.type == "shell"
    assert dict(export.action.options) == {"command": "echo export"}
    assert export.retries == 2


def test_model_is_frozen(full) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        full.title = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        full.tasks["x"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        full.metrics["p90_wait"].params["q"] = 50  # type: ignore[index]


def test_entries_remember_where_they_were_written(full) -> None:
    task = full.tasks["coach-agents"]
    assert (task.loc.line, task.loc.col) == (45, 3)
    assert (task.where("owner").line, task.where("owner").col) == (47, 12)
    assert task.where("nonexistent") == task.loc
    assert full.metrics["nps"].where("filter").line == 18


def test_load_playbook_raises_with_every_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("playbook: BAD\ntitle: [x]\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert [(p.location.line, p.location.col) for p in info.value.problems] == [(1, 11), (2, 8)]
    assert str(info.value).splitlines()[0].startswith(f"{path}:1:11: error: ")


@pytest.mark.parametrize(
    ("text", "units", "hours"),
    [
        ("28d", "dw", 672),
        ("4w", "dw", 672),
        ("3h", "hdw", 3),
        ("10 d", "dw", 240),
        ("7", "dw", 168),
    ],
)
def test_durations(text: str, units: str, hours: float) -> None:
    assert parse_duration(text, units) == (hours, None)


@pytest.mark.parametrize("text", ["3h", "0d", "-1d", "d", "1.5d", "3 days"])
def test_bad_window_durations(text: str) -> None:
    value, reason = parse_duration(text, "dw")
    assert value is None and reason
