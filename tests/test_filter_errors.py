"""A filter that fails on the data says why, at the filter's line, in check, validate and run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pdca.cli import cli

PLAYBOOK = """\
playbook: p
title: T
sources: {s: {type: csv, path: s.csv, timestamp: ts}}
metrics:
  nps:
    source: s
    kpi: nps
    field: score
    target: 30
    filter: "CAST(channel AS INTEGER) = 1"
"""
REASON = "Could not convert string 'email' to INT32"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "s.csv").write_text("ts,channel,score\n2026-03-02,email,9\n2026-03-03,1,3\n")
    (tmp_path / "p.yaml").write_text(PLAYBOOK)
    return tmp_path


@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
def test_check_gives_duckdbs_reason_at_the_filter(folder: Path, cache: list[str]) -> None:
    path = str(folder / "p.yaml")
    out = CliRunner().invoke(
        cli, ["check", path, "--format", "json", "--as-of", "2026-03-08", *cache]
    )
    assert out.exit_code == 1
    error = json.loads(out.stdout)["metrics"]["nps"]["error"]
    assert error.startswith(f"{path}:10:13: metric 'nps' filter 'CAST(channel AS INTEGER) = 1' ")
    assert REASON in error and "No open result set" not in error
    assert f"{path}:10:13: error: metric 'nps' filter" in out.stderr


def test_validate_data_and_run_say_the_same(folder: Path) -> None:
    path = str(folder / "p.yaml")
    out = CliRunner().invoke(cli, ["validate", "--data", path])
    assert out.exit_code == 1
    assert (
        out.output.startswith(f"{path}:10:13: error: metric 'nps' filter") and REASON in out.output
    )
    run = CliRunner().invoke(cli, ["run", path, "--as-of", "2026-03-08"])
    assert REASON in run.output and "10:13" in run.output
    assert "No open result set" not in run.output


def test_data_that_does_not_fit_its_column_is_the_sources_fault(tmp_path: Path) -> None:
    # no filter: a timestamp that is not one is the data's fault, at the source
    (tmp_path / "s.csv").write_text("ts,score\n2026-03-02,9\nlast tuesday,3\n")
    (tmp_path / "p.yaml").write_text(
        PLAYBOOK.replace('    filter: "CAST(channel AS INTEGER) = 1"\n', "")
    )
    path = str(tmp_path / "p.yaml")
    out = CliRunner().invoke(cli, ["check", path, "--format", "json", "--as-of", "2026-03-08"])
    error = json.loads(out.stdout)["metrics"]["nps"]["error"]
    assert "filter" not in error and "No open result set" not in error
    assert error.startswith(f"{path}:3:50: source 's': column 'ts' (its 'timestamp')")


SHARED = """\
playbook: p
title: T
sources: {s: {type: csv, path: s.csv, timestamp: ts}}
metrics:
  a: {source: s, kpi: nps, field: score, target: 30, filter: "%(filter)s"}
  b: {source: s, kpi: count, target: 1, filter: "%(filter)s"}
  c: {source: s, kpi: count, target: 1}
"""


def filter_lines(path: Path) -> list[tuple[str, str]]:
    """(metric, LINE:COL of its filter's value) of the metrics with a filter."""
    out = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if "filter:" in line:
            out.append((line.split(":")[0].strip(), f"{number}:{line.index('filter:') + 9}"))
    return out


@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
def test_metrics_sharing_a_filter_that_does_not_bind_each_say_so_at_their_line(
    folder: Path, cache: list[str]
) -> None:
    # the filter is bound once per check and source; every metric still gets its error
    (folder / "p.yaml").write_text(SHARED % {"filter": "channel + 1 > 2"})
    path = str(folder / "p.yaml")
    out = CliRunner().invoke(
        cli, ["check", path, "--format", "json", "--as-of", "2026-03-08", *cache]
    )
    assert out.exit_code == 1
    metrics = json.loads(out.stdout)["metrics"]
    for mid, where in filter_lines(folder / "p.yaml"):
        error = metrics[mid]["error"]
        assert error.startswith(f"{path}:{where}: ")
        assert f"metric '{mid}' filter 'channel + 1 > 2' does not work on source 's'" in error
    assert metrics["c"]["value"] == 2 and "error" not in metrics["c"]


def test_metrics_sharing_a_refused_filter_are_each_refused_at_their_line(folder: Path) -> None:
    (folder / "p.yaml").write_text(SHARED % {"filter": "read_text('/etc/passwd') <> ''"})
    path = str(folder / "p.yaml")
    out = CliRunner().invoke(cli, ["validate", path])
    assert out.exit_code == 1
    errors = [line for line in out.output.splitlines() if ": error: " in line]
    wheres = [f"{path}:{where}" for _, where in filter_lines(folder / "p.yaml")]
    assert [e.split(": error: ")[0] for e in errors] == wheres
    assert all("read_text" in e for e in errors)
