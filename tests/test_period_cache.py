"""Period aggregates kept in the state: a re-check asks the database only for periods
that are new or not final, and gives the numbers a full recomputation gives.

Real SQLite files and a real PostgreSQL server (tests/pg_server.py). As of
Wednesday 2026-03-18 with the default ``settle: 7d``: a week is final once its
end (the next Monday) is 7 days old, so weeks up to the one starting 2026-03-02
are final (it ended 03-09, 10 days before the check's end on 03-19) and those
from 2026-03-09 on are not (it ended 03-16, 3 days before).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pdca import load_playbook
from pdca.check import measure
from pdca.check.periodcache import PeriodCache, first_open, is_final
from pdca.cli import cli
from pdca.plugins import build_registry, get_plugin_manager
from pdca.report.figures import DEFINITION_CHANGED, chart, chart_markers
from pdca.state import open_store
from pdca.state import schema as s

AS_OF = date(2026, 3, 18)
ROWS: list[tuple[str, float | None, str, float]] = [
    # (ts, score, team, hours)
    ("2026-01-05 09:00:00", 4, "a", 1.0),
    ("2026-01-07 10:00:00", 6, "b", 3.0),
    ("2026-01-13 11:00:00", 8, "a", 2.0),
    ("2026-02-24 12:00:00", 3, "a", 6.0),
    ("2026-02-25 12:00:00", None, "b", 2.0),
    ("2026-03-10 08:00:00", 7, "b", 1.0),
    ("2026-03-12 08:00:00", 9, "a", 3.0),
    ("2026-03-17 16:00:00", 10, "a", 5.0),
]
METRICS = (
    "  avg: {source: t, kpi: mean, field: score, target: 7}\n"
    "  promoters: {source: t, kpi: nps, field: score, target: 0, segment_by: team}\n"
    "  per_hour: {source: t, kpi: ratio, field: score, params: {denominator: hours}, target: 1}\n"
    "  rows: {source: t, kpi: count, target: 1}\n"
    "  total: {source: t, kpi: sum, field: hours, target: 1}\n"
    "  a_only: {source: t, kpi: mean, field: score, target: 7, filter: \"team = 'a'\"}\n"
)


class Data:
    """The source table on one backend, and a playbook reading it."""

    def __init__(self, folder: Path, url: str | None):
        self.folder, self.url = folder, url
        if url is None:
            self.engine = sa.create_engine(f"sqlite:///{folder / 't.db'}")
            self.source = "{type: sqlite, path: t.db, table: t, timestamp: ts}"
            kind = "TEXT"
        else:
            self.engine = sa.create_engine(url)
            self.source = "{type: sql, url_env: PDCA_PERIODS_URL, table: t, timestamp: ts}"
            kind = "timestamp"
        with self.engine.begin() as con:
            con.execute(
                sa.text(
                    f"CREATE TABLE t (ts {kind}, score double precision, team text, "
                    "hours double precision)"
                )
            )
        self.insert(ROWS)

    def insert(self, rows: list[tuple[str, float | None, str, float]]) -> None:
        cast = "CAST(:ts AS timestamp)" if self.url else ":ts"
        with self.engine.begin() as con:
            con.execute(
                sa.text(f"INSERT INTO t VALUES ({cast}, :score, :team, :hours)"),
                [dict(zip(("ts", "score", "team", "hours"), r, strict=True)) for r in rows],
            )

    def delete_before(self, day: str) -> None:
        bound = "CAST(:d AS timestamp)" if self.url else ":d"
        with self.engine.begin() as con:
            con.execute(sa.text(f"DELETE FROM t WHERE ts < {bound}"), {"d": day})

    def playbook(self, metrics: str = METRICS, extra: str = "") -> Path:
        path = self.folder / "p.yaml"
        source = self.source[:-1] + extra + "}"
        path.write_text(
            f"playbook: p\ntitle: T\nsources:\n  t: {source}\nmetrics:\n{metrics}",
            encoding="utf-8",
        )
        return path


def load(path: Path) -> tuple[Any, Any]:
    manager = get_plugin_manager(entry_points=False)
    return load_playbook(path, plugin_manager=manager), build_registry(manager)


def full(path: Path, as_of: date = AS_OF) -> dict[str, Any]:
    pb, registry = load(path)
    return measure.check(pb, registry, as_of)["metrics"]


def cached(path: Path, state: str, as_of: date = AS_OF) -> dict[str, Any]:
    """A check with the period cache, as ``pdca check`` runs it, keeping what it measured."""
    pb, registry = load(path)
    with open_store(state) as store:
        periods = PeriodCache.from_store(pb, as_of, store)
        report = measure.check(pb, registry, as_of, periods=periods)
        store.keep_periods(pb.id, periods.keeps(report["metrics"]))
    return report["metrics"]


def numbers(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry.get(k) for k in ("value", "n", "series", "segments", "data_until", "error")}


def close(a: Any, b: Any, tol: float = 1e-9) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tol * max(1.0, abs(a), abs(b))
    return bool(a == b)


def same_numbers(found: dict[str, Any], expected: dict[str, Any]) -> None:
    assert found.keys() == expected.keys()
    for mid in found:
        assert found[mid].get("computed") == "database", (mid, found[mid].get("error"))
        got, want = numbers(found[mid]), numbers(expected[mid])
        assert close(got, want), f"{mid}: {got} != {want}"


def stored(state: str, metric: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(state if "://" in state else f"sqlite:///{state}")
    p = s.periods.c
    with engine.connect() as con:
        rows = con.execute(
            sa.select(p.period_start, p.value, p.n, p.numerator, p.denominator, p.final)
            .where(p.metric == metric)
            .order_by(p.period_start)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Data, str]]:
    """The data on one backend, and a state store (on the same kind of database)."""
    if request.param == "sqlite":
        yield Data(tmp_path, None), str(tmp_path / "state.db")
        return
    from pg_server import fresh_database

    pg_url = request.getfixturevalue("pg_url")
    for data_url in fresh_database(pg_url, "periods_data"):
        monkeypatch.setenv("PDCA_PERIODS_URL", data_url)
        for state_url in fresh_database(pg_url, "periods_state"):
            data = Data(tmp_path, data_url)
            yield data, state_url
            data.engine.dispose()


# -- which periods are final --------------------------------------------------------------


def test_a_week_is_final_once_its_end_is_older_than_the_settle_horizon() -> None:
    week = 7 * 24.0
    assert is_final(date(2026, 3, 2), "week", week, AS_OF)  # ended 03-09, 10 days ago
    assert not is_final(date(2026, 3, 9), "week", week, AS_OF)  # ended 03-16, 3 days ago
    assert is_final(date(2026, 3, 9), "week", 72.0, AS_OF)  # 03-16 + 3 days = 03-19
    assert first_open("week", week, AS_OF) == date(2026, 3, 9)
    assert first_open("day", 48.0, AS_OF) == date(2026, 3, 17)  # 03-16 ended 03-17
    assert first_open("month", week, AS_OF) == date(2026, 3, 1)  # February ended 03-01


# -- the numbers ------------------------------------------------------------------------


def test_first_check_keeps_hand_computed_periods(backend: tuple[Data, str]) -> None:
    data, state = backend
    path = data.playbook()
    found = cached(path, state)
    # window 2026-02-19 .. 03-18: scores 3, 7, 9, 10 (NULL skipped) -> 29 / 4
    assert found["avg"]["value"] == 7.25 and found["avg"]["n"] == 4
    # weeks 01-05 (4, 6), 01-12 (8), 02-23 (3, NULL) final; 03-09 (7, 9), 03-16 (10) open
    assert stored(state, "avg") == [
        ("2026-01-05", 5.0, 2, 10.0, 2.0, True),
        ("2026-01-12", 8.0, 1, 8.0, 1.0, True),
        ("2026-02-23", 3.0, 1, 3.0, 1.0, True),
        ("2026-03-09", 8.0, 2, 16.0, 2.0, False),
        ("2026-03-16", 10.0, 1, 10.0, 1.0, False),
    ]
    # ratio of sums where both are present: week 02-23 has 3 / 6 (the NULL score's row is out)
    assert stored(state, "per_hour")[2] == ("2026-02-23", 0.5, 1, 3.0, 6.0, True)
    # count has no quotient; a period's rows, NULL scores included
    assert stored(state, "rows")[2] == ("2026-02-23", 2.0, 2, None, None, True)
    assert stored(state, "a_only")[0] == ("2026-01-05", 4.0, 1, 4.0, 1.0, True)
    assert found["avg"]["definition"]["changed_on"] is None
    assert len(found["avg"]["definition"]["fingerprint"]) == 64
    same_numbers(found, full(path))


def test_final_periods_come_from_the_state_and_are_not_queried(backend: tuple[Data, str]) -> None:
    data, state = backend
    path = data.playbook()
    cached(path, state)
    # the final weeks' rows disappear from the database: the cache still holds them, so the
    # re-check cannot have asked for them (settle: promises they no longer change)
    data.delete_before("2026-02-01")
    again = cached(path, state)
    weeks = {p["start"]: p for p in again["avg"]["series"]}
    assert (weeks["2026-01-05"]["value"], weeks["2026-01-05"]["n"]) == (5.0, 2)
    assert "2026-01-05" not in {p["start"] for p in full(path)["avg"]["series"]}
    # --no-cache asks for everything
    pb, registry = load(path)
    with open_store(state) as store:
        fresh = PeriodCache.from_store(pb, AS_OF, store, use=False)
        report = measure.check(pb, registry, AS_OF, periods=fresh)
        assert fresh.keeps(report["metrics"]) == []
    assert report["metrics"]["avg"]["series"][0]["start"] == "2026-02-23"


def test_recheck_after_appending_a_day_equals_a_full_recomputation(
    backend: tuple[Data, str],
) -> None:
    data, state = backend
    path = data.playbook()
    cached(path, state)
    data.insert([("2026-03-18 09:00:00", 2, "b", 4.0), ("2026-03-18 10:00:00", None, "a", 1.0)])
    again = cached(path, state)
    # window now 3, 7, 9, 10, 2 -> 31 / 5
    assert again["avg"]["value"] == 6.2 and again["avg"]["n"] == 5
    same_numbers(again, full(path))
    # a day later: the week of 03-09 is still open, nothing else became final
    data.insert([("2026-03-19 09:00:00", 5, "a", 1.0)])
    later = cached(path, state, date(2026, 3, 19))
    same_numbers(later, full(path, date(2026, 3, 19)))


def test_a_late_row_inside_the_settle_horizon_is_picked_up(backend: tuple[Data, str]) -> None:
    data, state = backend
    path = data.playbook()
    cached(path, state)
    # arrives late, dated in the open week of 03-09: re-queried, so counted
    data.insert([("2026-03-11 12:00:00", 1, "a", 1.0)])
    again = cached(path, state)
    weeks = {p["start"]: p for p in again["avg"]["series"]}
    assert (weeks["2026-03-09"]["value"], weeks["2026-03-09"]["n"]) == (17 / 3, 3)
    same_numbers(again, full(path))


def test_a_longer_settle_horizon_queries_more_periods(backend: tuple[Data, str]) -> None:
    data, state = backend
    cached(data.playbook(), state)
    # a row arrives for the week of 02-23, final under 7d; with settle: 4w it is not
    data.insert([("2026-02-26 12:00:00", 5, "a", 1.0)])
    path = data.playbook(extra=", settle: 4w")
    again = cached(path, state)
    weeks = {p["start"]: p for p in again["avg"]["series"]}
    assert (weeks["2026-02-23"]["value"], weeks["2026-02-23"]["n"]) == (4.0, 2)
    same_numbers(again, full(path))


def test_a_changed_filter_invalidates_the_history_and_marks_the_chart(
    backend: tuple[Data, str],
) -> None:
    data, state = backend
    path = data.playbook()
    first = cached(path, state)
    data.delete_before("2026-01-10")  # would still be cached under the old definition
    changed = METRICS.replace("team = 'a'", "team = 'b'")
    path = data.playbook(changed)
    again = cached(path, state)
    b_only = again["a_only"]
    assert b_only["definition"]["fingerprint"] != first["a_only"]["definition"]["fingerprint"]
    assert b_only["definition"]["changed_on"] == "2026-03-18"
    assert b_only["definition"]["changed_at"] is not None
    assert again["avg"]["definition"] == first["avg"]["definition"]  # unchanged
    # team b: weeks 01-05 (6) deleted now, 02-23 (NULL only), 03-09 (7); window 7 -> 7.0
    assert b_only["value"] == 7.0
    # measured again from its rows: the old definition's weeks are gone from the state
    assert stored(state, "a_only") == [
        ("2026-02-23", None, 0, None, 0.0, True),
        ("2026-03-09", 7.0, 1, 7.0, 1.0, False),
    ]
    # the changed metric as recomputed in full; the others kept their final weeks
    fully = full(path)
    same_numbers({"a_only": b_only}, {"a_only": fully["a_only"]})
    assert again["avg"]["series"][0]["start"] == "2026-01-05"
    assert fully["avg"]["series"][0]["start"] == "2026-01-12"
    assert {"date": "2026-03-18", "label": DEFINITION_CHANGED, "kind": "break"} in chart_markers(
        b_only
    )
    assert all(m["label"] != DEFINITION_CHANGED for m in chart_markers(again["avg"]))
    svg = str(chart(b_only, "b only"))
    assert "Definition changed — 2026-03-18" in svg and "pdca-marker" in svg
    # the change is remembered, not seen again
    assert cached(path, state)["a_only"]["definition"] == b_only["definition"]


def test_null_values_and_empty_periods(backend: tuple[Data, str]) -> None:
    data, state = backend
    data.insert([("2026-01-20 09:00:00", None, "a", 1.0), ("2026-01-21 09:00:00", None, "b", 1.0)])
    path = data.playbook()
    found = cached(path, state)
    weeks = {p["start"]: p for p in found["avg"]["series"]}
    # week 01-19 has rows but no score: a gap for a mean, 2 rows for a count
    assert weeks["2026-01-19"]["value"] is None and weeks["2026-01-19"].get("gap")
    assert {p["start"]: p for p in found["rows"]["series"]}["2026-01-19"]["value"] == 2.0
    # weeks without any row (02-02) are zero for a count, also from the cache
    again = cached(path, state)
    assert {p["start"]: p for p in again["rows"]["series"]}["2026-02-02"]["value"] == 0.0
    same_numbers(again, full(path))


def test_every_kpi_the_database_computes_agrees_with_a_full_check(
    backend: tuple[Data, str],
) -> None:
    data, state = backend
    metrics = (
        "  lo: {source: t, kpi: min, field: score, target: 1}\n"
        "  hi: {source: t, kpi: max, field: hours, target: 1}\n"
        "  teams: {source: t, kpi: count_distinct, field: team, target: 1}\n"
        "  happy: {source: t, kpi: csat, field: score, params: {satisfied: 7}, target: 80}\n"
        "  fast: {source: t, kpi: sla, field: hours, params: {limit: 3}, target: 80}\n"
        "  gap: {source: t, kpi: servqual_gap, field: score, params: {expectation: hours},"
        " target: 0}\n"
    )
    if data.url:  # ordered-set aggregates: PostgreSQL only
        metrics += (
            "  mid: {source: t, kpi: median, field: score, target: 5}\n"
            "  p90: {source: t, kpi: percentile, field: hours, params: {q: 90}, target: 5}\n"
        )
    path = data.playbook(metrics)
    first = cached(path, state)
    # csat of week 03-09: 7 and 9 are >= 7 -> 100 %, numerator 2 of 2
    assert stored(state, "happy")[3] == ("2026-03-09", 100.0, 2, 2.0, 2.0, False)
    assert stored(state, "lo")[0] == ("2026-01-05", 4.0, 2, None, None, True)
    same_numbers(first, full(path))
    data.insert([("2026-03-18 09:00:00", 2, "c", 4.0), ("2026-03-11 10:00:00", 6, "a", 0.5)])
    same_numbers(cached(path, state), full(path))


def test_a_window_longer_than_the_history_is_measured_in_full(backend: tuple[Data, str]) -> None:
    data, state = backend
    # 800 days before 2026-03-19 is Tuesday 2024-01-09, inside a week: not a period to keep
    path = data.playbook("  avg: {source: t, kpi: mean, field: score, target: 7, window: 800d}\n")
    found = cached(path, state)
    assert found["avg"]["window"]["start"] == "2024-01-09"
    assert stored(state, "avg") == []
    assert found["avg"]["value"] == 47 / 7  # every score: 4 6 8 3 7 9 10
    same_numbers(found, full(path))


# -- the command ---------------------------------------------------------------------------


def test_pdca_check_writes_only_the_cache_of_an_existing_state(tmp_path: Path) -> None:
    data = Data(tmp_path, None)
    path = data.playbook()
    args = ["check", str(path), "--as-of", "2026-03-18", "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / ".pdca").exists()  # no state, none created
    entry = json.loads(result.stdout)["metrics"]["avg"]
    assert entry["definition"]["changed_on"] is None and entry["definition"]["fingerprint"]
    state = tmp_path / ".pdca" / "state.db"
    with open_store(state):
        pass
    before = sqlite3.connect(state).execute("SELECT count(*) FROM pdca_events").fetchone()
    no_cache = CliRunner().invoke(cli, [*args, "--no-cache"])
    assert no_cache.exit_code == 0 and stored(str(state), "avg") == []
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert len(stored(str(state), "avg")) == 5
    con = sqlite3.connect(state)
    assert con.execute("SELECT count(*) FROM pdca_events").fetchone() == before
    assert con.execute("SELECT count(*) FROM pdca_playbooks").fetchone() == (0,)
    con.close()


def test_the_engines_check_phase_keeps_the_cache(tmp_path: Path) -> None:
    data = Data(tmp_path, None)
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nowners:\n  o: {name: O}\n"
        f"sources:\n  t: {data.source}\n"
        "metrics:\n  avg: {source: t, kpi: mean, field: score, target: 7}\n"
        "objectives:\n  good: {title: Good, owner: o, metrics: [avg]}\n"
        "tasks:\n  fix: {title: Fix, owner: o, phase: do, objective: good,"
        ' action: {type: shell, command: "true"}}\n'
        "cycle: {start: 2026-03-01, length: 28d}\n",
        encoding="utf-8",
    )
    for _ in range(3):
        result = CliRunner().invoke(cli, ["run", str(path), "--as-of", "2026-03-18"])
        assert result.exit_code == 0, result.output
    state = str(tmp_path / ".pdca" / "state.db")
    assert [r[0] for r in stored(state, "avg")] == [
        "2026-01-05",
        "2026-01-12",
        "2026-02-23",
        "2026-03-09",
        "2026-03-16",
    ]
    status = CliRunner().invoke(cli, ["status", str(path), "--format", "json"])
    assert json.loads(status.stdout)["cycle"]["phase"] == "act"  # through check: no check task
    with open_store(state) as store:
        snapshot = store.read("p").snapshot
    assert snapshot is not None
    definition = snapshot.report["metrics"]["avg"]["definition"]
    assert definition["changed_on"] is None and len(definition["fingerprint"]) == 64
    # pdca check over that state: a day later, the cache rewritten, the state untouched
    con = sqlite3.connect(state)
    before = con.execute(
        "SELECT (SELECT revision FROM pdca_playbooks), (SELECT count(*) FROM pdca_events)"
    ).fetchone()
    con.close()
    data.insert([("2026-03-19 09:00:00", 1, "a", 1.0)])
    args = ["check", str(path), "--as-of", "2026-03-19", "--format", "json"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert stored(state, "avg")[-1] == ("2026-03-16", 5.5, 2, 11.0, 2.0, False)
    con = sqlite3.connect(state)
    after = con.execute(
        "SELECT (SELECT revision FROM pdca_playbooks), (SELECT count(*) FROM pdca_events)"
    ).fetchone()
    con.close()
    assert after == before


# -- settle: in the playbook ---------------------------------------------------------------


def test_settle_must_be_a_duration_at_its_place(tmp_path: Path) -> None:
    data = Data(tmp_path, None)
    path = data.playbook(extra=", settle: 3 days")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:4:" in result.output and "'settle'" in result.output
    assert "is not a duration" in result.output or "must be a duration" in result.output
    assert "Traceback" not in result.output


# -- the migration -----------------------------------------------------------------------


def _version_2_store(engine: sa.Engine) -> None:
    with engine.begin() as con:
        for table in s.metadata.sorted_tables:
            if table.name not in (s.periods.name, s.definitions.name):
                table.create(con)
        con.execute(
            sa.insert(s.meta),
            [{"key": "schema_version", "value": "2"}, {"key": "created", "value": "x"}],
        )
        con.execute(
            sa.insert(s.playbooks).values(id="p", title="t", path="x", created="y", revision=4)
        )


def _migrated(location: str) -> None:
    with open_store(location) as store:
        assert store.read("p").revision == 4  # the state survives
        with store.engine.connect() as con:
            version = con.execute(
                sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
            ).scalar_one()
            inspector = sa.inspect(con)
            assert inspector.has_table("pdca_periods") and inspector.has_table("pdca_definitions")
        assert int(version) == s.SCHEMA_VERSION == 3
        assert store.read_periods("p", ["m"])["m"].periods == ()


def test_a_version_2_sqlite_state_migrates(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    _version_2_store(engine)
    engine.dispose()
    _migrated(str(path))


@pytest.mark.postgres
def test_a_version_2_postgresql_state_migrates(pg_url: str) -> None:
    from pg_server import fresh_database

    for url in fresh_database(pg_url, "periods_mig"):
        engine = sa.create_engine(url)
        _version_2_store(engine)
        engine.dispose()
        _migrated(url)


def test_concurrent_writers_of_one_cache_both_succeed(backend: tuple[Data, str]) -> None:
    """Two checks keeping the same metric's periods at once: one waits for the other
    (SQLite's write lock, PostgreSQL's advisory lock), neither fails, nothing doubles."""
    from concurrent.futures import ThreadPoolExecutor

    from pdca.state.periods import Definition, Keep, PeriodRow

    _, state = backend
    rows = tuple(
        PeriodRow(date(2026, 1, 5 + 7 * i), date(2026, 1, 12 + 7 * i), float(i), 1, final=True)
        for i in range(3)
    )
    keep = Keep("m", Definition("f" * 64), date(2026, 1, 5), rows, date(2026, 1, 5))

    def write(_: int) -> bool:
        with open_store(state) as store:
            return store.keep_periods("p", [keep] * 5)

    with open_store(state):
        pass
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(write, range(8))) == [True] * 8
    assert [r[:3] for r in stored(state, "m")] == [
        ("2026-01-05", 0.0, 1),
        ("2026-01-12", 1.0, 1),
        ("2026-01-19", 2.0, 1),
    ]
