"""The ``xlsx`` source, on workbooks written by openpyxl the way survey tools and people do.

Each test writes its own workbook, then measures it through ``pdca check`` with
the ``pdca.testing`` helpers, so the plugin is exercised exactly as a team's
playbook would use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pluggy
import pytest
from pdca.plugins.check import check_plugins
from pdca.testing import CliFailed, CliResult, PlaybookBuilder, run_check

import pdca_excel

Rows = Sequence[Sequence[Any]]


def workbook(path: Path, sheets: dict[str, Rows]) -> Path:
    """Write ``sheets`` (title -> rows of cell values) as an .xlsx file."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


SURVEY: Rows = [
    ["Customer survey export, Q1 2026"],  # a title row, as exports have
    [],
    ["submitted", "channel", "score", "comment"],
    [datetime(2026, 3, 2, 9, 15), "email", 10, "great"],
    [datetime(2026, 3, 3, 14, 0), "email", 9, None],
    [datetime(2026, 3, 3, 16, 30), "phone", 2, "waited long"],
    [],  # a blank separator row is not data
    [datetime(2026, 3, 4, 11, 0), "email", 7, None],
    [datetime(2026, 3, 5, 10, 0), "email", 3, "rude"],
    [datetime(2026, 3, 5, 12, 0), "email", 10, None],
    [datetime(2025, 12, 1, 12, 0), "email", 0, "old: outside the window"],
]


def survey_playbook(
    build: Callable[..., PlaybookBuilder], sheets: dict[str, Rows], **source: Any
) -> Path:
    builder = build("survey")
    workbook(builder.folder / "data" / "survey.xlsx", sheets)
    options = {"path": "data/survey.xlsx", "timestamp": "submitted", **source}
    return (
        builder.source("answers", type="xlsx", **options)
        .metric(
            "nps",
            source="answers",
            kpi="nps",
            field="score",
            filter="channel = 'email'",
            target=30,
            window="7d",
        )
        .write()
    )


def test_nps_from_a_named_sheet_below_a_title(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = survey_playbook(
        playbook_builder,
        {"Summary": [["nothing to see"]], "Responses": SURVEY},
        sheet="Responses",
        header_row=3,
    )
    metric = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]
    # email, 7 days: 10 9 7 3 10 -> 3 promoters, 1 detractor of 5 -> 100 * (3 - 1) / 5
    assert (metric["value"], metric["n"], metric["status"]) == (40.0, 5, "met")


def test_sheet_by_position_and_the_default_header_row(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = survey_playbook(playbook_builder, {"Summary": [["x"]], "Raw": SURVEY[2:]}, sheet=2)
    metric = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]
    assert (metric["value"], metric["n"]) == (40.0, 5)


def test_the_first_sheet_by_default(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    path = survey_playbook(playbook_builder, {"Raw": SURVEY[2:], "Other": [["x"]]})
    metric = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]
    assert metric["n"] == 5


def test_dates_typed_as_text_with_a_format(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    rows = [
        ["submitted", "channel", "score"],
        ["02/03/2026", "email", 10],
        ["04/03/2026", "email", 2],
        ["05/03/2026", "email", 9],
    ]
    path = survey_playbook(playbook_builder, {"Sheet": rows}, timestamp_format="%d/%m/%Y")
    metric = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]
    assert (metric["value"], metric["n"]) == (pytest.approx(33.3333, abs=1e-3), 3)


def test_text_dates_without_a_format_are_refused_with_the_value(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    rows = [["submitted", "channel", "score"], ["02/03/2026", "email", 10]]
    path = survey_playbook(playbook_builder, {"Sheet": rows})
    report = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])
    error = report["metrics"]["nps"]["error"]
    assert "column 'submitted' (its 'timestamp') holds a value that is not a timestamp" in error
    assert "'02/03/2026'" in error and "timestamp_format" in error


def test_mixed_cells_become_text_and_unusable_values_are_skipped(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    rows = [
        ["submitted", "channel", "score"],
        [date(2026, 3, 2), "email", 10],
        [date(2026, 3, 3), "email", "N/A"],
        [date(2026, 3, 4), "email", 6.0],
    ]
    path = survey_playbook(playbook_builder, {"Sheet": rows})
    metric = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]
    assert (metric["value"], metric["n"]) == (0.0, 2)  # one promoter, one detractor


def test_booleans_and_durations_keep_their_meaning(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    builder = playbook_builder("desk")
    workbook(
        builder.folder / "tickets.xlsx",
        {
            "Tickets": [
                ["opened", "resolved_first_contact", "handle_time"],
                [datetime(2026, 3, 2), True, timedelta(minutes=5)],
                [datetime(2026, 3, 3), False, timedelta(minutes=15)],
                [datetime(2026, 3, 4), True, timedelta(hours=1, minutes=10)],
                [datetime(2026, 3, 5), True, None],
            ]
        },
    )
    path = (
        builder.source("t", type="xlsx", path="tickets.xlsx", timestamp="opened")
        .metric("fcr", source="t", kpi="rate", field="resolved_first_contact", target=70)
        .metric("aht", source="t", kpi="mean", field="handle_time", target=600)
        .write()
    )
    metrics = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]
    assert (metrics["fcr"]["value"], metrics["fcr"]["n"]) == (75.0, 4)
    assert (metrics["aht"]["value"], metrics["aht"]["n"]) == ((300 + 900 + 4200) / 3, 3)


# -- mistakes -------------------------------------------------------------------------------


def test_a_missing_sheet_lists_the_sheets_and_suggests_one(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = survey_playbook(
        playbook_builder, {"Summary": [["x"]], "Responses": SURVEY}, sheet="responses "
    )
    error = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]["error"]
    assert error.startswith(f"{path}:")
    assert error.endswith(
        "source 'answers': the workbook has no sheet 'responses ' (sheets: Summary, Responses); "
        "did you mean 'Responses'?"
    )


def test_a_sheet_position_past_the_last(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    path = survey_playbook(playbook_builder, {"Only": SURVEY[2:]}, sheet=3)
    error = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]["error"]
    assert error.endswith("source 'answers': sheet 3 does not exist: the workbook has 1 (Only)")


def test_an_empty_header_row_says_which_row(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = survey_playbook(playbook_builder, {"Responses": SURVEY}, header_row=2)
    error = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]["error"]
    assert "row 2 of sheet 'Responses' is empty, so it names no columns" in error


def test_a_file_that_is_not_a_workbook(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    builder = playbook_builder("survey")
    builder.file("data/survey.xlsx", "submitted,score\n2026-03-02,10\n")  # a CSV, renamed
    path = builder.source("answers", type="xlsx", path="data/survey.xlsx").write()
    path.write_text(path.read_text() + "metrics:\n  n: {source: answers, kpi: count, target: 1}\n")
    error = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["n"]["error"]
    assert "cannot read" in error and "as an Excel workbook" in error
    assert "save it from Excel as .xlsx" in error


def test_a_missing_file(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    path = survey_playbook(playbook_builder, {"S": SURVEY[2:]})
    (path.parent / "data" / "survey.xlsx").unlink()
    error = run_check(path, as_of="2026-03-05", plugins=[pdca_excel])["metrics"]["nps"]["error"]
    assert "file 'data/survey.xlsx' not found (looked for" in error


def test_bad_options_are_reported_by_validate_at_their_line(
    playbook_builder: Callable[..., PlaybookBuilder], pdca_cli: Callable[..., CliResult]
) -> None:
    path = survey_playbook(playbook_builder, {"S": SURVEY[2:]}, sheet=0, header_row="3", tab="x")
    result = pdca_cli("validate", path, plugins=[pdca_excel])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert all(line.startswith(f"{path}:") for line in lines)
    assert [line.split(": error: ", 1)[1] for line in lines] == [
        "source 'answers': sheet must be a sheet's name or its position from 1",
        "source 'answers': header_row must be a row number from 1",
        "source 'answers': source type 'xlsx' has no option 'tab' "
        "(known: header_row, path, sheet, timestamp_format)",
    ]


def test_without_the_plugin_the_type_is_unknown(
    playbook_builder: Callable[..., PlaybookBuilder], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDCA_DISABLE_PLUGINS", "pdca-excel pdca_excel")
    path = survey_playbook(playbook_builder, {"S": SURVEY[2:]})
    with pytest.raises(CliFailed, match="source 'answers' uses unknown source type 'xlsx'"):
        run_check(path, as_of="2026-03-05")


# -- units ----------------------------------------------------------------------------------


def test_column_names_fill_gaps_and_tell_repeats_apart() -> None:
    header = ["Score", None, "score", " channel ", 2026, datetime(2026, 3, 1), None, None]
    assert pdca_excel.column_names(header) == [
        "Score",
        "column_B",
        "score_2",
        "channel",
        "2026",
        "2026-03-01",
    ]


def test_columns_are_typed_by_their_cells() -> None:
    import pyarrow as pa

    assert pdca_excel.arrow_column([1, None, 2]).type == pa.int64()
    assert pdca_excel.arrow_column([1, 2.5]).to_pylist() == [1.0, 2.5]
    assert pdca_excel.arrow_column([True, None]).type == pa.bool_()
    stamps = pdca_excel.arrow_column([date(2026, 3, 1), datetime(2026, 3, 2, 8)])
    assert stamps.to_pylist() == [datetime(2026, 3, 1), datetime(2026, 3, 2, 8)]
    assert pdca_excel.arrow_column([4.0, "N/A", datetime(2026, 3, 1, 9)]).to_pylist() == [
        "4",
        "N/A",
        "2026-03-01 09:00:00",
    ]
    assert pdca_excel.arrow_column([None, None]).type == pa.string()


def test_the_plugin_meets_pdcas_contracts(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> None:
    assert check_plugins(pdca_plugin_manager(pdca_excel)) == []


def test_pdca_plugins_lists_the_source_type(pdca_cli: Callable[..., CliResult]) -> None:
    listed = pdca_cli("plugins", "--format", "json", plugins=[pdca_excel]).json()
    entry = next(p for p in listed if p["module"] == "pdca_excel")
    assert [s["name"] for s in entry["source_types"]] == ["xlsx"]
