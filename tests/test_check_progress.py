"""The progress line of a long check: on a terminal only, counts only, cleared at the end."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pdca.check import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_counts_rewritten_in_place_then_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    out = Terminal()
    line = progress.Progress(3, stream=out)
    line.step(1)
    line.step(2)
    line.close()
    assert out.getvalue() == (
        "\r\x1b[Kpdca check: 1/3 metrics\r\x1b[Kpdca check: 2/3 metrics\r\x1b[K"
    )


def test_a_pipe_sees_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    out = io.StringIO()  # not a terminal
    line = progress.Progress(3, stream=out)
    line.step(1)
    line.close()
    assert out.getvalue() == ""


def test_a_quick_check_prints_nothing_before_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 1e9)  # a check quicker than the delay
    out = Terminal()
    line = progress.Progress(3, stream=out)
    line.step(1)
    line.close()
    assert out.getvalue() == ""


def test_the_reading_line_shows_duckdbs_share_only_when_it_knows_it() -> None:
    assert progress.reading_line(41.6, 12.4) == "pdca check: reading data 42% (12 s)"
    assert progress.reading_line(-1.0, 3.0) == "pdca check: reading data (3 s)"
    assert progress.reading_line(100.4, 0.2) == "pdca check: reading data 100% (0 s)"


def _setting(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]


def test_a_terminal_sees_a_long_query_move_and_the_line_cleared_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(progress, "TICK_SECONDS", 0.005)
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    out = Terminal()
    with progress.reading(con, stream=out):
        total = con.execute("SELECT sum(i % 7) FROM range(300000000) t(i)").fetchone()[0]
    assert total == sum(i % 7 for i in range(7)) * (300000000 // 7) + sum(range(300000000 % 7))
    lines = out.getvalue().split("\r\x1b[K")
    assert lines[-1] == ""  # cleared at the end
    shares = [int(m.group(1)) for line in lines if (m := re.search(r"reading data (\d+)%", line))]
    assert shares, out.getvalue()  # DuckDB told a share while the query ran
    assert all(0 <= s <= 100 for s in shares)
    assert all(re.fullmatch(r"pdca check: reading data( \d+%)? \(\d+ s\)", x) for x in lines[1:-1])
    assert _setting(con) is False  # back off: a later query prints nothing


def test_a_pipe_gets_no_reading_line_and_the_connection_is_left_alone() -> None:
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    out = io.StringIO()
    with progress.reading(con, stream=out):
        con.execute("SELECT count(*) FROM range(1000)").fetchall()
    assert out.getvalue() == ""
    assert _setting(con) is False


def test_the_reading_line_is_cleared_when_the_read_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(progress, "TICK_SECONDS", 0.005)
    con = duckdb.connect(":memory:")
    out = Terminal()
    with pytest.raises(duckdb.Error), progress.reading(con, stream=out):
        time.sleep(0.05)
        con.execute("SELECT * FROM no_such_table").fetchall()
    assert out.getvalue().startswith("\r\x1b[Kpdca check: reading data")
    assert out.getvalue().endswith("\r\x1b[K")


PLAYBOOK = """\
playbook: long
title: Long
owners:
  ana: {name: Ana}
sources:
  tickets: {type: csv, path: tickets.csv, timestamp: created_at}
metrics:
  score: {source: tickets, kpi: mean, field: score, target: 3}
  high: {source: tickets, kpi: rate, field: high, target: 50}
objectives:
  o1: {title: One, owner: ana, metrics: [score, high]}
"""

# pdca check as a user runs it, with stderr on a terminal and stdout piped; the
# delays are shortened so a check of a few hundred thousand rows is "long"
RUN = """
import sys
from pdca.check import progress
progress.DELAY_SECONDS = 0.0
progress.TICK_SECONDS = 0.002
from pdca.cli.main import main
sys.argv = ["pdca", "check", "playbook.yaml", "--as-of", "2026-01-29", "--format", "json",
            "--no-cache"]
main()
"""


def test_pdca_check_on_a_terminal_shows_reading_and_keeps_json_clean(tmp_path: Path) -> None:
    rows = 405_000  # a multiple of 5: every score equally often, all in the window
    with (tmp_path / "tickets.csv").open("w") as f:
        f.write("created_at,score,high\n")
        for i in range(rows):
            f.write(f"2026-01-{2 + i % 27:02d}T{i % 24:02d}:00:00,{i % 5 + 1},{int(i % 5 >= 3)}\n")
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK)
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUN],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=300,
        )
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's far end is closed: all is read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0, seen.decode()
    report = json.loads(done.stdout)  # nothing of the line leaked into stdout
    assert report["metrics"]["score"]["value"] == pytest.approx(3.0)  # scores 1..5 evenly
    assert report["metrics"]["high"]["value"] == pytest.approx(40.0)  # 4 and 5 of 1..5
    text = seen.decode()
    assert "pdca check: reading data" in text
    assert text.endswith("\r\x1b[K")  # cleared, the prompt comes back on a clean line
