""" "Did you mean" suggestions: a name that differs only in case wins over a near spelling,
in the playbook (kpi: CSAT) and, under ``pdca validate --data``, for column names of a
real CSV file and a real SQLite database, at the key's line and column."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pdca.data.messages import suggestion
from pdca.playbook.messages import suggest
from pdca_process import pdca


def test_a_case_slip_wins_over_a_closer_spelling() -> None:
    # difflib alone: 'Csat' vs 'Csat2' scores 8/9, vs 'csat' 6/8, so it would offer Csat2
    assert suggest("Csat", ["Csat2", "csat"]) == "; did you mean 'csat'?"
    assert suggest("CSAT", ["nps", "csat", "ces"]) == "; did you mean 'csat'?"
    # separators too, after case: 'CreatedAt' is created_at without case or '_'
    assert suggest("CreatedAt", ["id", "created_at", "closed_at"]) == (
        "; did you mean 'created_at'?"
    )
    assert suggest("CREATED", ["created_at", "Created"]) == "; did you mean 'Created'?"
    # near spellings are compared ignoring case; nothing close, nothing offered
    assert suggest("Incrase", ["increase", "decrease"]) == "; did you mean 'increase'?"
    assert suggest("speed", ["nps", "csat"]) == ""
    # columns need a closer spelling (0.75): 'scroe' vs 'score' is 0.8, 'sc' vs 'score' 4/7
    assert suggestion("scroe", ["ts", "score"]) == "; did you mean 'score'?"
    assert suggestion("sc", ["ts", "score"]) == ""
    assert suggest("sc", ["ts", "score"]) == ""


PLAYBOOK = """\
playbook: p
title: T
owners:
  ana: {name: Ana}
sources:
  tickets: {type: csv, path: tickets.csv, timestamp: created_at}
metrics:
  sat:
    source: tickets
    kpi: CSAT
    field: score
    direction: Increase
    target: 80
"""


def test_kpi_and_choice_case_slips_suggest_the_registered_name(tmp_path: Path) -> None:
    (tmp_path / "tickets.csv").write_text("created_at,score\n2026-01-05,5\n")
    (tmp_path / "p.yaml").write_text(PLAYBOOK)
    result = pdca(tmp_path, "validate", "p.yaml")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    # '    kpi: ' is 9 wide: the value is at column 10
    assert lines[0].startswith(
        "p.yaml:10:10: error: metric 'sat' uses unknown KPI 'CSAT'; did you mean 'csat'? "
        "(available: "
    )
    assert lines[1] == (
        "p.yaml:12:16: error: 'direction' must be one of increase | decrease, got 'Increase'; "
        "did you mean 'increase'?"
    )


CSV_SOURCE = """\
playbook: p
title: T
sources:
  tickets:
    type: csv
    path: tickets.csv
    timestamp: CreatedAt
metrics:
  sat: {source: tickets, kpi: mean, field: score, target: 4}
"""

SQLITE_SOURCE = """\
playbook: p
title: T
sources:
  tickets:
    type: sqlite
    path: desk.db
    table: tickets
    timestamp: create_at
metrics:
  sat:
    source: tickets
    kpi: mean
    field: scroe
    target: 4
"""


def test_validate_data_names_the_closest_timestamp_column_of_a_csv_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "tickets.csv").write_text("id,created_at,score\n1,2026-01-05,5\n")
    (tmp_path / "p.yaml").write_text(CSV_SOURCE)
    plain = pdca(tmp_path, "validate", "p.yaml")
    assert plain.returncode == 0
    assert "note: the data was not read; 'pdca validate --data' also checks" in plain.stderr
    result = pdca(tmp_path, "validate", "--data", "p.yaml")
    assert result.returncode == 1
    # '    timestamp: ' is 15 wide
    assert result.stdout.splitlines() == [
        "p.yaml:7:16: error: source 'tickets': has no column 'CreatedAt' to use as its "
        "'timestamp' (available: id, created_at, score); did you mean 'created_at'?"
    ]
    assert result.stderr == ""


def test_validate_data_reports_a_sqlite_timestamp_and_field_each_with_its_column(
    tmp_path: Path,
) -> None:
    with sqlite3.connect(tmp_path / "desk.db") as con:
        con.execute("CREATE TABLE tickets (id INTEGER, created_at TEXT, score REAL)")
        con.executemany(
            "INSERT INTO tickets VALUES (?, ?, ?)",
            [(1, "2026-01-05 09:00:00", 5.0), (2, "2026-01-12 10:30:00", 4.0)],
        )
    con.close()
    (tmp_path / "p.yaml").write_text(SQLITE_SOURCE)
    result = pdca(tmp_path, "validate", "--data", "p.yaml")
    assert result.returncode == 1
    # the timestamp is checked before the metric, which stops at its own first problem
    assert result.stdout.splitlines() == [
        "p.yaml:8:16: error: source 'tickets': has no column 'create_at' to use as its "
        "'timestamp' (available: id, created_at, score); did you mean 'created_at'?",
        "p.yaml:13:12: error: metric 'sat' reads column 'scroe' which source 'tickets' does "
        "not have (available: id, created_at, score); did you mean 'score'?",
    ]
    fixed = SQLITE_SOURCE.replace("create_at", "created_at").replace("scroe", "score")
    (tmp_path / "p.yaml").write_text(fixed)
    ok = pdca(tmp_path, "validate", "--data", "--as-of", "2026-01-20", "p.yaml")
    assert ok.returncode == 0, ok.stdout
