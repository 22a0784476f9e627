"""Hostile data: broken exports get a clear error or no_data, and the other metrics go on.

One playbook reads a clean source and a dozen broken ones through ``pdca check
--format json``, once through the Parquet cache and once without it. For each
broken source the test states what pdca must answer: an ``error`` that names
the source (or metric) and the column, placed at the playbook line to fix, or
``no_data``; and the clean metrics keep their hand-computed values. Nothing may
print a traceback, and the exit code is 0 or 1.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pdca.cli import cli

AS_OF = "2026-03-10"  # the default 28-day window is 2026-02-11 .. 2026-03-10

GOOD = "ts,score\n2026-03-02 09:00,10\n2026-03-03 10:00,6\n2026-03-09 11:00,8\n"


@dataclass
class Case:
    """A source file and what each metric over it must report."""

    file: str
    data: bytes | str
    type: str = "csv"
    options: str = ""
    timestamp: str | None = "ts"
    metrics: dict[str, str] = field(default_factory=dict)
    """metric id -> the metric's settings after ``source: ...``."""


MEAN = "kpi: mean, field: score, target: 5"
COUNT = "kpi: count, target: 1"

ZONED_ROWS = [
    ("2026-03-02T23:30:00-05:00", 1),
    ("2026-03-03 00:30:00", 2),
    ("2026-03-02T20:00:00Z", 4),
]
"""Times with offsets, and one without: the zoned ones are converted to DuckDB's time zone (the
machine's, as docs/sources.md says), the naive one is taken as written."""

CASES: dict[str, Case] = {
    "wrong_column": Case("wrong_column.csv", "ts,other\n2026-03-02 09:00,1\n"),
    "missing_ts": Case("missing_ts.csv", "when,score\n2026-03-02 09:00,1\n"),
    "mixed_types": Case(
        "mixed_types.csv",
        'ts,score\n2026-03-02 09:00,12\n2026-03-03 09:00,n/a\n2026-03-04 09:00,"1,5"\n'
        "2026-03-05 09:00,7\n",
    ),
    "all_text": Case("all_text.csv", "ts,score\n2026-03-02 09:00,n/a\n2026-03-03 09:00,none\n"),
    "open_quote": Case(
        "open_quote.csv",
        'ts,score,comment\n2026-03-02 09:00,4,"fine, quoted"\n2026-03-03 09:00,5,"never closed\n'
        "2026-03-04 09:00,6,ok\n",
    ),
    "stray_quote": Case("stray_quote.csv", 'ts,score\n2026-03-02 09:00,"12\n2026-03-03 09:00,5\n'),
    "bom": Case("bom.csv", "\ufeffts,score\n2026-03-02 09:00,4\n2026-03-03 09:00,6\n"),
    "empty": Case("empty.csv", b""),
    "blank": Case("blank.csv", "\n\n  \n"),
    "header_only": Case("header_only.csv", "ts,score\n"),
    "mixed_formats": Case(
        "mixed_formats.csv",
        "ts,score\n2026-03-02T10:00:00Z,1\n2026-03-02 10:00:00+01:00,2\n03/02/2026,3\n",
    ),
    "zones": Case("zones.csv", "ts,score\n" + "".join(f"{t},{v}\n" for t, v in ZONED_ROWS)),
    # the same, read as text: CAST(text AS TIMESTAMP) used to drop the offsets
    "zones_text": Case(
        "zones_text.csv",
        "ts,score\n" + "".join(f"{t},{v}\n" for t, v in ZONED_ROWS),
        options="types: {ts: VARCHAR}",
    ),
    "nulls": Case("nulls.csv", "ts,score\n,\n,\n,\n"),
    "null_values": Case("null_values.csv", "ts,score\n2026-03-02 09:00,\n2026-03-03 09:00,\n"),
    "crlf": Case("crlf.csv", "ts,score\r\n2026-03-02 09:00,4\r\n2026-03-03 09:00,6\r\n"),
    "latin1": Case("latin1.csv", "ts,score,name\n2026-03-02 09:00,4,José\n".encode("latin-1")),
    "latin1_declared": Case(
        "latin1_declared.csv",
        "ts,score,name\n2026-03-02 09:00,4,José\n2026-03-03 09:00,6,Renée\n".encode("latin-1"),
        options="encoding: latin-1",
    ),
    "huge_cell": Case(
        "huge_cell.csv",
        "ts,score,comment\n2026-03-02 09:00,4," + "x" * 100_000 + "\n2026-03-03 09:00,6,ok\n",
    ),
    "ragged": Case("ragged.csv", "ts,score\n2026-03-02 09:00,4,extra,cols\n2026-03-03 09:00\n"),
    "ndjson_broken": Case(
        "broken.json",
        '{"ts": "2026-03-02 09:00", "score": 4}\n{"ts": "2026-03-03 09:00", "score": \n'
        '{"ts": "2026-03-04 09:00", "score": 6}\n',
        type="json",
    ),
    "json_mixed": Case(
        "mixed.json",
        '[{"ts": "2026-03-02 09:00", "score": 4}, {"ts": "2026-03-03 09:00", "score": "x"}]',
        type="json",
    ),
    "json_empty": Case("empty.json", b"", type="json"),
    "not_sqlite": Case(
        "not_a_db.sqlite", "this is text, not a database\n", type="sqlite", options="table: t"
    ),
    "not_parquet": Case("not.parquet", b"PAR1" + bytes(range(256)) * 4, type="parquet"),
    "snapshot": Case("snapshot.csv", "id,score\n1,4\n2,5\n", timestamp=None),
}
for _name, _case in CASES.items():
    _case.metrics = _case.metrics or {f"{_name}_mean": MEAN, f"{_name}_count": COUNT}
CASES["snapshot"].metrics = {"snapshot_count": COUNT}  # a count alone once broke the query
for _name in ("zones", "zones_text"):
    CASES[_name].metrics = {f"{_name}_daily": "kpi: sum, field: score, target: 1, period: day"}


@dataclass
class Run:
    report: dict[str, Any]
    exit_code: int
    output: str
    stderr: str
    path: Path
    lines: dict[str, int]  # entry id -> its line in the playbook


def write_playbook(folder: Path) -> tuple[Path, dict[str, int]]:
    (folder / "good.csv").write_text(GOOD)
    sources = ["sources:", "  good: {type: csv, path: good.csv, timestamp: ts}"]
    metrics = [
        "metrics:",
        "  good_avg: {source: good, kpi: mean, field: score, target: 7}",
        "  good_count: {source: good, kpi: count, target: 1}",
    ]
    for name, case in CASES.items():
        data = case.data.encode() if isinstance(case.data, str) else case.data
        (folder / case.file).write_bytes(data)
        opts = f", {case.options}" if case.options else ""
        ts = f", timestamp: {case.timestamp}" if case.timestamp else ""
        sources.append(f"  {name}: {{type: {case.type}, path: {case.file}{opts}{ts}}}")
        for mid, settings in case.metrics.items():
            metrics.append(f"  {mid}: {{source: {name}, {settings}}}")
    text = "\n".join(["playbook: hostile", "title: Hostile data", *sources, *metrics]) + "\n"
    path = folder / "playbook.yaml"
    path.write_text(text)
    lines = {}
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("  ") and ":" in line:
            lines[line.split(":")[0].strip()] = number
    return path, lines


def run_check(path: Path, *extra: str) -> tuple[dict[str, Any], int, str, str]:
    result = CliRunner().invoke(
        cli, ["check", str(path), "--as-of", AS_OF, "--format", "json", *extra]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return json.loads(result.stdout), result.exit_code, result.output, result.stderr


@pytest.fixture(scope="module", params=["cache", "no-cache"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp(f"hostile-{request.param}")
    path, lines = write_playbook(folder)
    extra = ("--no-cache",) if request.param == "no-cache" else ()
    report, code, output, stderr = run_check(path, *extra)
    if request.param == "cache":  # the second run reads the Parquet copies
        again = run_check(path)[0]
        assert again == report
    return Run(report, code, output, stderr, path, lines)


def metric(run: Run, mid: str) -> dict[str, Any]:
    return run.report["metrics"][mid]


def assert_error(run: Run, mid: str, *texts: str, at: str) -> str:
    """``mid`` is an error whose message holds ``texts`` and points at entry ``at``'s line."""
    entry = metric(run, mid)
    assert entry["status"] == "error", entry
    assert entry["value"] is None and entry["n"] == 0
    message = entry["error"]
    assert message.startswith(f"{run.path}:{run.lines[at]}:"), (message, run.lines[at])
    for text in texts:
        assert text in message, message
    assert "Traceback" not in message
    return message


def assert_value(run: Run, mid: str, value: float | None, n: int, status: str) -> None:
    entry = metric(run, mid)
    assert (entry["value"], entry["n"], entry["status"]) == (value, n, status), entry
    assert "error" not in entry


# -- the run as a whole -------------------------------------------------------------------


def test_no_traceback_and_exit_code_1(run: Run) -> None:
    assert run.exit_code == 1  # some metrics are errors
    assert "Traceback" not in run.output and "internal error" not in run.output
    errors = sorted(m for m, e in run.report["metrics"].items() if e["status"] == "error")
    # every error is also on stderr, one line per metric, at its place when it has one
    lines = run.stderr.splitlines()
    for mid in errors:
        message = run.report["metrics"][mid]["error"]
        place = re.match(r"^(.+?:\d+:\d+): ", message)
        if place:
            assert f"{place[1]}: error: {message[place.end() :]}" in lines, mid
        else:
            assert f"error: metric '{mid}': {message}" in lines, mid
    assert len(lines) == len(errors)
    assert len(run.report["metrics"]) == 2 + sum(len(c.metrics) for c in CASES.values())


def test_clean_metrics_are_computed_beside_broken_ones(run: Run) -> None:
    # good.csv: 10, 6, 8 in the window -> mean 8.0 of 3; count 3
    assert_value(run, "good_avg", 8.0, 3, "met")
    assert_value(run, "good_count", 3.0, 3, "met")
    series = metric(run, "good_avg")["series"]
    assert [(p["start"], p["value"], p["n"]) for p in series] == [
        ("2026-03-02", 8.0, 2),  # ISO week 10: 10 and 6
        ("2026-03-09", 8.0, 1),  # week 11 so far: 8
    ]


# -- columns -------------------------------------------------------------------------------


def test_wrong_column(run: Run) -> None:
    assert_error(
        run,
        "wrong_column_mean",
        "metric 'wrong_column_mean' reads column 'score'",
        "source 'wrong_column' does not have (available: ts, other)",
        at="wrong_column_mean",
    )
    assert_value(run, "wrong_column_count", 1.0, 1, "met")  # count needs no column


def test_missing_timestamp_column(run: Run) -> None:
    for mid in ("missing_ts_mean", "missing_ts_count"):
        assert_error(
            run,
            mid,
            "source 'missing_ts': has no column 'ts' to use as its 'timestamp'",
            "(available: when, score)",
            at="missing_ts",
        )


# -- values --------------------------------------------------------------------------------


def test_mixed_types_count_only_the_numbers(run: Run) -> None:
    # "12", "n/a", "1,5", "7": the KPI contract skips unusable values and says so in n
    assert_value(run, "mixed_types_mean", 9.5, 2, "met")
    assert_value(run, "mixed_types_count", 4.0, 4, "met")


def test_a_column_without_one_number_is_an_error(run: Run) -> None:
    entry = metric(run, "all_text_mean")
    assert entry["status"] == "error" and entry["value"] is None
    assert "column 'score' holds values like 'n/a'" in entry["error"]
    assert_value(run, "all_text_count", 2.0, 2, "met")


def test_a_column_without_one_number_says_where(run: Run) -> None:
    assert_error(run, "all_text_mean", "source 'all_text'", "'score'", at="all_text_mean")


def test_nulls_everywhere_are_no_data(run: Run) -> None:
    # rows without a timestamp cannot be placed in any window; no value is not 0
    for mid in ("nulls_mean", "nulls_count"):
        assert_value(run, mid, None, 0, "no_data")
    assert_value(run, "null_values_mean", None, 0, "no_data")
    assert_value(run, "null_values_count", 2.0, 2, "met")


def test_a_100000_character_cell(run: Run) -> None:
    assert_value(run, "huge_cell_mean", 5.0, 2, "met")
    assert_value(run, "huge_cell_count", 2.0, 2, "met")


# -- file layout ---------------------------------------------------------------------------


def test_an_open_quote_is_an_error_with_its_line(run: Run) -> None:
    for mid in ("open_quote_mean", "open_quote_count"):
        assert_error(
            run,
            mid,
            "source 'open_quote': cannot split the rows of open_quote.csv into columns",
            "the row starting on line 3 does not parse",
            at="open_quote",
        )


def test_a_stray_quote_is_read_as_text(run: Run) -> None:
    # One '"' in the whole file: DuckDB reads it unquoted, so '"12' is text, not a number.
    assert_value(run, "stray_quote_mean", 5.0, 1, "met")
    assert_value(run, "stray_quote_count", 2.0, 2, "met")


def test_rows_of_different_widths(run: Run) -> None:
    for mid in ("ragged_mean", "ragged_count"):
        assert_error(
            run,
            mid,
            "source 'ragged': cannot split the rows of ragged.csv into columns",
            "line 2 has 4 fields, the header 2",
            at="ragged",
        )


def test_bom_and_windows_line_endings(run: Run) -> None:
    for name in ("bom", "crlf"):
        assert_value(run, f"{name}_mean", 5.0, 2, "met")
        assert_value(run, f"{name}_count", 2.0, 2, "met")


def test_empty_files_are_errors_and_a_header_is_no_data(run: Run) -> None:
    for name, what in (("empty", "is empty (0 bytes)"), ("blank", "holds nothing but blank")):
        for mid in (f"{name}_mean", f"{name}_count"):
            assert_error(run, mid, f"source '{name}': file {name}.csv {what}", at=name)
    assert_error(run, "json_empty_count", "file empty.json is empty (0 bytes)", at="json_empty")
    for mid in ("header_only_mean", "header_only_count"):
        assert_value(run, mid, None, 0, "no_data")


def test_latin1_bytes(run: Run) -> None:
    for mid in ("latin1_mean", "latin1_count"):
        assert_error(run, mid, "source 'latin1'", "not utf-8", "set 'encoding'", at="latin1")
    assert_value(run, "latin1_declared_mean", 5.0, 2, "met")


# -- timestamps ----------------------------------------------------------------------------


def test_mixed_timestamp_formats(run: Run) -> None:
    for mid in ("mixed_formats_mean", "mixed_formats_count"):
        assert_error(
            run,
            mid,
            "source 'mixed_formats': column 'ts' (its 'timestamp') holds a value that is not "
            "a timestamp, e.g. '03/02/2026'",
            "'timestamp_format'",
            at="mixed_formats",
        )


def expected_days(zone: str) -> list[tuple[str, float]]:
    days: dict[str, float] = {}
    for text, score in ZONED_ROWS:
        stamp = datetime.fromisoformat(text)
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(ZoneInfo(zone))
        day = stamp.date().isoformat()
        days[day] = days.get(day, 0.0) + score
    return sorted(days.items())


def machine_zone() -> str:
    import duckdb

    return duckdb.connect().execute("SELECT current_setting('TimeZone')").fetchall()[0][0]


def test_time_zones_are_applied(run: Run) -> None:
    # before the fix, offsets in a text column were dropped, and the Parquet cache
    # dropped them even where a direct read applied them
    for mid in ("zones_daily", "zones_text_daily"):
        # the days with rows (the calendar series reads 0 on the empty days after them)
        series = [p for p in metric(run, mid)["series"] if p["n"]]
        assert [(p["start"], p["value"]) for p in series] == expected_days(machine_zone()), mid


def test_time_zones_follow_the_machine_in_cache_and_without(tmp_path: Path) -> None:
    # Tokyo, then Los Angeles over the same cache folder: each reads its own zone's days
    rows = "".join(f"{text},{score}\n" for text, score in ZONED_ROWS)
    (tmp_path / "z.csv").write_text("ts,score\n" + rows)
    (tmp_path / "p.yaml").write_text(
        "playbook: p\ntitle: T\nsources: {z: {type: csv, path: z.csv, timestamp: ts}}\n"
        "metrics: {d: {source: z, kpi: sum, field: score, target: 1, period: day}}\n"
    )
    args = ["check", str(tmp_path / "p.yaml"), "--as-of", AS_OF, "--format", "json"]
    runs = [("Asia/Tokyo", []), ("America/Los_Angeles", []), ("Asia/Tokyo", ["--no-cache"])]
    for zone, extra in runs:
        proc = subprocess.run(
            [sys.executable, "-m", "pdca", *args, *extra],
            capture_output=True,
            text=True,
            env={**os.environ, "TZ": zone},
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        series = [p for p in json.loads(proc.stdout)["metrics"]["d"]["series"] if p["n"]]
        assert [(p["start"], p["value"]) for p in series] == expected_days(zone), zone
    assert expected_days("Asia/Tokyo") != expected_days("America/Los_Angeles")


# -- other formats -------------------------------------------------------------------------


def test_ndjson_with_a_broken_line(run: Run) -> None:
    for mid in ("ndjson_broken_mean", "ndjson_broken_count"):
        assert_error(
            run, mid, "source 'ndjson_broken'", "Malformed JSON", "line 3", at="ndjson_broken"
        )


def test_json_with_a_text_value(run: Run) -> None:
    assert_value(run, "json_mixed_mean", 4.0, 1, "off_track")  # "x" is skipped; 4 < 5
    assert_value(run, "json_mixed_count", 2.0, 2, "met")


def test_a_sqlite_file_that_is_not_a_database(run: Run) -> None:
    for mid in ("not_sqlite_mean", "not_sqlite_count"):
        assert_error(run, mid, "source 'not_sqlite'", "is not a SQLite database", at="not_sqlite")


def test_a_parquet_file_that_is_not_parquet(run: Run) -> None:
    for mid in ("not_parquet_mean", "not_parquet_count"):
        assert_error(
            run, mid, "source 'not_parquet'", "cannot read", "as parquet", at="not_parquet"
        )


def test_a_count_over_a_snapshot(run: Run) -> None:
    # no timestamp and no column read: the shared table once had an empty SELECT list
    assert_value(run, "snapshot_count", 2.0, 2, "met")


def test_a_truncated_sqlite_database(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (ts TEXT, score REAL)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [("2026-03-02 09:00", i) for i in range(5000)])
    con.commit()
    con.close()
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    (tmp_path / "good.csv").write_text(GOOD)
    (tmp_path / "p.yaml").write_text(
        "playbook: p\ntitle: T\n"
        "sources:\n  d: {type: sqlite, path: d.sqlite, table: t, timestamp: ts}\n"
        "  good: {type: csv, path: good.csv, timestamp: ts}\n"
        "metrics:\n  m: {source: d, kpi: mean, field: score, target: 1}\n"
        "  g: {source: good, kpi: mean, field: score, target: 1}\n"
    )
    report, code, output, _ = run_check(tmp_path / "p.yaml")
    assert code == 1 and "Traceback" not in output
    m = report["metrics"]["m"]
    assert m["status"] == "error" and "source 'd'" in m["error"], m
    assert m["error"].startswith(f"{tmp_path / 'p.yaml'}:4:"), m["error"]
    assert report["metrics"]["g"]["value"] == 8.0


def test_validate_data_reports_each_broken_source_once(tmp_path: Path) -> None:
    path, lines = write_playbook(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--data", str(path), "--as-of", AS_OF])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "internal error" not in result.output
    for name in ("open_quote", "ragged", "empty", "blank", "not_sqlite", "not_parquet"):
        wanted = f"{path}:{lines[name]}:"
        assert sum(line.startswith(wanted) for line in result.output.splitlines()) == 1, name
