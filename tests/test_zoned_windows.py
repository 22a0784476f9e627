"""Timestamps with a UTC offset at the window's edges count the same from every source type.

Each value is an instant; pdca reads it in the machine's time zone (docs/sources.md),
so which rows fall in a window depends on the zone, but never on the source type.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

# rows around the window [2026-03-02 00:00, 2026-03-09 00:00) local time; text as
# exports write it, with offsets
ROWS = [
    "2026-03-01T23:30:00+00:00",
    "2026-03-02T01:00:00+05:00",  # 2026-03-01 20:00 UTC
    "2026-03-08T22:00:00-05:00",  # 2026-03-09 03:00 UTC
    "2026-03-08T23:59:00+00:00",
    "2026-03-09T02:00:00+05:00",  # 2026-03-08 21:00 UTC: in the window, written the 9th
    "2026-03-09T06:00:00+09:00",  # 2026-03-08 21:00 UTC too
]
AS_OF = "2026-03-08"  # window: 7 days ending on it; the data's last day, so the bound
# the database is asked for is the window's end


def expected(zone: str) -> int:
    """Rows whose instant, in ``zone``, falls in the week 2 to 8 March: by hand."""
    lo, hi = datetime(2026, 3, 2), datetime(2026, 3, 9)
    tz = ZoneInfo(zone)
    return sum(
        lo <= datetime.fromisoformat(t).astimezone(tz).replace(tzinfo=None) < hi for t in ROWS
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zoned")
    (path / "t.csv").write_text("ts,x\n" + "".join(f"{t},1\n" for t in ROWS))
    with sqlite3.connect(path / "t.sqlite") as con:
        con.execute("CREATE TABLE t (ts TEXT, x INTEGER)")
        con.executemany("INSERT INTO t VALUES (?, 1)", [(t,) for t in ROWS])
    (path / "p.yaml").write_text(
        "playbook: p\ntitle: T\n"
        "sources:\n"
        "  csv: {type: csv, path: t.csv, timestamp: ts}\n"
        "  db: {type: sqlite, path: t.sqlite, table: t, timestamp: ts}\n"
        "metrics:\n"
        "  from_csv: {source: csv, kpi: count, target: 1, window: 7d}\n"
        "  from_sqlite: {source: db, kpi: count, target: 1, window: 7d}\n"
    )
    return path


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_every_source_counts_the_instants_in_the_window(folder: Path, zone: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pdca", "check", str(folder / "p.yaml"), "--as-of", AS_OF,
         "--format", "json", "--no-cache"],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": zone},
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)["metrics"]
    want = expected(zone)
    assert metrics["from_csv"]["value"] == want, zone
    assert metrics["from_sqlite"]["value"] == want, zone


def test_the_zones_disagree_so_the_test_can_fail() -> None:
    assert len({expected(z) for z in ("UTC", "America/New_York", "Asia/Kolkata")}) > 1
    assert timedelta(0) < timedelta(hours=5)  # offsets above are whole hours or zero
