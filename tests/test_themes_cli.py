"""``pdca themes`` on the command line, on a copy of the bundled support-desk example."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import pdca.cli
from pdca.cli.themes import register

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = ROOT / "playbooks" / "support-desk"
AS_OF = "2026-03-30"

register(pdca.cli.cli)


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: object):
        return runner.invoke(pdca.cli.cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def support(tmp_path: Path) -> Path:
    """A copy of the support-desk example, whose survey source names `comments: comment`."""
    folder = tmp_path / "support-desk"
    shutil.copytree(SUPPORT, folder, ignore=shutil.ignore_patterns(".pdca"))
    path = folder / "playbook.yaml"
    text = path.read_text(encoding="utf-8")
    assert "timestamp: submitted_at, comments: comment}" in text
    return path


def test_register_twice_adds_one_command() -> None:
    register(pdca.cli.cli)
    register(pdca.cli.cli)
    assert pdca.cli.cli.commands["themes"].name == "themes"


def test_text_output(run, support: Path) -> None:
    result = run("themes", support, "nps", "--as-of", AS_OF, "--days", "90")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "Themes in 'comment' comments on nps (Net Promoter Score), 2025-12-31 to 2026-03-30"
    )
    assert lines[1] == "Split: detractors (0-6) vs promoters (9-10)"
    assert "What sets detractors (0-6) apart:" in lines
    assert "What sets promoters (9-10) apart:" in lines
    assert any(line.startswith("  canned answer") for line in lines)
    assert any(line.startswith("  fast reply") for line in lines)


def test_json_output(run, support: Path) -> None:
    result = run("themes", support, "nps", "--as-of", AS_OF, "--days", "90", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["metric"] == "nps" and data["playbook"] == "support-desk-q1"
    assert data["window"] == {"start": "2025-12-31", "end": "2026-03-30", "days": 90}
    detractors, promoters = data["groups"]
    assert detractors["label"] == "detractors (0-6)"
    assert detractors["comments"] < detractors["rows"]  # a third leave no comment
    canned = next(t for t in detractors["themes"] if t["term"] == "canned answer")
    assert canned["other_count"] == 0 and canned["z"] >= 1.96
    assert all("canned answer" in e for e in canned["examples"])
    assert 1 <= len(canned["examples"]) <= 3
    swedish = {t["term"] for t in promoters["themes"]}
    assert "löst direkt" in swedish  # Swedish comments are themes like any other


def test_top_and_thresholds(run, support: Path) -> None:
    args = ("themes", support, "nps", "--as-of", AS_OF, "--days", "90", "--format", "json")
    data = json.loads(run(*args, "--top", "2").output)
    assert [len(g["themes"]) for g in data["groups"]] == [2, 2]
    strict = json.loads(run(*args, "--min-z", "4", "--min-count", "20").output)
    for group in strict["groups"]:
        assert all(t["z"] >= 4 and t["count"] >= 20 for t in group["themes"])
    assert strict["method"]["min_z"] == 4 and strict["method"]["min_count"] == 20


def test_split_by_column(run, support: Path) -> None:
    result = run(
        "themes", support, "csat", "--as-of", AS_OF, "--by", "region", "--group", "Nordics",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [g["label"] for g in data["groups"]] == ["region = Nordics", "region != Nordics"]
    # Nordic customers often write in Swedish: Swedish words set them apart
    nordic = {t["term"] for t in data["groups"][0]["themes"]}
    assert nordic & {"löst direkt", "bra hjälp", "standardsvar", "trevlig personal"}


def test_as_tasks_paste_into_the_playbook_and_validate(run, support: Path) -> None:
    result = run("themes", support, "nps", "--as-of", AS_OF, "--days", "90", "--as-tasks")
    assert result.exit_code == 0, result.output
    stubs = result.output
    tasks = yaml.safe_load(stubs)
    assert len(tasks) == 3  # the default with --as-tasks
    for tid, task in tasks.items():
        assert tid.startswith("rca-nps-")
        assert task["owner"] == "todo-owner" and task["phase"] == "plan"
        assert task["objective"] == "loyal-customers"  # the one objective listing nps
        assert task["title"].startswith("Root-cause analysis: '")
    # paste under `tasks:` (before `cycle:`) and define the placeholder owner
    text = support.read_text(encoding="utf-8")
    text = text.replace("\ncycle:", "\n" + stubs + "\ncycle:")
    text = text.replace("\nowners:\n", "\nowners:\n  todo-owner: {name: To be decided}\n", 1)
    support.write_text(text, encoding="utf-8")
    check = run("validate", support)
    assert check.exit_code == 0, check.output
    assert "ok: playbook 'support-desk-q1' with 3 objectives, 8 metrics, 17 tasks" in check.output
    # without the owner the stubs are reported, so nobody forgets to assign them
    support.write_text(text.replace("  todo-owner: {name: To be decided}\n", ""), "utf-8")
    bad = run("validate", support)
    assert bad.exit_code == 1 and "unknown owner 'todo-owner'" in bad.output


def test_as_tasks_with_no_theme_says_so(run, support: Path) -> None:
    result = run("themes", support, "nps", "--as-of", AS_OF, "--as-tasks", "--min-z", "50")
    assert result.exit_code == 0
    assert "# No theme sets detractors (0-6) apart: no tasks to suggest." in result.output
    assert yaml.safe_load(result.output) is None


def test_metric_without_comments_column(run, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    shutil.copytree(SUPPORT, folder, ignore=shutil.ignore_patterns(".pdca"))
    path = folder / "playbook.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(", comments: comment}", "}"))
    result = run("themes", path, "nps", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "names no comments column" in result.output and "--comments COLUMN" in result.output
    ok = run("themes", path, "nps", "--as-of", AS_OF, "--comments", "comment")
    assert ok.exit_code == 0, ok.output
    wrong = run("themes", path, "nps", "--as-of", AS_OF, "--comments", "coment")
    assert wrong.exit_code == 1
    assert "--comments column 'coment' is not in source 'surveys'" in wrong.output
    assert "did you mean 'comment'?" in wrong.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--group", "chat"), "--group and --vs go with --by COLUMN"),
        (("--by", "channel"), "--by needs --group VALUE"),
        (("--by", "channel", "--group", "chat", "--vs", "chat"), "both 'chat'"),
        (("--as-of", "2026-13-01"), "is not a date"),
        (("--top", "0"), "--top"),
    ],
)
def test_usage_errors_exit_2(run, support: Path, args: tuple[str, ...], message: str) -> None:
    result = run("themes", support, "nps", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_unknown_metric_exits_1(run, support: Path) -> None:
    result = run("themes", support, "nope", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "no metric 'nope' (metrics: nps, csat" in result.output


def test_kpi_without_per_row_meaning_and_html_comments(run, playbook_file) -> None:
    rows = ["ts,score,comment"]
    rows += [f"2026-03-{d:02d} 10:00,2,The agent was <b>rude</b>" for d in range(2, 12)]
    rows += [f"2026-03-{d:02d} 11:00,10,Quick & kind" for d in range(2, 22)]
    path = playbook_file(
        """
        playbook: html
        title: HTML comments
        sources:
          s: {type: csv, path: s.csv, timestamp: ts, comments: comment}
        metrics:
          nps: {source: s, kpi: nps, field: score, target: 30}
          volume: {source: s, kpi: count, target: 10}
        """,
        **{"s.csv": "\n".join(rows) + "\n"},
    )
    result = run("themes", path, "volume", "--as-of", "2026-03-29")
    assert result.exit_code == 1
    assert "gives no verdict per row" in result.output
    data = run("themes", path, "nps", "--as-of", "2026-03-29", "--format", "json")
    assert data.exit_code == 0, data.output
    assert '"The agent was <b>rude</b>"' in data.output  # text, not markup, and not escaped
    rude = json.loads(data.output)["groups"][0]["themes"][0]
    assert rude["term"] in {"rude", "agent"} and rude["count"] == 10
    text = run("themes", path, "nps", "--as-of", "2026-03-29")
    assert "      The agent was <b>rude</b>" in text.output


def test_command_module_imports_only_click() -> None:
    code = (
        "import sys, pdca.cli.themes; "
        "print(sorted(m for m in ('duckdb', 'numpy', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
