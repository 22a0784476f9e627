"""The command line, driven through click's CliRunner and, for start-up, a real process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from pdca.cli import cli

DATA = Path(__file__).parent / "data" / "playbooks"
FULL = DATA / "valid" / "full.yaml"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


# -- validate ---------------------------------------------------------------------------


def test_validate_ok_exits_0_with_a_summary(run) -> None:
    result = run("validate", FULL)
    assert result.exit_code == 0
    assert result.stdout == (
        f"{FULL}: ok: playbook 'service-desk-q1' with 1 objectives, 2 metrics, 5 tasks\n"
    )
    assert result.stderr == (
        "note: the data was not read; 'pdca validate --data' also checks column names "
        "(field, timestamp, segment_by ...), filters and timestamp values against the sources\n"
    )


def test_validate_says_the_note_once_and_not_when_quiet_or_with_data(run, tmp_path) -> None:
    (tmp_path / "s.csv").write_text("ts,score\n2026-01-05,9\n")
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\n"
        "sources: {s: {type: csv, path: s.csv, timestamp: ts}}\n"
        "metrics: {m: {source: s, kpi: mean, field: score, target: 5}}\n"
    )
    assert run("validate", FULL, path).stderr.count("note: the data was not read") == 1
    assert run("validate", "-q", FULL).output == ""
    with_data = run("validate", "--data", path)
    assert with_data.exit_code == 0
    assert with_data.stderr == ""
    no_metrics = tmp_path / "plain.yaml"
    no_metrics.write_text("playbook: p\ntitle: T\n")
    assert run("validate", no_metrics).stderr == ""


def test_validate_errors_one_line_each_exit_1(run) -> None:
    path = DATA / "invalid" / "references.yaml"
    result = run("validate", path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 8
    assert lines[0] == (
        f"{path}:5:37: error: team 'ops' refers to unknown owner 'tomm' (defined: maria, ops)"
    )
    assert all(line.startswith(f"{path}:") and ": error: " in line for line in lines)


def test_validate_several_files_fails_if_any_fails(run) -> None:
    bad = DATA / "invalid" / "cycle.yaml"
    result = run("validate", FULL, bad)
    assert result.exit_code == 1
    assert f"{FULL}: ok" in result.output
    assert f"{bad}:5:40: error: dependency cycle: a --> c --> b --> a" in result.output


def test_validate_json(run) -> None:
    bad = DATA / "invalid" / "warn_side.yaml"
    result = run("validate", "--format", "json", FULL, bad)
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [r["valid"] for r in report] == [True, False]
    first = report[1]["problems"][0]
    assert first == {
        "severity": "error",
        "message": "metric 'up': 'warn' (35) must be below 'target' (30) when higher is better "
        "(direction: increase)",
        "file": str(bad),
        "line": 5,
        "col": 58,
    }


def test_validate_missing_file(run, tmp_path: Path) -> None:
    result = run("validate", tmp_path / "nope.yaml")
    assert result.exit_code == 1
    assert (
        result.output
        == f"{tmp_path / 'nope.yaml'}: error: {tmp_path / 'nope.yaml'}: no such file\n"
    )


@pytest.mark.parametrize(
    "name", ["tabs", "unclosed", "empty", "top_list", "python_tag", "alias_bomb"]
)
def test_validate_hostile_input_never_tracebacks(run, name: str) -> None:
    result = run("validate", DATA / "invalid" / f"{name}.yaml")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert ": error: " in result.output


def test_validate_warnings_do_not_fail(run, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nowners: {o: {name: O}}\n"
        "tasks: {a: {title: A, owner: o, retries: 2}}\n"
    )
    result = run("validate", path)
    assert result.exit_code == 0
    assert (
        f"{path}:4:42: warning: task 'a': 'retries' applies only to automated tasks"
        in result.output
    )


def test_validate_data_reports_unknown_columns_at_the_metric(run, tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("ts,score\n2026-01-05,9\n")
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\n"
        "sources: {s: {type: csv, path: s.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  good: {source: s, kpi: mean, field: score, target: 5}\n"
        "  bad: {source: s, kpi: mean, field: scroe, target: 5}\n"
    )
    assert run("validate", path).exit_code == 0
    result = run("validate", "--data", path)
    assert result.exit_code == 1
    (line,) = [x for x in result.output.splitlines() if ": error: " in x]
    assert line.startswith(f"{path}:6:")
    assert "scroe" in line and "score" in line


# -- schema -----------------------------------------------------------------------------


def test_schema_accepts_valid_playbooks_and_rejects_bad_types(run, tmp_path: Path) -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in [FULL, *sorted((ROOT / "playbooks").glob("*/playbook.yaml"))]:
        doc = yaml.safe_load(path.read_text())
        doc = json.loads(json.dumps(doc, default=str))  # dates as ISO strings, as editors see them
        assert list(validator.iter_errors(doc)) == [], path
    bad = yaml.safe_load((DATA / "invalid" / "wrong_types.yaml").read_text())
    bad = json.loads(json.dumps(bad, default=str))
    paths = {tuple(e.absolute_path) for e in validator.iter_errors(bad)}
    assert ("metrics", "m", "target") in paths
    assert ("metrics", "m", "direction") in paths
    assert ("tasks", "a", "phase") in paths
    out = tmp_path / "schema.json"
    assert run("schema", "-o", out).exit_code == 0
    assert json.loads(out.read_text()) == schema


def test_schema_lists_every_key_of_the_format(run) -> None:
    schema = json.loads(run("schema").output)
    task = schema["properties"]["tasks"]["additionalProperties"]
    assert set(task["required"]) == {"title", "owner"}
    assert {"depends_on", "estimate", "when", "action", "retries"} <= set(task["properties"])
    metric = schema["properties"]["metrics"]["additionalProperties"]
    assert set(metric["required"]) == {"source", "kpi", "target"}
    assert set(schema["required"]) == {"playbook", "title"}


# -- graph ------------------------------------------------------------------------------


def test_graph_text(run) -> None:
    result = run("graph", FULL)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "objective loyal-customers: Customers recommend us"
    order = [line.split()[1] for line in lines if line.startswith("  [")]
    assert order == ["analyse-detractors", "export", "coach-agents", "review-effect", "roll-out"]


def test_graph_mermaid_and_dot(run) -> None:
    mermaid = run("graph", FULL, "--format", "mermaid").output
    assert mermaid.startswith("flowchart LR\n")
    ids = {  # node lines: '    n4["Root-cause analysis ...<br/>..."]' -> label: id
        line.split('"')[1].split("<br/>")[0]: re.match(r"\s*(n\d+)", line)[1]
        for line in mermaid.splitlines()[1:]
        if '"' in line
    }
    edges = {line.strip() for line in mermaid.splitlines() if "-->" in line}
    analyse, coach = (
        ids["Root-cause analysis of detractor comments"],
        ids["Coach agents on empathy"],
    )
    assert f"{analyse} --> {coach}" in edges
    assert f"{ids['surveys']} --> {ids['Net Promoter Score']}" in edges
    assert f"{ids['Net Promoter Score']} --> {ids['Customers recommend us']}" in edges
    dot = run("graph", FULL, "--format", "dot").output
    assert dot.startswith('digraph "service-desk-q1" {')
    assert '"task:coach-agents" -> "task:review-effect";' in dot


def test_graph_critical_path(run) -> None:
    # analyse-detractors 3d (72h) -> coach-agents 2w (336h) -> review-effect 4h -> roll-out (0h)
    result = run("graph", FULL, "--critical-path")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "total: 17d 4h over 4 tasks"
    data = json.loads(run("graph", FULL, "--critical-path", "--format", "json").output)
    assert data == {
        "tasks": ["analyse-detractors", "coach-agents", "review-effect", "roll-out"],
        "hours": 412.0,
        "total": "17d 4h",
    }


def test_graph_of_invalid_playbook_exits_1(run) -> None:
    result = run("graph", DATA / "invalid" / "cycle.yaml")
    assert result.exit_code == 1
    assert "dependency cycle" in result.output


# -- check ------------------------------------------------------------------------------

SCORES = """\
ts,score,channel
2026-03-02 09:00,10,email
2026-03-03 10:00,6,phone
2026-03-09 11:00,8,email
2026-03-10 12:00,4,phone
2026-03-16 09:30,9,email
2026-03-17 14:00,3,email
2026-03-18 16:00,6,phone
"""


def check_playbook(tmp_path: Path, metrics: str) -> Path:
    (tmp_path / "scores.csv").write_text(SCORES)
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: Scores\n"
        "sources: {s: {type: csv, path: scores.csv, timestamp: ts}}\n"
        f"metrics:\n{metrics}"
        "objectives:\n  o: {title: Good scores, metrics: [avg]}\n"
    )
    return path


def test_check_json_contract_with_hand_computed_values(run, tmp_path: Path) -> None:
    path = check_playbook(
        tmp_path,
        "  avg: {source: s, kpi: mean, field: score, target: 7, warn: 5, baseline: 4,"
        " window: 14d}\n",
    )
    result = run("check", path, "--as-of", "2026-03-18", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["playbook"] == "p" and report["as_of"] == "2026-03-18"
    avg = report["metrics"]["avg"]
    # window = 2026-03-05 .. 2026-03-18: scores 8, 4, 9, 3, 6 -> 30 / 5 = 6.0
    assert avg["value"] == 6.0 and avg["n"] == 5
    assert avg["status"] == "at_risk"  # 5 <= 6 < 7
    assert (avg["target"], avg["warn"], avg["baseline"], avg["direction"]) == (7, 5, 4, "increase")
    # ISO weeks: W10 (10, 6) -> 8.0; W11 (8, 4) -> 6.0; W12 (9, 3, 6) -> 6.0, partial (as of Wed)
    assert avg["series"] == [
        {"period": "2026-W10", "start": "2026-03-02", "value": 8.0, "n": 2},
        {"period": "2026-W11", "start": "2026-03-09", "value": 6.0, "n": 2},
        {"period": "2026-W12", "start": "2026-03-16", "value": 6.0, "n": 3, "partial": True},
    ]
    assert avg["window"] == {"start": "2026-03-05", "end": "2026-03-18", "days": 14}
    assert report["objectives"] == {"o": {"status": "at_risk", "metrics": ["avg"]}}


def test_check_filter_and_decrease_direction(run, tmp_path: Path) -> None:
    path = check_playbook(
        tmp_path,
        "  avg: {source: s, kpi: mean, field: score, target: 7, filter: \"channel = 'phone'\","
        " direction: decrease, window: 28d}\n",
    )
    report = json.loads(run("check", path, "--as-of", "2026-03-31", "--format", "json").output)
    # window 2026-03-04 .. 03-31 holds phone rows 4 (03-10) and 6 (03-18); 03-03 is outside
    # -> 10 / 2 = 5.0; lower is better and 5.0 <= 7 -> met
    assert report["metrics"]["avg"]["value"] == 5.0
    assert report["metrics"]["avg"]["n"] == 2
    assert report["metrics"]["avg"]["status"] == "met"


def test_check_fail_on_exit_codes(run, tmp_path: Path) -> None:
    path = check_playbook(
        tmp_path, "  avg: {source: s, kpi: mean, field: score, target: 7, warn: 5, window: 14d}\n"
    )
    args = ("check", path, "--as-of", "2026-03-18")
    assert run(*args).exit_code == 0
    assert run(*args, "--fail-on", "off_track").exit_code == 0
    assert run(*args, "--fail-on", "at_risk").exit_code == 3


def test_check_failing_metric_is_error_and_others_still_computed(run, tmp_path: Path) -> None:
    path = check_playbook(
        tmp_path,
        "  avg: {source: s, kpi: mean, field: score, target: 7, window: 14d}\n"
        "  broken: {source: s, kpi: mean, field: missing_column, target: 7}\n",
    )
    result = CliRunner().invoke(
        cli, ["check", str(path), "--as-of", "2026-03-18", "--format", "json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["metrics"]["avg"]["value"] == 6.0
    broken = report["metrics"]["broken"]
    assert broken["status"] == "error"
    assert "missing_column" in broken["error"] and "score" in broken["error"]
    assert "metric 'broken'" in result.stderr


def test_check_text_output(run, tmp_path: Path) -> None:
    path = check_playbook(
        tmp_path, "  avg: {source: s, kpi: mean, field: score, target: 7, warn: 5, window: 14d}\n"
    )
    result = run("check", path, "--as-of", "2026-03-18")
    lines = result.output.splitlines()
    assert lines[0] == "Scores (p), as of 2026-03-18"
    row = next(line for line in lines if line.startswith("avg "))
    assert row.split() == ["avg", "6", "7", "-", "5", "at", "risk", "too", "few"]
    assert "objective o: at risk (avg)" in lines
    assert all(len(line) <= 80 for line in lines)
    assert "\x1b[" not in result.output  # no colour when not a terminal


def test_check_unknown_metric_option(run, tmp_path: Path) -> None:
    path = check_playbook(tmp_path, "  avg: {source: s, kpi: mean, field: score, target: 7}\n")
    result = run("check", path, "--metric", "nope")
    assert result.exit_code == 1
    assert "no metric 'nope'" in result.output


def test_check_bad_as_of(run, tmp_path: Path) -> None:
    path = check_playbook(tmp_path, "  avg: {source: s, kpi: mean, field: score, target: 7}\n")
    result = run("check", path, "--as-of", "2026-13-01")
    assert result.exit_code == 2
    assert "is not a date; use YYYY-MM-DD" in result.output


# -- plugins ----------------------------------------------------------------------------


def test_plugins_lists_builtins(run) -> None:
    result = run("plugins", "--format", "json")
    assert result.exit_code == 0
    plugins = {p["name"]: p for p in json.loads(result.output)}
    kpis = {k["name"] for k in plugins["pdca.builtins.kpis"]["kpis"]}
    assert {"nps", "csat", "rate", "percentile", "retention", "servqual_gap"} <= kpis
    sources = {s["name"] for s in plugins["pdca.builtins.sources"]["source_types"]}
    assert sources == {"csv", "parquet", "json", "sqlite", "sql"}
    assert [a["name"] for a in plugins["pdca.builtins.actions"]["actions"]] == ["shell"]
    text = run("plugins").output
    assert "pdca.builtins.kpis" in text and "kpis: ces, churn" in text


def test_plugins_with_a_playbook_local_plugin(run, tmp_path: Path) -> None:
    (tmp_path / "local_kpis.py").write_text(
        "import pdca\nfrom pdca.kpi import FunctionKpi\n\n"
        "@pdca.hookimpl\ndef pdca_register_kpis(register):\n"
        "    register(FunctionKpi('spread', lambda v: max(v) - min(v), 'max minus min'))\n"
    )
    path = tmp_path / "p.yaml"
    path.write_text("playbook: p\ntitle: T\nplugins: [local_kpis.py]\n")
    data = json.loads(run("plugins", "--playbook", path, "--format", "json").output)
    local = next(p for p in data if p["name"] == "local_kpis")
    assert [{k: e[k] for k in ("name", "summary")} for e in local["kpis"]] == [
        {"name": "spread", "summary": "max minus min"}
    ]


def test_disabled_plugin_is_not_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDCA_DISABLE_PLUGINS", "actions")
    result = CliRunner().invoke(cli, ["validate", str(FULL)])
    assert result.exit_code == 1
    assert "unknown action type 'shell' (available: none" in result.output


# -- process level ----------------------------------------------------------------------


def test_python_dash_m_and_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pdca", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("pdca, version ")


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\nfrom pdca.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('duckdb', 'networkx', 'jinja2', 'sqlalchemy', 'numpy', 'pyarrow')"
        " if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
