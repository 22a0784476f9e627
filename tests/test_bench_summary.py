"""bench/summary.py reads every benchmark's RESULT lines into bench/results.md.

The table is what the project quotes (docs/performance.md), so a RESULT line it
misreads or drops would misquote a figure; a run over the time budget must say so.
"""

from __future__ import annotations

from benchmods import bench_module

summary = bench_module("summary")
harness = bench_module("harness")


def test_a_line_with_its_load_average_is_one_row() -> None:
    text = (
        "  some output\n"
        "RESULT check.parquet_1M 217ms 172ms 1.260 ratio<=1.2 no load=1.44,0.91,1.54\n"
    )
    (row,) = summary.parse("bench_check.py", text)
    assert row == summary.Row(
        "bench_check.py",
        "check.parquet_1M",
        "217ms",
        "172ms",
        "1.260",
        "ratio<=1.2",
        "no",
        "1.44, 0.91, 1.54",
    )


def test_an_older_line_without_load_is_read_and_shows_a_dash() -> None:
    (row,) = summary.parse("b.py", "RESULT startup.help 76ms 13.4ms 5.687 ratio<=6 yes\n")
    assert (row.name, row.ratio, row.holds, row.load) == ("startup.help", "5.687", "yes", "-")


def test_lines_that_are_not_results_are_no_rows() -> None:
    text = "\n".join(
        [
            "RESULTS are below",  # not the RESULT keyword
            "RESULT too few 1 2 3",
            "RESULT a 1s 2s 0.5 ratio<=1 yes extra=1",  # 8 fields, the last no load
            "RESULT a 1s 2s 0.5 ratio<=1 yes load=1,2,3 more",
            "  RESULT indented 1s 2s 0.500 ratio<=1 yes load=0.10,0.20,0.30",
        ]
    )
    rows = summary.parse("b.py", text)
    assert [r.name for r in rows] == ["indented"]


def test_harness_lines_read_back_with_the_load_they_were_taken_under(monkeypatch) -> None:
    monkeypatch.setattr(harness.os, "getloadavg", lambda: (1.5, 0.25, 2.0))
    line = harness.result_text("x.y", 0.25, 0.5, "s", "pdca<=1s", True)
    assert line == "RESULT x.y 250ms 500ms 0.500 pdca<=1s yes load=1.50,0.25,2.00"
    (row,) = summary.parse("b.py", line)
    assert (row.pdca, row.reference, row.ratio, row.load) == (
        "250ms",
        "500ms",
        "0.500",
        "1.50, 0.25, 2.00",
    )


def test_bytes_show_in_binary_multiples_and_a_tiny_share_keeps_its_digits(monkeypatch) -> None:
    monkeypatch.setattr(harness.os, "getloadavg", lambda: (1.0, 1.0, 1.0))
    # 35,488 bytes of 416,000,000: 34.66 KiB, 396.7 MiB, a share of 8.53e-05
    line = harness.result_text("sql.wire", 35_488, 416_000_000, "B", "ratio<=0.01", True)
    assert line == "RESULT sql.wire 34.66KiB 396.7MiB 8.53e-05 ratio<=0.01 yes load=1.00,1.00,1.00"
    (row,) = summary.parse("b.py", line)
    assert (row.pdca, row.reference, row.ratio) == ("34.66KiB", "396.7MiB", "8.53e-05")
    small = harness.result_text("b", 1023, 3 * 1024**3, "B", "x", True).split()
    assert small[2:5] == ["1023B", "3GiB", "3.18e-07"]
    # a ratio of a thousandth or more keeps its three decimals
    assert harness.result_text("c", 1, 1000, "B", "x", True).split()[4] == "0.001"


def test_the_table_has_a_load_column() -> None:
    row = summary.Row("b.py", "x.y", "1s", "2s", "0.500", "ratio<=1", "yes", "0.10, 0.20, 0.30")
    lines = summary.table([row]).splitlines()
    assert lines[0].endswith("| holds? | load (1, 5, 15 min) |")
    assert lines[2] == "| x.y | 1s | 2s | 0.500 | ratio<=1 | yes | 0.10, 0.20, 0.30 |"


def test_a_run_over_twenty_minutes_is_flagged() -> None:
    assert summary.took(19.9, {}) == "19.9 min"
    assert summary.took(20.0, {}) == "20.0 min"
    assert summary.took(20.1, {"bench_sql.py": 250.4, "bench_run.py": 40.0}) == (
        "20.1 min (**over the 20 min budget**) (bench_sql.py 250 s, bench_run.py 40 s)"
    )
    text = summary.write([], [], "1.00", "2.00", summary.took(21.0, {}), "abc123")
    assert "- took: 21.0 min (**over the 20 min budget**)\n" in text
