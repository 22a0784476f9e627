"""``pdca demo``: the README's first command, end to end on the bundled example."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pdca.check.measure import check
from pdca.cli import cli
from pdca.playbook import load_checked


def test_demo_runs_a_full_cycle_and_opens_the_next(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "playbook.yaml").is_file()
    assert (folder / "data" / "surveys.csv").is_file()
    assert (folder / ".pdca" / "state.db").is_file()
    assert f"Everything is in {folder.resolve()}" in result.output
    assert "cycle 2, plan phase" in result.output

    status = CliRunner().invoke(
        cli, ["status", str(folder / "playbook.yaml"), "--format", "json", "--as-of", "2026-04-24"]
    )
    report = json.loads(status.output)
    assert report["cycle"]["number"] == 2
    assert report["cycle"]["phase"] == "plan"
    # every objective was decided in cycle 1, and each note became a lesson
    assert {(x["cycle"], x["objective"]) for x in report["lessons"]} == {
        (1, "loyal-customers"),
        (1, "fast-first-response"),
        (1, "right-first-time"),
    }
    # the ratchet: cycle 2's baselines are the values measured at Check (as of 2026-03-30)
    inspection = load_checked(folder / "playbook.yaml")
    measured = check(
        inspection.playbook, inspection.registry, __import__("datetime").date(2026, 3, 30)
    )
    for mid, metric in report["metrics"].items():
        assert metric["baseline"] == measured["metrics"][mid]["value"], mid
        assert metric["baseline_from"] == "cycle 1"
    # cycle 2's first tasks are not overdue the day the cycle opens
    assert not any(t["overdue"] for t in report["tasks"].values())


def test_demo_history_tells_the_story(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    assert CliRunner().invoke(cli, ["demo", str(folder)]).exit_code == 0
    history = CliRunner().invoke(
        cli, ["history", str(folder / "playbook.yaml"), "--format", "json"]
    )
    assert history.exit_code == 0, history.output
    text = history.output
    # the automated export ran, people finished tasks, Check measured, Act decided
    for fragment in ("export-detractor-comments", "empathy-coaching", "check", "decision"):
        assert fragment in text
