"""What starting pdca imports: the heavy libraries load only in the commands that use them.

Each case runs a fresh interpreter (an import in this test process would count
for nothing) and prints the heavy modules present in ``sys.modules`` when the
command is done. Speed itself is measured in ``bench/bench_startup.py``; this
checks the reason it holds, which does not depend on the machine's load.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "networkx",
    "sqlalchemy",
    "duckdb",
    "jinja2",
    "pyarrow",
    "numpy",
    "pluggy",
    "importlib.metadata",
    "psycopg",
)

PROBE = """\
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["pdca", *json.loads(sys.argv[1])]
import pdca.cli.main
try:
    pdca.cli.main.main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""

PLAYBOOK = """\
playbook: light
title: Light
owners:
  tom: {name: Tom}
tasks:
  a: {title: A, owner: tom, phase: plan}
  b: {title: B, owner: tom, phase: do, depends_on: [a]}
"""


def python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter on this checkout, installed plugins left in (they count too)."""
    env = {k: v for k, v in os.environ.items() if k != "PDCA_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def heavy_after(args: list[str], cwd: Path) -> list[str]:
    """The heavy modules a fresh ``pdca ARGS`` has imported when it is done."""
    done = python("-c", PROBE, json.dumps(args), json.dumps(HEAVY), cwd=cwd)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_importing_the_command_line_imports_no_heavy_library(tmp_path: Path) -> None:
    probe = (
        "import json, sys, pdca.cli.main; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert json.loads(python("-c", probe, cwd=tmp_path).stdout) == []


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"], ["--version"]])
def test_help_imports_no_heavy_library(tmp_path: Path, args: list[str]) -> None:
    assert heavy_after(args, tmp_path) == []


def test_validating_a_playbook_without_a_loop_imports_no_graph_library(tmp_path: Path) -> None:
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK)
    assert "networkx" not in heavy_after(["validate", "playbook.yaml"], tmp_path)


def test_status_imports_no_graph_library(tmp_path: Path) -> None:
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK)
    found = heavy_after(["status", "playbook.yaml"], tmp_path)
    assert "networkx" not in found
    assert "pluggy" in found  # the probe sees what a command really loads


def test_a_loop_is_still_named_task_by_task(tmp_path: Path) -> None:
    looped = PLAYBOOK.replace("phase: plan}", "phase: do, depends_on: [b]}")
    (tmp_path / "playbook.yaml").write_text(looped)
    done = python("-m", "pdca", "validate", "playbook.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert "playbook.yaml:6:53: error: dependency cycle: a --> b --> a (each waits" in done.stdout


def test_checking_a_playbook_without_state_imports_no_database_library(tmp_path: Path) -> None:
    (tmp_path / "playbook.yaml").write_text(
        PLAYBOOK
        + "sources:\n  survey: {type: csv, path: survey.csv, timestamp: day}\n"
        + "metrics:\n  score: {source: survey, kpi: mean, field: score, target: 5}\n"
    )
    (tmp_path / "survey.csv").write_text("day,score\n2026-01-05,4\n2026-01-06,6\n")
    found = heavy_after(["check", "playbook.yaml", "--as-of", "2026-01-10"], tmp_path)
    assert "sqlalchemy" not in found
    assert "networkx" not in found  # Check reads data; it never walks the task graph
    assert "pyarrow" not in found  # DuckDB reads the file itself
    assert "duckdb" in found  # it did read the data


SQL_METRICS = """sources:
  db: {type: sql, url: "sqlite:///tickets.db", table: tickets, timestamp: day}
metrics:
  score: {source: db, kpi: mean, field: score, target: 5}
"""


def sqlite_tickets(tmp_path: Path, metrics: str) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "tickets.db") as con:
        con.execute("CREATE TABLE tickets (day TEXT, score REAL)")
        con.executemany(
            "INSERT INTO tickets VALUES (?, ?)", [("2026-01-05", 4.0), ("2026-01-06", 6.0)]
        )
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK + metrics)


def test_checking_a_sql_source_computed_in_the_database_imports_no_arrow(tmp_path: Path) -> None:
    """Only aggregates come back from a pushed-down metric: no rows to hand to DuckDB."""
    sqlite_tickets(tmp_path, SQL_METRICS)
    found = heavy_after(["check", "playbook.yaml", "--as-of", "2026-01-10"], tmp_path)
    assert "sqlalchemy" in found  # it did query the database
    assert "pyarrow" not in found
    assert "networkx" not in found


def test_a_metric_computed_from_sql_rows_brings_arrow_in(tmp_path: Path) -> None:
    """A percentile on SQLite (no ordered-set aggregate) reads its column as rows, which
    go to DuckDB through Arrow: the one path that needs pyarrow (docs/performance.md)."""
    local = SQL_METRICS + (
        "  p90: {source: db, kpi: percentile, field: score, params: {q: 90}, target: 5}\n"
    )
    sqlite_tickets(tmp_path, local)
    found = heavy_after(["check", "playbook.yaml", "--as-of", "2026-01-10"], tmp_path)
    assert "pyarrow" in found
    assert "networkx" not in found


EXAMPLES = Path(__file__).resolve().parent.parent / "playbooks"

# What each command may load, on the real example playbooks and their data files
# (a fresh copy each, so no state database exists). Why each is allowed:
#   pluggy, importlib.metadata: every command that reads a playbook loads the
#     plugins (entry points are found through importlib.metadata);
#   duckdb: ``validate`` vets each metric's filter with DuckDB's parser, and
#     every command that measures reads the data through DuckDB;
#   numpy: the statistics of ``check`` and ``report`` (limits, rules);
#   sqlalchemy: the state store (``status``, ``digest``, ``report``), and a
#     ``sqlite`` source's query (``check`` on it-service-desk);
#   jinja2: ``report`` renders its templates;
#   networkx: ``graph`` only.
# Never allowed here: pyarrow (SQL metrics are pushed down; files are read by
# DuckDB itself) and psycopg (no PostgreSQL source or state).
BASE = {"pluggy", "importlib.metadata", "duckdb"}
COMMANDS = [
    ("support-desk", ["check", "playbook.yaml"], BASE | {"numpy"}),
    ("it-service-desk", ["check", "playbook.yaml"], BASE | {"numpy", "sqlalchemy"}),
    ("support-desk", ["validate", "playbook.yaml"], BASE),
    ("it-service-desk", ["validate", "playbook.yaml"], BASE),
    ("support-desk", ["status", "playbook.yaml"], BASE | {"sqlalchemy"}),
    ("support-desk", ["digest", "playbook.yaml"], BASE | {"sqlalchemy"}),
    ("support-desk", ["run", "playbook.yaml"], BASE | {"sqlalchemy"}),
    ("support-desk", ["graph", "playbook.yaml"], BASE | {"networkx"}),
    (
        "support-desk",
        ["report", "playbook.yaml", "-o", "report.html"],
        BASE | {"numpy", "sqlalchemy", "jinja2"},
    ),
    ("support-desk", ["plugins"], {"pluggy"}),
    ("support-desk", ["schema"], set()),
]


@pytest.mark.parametrize(
    ("example", "args", "allowed"),
    COMMANDS,
    ids=[f"{e}-{a[0]}" for e, a, _ in COMMANDS],
)
def test_each_command_imports_only_what_it_uses(
    tmp_path: Path, example: str, args: list[str], allowed: set[str]
) -> None:
    """Exactly the allowed set: a module gained is an import regression, a module
    lost means the command no longer does its work (or the list needs updating)."""
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder)
    assert set(heavy_after(args, folder)) == allowed
