"""The example data generator and the example playbooks that ship with pdca.

The examples are the first thing a manager runs, so they must hold what their
READMEs promise: the data is reproducible, the planted countermeasure really shows
as a shift bigger than the weekly noise, the noise metric really is noise, and every
column a playbook names exists in the data beside it. Effects are recomputed here by
hand with DuckDB, independently of pdca's KPI code.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pdca.examples import generate as gen

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = ROOT / "playbooks"
BUNDLED = ROOT / "src" / "pdca" / "examples"
EXAMPLES = ("support-desk", "it-service-desk")

KPIS = {
    "mean", "median", "sum", "count", "count_distinct", "min", "max", "rate", "percentile",
    "nps", "csat", "ces", "sla", "ratio", "retention", "churn", "enps", "servqual_gap",
}  # fmt: skip
PHASES = ("plan", "do", "check", "act")
STATUSES = {"met", "at_risk", "off_track", "no_data", "error"}
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def support(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("support")
    gen.generate_support_desk(folder)
    return folder


@pytest.fixture(scope="module")
def itsm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("itsm")
    gen.generate_it_service_desk(folder)
    return folder


def _before_after(
    con: duckdb.DuckDBPyConnection,
    table: str,
    ts: str,
    value_sql: str,
    countermeasure: date,
    ramp_days: int = 7,
    where: str = "TRUE",
) -> tuple[float, float]:
    """The value before the countermeasure and once it has bedded in (after the ramp)."""
    settled = countermeasure + timedelta(days=ramp_days)
    before, after = (
        con.execute(f"SELECT {value_sql} FROM {table} WHERE ({where}) AND {period}").fetchall()[0][
            0
        ]
        for period in (f"{ts} < DATE '{countermeasure}'", f"{ts} >= DATE '{settled}'")
    )
    return float(before), float(after)


def _weekly(
    con: duckdb.DuckDBPyConnection, table: str, ts: str, value_sql: str, until: date
) -> np.ndarray:
    """Per-week values before ``until``: the common-cause noise a control chart sees."""
    rows = con.execute(
        f"SELECT date_trunc('week', {ts}) AS w, {value_sql} FROM {table} "
        f"WHERE {ts} < DATE '{until}' GROUP BY w ORDER BY w"
    ).fetchall()
    return np.array([v for _, v in rows], dtype=float)


def _nps_sql(column: str) -> str:
    return f"100 * (avg(({column} >= 9)::INT) - avg(({column} <= 6)::INT))"


def _yes(column: str) -> str:
    return f"100 * avg(({column} = 'yes')::INT)"


# --------------------------------------------------------------------------- determinism


def test_support_desk_is_deterministic(tmp_path: Path, support: Path) -> None:
    again = tmp_path / "again"
    other = tmp_path / "other"
    gen.generate_support_desk(again)
    gen.generate_support_desk(other, seed=gen.SUPPORT_DESK.seed + 1)
    assert _digest(again) == _digest(support)
    assert _digest(other).keys() == _digest(support).keys()
    assert _digest(other) != _digest(support)


def test_it_service_desk_is_deterministic(tmp_path: Path, itsm: Path) -> None:
    gen.generate_it_service_desk(tmp_path)
    assert _digest(tmp_path) == _digest(itsm)
    assert set(_digest(itsm)) == {"incidents.csv", "itsm.sqlite"}


def test_committed_example_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    """Anyone can rebuild them: ``python -m pdca.examples.generate playbooks``."""
    assert gen.main(["playbooks", str(tmp_path)]) == 0
    for name in EXAMPLES:
        committed = PLAYBOOKS / name / "data"
        assert _digest(tmp_path / name / "data") == _digest(committed), name


def test_committed_example_data_stays_small() -> None:
    files = [p for name in EXAMPLES for p in (PLAYBOOKS / name / "data").iterdir()]
    assert sum(p.stat().st_size for p in files) < 1_000_000


def test_default_countermeasure_is_the_middle_of_the_range() -> None:
    for s in gen.SCENARIOS.values():
        assert s.countermeasure == s.start + timedelta((s.end - s.start).days // 2)
        assert s.start < s.countermeasure < s.as_of < s.end


# --------------------------------------------------------------------------- realism


def test_support_desk_data_looks_like_a_support_desk(support: Path) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_csv('{support / 'tickets.csv'}')")
    con.execute(f"CREATE VIEW s AS SELECT * FROM read_csv('{support / 'surveys.csv'}')")
    counts = con.execute("SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM s)").fetchone()
    n_tickets, n_surveys = counts
    assert 2000 < n_tickets < 6000
    assert 1000 < n_surveys < n_tickets
    # weekdays are busier than weekends, office hours busier than the night
    weekday, weekend = con.execute(
        "SELECT count(*) FILTER (WHERE isodow(created_at) <= 5) / 5.0, "
        "count(*) FILTER (WHERE isodow(created_at) > 5) / 2.0 FROM t"
    ).fetchone()
    assert weekday > 2.5 * weekend
    day, night = con.execute(
        "SELECT count(*) FILTER (WHERE hour(created_at) BETWEEN 9 AND 16), "
        "count(*) FILTER (WHERE hour(created_at) < 6) FROM t"
    ).fetchone()
    assert day > 10 * night
    assert {r[0] for r in con.execute("SELECT DISTINCT channel FROM t").fetchall()} == set(
        gen.CHANNELS
    )
    # long tail: the mean first response is well above the median
    mean, median, p99 = con.execute(
        "SELECT avg(first_response_minutes), median(first_response_minutes), "
        "quantile_cont(first_response_minutes, 0.99) FROM t WHERE channel = 'email'"
    ).fetchone()
    assert mean > 1.2 * median and p99 > 5 * median
    # repeat customers, so retention has something to measure
    repeaters = con.execute(
        "SELECT avg((n > 1)::INT) FROM (SELECT count(*) n FROM t GROUP BY customer_id)"
    ).fetchone()[0]
    assert 0.2 < repeaters < 0.9
    # survey scales and linkage
    ltr = "min(likelihood_to_recommend), max(likelihood_to_recommend)"
    assert con.execute(f"SELECT {ltr} FROM s").fetchone() == (0, 10)
    assert con.execute("SELECT min(satisfaction), max(satisfaction) FROM s").fetchone() == (1, 5)
    assert con.execute("SELECT min(effort), max(effort) FROM s").fetchone() == (1, 7)
    orphans = con.execute(
        "SELECT count(*) FROM s LEFT JOIN t USING (ticket_id) "
        "WHERE t.ticket_id IS NULL OR s.submitted_at <= t.created_at"
    ).fetchone()[0]
    assert orphans == 0


def test_survey_comments_are_messy_like_real_ones(support: Path) -> None:
    with (support / "surveys.csv").open(encoding="utf-8", newline="") as f:
        comments = [row["comment"] for row in csv.DictReader(f)]
    empty = sum(1 for c in comments if not c)
    assert 0.2 < empty / len(comments) < 0.5
    assert any("<b>" in c for c in comments)
    assert any(re.search("[åäö]", c) for c in comments), "some comments should be in Swedish"
    assert any("," in c for c in comments) and any('"' in c for c in comments)


def test_pulse_table_is_a_fortnightly_staff_survey(itsm: Path) -> None:
    con = sqlite3.connect(itsm / "itsm.sqlite")
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(pulse)")]
        assert {"submitted_at", "team", "recommend_employer"} <= set(cols)
        n, waves, lo, hi = con.execute(
            "SELECT count(*), count(DISTINCT wave), min(recommend_employer), "
            "max(recommend_employer) FROM pulse"
        ).fetchone()
    finally:
        con.close()
    assert 200 < n < 1000 and 10 <= waves <= 14
    assert lo >= 0 and hi <= 10


# --------------------------------------------------------------------------- the planted change


def test_support_desk_improvement_is_planted(support: Path) -> None:
    cm = gen.SUPPORT_DESK.countermeasure
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_csv('{support / 'tickets.csv'}')")
    con.execute(f"CREATE VIEW s AS SELECT * FROM read_csv('{support / 'surveys.csv'}')")

    before, after = _before_after(con, "t", "created_at", "avg(first_response_minutes)", cm)
    assert before - after > 50, (before, after)
    weekly = _weekly(con, "t", "created_at", "avg(first_response_minutes)", cm)
    assert before - after > 2 * weekly.std(ddof=1)

    before, after = _before_after(
        con, "t", "created_at", "median(first_response_minutes)", cm, where="channel = 'email'"
    )
    assert after < 0.7 * before

    before, after = _before_after(con, "s", "submitted_at", _nps_sql("likelihood_to_recommend"), cm)
    assert after - before > 15, (before, after)
    weekly = _weekly(con, "s", "submitted_at", _nps_sql("likelihood_to_recommend"), cm)
    assert after - before > 2 * weekly.std(ddof=1)

    csat = "100 * avg((satisfaction >= 4)::INT)"
    before, after = _before_after(con, "s", "submitted_at", csat, cm)
    assert after - before > 8, (before, after)
    weekly = _weekly(con, "s", "submitted_at", csat, cm)
    assert after - before > 1.5 * weekly.std(ddof=1)

    fcr = _yes("resolved_first_contact")
    before, after = _before_after(con, "t", "created_at", fcr, cm)
    assert after - before > 6, (before, after)
    weekly = _weekly(con, "t", "created_at", fcr, cm)
    assert after - before > 1.5 * weekly.std(ddof=1)


def test_support_desk_effort_is_pure_noise(support: Path) -> None:
    cm = gen.SUPPORT_DESK.countermeasure
    con = duckdb.connect()
    con.execute(f"CREATE VIEW s AS SELECT * FROM read_csv('{support / 'surveys.csv'}')")
    before, after = _before_after(con, "s", "submitted_at", "avg(effort)", cm)
    weekly = _weekly(con, "s", "submitted_at", "avg(effort)", cm)
    assert abs(after - before) < 0.15, (before, after)
    assert abs(after - before) < weekly.std(ddof=1)


def test_it_service_desk_improvement_is_planted(itsm: Path) -> None:
    cm = gen.IT_SERVICE_DESK.countermeasure
    con = duckdb.connect()
    con.execute(f"CREATE VIEW i AS SELECT * FROM read_csv('{itsm / 'incidents.csv'}')")
    contact = "channel IN ('phone', 'chat', 'walk-in')"
    for value_sql, where, gain in (
        (_yes("resolved_first_contact"), contact, 10),
        (_yes("kb_article_used"), "TRUE", 25),
        (_yes("sla_met"), "TRUE", 8),
    ):
        before, after = _before_after(con, "i", "opened_at", value_sql, cm, where=where)
        assert after - before > gain, (value_sql, before, after)
    before, after = _before_after(con, "i", "opened_at", "median(resolution_hours)", cm)
    assert after < 0.5 * before

    with closing(sqlite3.connect(itsm / "itsm.sqlite")) as pulse:
        rows = pulse.execute("SELECT submitted_at, recommend_employer FROM pulse").fetchall()
    con.register("p", pa.table({"ts": [r[0] for r in rows], "score": [r[1] for r in rows]}))
    con.execute("CREATE VIEW pulse AS SELECT ts::TIMESTAMP AS ts, score FROM p")
    before, after = _before_after(con, "pulse", "ts", _nps_sql("score"), cm, ramp_days=28)
    assert after - before > 12, (before, after)


@pytest.mark.parametrize("seed", [gen.IT_SERVICE_DESK.seed, 1, 2])
def test_it_service_desk_reopen_rate_is_pure_noise(tmp_path: Path, seed: int) -> None:
    gen.generate_it_service_desk(tmp_path, seed=seed)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW i AS SELECT * FROM read_csv('{tmp_path / 'incidents.csv'}')")
    before, after = _before_after(
        con, "i", "opened_at", _yes("reopened"), gen.IT_SERVICE_DESK.countermeasure
    )
    n = con.execute("SELECT count(*) FROM i").fetchone()[0]
    p = (before + after) / 200
    se = 100 * (p * (1 - p) * 4 / n) ** 0.5  # two halves of about n/2 each
    assert abs(after - before) < 4 * se, (before, after, se)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_change_follows_the_chosen_date(tmp_path: Path, seed: int) -> None:
    """A custom range gets its change in the middle, whatever the seed."""
    gen.generate_support_desk(tmp_path, "2024-01-01", "2024-07-01", seed=seed)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW s AS SELECT * FROM read_csv('{tmp_path / 'surveys.csv'}')")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_csv('{tmp_path / 'tickets.csv'}')")
    middle = date(2024, 3, 31)
    first, last = con.execute("SELECT min(created_at), max(submitted_at) FROM t, s").fetchone()
    assert first.date() >= date(2024, 1, 1) and last.date() < date(2024, 7, 1)
    before, after = _before_after(
        con, "s", "submitted_at", _nps_sql("likelihood_to_recommend"), middle
    )
    assert after - before > 12
    before, after = _before_after(con, "s", "submitted_at", "avg(effort)", middle)
    assert abs(after - before) < 0.25


# --------------------------------------------------------------------------- the playbooks


def _load(name: str) -> dict[str, Any]:
    with (PLAYBOOKS / name / "playbook.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def _source_views(con: duckdb.DuckDBPyConnection, base: Path, sources: dict[str, Any]) -> None:
    """One DuckDB view per source, read independently of pdca's source plugins."""
    for sid, src in sources.items():
        path = base / src["path"]
        assert path.is_file(), f"source {sid}: {path} is missing"
        if src["type"] == "csv":
            con.execute(f"CREATE VIEW \"{sid}\" AS SELECT * FROM read_csv('{path}')")
        elif src["type"] == "sqlite":
            db = sqlite3.connect(path)
            try:
                cur = db.execute(f'SELECT * FROM "{src["table"]}"')
                names = [d[0] for d in cur.description]
                rows = cur.fetchall()
            finally:
                db.close()
            table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(names)})
            con.register(f"{sid}__arrow", table)
            con.execute(f'CREATE VIEW "{sid}" AS SELECT * FROM "{sid}__arrow"')
        else:  # pragma: no cover - the examples use csv and sqlite only
            pytest.fail(f"unexpected source type {src['type']}")


@pytest.mark.parametrize("name", EXAMPLES)
def test_playbook_columns_exist_in_its_data(name: str) -> None:
    pb = _load(name)
    con = duckdb.connect()
    _source_views(con, PLAYBOOKS / name, pb["sources"])
    columns = {
        sid: {r[0] for r in con.execute(f'DESCRIBE "{sid}"').fetchall()} for sid in pb["sources"]
    }
    for sid, src in pb["sources"].items():
        assert src["timestamp"] in columns[sid], (sid, src["timestamp"])
    for mid, m in pb["metrics"].items():
        cols = columns[m["source"]]
        params = m.get("params") or {}
        used = [m.get("field"), m.get("segment_by"), params.get("expectation")]
        used.append(params.get("denominator"))
        for col in filter(None, used):
            assert col in cols, f"metric {mid}: no column {col!r} in {m['source']}"
        where = m.get("filter") or "TRUE"
        # DuckDB binds every column the filter names: an unknown one raises here
        matched = con.execute(f'SELECT count(*) FROM "{m["source"]}" WHERE {where}').fetchone()[0]
        assert matched > 0, f"metric {mid}: filter matches no rows"


def _days(text: str) -> int:
    m = re.fullmatch(r"(\d+)d", str(text))
    assert m, text
    return int(m.group(1))


@pytest.mark.parametrize("name", EXAMPLES)
def test_playbook_follows_the_format(name: str) -> None:
    """A self-contained reading of the format contract, so the examples stay valid."""
    pb = _load(name)
    assert SLUG.fullmatch(pb["playbook"]) and pb["title"]
    owners = pb["owners"]
    assert any(o.get("members") for o in owners.values()), "at least one team"
    for o in owners.values():
        assert o["name"]
        assert set(o.get("members", [])) <= set(owners)
    for src in pb["sources"].values():
        assert src["type"] in {"csv", "parquet", "json", "sqlite", "sql"}
    metrics = pb["metrics"]
    assert any(m.get("filter") for m in metrics.values())
    assert any(m.get("segment_by") for m in metrics.values())
    for mid, m in metrics.items():
        assert SLUG.fullmatch(mid)
        assert m["source"] in pb["sources"] and m["kpi"] in KPIS
        assert isinstance(m["target"], int | float)
        direction = m.get("direction", "increase")
        assert direction in ("increase", "decrease")
        assert m.get("period", "week") in ("day", "week", "month")
        _days(m.get("window", "28d"))
        if "warn" in m:
            # the amber band lies on the far side of the target
            if direction == "increase":
                assert m["warn"] < m["target"], mid
            else:
                assert m["warn"] > m["target"], mid
        if "baseline" in m:
            assert isinstance(m["baseline"], int | float)
    objectives = pb["objectives"]
    assert len(objectives) == 3
    for o in objectives.values():
        assert o["owner"] in owners and set(o["metrics"]) <= set(metrics)
        assert isinstance(o["due"], date)
    tasks = pb["tasks"]
    assert len(tasks) >= 12
    phases = {t.get("phase", "do") for t in tasks.values()}
    assert phases == set(PHASES)
    for tid, t in tasks.items():
        assert SLUG.fullmatch(tid) and t["title"] and t["owner"] in owners
        phase = PHASES.index(t.get("phase", "do"))
        for dep in t.get("depends_on", []):
            assert dep in tasks, (tid, dep)
            assert PHASES.index(tasks[dep].get("phase", "do")) <= phase, (tid, dep)
        if "objective" in t:
            assert t["objective"] in objectives
        assert isinstance(t["due"], date)
        assert re.fullmatch(r"\d+[hdw]", str(t["estimate"])), t["estimate"]
        if "when" in t:
            assert t.get("phase") == "act"
            assert t["when"]["metric"] in metrics
            status = t["when"]["status"]
            assert set(status if isinstance(status, list) else [status]) <= STATUSES
    assert sum(1 for t in tasks.values() if "when" in t) >= 2
    assert any(t.get("action", {}).get("type") == "shell" for t in tasks.values())
    cycle = pb["cycle"]
    assert isinstance(cycle["start"], date)
    scenario = gen.SCENARIOS[name]
    assert scenario.start <= cycle["start"] < scenario.countermeasure
    assert scenario.countermeasure < cycle["start"] + timedelta(_days(cycle["length"]))
    assert str(scenario.as_of) in pb["description"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_automated_tasks_run_offline_in_the_playbook_folder(tmp_path: Path, name: str) -> None:
    """The shell actions are harmless: they read the data and write only under ``out/``."""
    folder = tmp_path / name
    shutil.copytree(PLAYBOOKS / name, folder, ignore=shutil.ignore_patterns(".pdca", "out"))
    before = {p for p in folder.rglob("*")}
    for tid, task in _load(name)["tasks"].items():
        action = task.get("action")
        if not action:
            continue
        command = action["command"]
        assert command.startswith("python3 -c ")
        # run the one-liner with this interpreter: PATH may not have python3 on every box
        command = shlex.quote(sys.executable) + command[len("python3") :]
        proc = subprocess.run(
            command, shell=True, cwd=folder, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, (tid, proc.stderr)
        assert "out/" in proc.stdout
    created = {p for p in folder.rglob("*")} - before
    assert created and all(p.relative_to(folder).parts[0] == "out" for p in created)


def test_bundled_demo_matches_the_repository_example(tmp_path: Path) -> None:
    bundled = gen.bundled_example("support-desk")
    assert bundled == BUNDLED / "support-desk"
    assert (bundled / "playbook.yaml").read_bytes() == (
        PLAYBOOKS / "support-desk" / "playbook.yaml"
    ).read_bytes()
    assert (bundled / "README.md").is_file()
    shipped = [p for p in BUNDLED.rglob("*") if p.suffix in {".csv", ".sqlite", ".parquet"}]
    assert shipped == [], "the package regenerates demo data; it must not ship data files"
    playbook = gen.install_example(tmp_path / "demo")
    assert playbook == tmp_path / "demo" / "playbook.yaml" and playbook.is_file()
    assert _digest(tmp_path / "demo" / "data") == _digest(PLAYBOOKS / "support-desk" / "data")


# --------------------------------------------------------------------------- benchmark generator


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_generate_tickets_writes_exactly_n_rows(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"tickets.{fmt}"
    # small chunks so the chunked writer is exercised with several batches
    assert gen.generate_tickets(5_000, path, fmt, seed=3, chunk_rows=700) == path
    if fmt == "parquet":
        assert pq.ParquetFile(path).metadata.num_rows == 5_000
        source = f"read_parquet('{path}')"
    else:
        source = f"read_csv('{path}')"
    n, ids, first, last, in_order = duckdb.execute(
        f"SELECT count(*), count(DISTINCT ticket_id), min(ticket_id), max(ticket_id), "
        f"bool_and(created_at >= prev) FROM (SELECT *, lag(created_at, 1, created_at) "
        f"OVER (ORDER BY ticket_id) AS prev FROM {source})"
    ).fetchone()
    assert (n, ids, first, last) == (5_000, 5_000, 1, 5_000)
    assert in_order
    cols = {r[0] for r in duckdb.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    assert {"created_at", "first_response_minutes", "resolved_first_contact", "channel"} <= cols
    again = tmp_path / f"again.{fmt}"
    gen.generate_tickets(5_000, again, fmt, seed=3, chunk_rows=700)
    if fmt == "csv":
        assert again.read_bytes() == path.read_bytes()
    else:
        assert pq.read_table(again).equals(pq.read_table(path))


def test_generate_tickets_keeps_the_planted_change(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    gen.generate_tickets(40_000, path, "parquet", seed=1, start="2025-01-06", end="2025-07-07")
    before, after = _before_after(
        duckdb.connect(),
        f"read_parquet('{path}')",
        "created_at",
        "avg(first_response_minutes)",
        date(2025, 4, 7),
    )
    assert before - after > 50


def test_generate_tickets_handles_edge_cases(tmp_path: Path) -> None:
    empty = gen.generate_tickets(0, tmp_path / "empty.csv")
    assert empty.read_text().count("\n") == 1
    assert pq.ParquetFile(gen.generate_tickets(0, tmp_path / "e.parquet", "parquet")).metadata
    with pytest.raises(ValueError, match="fmt"):
        gen.generate_tickets(10, tmp_path / "x.json", "json")
    with pytest.raises(ValueError, match="end"):
        gen.generate_support_desk(tmp_path, "2026-01-01", "2025-01-01")


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gen.main(["tickets", "1000", str(tmp_path / "t.parquet")]) == 0
    assert pq.ParquetFile(tmp_path / "t.parquet").metadata.num_rows == 1000
    assert gen.main(["it-service-desk", str(tmp_path / "it"), "--seed", "5"]) == 0
    assert "incidents.csv" in capsys.readouterr().out
    proc = subprocess.run(
        [sys.executable, "-m", "pdca.examples.generate", "support-desk", str(tmp_path / "sd")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert _digest(tmp_path / "sd") == _digest(PLAYBOOKS / "support-desk" / "data")
