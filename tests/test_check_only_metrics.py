"""``pdca check --metric X``: objectives speak only for the metrics that were computed.

Three metrics read the same real CSV (scores 5, 4, 3 in the 28 days up to
2026-01-20, so each mean is 4.0): ``a`` (target 3) and ``c`` (target 2) are met,
``b`` (target 5) is off track.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pdca_process import pdca

PLAYBOOK = """\
playbook: only
title: Only
owners:
  ana: {name: Ana}
sources:
  tickets: {type: csv, path: tickets.csv, timestamp: created_at}
metrics:
  a: {source: tickets, kpi: mean, field: score, target: 3}
  b: {source: tickets, kpi: mean, field: score, target: 5}
  c: {source: tickets, kpi: mean, field: score, target: 2}
objectives:
  o1: {title: One, owner: ana, metrics: [a, b]}
  o2: {title: Two, owner: ana, metrics: [b]}
  o3: {title: Three, owner: ana, metrics: [c, a]}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tickets.csv").write_text(
        "created_at,score\n2026-01-05,5\n2026-01-12,4\n2026-01-19,3\n"
    )
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK)
    return tmp_path


def check(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return pdca(folder, "check", "playbook.yaml", "--as-of", "2026-01-20", *args)


def test_objectives_list_only_computed_metrics_and_drop_those_with_none(folder: Path) -> None:
    result = check(folder, "--metric", "b", "--metric", "c", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {m: (e["value"], e["status"]) for m, e in report["metrics"].items()} == {
        "b": (4.0, "off_track"),
        "c": (4.0, "met"),
    }
    # o1 holds a and b: only b was computed; o3 holds c and a: only c
    assert report["objectives"] == {
        "o1": {"status": "off_track", "metrics": ["b"]},
        "o2": {"status": "off_track", "metrics": ["b"]},
        "o3": {"status": "met", "metrics": ["c"]},
    }


def test_text_names_only_computed_metrics(folder: Path) -> None:
    result = check(folder, "--metric", "a")
    assert result.returncode == 0, result.stderr
    objectives = [line for line in result.stdout.splitlines() if line.startswith("objective ")]
    # o2 holds only b, which was not computed
    assert objectives == ["objective o1: met (a)", "objective o3: met (a)"]


def test_without_metric_every_objective_lists_all_its_metrics(folder: Path) -> None:
    report = json.loads(check(folder, "--format", "json").stdout)
    assert report["objectives"] == {
        "o1": {"status": "off_track", "metrics": ["a", "b"]},
        "o2": {"status": "off_track", "metrics": ["b"]},
        "o3": {"status": "met", "metrics": ["c", "a"]},
    }
