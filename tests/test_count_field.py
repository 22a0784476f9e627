"""``count`` with a field: rows whose field is empty count 0, in the window as in the series."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pdca.cli import cli


def test_a_window_of_rows_without_the_field_counts_zero_like_its_periods(tmp_path: Path) -> None:
    # two escalations in March's first week, then two weeks of tickets none escalated
    (tmp_path / "t.csv").write_text(
        "ts,escalated_at\n"
        "2026-03-02 09:00,2026-03-02\n2026-03-03 09:00,2026-03-03\n2026-03-04 09:00,\n"
        "2026-03-09 09:00,\n2026-03-10 09:00,\n2026-03-16 09:00,\n2026-03-17 09:00,\n"
    )
    (tmp_path / "p.yaml").write_text(
        "playbook: p\ntitle: T\nsources: {t: {type: csv, path: t.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  esc: {source: t, kpi: count, field: escalated_at, target: 1, direction: decrease,"
        " window: 14d}\n"
        "  quiet: {source: t, kpi: count, field: escalated_at, target: 1, direction: decrease,"
        " window: 7d}\n"
    )
    out = CliRunner().invoke(
        cli, ["check", str(tmp_path / "p.yaml"), "--format", "json", "--as-of", "2026-03-22"]
    )
    assert out.exit_code == 0, out.output
    esc = json.loads(out.stdout)["metrics"]["esc"]
    # window 2026-03-09..22: four tickets, none escalated
    assert (esc["value"], esc["n"], esc["status"]) == (0.0, 0, "met")
    assert [(p["start"], p["value"]) for p in esc["series"]] == [
        ("2026-03-02", 2.0),
        ("2026-03-09", 0.0),
        ("2026-03-16", 0.0),
    ]
    # a week after the data stopped: no row in the window, no value
    out = CliRunner().invoke(
        cli, ["check", str(tmp_path / "p.yaml"), "--format", "json", "--as-of", "2026-03-29"]
    )
    quiet = json.loads(out.stdout)["metrics"]["quiet"]
    assert (quiet["value"], quiet["status"]) == (None, "no_data")
