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
