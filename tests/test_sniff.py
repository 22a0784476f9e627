"""A CSV file is sniffed once per process, and reading it spelled out gives the same rows.

Without the Parquet cache, every metric over a CSV source binds a query over
the file's view; with detection on, DuckDB would sample the file again each
time. :mod:`pdca.data.sniff` sniffs once and spells the dialect and types out.
The sniffs are counted through the module's ``sniff`` seam; the equivalence is
checked on real files of many shapes against DuckDB reading them with
detection on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from pdca.cli import cli
from pdca.data import sniff
from pdca.data.files import csv_arguments, scan_sql

PLAYBOOK = """\
playbook: sniffed
title: Sniffed once
sources:
  tickets: {type: csv, path: tickets.csv, timestamp: opened}
metrics:
  email: {source: tickets, kpi: mean, field: minutes, filter: "channel = 'email'", target: 5}
  phone: {source: tickets, kpi: mean, field: minutes, filter: "channel = 'phone'", target: 5}
  chat: {source: tickets, kpi: mean, field: minutes, filter: "channel = 'chat'", target: 5}
  long: {source: tickets, kpi: count, filter: "minutes > 5", target: 1}
  all: {source: tickets, kpi: count, target: 1}
"""
TICKETS = (
    "opened,channel,minutes\n"
    "2024-03-01,email,4\n"
    "2024-03-02,phone,6\n"
    "2024-03-03,email,11\n"
    "2024-03-04,chat,3\n"
    "2024-03-05,phone,9\n"
)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files sniffed while the test runs (nothing remembered from earlier tests)."""
    seen: list[Path] = []
    real = sniff.sniff

    def counting(con: Any, path: Path, arguments: Any) -> str | None:
        seen.append(path)
        return real(con, path, arguments)

    sniff.forget()
    monkeypatch.setattr(sniff, "sniff", counting)
    yield seen
    sniff.forget()


def _check(folder: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli,
        [
            "check",
            str(folder / "playbook.yaml"),
            "--as-of",
            "2024-03-10",
            "--format",
            "json",
            *extra,
        ],
    )
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _values(report: dict[str, Any]) -> dict[str, Any]:
    return {mid: m["value"] for mid, m in report["metrics"].items()}


def test_a_check_without_the_cache_sniffs_the_file_once(
    tmp_path: Path, counted: list[Path]
) -> None:
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK)
    (tmp_path / "tickets.csv").write_text(TICKETS)
    report = _check(tmp_path, "--no-cache")
    # email 4 and 11, phone 6 and 9, chat 3; longer than 5 minutes: 6, 11, 9
    assert _values(report) == {"email": 7.5, "phone": 7.5, "chat": 3.0, "long": 3, "all": 5}
    assert counted == [(tmp_path / "tickets.csv").resolve()]
    _check(tmp_path, "--no-cache")  # the same process, the same file: not sniffed again
    assert len(counted) == 1


def test_a_changed_file_is_sniffed_again(tmp_path: Path, counted: list[Path]) -> None:
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK)
    data = tmp_path / "tickets.csv"
    data.write_text(TICKETS)
    _check(tmp_path, "--no-cache")
    # minutes become text-with-decimals: a type only a new sniff can know
    data.write_text(TICKETS.replace(",4\n", ",4.5\n"))
    assert _values(_check(tmp_path, "--no-cache"))["email"] == 7.75
    assert len(counted) == 2


def test_with_the_cache_a_second_check_sniffs_nothing(tmp_path: Path, counted: list[Path]) -> None:
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK)
    (tmp_path / "tickets.csv").write_text(TICKETS)
    first = _values(_check(tmp_path))
    sniff.forget()  # as a new process would start
    assert _values(_check(tmp_path)) == first  # answered from the Parquet copy
    assert len(counted) == 1


SHAPES: dict[str, tuple[bytes, dict[str, Any]]] = {
    "quoted fields": (b'id,note,when\n1,"a, b",2024-01-02 03:04:05\n2,"say ""hi""",\n', {}),
    "embedded newline": (b'id,note\n1,"two\nlines"\n2,plain\n', {}),
    "semicolons, decimal comma, NA": (
        b"a;b;c\n1,5;NA;x\n2,25;3;y\n",
        {"delimiter": ";", "decimal_separator": ",", "null": "NA"},
    ),
    "tabs, detected": (b"a\tb\n1\t2.5\n3\t4\n", {}),
    "no header, a line skipped": (
        b"exported by tool\n2024-01-01|1\n2024-01-02|2\n",
        {"header": False, "skip": 1},
    ),
    "latin-1": ("name,score\nJosé,3\nZoë,4\n".encode("latin-1"), {"encoding": "latin-1"}),
    "byte order mark, CRLF": (b"\xef\xbb\xbfts,v\r\n2024-01-01,1\r\n2024-01-02,2\r\n", {}),
    "zoned times": (b"ts,v\n2024-01-01T10:00:00+02:00,1\n2024-01-01T23:30:00-05:00,2\n", {}),
    "a type set by the playbook": (
        b"ticket_id,v\n007,1\n010,2\n",
        {"types": {"ticket_id": "VARCHAR"}},
    ),
    "quotes in names": (b'"it\'s","a ""b"""\n1,2\n', {}),
    "names repeated, in other cases": (b"a,a,A\n1,2,3\n4,5,6\n", {}),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_reading_spelled_out_gives_what_detection_gives(tmp_path: Path, name: str) -> None:
    data, options = SHAPES[name]
    path = tmp_path / "it's here.csv"
    path.write_bytes(data)
    arguments = csv_arguments(options)
    con = duckdb.connect()
    detected = con.sql(f"SELECT * FROM {scan_sql('read_csv', path, arguments)}")
    spelled_call = sniff.sniff(con, path, arguments)
    assert spelled_call is not None and "auto_detect=FALSE" in spelled_call
    spelled = con.sql(f"SELECT * FROM {spelled_call}")
    assert spelled.columns == detected.columns
    assert [str(t) for t in spelled.types] == [str(t) for t in detected.types]
    assert spelled.fetchall() == detected.fetchall()


def test_a_file_that_cannot_be_sniffed_is_read_with_detection(
    tmp_path: Path, counted: list[Path]
) -> None:
    path = tmp_path / "gone.csv"
    con = duckdb.connect()
    scan = scan_sql("read_csv", path, {})
    assert sniff.explicit_scan(con, path, {}, scan) == scan  # no file: DuckDB says so later
    assert not sniff._SNIFFED  # and nothing is remembered for it


def test_a_sniff_that_does_not_bind_falls_back_to_detection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "playbook.yaml").write_text(PLAYBOOK)
    (tmp_path / "tickets.csv").write_text(TICKETS)
    sniff.forget()
    monkeypatch.setattr(sniff, "sniff", lambda con, path, arguments: "read_csv('x', nonsense=1)")
    try:
        values = _values(_check(tmp_path, "--no-cache"))
    finally:
        sniff.forget()
    assert values == {"email": 7.5, "phone": 7.5, "chat": 3.0, "long": 3, "all": 5}
