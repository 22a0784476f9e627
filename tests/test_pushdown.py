"""KPIs the database computes: only aggregates come back, and what cannot be pushed still works.

On a real SQLite file: the row reader is replaced by one that fails, so a metric
the database computes cannot have read rows; a plugin KPI and a percentile
(SQLite has no ordered-set aggregate) read rows and say ``computed: local``.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pdca import hookimpl, load_playbook
from pdca.check import measure
from pdca.kpi import FunctionKpi
from pdca.plugins import build_registry, get_plugin_manager

AS_OF = date(2026, 1, 14)


def spread(values: list[Any]) -> float:
    """max - min of the values."""
    return float(max(values) - min(values))


class Plugin:
    @hookimpl
    def pdca_register_kpis(self, register: Any) -> None:
        register(FunctionKpi("spread", spread))


def setup(folder: Path, metrics: str) -> tuple[Any, Any]:
    con = sqlite3.connect(folder / "t.db")
    con.execute("CREATE TABLE t (ts TEXT, score INTEGER, hours REAL, team TEXT)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        [
            ("2026-01-05 10:00:00", 10, 2.0, "a"),
            ("2026-01-06 10:00:00", 6, 4.0, "b"),
            ("2026-01-12 10:00:00", 9, 9.0, "a"),
        ],
    )
    con.commit()
    con.close()
    (folder / "p.yaml").write_text(
        "playbook: p\ntitle: T\nsources: {t: {type: sqlite, path: t.db, table: t, timestamp: ts}}\n"
        f"metrics:\n{metrics}",
        encoding="utf-8",
    )
    manager = get_plugin_manager(entry_points=False, extra=[("spread", Plugin())])
    return load_playbook(folder / "p.yaml", plugin_manager=manager), build_registry(manager)


def test_the_database_computes_and_no_row_is_read(
    tmp_path: Path, sqlite_returned: list[int]
) -> None:
    playbook, registry = setup(
        tmp_path,
        "  nps: {source: t, kpi: nps, field: score, target: 0, segment_by: team}\n"
        "  mean_a: {source: t, kpi: mean, field: hours, target: 0, filter: \"team = 'a'\"}\n",
    )
    metrics = measure.check(playbook, registry, AS_OF)["metrics"]
    assert metrics["nps"]["computed"] == metrics["mean_a"]["computed"] == "database"
    # 10 and 9 promoters, 6 a detractor: (2 - 1) / 3
    assert metrics["nps"]["value"] == pytest.approx(100 / 3) and metrics["nps"]["n"] == 3
    assert [(s["segment"], s["value"]) for s in metrics["nps"]["segments"]] == [
        ("b", -100.0),
        ("a", 100.0),
    ]
    assert metrics["mean_a"]["value"] == 5.5  # 2 and 9
    assert [(p["period"], p["value"]) for p in metrics["mean_a"]["series"]] == [
        ("2026-W02", 2.0),
        ("2026-W03", 9.0),
    ]
    assert metrics["mean_a"]["data_until"] == "2026-01-12"
    # the time check (1 row), weeks (2 rows), the window (1), segments (2): aggregates only
    assert sorted(sqlite_returned) == [1, 1, 2, 2]


def test_what_the_database_cannot_compute_reads_rows(tmp_path: Path) -> None:
    playbook, registry = setup(
        tmp_path,
        "  p50: {source: t, kpi: percentile, field: hours, params: {q: 50}, target: 0}\n"
        "  spread: {source: t, kpi: spread, field: hours, target: 0}\n"
        '  broken: {source: t, kpi: mean, field: hours, target: 0, filter: "nosuch = 1"}\n',
    )
    metrics = measure.check(playbook, registry, AS_OF)["metrics"]
    assert metrics["p50"]["computed"] == metrics["spread"]["computed"] == "local"
    assert metrics["p50"]["value"] == 4.0 and metrics["spread"]["value"] == 7.0
    # a metric the database would compute, but whose filter is wrong: the error the
    # row reader gives, at the filter's line, and no computed key
    assert metrics["broken"]["status"] == "error"
    assert "nosuch" in metrics["broken"]["error"] and "computed" not in metrics["broken"]
