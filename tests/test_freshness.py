"""Freshness: each metric's newest row (data_until) and whether it is too old (stale).

The data is written here, so every expected day and age is counted by hand:

* ``tickets.csv`` holds email rows on 2026-03-02 .. 2026-03-20 (every other day),
  phone rows up to 2026-03-12, and one email row on 2026-03-30, after the as-of
  date 2026-03-23 that most checks use (a row the check must not see).
* ``old.csv`` holds rows of 2020 only: further back than a metric's two years of
  history, so the newest row is found in the source rather than the metric's table.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pdca.check import freshness
from pdca.cli import cli
from pg_server import fresh_database

EMAIL_DAYS = [f"2026-03-{d:02d}" for d in range(2, 21, 2)]  # 02, 04 .. 20
PHONE_DAYS = ["2026-03-05", "2026-03-09", "2026-03-12"]
AFTER_AS_OF = "2026-03-30"


def tickets_csv() -> str:
    rows = [f"{d} 10:00:00,email,{i % 5 + 1}" for i, d in enumerate(EMAIL_DAYS)]
    rows += [f"{d} 09:00:00,phone,3" for d in PHONE_DAYS]
    rows.append(f"{AFTER_AS_OF} 08:00:00,email,5")
    return "at,channel,score\n" + "\n".join(rows) + "\n"


def metric(source: str, period: str = "week", where: str | None = None) -> str:
    extra = f', filter: "{where}"' if where else ""
    return f"{{source: {source}, kpi: mean, field: score, target: 3, period: {period}{extra}}}"


def playbook(folder: Path, sources: str, metrics: dict[str, str]) -> Path:
    lines = "\n".join(f"  {mid}: {spec}" for mid, spec in metrics.items())
    text = (
        "playbook: fresh\ntitle: Freshness\nowners:\n  maria: {name: Maria}\n"
        f"sources:\n{textwrap.indent(textwrap.dedent(sources), '  ')}\nmetrics:\n{lines}\n"
        "objectives:\n"
        f"  all: {{title: Everything, owner: maria, metrics: [{', '.join(metrics)}]}}\n"
    )
    path = folder / "playbook.yaml"
    path.write_text(text)
    return path


def check(path: Path, as_of: str, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(
        cli, ["check", str(path), "--as-of", as_of, "--no-cache", *args], catch_exceptions=False
    )
    assert result.exit_code == code, result.output
    return json.loads(result.output) if "json" in args else result.output


def fresh(report: dict[str, Any]) -> dict[str, tuple[str | None, bool]]:
    return {mid: (m["data_until"], m["stale"]) for mid, m in report["metrics"].items()}


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    (tmp_path / "tickets.csv").write_text(tickets_csv())
    return tmp_path


# -- the rules, by hand -----------------------------------------------------------------------


def test_default_max_age_is_one_period_of_the_metric() -> None:
    from pdca.playbook.model import Metric, Source

    src = Source(id="s", type="csv")
    hours = {p: freshness.max_age_hours(src, Metric("m", "s", "mean", 1, period=p)) for p in
             ("day", "week", "month")}  # fmt: skip
    assert hours == {"day": 24.0, "week": 168.0, "month": 744.0}
    own = Source(id="s", type="csv", max_age_hours=36.0)
    assert freshness.max_age_hours(own, Metric("m", "s", "mean", 1, period="month")) == 36.0


def test_stale_only_past_max_age_and_always_without_data() -> None:
    as_of = date(2026, 3, 23)
    assert not freshness.is_stale(as_of, date(2026, 3, 20), 72.0)  # exactly 3 days old
    assert freshness.is_stale(as_of, date(2026, 3, 19), 72.0)  # one day more
    assert freshness.is_stale(as_of, None, 72.0)
    assert not freshness.is_stale(as_of, as_of, 24.0)


def test_note_says_the_day_and_the_age() -> None:
    assert freshness.note("2026-03-28", "2026-05-30") == "data until 28 Mar, 9 weeks old"
    assert freshness.note("2026-05-27", "2026-05-30") == "data until 27 May, 3 days old"
    assert freshness.note("2026-05-29", "2026-05-30") == "data until 29 May, 1 day old"
    assert freshness.note("2025-12-30", "2026-05-30") == "data until 30 Dec 2025, 5 months old"
    assert freshness.note(None, "2026-05-30") == "no data up to 30 May"


# -- through pdca check: CSV ------------------------------------------------------------------


def test_data_until_respects_filter_period_and_as_of(desk: Path) -> None:
    path = playbook(
        desk,
        "tickets: {type: csv, path: tickets.csv, timestamp: at}",
        {
            "email": metric("tickets", "week", "channel = 'email'"),
            "phone": metric("tickets", "week", "channel = 'phone'"),
            "phone_month": metric("tickets", "month", "channel = 'phone'"),
            "daily": metric("tickets", "day", "channel = 'email'"),
            "fax": metric("tickets", "week", "channel = 'fax'"),
        },
    )
    report = check(path, "2026-03-23", "--format", "json", code=0)
    assert fresh(report) == {
        "email": ("2026-03-20", False),  # 3 days old, a week allowed; the 30 Mar row is later
        "phone": ("2026-03-12", True),  # 11 days old > 7
        "phone_month": ("2026-03-12", False),  # 11 days <= 31
        "daily": ("2026-03-20", True),  # 3 days > 1
        "fax": (None, True),  # no row at all: stale, with no day to give
    }
    # the old keys keep their meaning
    assert report["metrics"]["email"]["status"] == "met"
    assert report["objectives"] == {
        "all": {"status": "no_data", "metrics": ["email", "phone", "phone_month", "daily", "fax"]}
    }


def test_max_age_exactly_reached_is_fresh_one_day_more_is_stale(desk: Path) -> None:
    path = playbook(
        desk,
        "tickets: {type: csv, path: tickets.csv, timestamp: at, max_age: 3d}",
        {"email": metric("tickets", "month", "channel = 'email'")},
    )
    # newest email row before the as-of date: 2026-03-20
    assert fresh(check(path, "2026-03-23", "--format", "json")) == {"email": ("2026-03-20", False)}
    assert fresh(check(path, "2026-03-24", "--format", "json")) == {"email": ("2026-03-20", True)}
    # the 30 March row counts once the as-of date reaches it
    assert fresh(check(path, "2026-03-30", "--format", "json")) == {"email": ("2026-03-30", False)}


def test_max_age_in_weeks_and_hours(desk: Path) -> None:
    path = playbook(
        desk,
        """\
        weekly: {type: csv, path: tickets.csv, timestamp: at, max_age: 2w}
        hourly: {type: csv, path: tickets.csv, timestamp: at, max_age: 36h}
        """,
        {
            "phone_2w": metric("weekly", "day", "channel = 'phone'"),
            "email_36h": metric("hourly", "month", "channel = 'email'"),
        },
    )
    # as of 2026-03-21: phone 9 days old (<= 14), email 1 day old (24 h <= 36 h)
    assert fresh(check(path, "2026-03-21", "--format", "json")) == {
        "phone_2w": ("2026-03-12", False),
        "email_36h": ("2026-03-20", False),
    }
    # as of 2026-03-27: phone 15 days (> 14), email 7 days (> 36 h)
    assert fresh(check(path, "2026-03-27", "--format", "json")) == {
        "phone_2w": ("2026-03-12", True),
        "email_36h": ("2026-03-20", True),
    }


def test_newest_row_older_than_the_history_is_still_found(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text(
        "at,channel,score\n2020-06-01,email,4\n2020-06-30,email,5\n2020-07-15,phone,2\n"
    )
    path = playbook(
        tmp_path,
        "old: {type: csv, path: old.csv, timestamp: at}",
        {"email": metric("old", "week", "channel = 'email'"), "any": metric("old")},
    )
    assert fresh(check(path, "2026-03-23", "--format", "json")) == {
        "email": ("2020-06-30", True),
        "any": ("2020-07-15", True),
    }


def test_a_source_without_timestamp_is_a_snapshot_of_the_as_of_day(desk: Path) -> None:
    path = playbook(
        desk,
        "backlog: {type: csv, path: tickets.csv}",
        {"open": metric("backlog", "day"), "none": metric("backlog", "day", "channel = 'fax'")},
    )
    assert fresh(check(path, "2026-03-23", "--format", "json")) == {
        "open": ("2026-03-23", False),  # its rows count as the as-of day's, like its values
        "none": (None, True),
    }


def test_text_output_marks_stale_metrics_and_their_objectives(desk: Path) -> None:
    path = playbook(
        desk,
        "tickets: {type: csv, path: tickets.csv, timestamp: at}",
        {"phone": metric("tickets", "week", "channel = 'phone'")},
    )
    out = check(path, "2026-05-14")
    # 2026-03-12 to 2026-05-14: 63 days, 9 weeks
    assert "phone: stale: data until 12 Mar, 9 weeks old" in out
    assert "objective all: no data (phone), measured on stale data" in out
    fresh_out = check(path, "2026-03-13")
    assert "stale" not in fresh_out


def test_fail_on_stale_exits_3(desk: Path) -> None:
    path = playbook(
        desk,
        "tickets: {type: csv, path: tickets.csv, timestamp: at, max_age: 3d}",
        {"email": metric("tickets", "week", "channel = 'email'")},
    )
    check(path, "2026-03-23", "--fail-on", "stale", code=0)
    check(path, "2026-03-24", "--fail-on", "stale", code=3)
    check(path, "2026-03-24", code=0)  # without --fail-on, stale data is reported, not failed
    # stale alongside a status: either one fails; the email mean 3.0 meets target 3
    check(path, "2026-03-23", "--fail-on", "stale", "--fail-on", "off_track", code=0)
    check(path, "2026-03-24", "--fail-on", "off_track", "--fail-on", "stale", code=3)


def test_bad_max_age_is_an_error_at_its_place(desk: Path) -> None:
    path = playbook(
        desk,
        "tickets: {type: csv, path: tickets.csv, timestamp: at, max_age: 3 days}",
        {"email": metric("tickets")},
    )
    result = CliRunner().invoke(cli, ["validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output == (
        f"{path}:6:67: error: 'max_age': '3 days' is not a duration: write an integer "
        "followed by h | d | w (e.g. 28d)\n"
    )


# -- SQLite and PostgreSQL --------------------------------------------------------------------


def write_sqlite(path: Path, rows: list[tuple[str, str, int]]) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (at TEXT, channel TEXT, score INTEGER)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)


def test_sqlite_newest_row_with_filter_recent_and_old(tmp_path: Path) -> None:
    write_sqlite(
        tmp_path / "t.sqlite",
        [
            ("2026-03-20 10:00:00", "email", 4),
            ("2026-03-23 23:59:59", "email", 4),  # the as-of day's last second: counts
            ("2026-03-24 00:00:00", "email", 4),  # the day after: does not
            ("2026-03-10 08:00:00", "phone", 2),
            ("2020-06-30 08:00:00", "fax", 2),  # only in the source, not in two years' history
            ("2020-06-01 08:00:00", "fax", 2),
        ],
    )
    path = playbook(
        tmp_path,
        "db: {type: sqlite, path: t.sqlite, table: t, timestamp: at, max_age: 1w}",
        {
            "email": metric("db", "week", "channel = 'email'"),
            "phone": metric("db", "week", "channel = 'phone'"),
            "fax": metric("db", "week", "channel = 'fax'"),
            "post": metric("db", "week", "channel = 'post'"),
        },
    )
    assert fresh(check(path, "2026-03-23", "--format", "json")) == {
        "email": ("2026-03-23", False),
        "phone": ("2026-03-10", True),  # 13 days > 7
        "fax": ("2020-06-30", True),
        "post": (None, True),
    }


def test_sqlite_text_with_offsets_compares_instants(tmp_path: Path) -> None:
    """The newest text is not the newest instant: offsets move the rows across midnight."""
    rows = [
        "2020-03-09T02:00:00+05:00",  # 2020-03-08 21:00 UTC: the greatest text
        "2020-03-08T23:00:00-05:00",  # 2020-03-09 04:00 UTC: the newest instant
    ]
    write_sqlite(tmp_path / "t.sqlite", [(r, "email", 3) for r in rows])
    path = playbook(
        tmp_path, "db: {type: sqlite, path: t.sqlite, table: t, timestamp: at}", {"m": metric("db")}
    )
    zone = "America/New_York"
    newest = max(datetime.fromisoformat(r) for r in rows).astimezone(ZoneInfo(zone))
    greatest_text = datetime.fromisoformat(max(rows)).astimezone(ZoneInfo(zone))
    assert (newest.date(), greatest_text.date()) == (date(2020, 3, 9), date(2020, 3, 8))
    proc = subprocess.run(
        [sys.executable, "-m", "pdca", "check", str(path), "--as-of", "2026-03-23",
         "--format", "json", "--no-cache"],
        capture_output=True, text=True, env={**os.environ, "TZ": zone}, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert fresh(json.loads(proc.stdout)) == {"m": ("2020-03-09", True)}


@pytest.fixture
def pg_fresh(pg_url: str) -> Iterator[str]:
    """A database of its own (the server is shared: a table here would show in other tests'
    table listings), with one table of rows."""
    for url in fresh_database(pg_url, "fresh"):
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as con:
            con.execute(sa.text("CREATE TABLE fresh_rows (at timestamp, channel text, score int)"))
            con.execute(
                sa.text(
                    "INSERT INTO fresh_rows VALUES ('2026-03-21 10:00', 'email', 4), "
                    "('2026-03-25 10:00', 'email', 4), ('2026-03-12 09:00', 'phone', 2), "
                    "('2019-11-30 09:00', 'fax', 2)"
                )
            )
        engine.dispose()
        yield url


@pytest.mark.postgres
def test_postgresql_newest_row_pushed_down(
    pg_fresh: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDCA_FRESH_DB", pg_fresh)
    path = playbook(
        tmp_path,
        "db: {type: sql, url_env: PDCA_FRESH_DB, table: fresh_rows, timestamp: at, max_age: 2d}",
        {
            "email": metric("db", "week", "channel = 'email'"),
            "phone": metric("db", "month", "channel = 'phone'"),
            "fax": metric("db", "week", "channel = 'fax'"),
        },
    )
    assert fresh(check(path, "2026-03-23", "--format", "json")) == {
        "email": ("2026-03-21", False),  # 2 days: exactly max_age; the 25 March row is later
        "phone": ("2026-03-12", True),  # 11 days > 2 (max_age overrides the month's 31)
        "fax": ("2019-11-30", True),  # older than the history: one max() in PostgreSQL
    }


# -- pdca run, status and the report --------------------------------------------------------------

RUN_PLAYBOOK = """\
playbook: fresh-run
title: Fresh run
owners:
  maria: {name: Maria}
sources:
  tickets: {type: csv, path: tickets.csv, timestamp: at, max_age: 3d}
metrics:
  email: {source: tickets, kpi: mean, field: score, target: 3, filter: "channel = 'email'"}
objectives:
  all: {title: Everything, owner: maria, metrics: [email]}
tasks:
  check-review: {title: Review the numbers, owner: maria, phase: check}
cycle: {start: 2026-03-01}
"""


def pdca(path: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, [args[0], str(path), *args[1:]], catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_run_waits_in_do_on_stale_data_and_allow_stale_marks_the_snapshot(desk: Path) -> None:
    path = desk / "playbook.yaml"
    path.write_text(RUN_PLAYBOOK)
    # as of 2026-03-25 the newest email row (2026-03-20) is 5 days old, max_age 3d
    out = pdca(path, "run", "--as-of", "2026-03-25")
    assert "cycle 1, do phase: do is complete, but check waits for fresh data:" in out
    assert (
        "  source 'tickets' holds data until 2026-03-20 (as of 2026-03-25, 5 days old), "
        "older than its max_age 3d (metrics email)" in out
    )
    assert f"pdca run {path} --as-of 2026-03-25 --allow-stale" in out
    status = json.loads(pdca(path, "status", "--as-of", "2026-03-25", "--format", "json"))
    assert status["cycle"]["phase"] == "do" and status["stale_data"] == []
    again = json.loads(pdca(path, "run", "--as-of", "2026-03-25", "--format", "json"))
    assert again["stopped"] == "stale" and again["cycle"]["phase"] == "do"
    assert again["stale"] == [
        {
            "source": "tickets",
            "data_until": "2026-03-20",
            "as_of": "2026-03-25",
            "max_age": "3d",
            "metrics": ["email"],
        }
    ]

    out = pdca(path, "run", "--as-of", "2026-03-25", "--allow-stale")
    assert "metrics measured as of 2026-03-25: email met (on stale data of tickets)" in out
    status = json.loads(pdca(path, "status", "--as-of", "2026-03-26", "--format", "json"))
    assert status["cycle"]["phase"] == "check"
    assert status["stale_data"] == again["stale"]
    assert (status["metrics"]["email"]["data_until"], status["metrics"]["email"]["stale"]) == (
        "2026-03-20",
        True,
    )
    assert status["objectives"]["all"]["stale"] is True
    text = pdca(path, "status", "--as-of", "2026-03-26")
    assert "check measured on stale data (pdca run --allow-stale): source 'tickets' holds" in text
    assert "measured on stale data\n" in text
    assert "      stale: data until 20 Mar, 5 days old" in text
    md = pdca(path, "status", "--as-of", "2026-03-26", "--format", "markdown")
    assert "| met (stale: data until 20 Mar, 5 days old) |" in md

    report_md = desk / "report.md"
    pdca(path, "report", "--as-of", "2026-03-26", "--format", "markdown", "-o", str(report_md))
    written = report_md.read_text()
    assert (
        "as of 2026-03-25\n\n**Check measured on stale data**: source 'tickets' holds data "
        "until 2026-03-20 (as of 2026-03-25, 5 days old), older than its max\\_age 3d "
        "(metrics email).\n" in written
    )
    assert "| Met (stale: data until 20 Mar, 5 days old) |" in written
    assert "| Everything | Maria | – | Met, on stale data | – |" in written
    report_html = desk / "report.html"
    pdca(path, "report", "--as-of", "2026-03-26", "--format", "html", "-o", str(report_html))
    html = report_html.read_text()
    assert '<p class="stale" role="note">Stale: data until 20 Mar, 5 days old</p>' in html
    assert "<b>Check measured on stale data:</b> source &#39;tickets&#39; holds data until" in html
    a3 = desk / "a3.html"
    pdca(path, "report", "--as-of", "2026-03-26", "--format", "a3", "-o", str(a3))
    assert '<div class="stale">data until 20 Mar, 5 days old</div>' in a3.read_text()


def test_run_enters_check_when_the_data_is_fresh(desk: Path) -> None:
    path = desk / "playbook.yaml"
    path.write_text(RUN_PLAYBOOK)
    out = pdca(path, "run", "--as-of", "2026-03-22")  # 2 days old
    assert "metrics measured as of 2026-03-22: email met\n" in out
    status = json.loads(pdca(path, "status", "--as-of", "2026-03-22", "--format", "json"))
    assert status["cycle"]["phase"] == "check" and status["stale_data"] == []
    assert status["metrics"]["email"]["stale"] is False
